"""Cost of GenPO's closed-form likelihood against the paper code's per-sample Jacobian and stock Gaussian PPO.

For each network size it times, on the same device and in one run, the actor's work in
- rollout ``act``: sample actions and their log-probs for ``--num_envs`` observations;
- one update minibatch: fresh samples (compression loss), log-probs of stored actions, backward pass;
for (a) GenPO with the closed-form log-determinant, (b) the same flow with a per-sample autograd Jacobian and its
determinant (the paper code's approach), (c) rsl_rl's Gaussian MLP actor with the same hidden sizes. The critic
is left out: it costs the same in all three. It prints the medians and the ratios side by side.

Example:
    python scripts/benchmark.py --device cpu --sizes ant h1
"""

from __future__ import annotations

import argparse
import torch
from collections.abc import Callable
from tensordict import TensorDict
from torch.func import jacrev, vmap
from torch.utils.benchmark import Timer

from rsl_rl.models import MLPModel

from genpo_ext.models import GenPOActor

PAPER_SIZES = {
    "ant": (60, 8, [400, 200, 100]),
    "h1": (256, 19, [512, 256, 128]),
}
"""Paper network sizes: observation dim, action dim, hidden dims (actor = critic)."""


def jacobian_log_prob(actor: GenPOActor, z: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
    """Log-density of the flow's outputs from a per-sample autograd Jacobian of the whole map (paper code)."""
    flow = actor.flow

    def push_one(z_single: torch.Tensor, obs_single: torch.Tensor) -> torch.Tensor:
        return flow(z_single.unsqueeze(0), obs_single.unsqueeze(0))[0].squeeze(0)

    _, logabsdet = torch.linalg.slogdet(vmap(jacrev(push_one))(z, obs))
    return flow.base_log_prob(z) - logabsdet


def build_workloads(obs_dim: int, action_dim: int, hidden_dims: list[int], args: argparse.Namespace) -> dict:
    """Return ``{method: {phase: callable}}`` for one network size, with inputs prepared on the device."""
    device = args.device
    groups = {"actor": ["policy"]}

    def observations(batch_size: int) -> TensorDict:
        return TensorDict({"policy": torch.randn(batch_size, obs_dim, device=device)}, batch_size=[batch_size])

    rollout_obs, batch_obs = observations(args.num_envs), observations(args.minibatch_size)
    flow_actor = GenPOActor(rollout_obs, groups, "actor", action_dim, hidden_dims=hidden_dims).to(device)
    gaussian_actor = MLPModel(
        rollout_obs, groups, "actor", action_dim, hidden_dims, distribution_cfg={"class_name": "GaussianDistribution"}
    ).to(device)
    with torch.no_grad():
        stored_latents = flow_actor(batch_obs, stochastic_output=True)
        stored_actions = gaussian_actor(batch_obs, stochastic_output=True)
    advantages = torch.randn(args.minibatch_size, device=device)
    flat_batch_obs = batch_obs["policy"]

    def closed_form_act() -> None:
        with torch.no_grad():
            flow_actor(rollout_obs, stochastic_output=True)
            flow_actor.output_log_prob

    def jacobian_act() -> None:
        with torch.no_grad():
            z = torch.randn(args.num_envs, 2 * action_dim, device=device)
            flow_actor.flow(z, rollout_obs["policy"])
            jacobian_log_prob(flow_actor, z, rollout_obs["policy"])

    def gaussian_act() -> None:
        with torch.no_grad():
            actions = gaussian_actor(rollout_obs, stochastic_output=True)
            gaussian_actor.get_output_log_prob(actions)

    def closed_form_update() -> None:
        fresh = flow_actor(batch_obs, stochastic_output=True)
        log_prob = flow_actor.get_output_log_prob(stored_latents)
        loss = -(advantages * log_prob.exp()).mean() + (fresh[:, :action_dim] - fresh[:, action_dim:]).square().mean()
        flow_actor.zero_grad(set_to_none=True)
        loss.backward()

    def jacobian_update() -> None:
        fresh = flow_actor(batch_obs, stochastic_output=True)
        z, _ = flow_actor.flow.inverse(stored_latents, flat_batch_obs)
        log_prob = jacobian_log_prob(flow_actor, z, flat_batch_obs)
        loss = -(advantages * log_prob.exp()).mean() + (fresh[:, :action_dim] - fresh[:, action_dim:]).square().mean()
        flow_actor.zero_grad(set_to_none=True)
        loss.backward()

    def gaussian_update() -> None:
        gaussian_actor(batch_obs, stochastic_output=True)
        log_prob = gaussian_actor.get_output_log_prob(stored_actions)
        loss = -(advantages * log_prob.exp()).mean() - 0.01 * gaussian_actor.output_entropy.mean()
        gaussian_actor.zero_grad(set_to_none=True)
        loss.backward()

    with torch.no_grad():
        z = torch.randn(64, 2 * action_dim, device=device)
        u, closed_form = flow_actor.flow.sample(rollout_obs["policy"][:64])
        z_back, _ = flow_actor.flow.inverse(u, rollout_obs["policy"][:64])
        agreement = (jacobian_log_prob(flow_actor, z_back, rollout_obs["policy"][:64]) - closed_form).abs().max()
    print(f"  closed-form vs Jacobian log-prob, max |difference| over 64 samples: {agreement.item():.2e}")

    return {
        "closed form": {"act": closed_form_act, "update": closed_form_update},
        "per-sample Jacobian": {"act": jacobian_act, "update": jacobian_update},
        "Gaussian PPO": {"act": gaussian_act, "update": gaussian_update},
    }


def median_seconds(fn: Callable[[], None], min_run_time: float) -> float:
    """Median wall time of ``fn`` measured by ``torch.utils.benchmark`` (device-synchronized)."""
    return Timer(stmt="fn()", globals={"fn": fn}).blocked_autorange(min_run_time=min_run_time).median


def main() -> None:
    """Parse arguments, time every workload and print a side-by-side table with ratios."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="Torch device, e.g. 'cpu' or 'cuda:0' (default: cpu).")
    parser.add_argument("--sizes", nargs="+", choices=list(PAPER_SIZES), default=list(PAPER_SIZES))
    parser.add_argument("--num_envs", type=int, default=1024, help="Observations per rollout act (default: 1024).")
    parser.add_argument("--minibatch_size", type=int, default=2048, help="Samples per update minibatch.")
    parser.add_argument("--min_run_time", type=float, default=2.0, help="Seconds of timing per measurement.")
    parser.add_argument("--threads", type=int, default=None, help="Torch CPU threads (default: torch's choice).")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(
        f"device {args.device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
        f"rollout batch {args.num_envs}, update minibatch {args.minibatch_size}; medians of actor work only"
    )
    header = f"{'size':<5} {'phase':<7} {'closed form':>12} {'Jacobian':>12} {'Gaussian':>12} {'Jac/closed':>11} {'closed/Gauss':>13}"
    rows = []
    for size in args.sizes:
        obs_dim, action_dim, hidden_dims = PAPER_SIZES[size]
        print(f"{size}: obs {obs_dim} x act {action_dim}, hidden {hidden_dims}; timing ...", flush=True)
        workloads = build_workloads(obs_dim, action_dim, hidden_dims, args)
        for phase in ("act", "update"):
            times = {method: median_seconds(fns[phase], args.min_run_time) for method, fns in workloads.items()}
            closed, jacobian, gaussian = times["closed form"], times["per-sample Jacobian"], times["Gaussian PPO"]
            rows.append(
                f"{size:<5} {phase:<7} {closed * 1e3:>9.2f} ms {jacobian * 1e3:>9.2f} ms {gaussian * 1e3:>9.2f} ms "
                f"{jacobian / closed:>10.1f}x {closed / gaussian:>12.1f}x"
            )
    print(header)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
