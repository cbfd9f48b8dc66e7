"""What GenPO costs, against its floor, the paper code's per-sample Jacobian and stock rsl_rl PPO, in one run.

Four tables, each measured side by side on the same device:

1. **Activation** (forward + backward of one hidden layer's worth of elements, and the memory its backward keeps):
   PyTorch's Mish, the package's :class:`~genpo_ext.modules.FastMish` (compiled, eager, and the path ``auto`` takes
   on this device: PyTorch's fused kernel off the CPU) and ELU.
2. **Actor phases** at the paper's network sizes (actor work only, no critic):
   - ``act``: sample actions and their log-probs for ``--num_envs`` observations;
   - ``update``: one minibatch of GenPO's update: condition the flow once, re-score the stored latents by inversion,
     draw fresh samples for the compression loss, backward;
   each against its **floor**, the irreducible work: the ``2 N`` (act) or ``4 N`` (update: ``2 N`` inverse and
   ``2 N`` forward, plus their backward) bare velocity-network evaluations the method needs, and against
   rsl_rl's Gaussian actor of the same sizes (optionally also against the paper code's per-sample Jacobian).
3. **Whole iterations** through the stock ``OnPolicyRunner`` on a synthetic environment of the paper's sizes
   (rollout + returns + update, critic included): GenPO at paper defaults, with ``compression_batch_fraction=0.25``,
   with ELU, without compression, in the recommended configuration and with each bounded-exploration candidate of the
   deploy study on top of it (sigma capped, actions squashed, an entropy target), against stock PPO; the ratio is
   GenPO's time per iteration over PPO's.
4. **Hot path** (what costs on a GPU beyond arithmetic, per size): host reads of tensor values (each one a
   synchronization with the GPU) per ``act`` and per update, for GenPO and stock PPO through the stock runner; the
   tensor memory the actor keeps from the update into the next rollout; the first minibatch's ``|ratio - 1|`` with
   TF32 on globally (real on CUDA, emulated on the CPU; velocity weights scaled to a trained network's size), for
   GenPO's full-precision likelihoods and at the global setting; what computing the time terms would add to each
   ``act`` without their cache.

Example:
    python scripts/benchmark.py --threads 1 --sizes ant
    python scripts/benchmark.py --device cuda:0 --jacobian
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import time
import torch
from collections.abc import Callable, Iterator
from unittest import mock
from tensordict import TensorDict
from torch.func import jacrev, vmap
from torch.utils.benchmark import Timer

from rsl_rl.models import MLPModel
from rsl_rl.runners import OnPolicyRunner

from genpo_ext.experiments.host_reads import HostReadCounter
from genpo_ext.experiments.synthetic_env import SyntheticEnv
from genpo_ext.experiments.tf32_emulation import EmulatedTF32
from genpo_ext.models import GenPOActor
from genpo_ext.modules import FastMish, coupled_flow
from genpo_ext.modules.activations import eager_mish
from genpo_ext.presets import RECOMMENDED_ACTOR, RECOMMENDED_ALGORITHM

PAPER_SIZES = {
    "ant": (60, 8, [400, 200, 100]),
    "h1": (256, 19, [512, 256, 128]),
}
"""Paper network sizes: observation dim, action dim, hidden dims (actor = critic)."""

RUNNER_ROLLOUT = {"num_envs": 256, "num_steps_per_env": 24, "num_learning_epochs": 5, "num_mini_batches": 4}
"""Synthetic-env iteration: 256 envs x 24 steps, 5 epochs x 4 minibatches (IsaacLab's Ant rollout, fewer envs)."""

RUNNER_ACTOR_KEYS = ("activation", "max_noise_std", "action_bound", *RECOMMENDED_ACTOR)
"""GenPO overrides of the runner table that are actor keys; the others are algorithm keys."""

ACTIVATION_ELEMENTS = (1536, 400)
"""Shape of the tensor the activation table times (an update minibatch of the Ant velocity net's first layer)."""

TRAINED_WEIGHT_SCALE = 3.0
"""Factor on the velocity network's initial weights for the precision row: trained networks carry larger weights,
and TF32's error grows with them."""

MEGABYTE = 2**20
"""Bytes per megabyte in the tables."""

TABLES = ("activation", "phases", "runner", "hot_path")
"""The tables ``--tables`` can select, in the order they are printed."""


class EagerMish(torch.nn.Module):
    """FastMish's eager sigmoid form on every device (``FastMish("never")`` takes PyTorch's kernel off the CPU)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return eager_mish(x)


def median_seconds(fn: Callable[[], None], min_run_time: float) -> float:
    """Median wall time of ``fn`` measured by ``torch.utils.benchmark`` (device-synchronized), after a warm-up call."""
    fn()
    return Timer(stmt="fn()", globals={"fn": fn}).blocked_autorange(min_run_time=min_run_time).median


def saved_megabytes(module: torch.nn.Module, x: torch.Tensor) -> float:
    """Megabytes of the tensors ``module``'s forward on ``x`` keeps for its backward (input included)."""
    storages = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storages[tensor.untyped_storage().data_ptr()] = tensor.untyped_storage().nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        module(x)
    return sum(storages.values()) / MEGABYTE


def activation_table(args: argparse.Namespace) -> list[str]:
    """Forward + backward time and saved memory of each Mish implementation and of ELU on one tensor."""
    x = torch.randn(*ACTIVATION_ELEMENTS, device=args.device, requires_grad=True)
    grad = torch.randn_like(x)
    candidates = {
        "torch Mish": torch.nn.Mish(),
        "FastMish (compiled)": FastMish("always"),
        "FastMish (eager)": EagerMish(),
        "FastMish (auto)": FastMish("auto"),
        "ELU": torch.nn.ELU(),
    }

    def forward_backward(module: torch.nn.Module) -> Callable[[], None]:
        def run() -> None:
            module(x).backward(grad)

        return run

    times = {name: median_seconds(forward_backward(module), args.min_run_time) for name, module in candidates.items()}
    lines = [
        f"activation forward + backward on {ACTIVATION_ELEMENTS[0]} x {ACTIVATION_ELEMENTS[1]} elements "
        "(auto: the path FastMish takes on this device; saved: memory kept for the backward)"
    ]
    lines += [
        f"  {name:<22} {t * 1e3:8.2f} ms   {t / times['ELU']:5.2f}x ELU   "
        f"{saved_megabytes(candidates[name], x):6.2f} MB saved"
        for name, t in times.items()
    ]
    return lines


def jacobian_log_prob(actor: GenPOActor, z: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
    """Log-density of the flow's outputs from a per-sample autograd Jacobian of the whole map (paper code)."""
    flow = actor.flow

    def push_one(z_single: torch.Tensor, obs_single: torch.Tensor) -> torch.Tensor:
        return flow(z_single.unsqueeze(0), obs_single.unsqueeze(0))[0].squeeze(0)

    _, logabsdet = torch.linalg.slogdet(vmap(jacrev(push_one))(z, obs))
    return flow.noise.log_prob(z, None) - logabsdet


def actor_phase_workloads(obs_dim: int, action_dim: int, hidden_dims: list[int], args: argparse.Namespace) -> dict:
    """Return ``{phase: {method: callable}}`` for one network size, inputs prepared on the device."""
    device = args.device
    groups = {"actor": ["policy"]}

    def observations(batch_size: int) -> TensorDict:
        return TensorDict({"policy": torch.randn(batch_size, obs_dim, device=device)}, batch_size=[batch_size])

    rollout_obs, batch_obs = observations(args.num_envs), observations(args.minibatch_size)
    flow_actor = GenPOActor(rollout_obs, groups, "actor", action_dim, hidden_dims=hidden_dims).to(device)
    gaussian_actor = MLPModel(
        rollout_obs, groups, "actor", action_dim, hidden_dims, distribution_cfg={"class_name": "GaussianDistribution"}
    ).to(device)
    flow, field = flow_actor.flow, flow_actor.flow.velocity_field
    with torch.no_grad():
        stored_latents = flow_actor(batch_obs, stochastic_output=True)
        stored_actions = gaussian_actor(batch_obs, stochastic_output=True)
        rollout_step_term = flow.step_terms(rollout_obs["policy"])[0]
        batch_step_term = flow.step_terms(batch_obs["policy"])[0]
    advantages = torch.randn(args.minibatch_size, device=device)
    halves = torch.randn(args.minibatch_size, action_dim, device=device)

    def genpo_act() -> None:
        with torch.no_grad():
            flow_actor(rollout_obs, stochastic_output=True)

    def floor_act() -> None:
        with torch.no_grad():
            for _ in range(2 * flow.num_steps):
                field(halves[: args.num_envs], rollout_step_term)

    def gaussian_act() -> None:
        with torch.no_grad():
            actions = gaussian_actor(rollout_obs, stochastic_output=True)
            gaussian_actor.get_output_log_prob(actions)

    def genpo_update() -> None:
        condition = flow_actor.condition_on(batch_obs)
        log_prob = flow_actor.get_output_log_prob(stored_latents)
        fresh = flow.sample(condition)[0]
        loss = -(advantages * log_prob.exp()).mean() + (fresh[:, :action_dim] - fresh[:, action_dim:]).square().mean()
        flow_actor.zero_grad(set_to_none=True)
        loss.backward()

    def floor_update() -> None:
        loss = sum(field(halves, batch_step_term).sum() for _ in range(4 * flow.num_steps))
        flow_actor.zero_grad(set_to_none=True)
        loss.backward()

    def gaussian_update() -> None:
        gaussian_actor(batch_obs, stochastic_output=True)
        log_prob = gaussian_actor.get_output_log_prob(stored_actions)
        loss = -(advantages * log_prob.exp()).mean() - 0.01 * gaussian_actor.output_entropy.mean()
        gaussian_actor.zero_grad(set_to_none=True)
        loss.backward()

    workloads = {
        "act": {"GenPO": genpo_act, "floor": floor_act, "Gaussian": gaussian_act},
        "update": {"GenPO": genpo_update, "floor": floor_update, "Gaussian": gaussian_update},
    }
    if args.jacobian:

        def jacobian_act() -> None:
            with torch.no_grad():
                z = torch.randn(args.num_envs, 2 * action_dim, device=device)
                flow(z, rollout_obs["policy"])
                jacobian_log_prob(flow_actor, z, rollout_obs["policy"])

        def jacobian_update() -> None:
            condition = flow_actor.condition_on(batch_obs)
            fresh = flow.sample(condition)[0]
            z, _ = flow.pull(stored_latents, condition.step_terms)
            log_prob = jacobian_log_prob(flow_actor, z, batch_obs["policy"])
            loss = -(advantages * log_prob.exp()).mean() + (fresh[:, :action_dim] - fresh[:, action_dim:]).square().mean()
            flow_actor.zero_grad(set_to_none=True)
            loss.backward()

        workloads["act"]["Jacobian"] = jacobian_act
        workloads["update"]["Jacobian"] = jacobian_update
        with torch.no_grad():
            u, closed_form = flow.sample(flow.condition(rollout_obs["policy"][:64]))
            z_back, _ = flow.inverse(u, rollout_obs["policy"][:64])
            agreement = (jacobian_log_prob(flow_actor, z_back, rollout_obs["policy"][:64]) - closed_form).abs().max()
        print(f"  closed-form vs Jacobian log-prob, max |difference| over 64 samples: {agreement.item():.2e}")
    return workloads


def actor_phase_table(args: argparse.Namespace) -> list[str]:
    """Time each actor phase of each size against its floor, the Gaussian actor and (optionally) the Jacobian."""
    header = f"{'size':<5} {'phase':<7} {'GenPO':>11} {'floor':>11} {'Gaussian':>11} {'GenPO/floor':>12} {'GenPO/Gauss':>12}"
    header += f" {'Jacobian':>12} {'Jac/GenPO':>10}" if args.jacobian else ""
    lines = [
        f"actor work per phase (rollout batch {args.num_envs}, update minibatch {args.minibatch_size}); "
        f"floor = bare velocity-network evaluations",
        header,
    ]
    for size in args.sizes:
        obs_dim, action_dim, hidden_dims = PAPER_SIZES[size]
        print(f"[benchmark] actor phases, {size}: obs {obs_dim} x act {action_dim}, hidden {hidden_dims}", flush=True)
        for phase, methods in actor_phase_workloads(obs_dim, action_dim, hidden_dims, args).items():
            times = {method: median_seconds(fn, args.min_run_time) for method, fn in methods.items()}
            genpo, floor, gaussian = times["GenPO"], times["floor"], times["Gaussian"]
            line = f"{size:<5} {phase:<7} {genpo * 1e3:8.2f} ms {floor * 1e3:8.2f} ms {gaussian * 1e3:8.2f} ms "
            line += f"{genpo / floor:11.2f}x {genpo / gaussian:11.1f}x"
            if args.jacobian:
                line += f" {times['Jacobian'] * 1e3:9.1f} ms {times['Jacobian'] / genpo:9.1f}x"
            lines.append(line)
    return lines


def runner_cfg(hidden_dims: list[int], algo: str, **genpo_overrides) -> dict:
    """A train config for the synthetic env: stock PPO (ELU), or GenPO at paper defaults with overrides."""
    actor = {"class_name": "MLPModel", "hidden_dims": hidden_dims, "activation": "elu"}
    actor["distribution_cfg"] = {"class_name": "GaussianDistribution", "init_std": 1.0}
    algorithm = {"class_name": "PPO", "learning_rate": 1e-3, "schedule": "adaptive", "desired_kl": 0.01}
    algorithm |= {key: RUNNER_ROLLOUT[key] for key in ("num_learning_epochs", "num_mini_batches")}
    if algo == "genpo":
        actor = {"class_name": "genpo_ext.models:GenPOActor", "hidden_dims": hidden_dims, "activation": "mish"}
        actor |= {key: value for key, value in genpo_overrides.items() if key in RUNNER_ACTOR_KEYS}
        algorithm = algorithm | {"class_name": "genpo_ext.algorithms:GenPO"}
        algorithm |= {key: value for key, value in genpo_overrides.items() if key not in RUNNER_ACTOR_KEYS}
    return {
        "num_steps_per_env": RUNNER_ROLLOUT["num_steps_per_env"],
        "save_interval": 10**6,
        "obs_groups": {"actor": ["policy"], "critic": ["policy"]},
        "actor": actor,
        "critic": {"class_name": "MLPModel", "hidden_dims": hidden_dims, "activation": "elu"},
        "algorithm": algorithm,
    }


def seconds_per_iteration(cfg: dict, obs_dim: int, action_dim: int, args: argparse.Namespace) -> float:
    """Median wall time of one stock-runner iteration (rollout + update) after a warm-up iteration."""
    env = SyntheticEnv(RUNNER_ROLLOUT["num_envs"], obs_dim, action_dim, device=args.device)
    with contextlib.redirect_stdout(io.StringIO()):  # the runner prints its models
        runner = OnPolicyRunner(env, copy.deepcopy(cfg), log_dir=None, device=args.device)
    runner.learn(num_learning_iterations=1)
    times = []
    for _ in range(args.iterations):
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        runner.learn(num_learning_iterations=1)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def runner_table(args: argparse.Namespace) -> list[str]:
    """Seconds per stock-runner iteration of PPO and GenPO variants on the synthetic env, with GenPO/PPO ratios."""
    variants = {
        "PPO (ELU)": ("ppo", {}),
        "GenPO paper defaults (Mish)": ("genpo", {}),
        "GenPO, compression_batch_fraction 0.25": ("genpo", {"compression_batch_fraction": 0.25}),
        "GenPO, ELU": ("genpo", {"activation": "elu"}),
        "GenPO, no compression": ("genpo", {"compression_coef": 0.0}),
        "GenPO recommended": ("genpo", {**RECOMMENDED_ACTOR, **RECOMMENDED_ALGORITHM}),
    }
    # the bounded-exploration candidates of the deploy study, each one change on top of the recommended configuration
    candidates = {"sigma capped at 1": {"max_noise_std": 1.0}, "actions squashed": {"action_bound": 1.0}}
    candidates["entropy target 0.4"] = {"entropy_target": 0.4}
    for name, change in candidates.items():
        variants[f"GenPO recommended, {name}"] = ("genpo", {**RECOMMENDED_ACTOR, **RECOMMENDED_ALGORITHM, **change})
    rollout = RUNNER_ROLLOUT
    lines = [
        f"stock OnPolicyRunner iteration on a synthetic env ({rollout['num_envs']} envs x "
        f"{rollout['num_steps_per_env']} steps, {rollout['num_learning_epochs']} epochs x "
        f"{rollout['num_mini_batches']} minibatches; critic included; median of {args.iterations} iterations)"
    ]
    for size in args.sizes:
        obs_dim, action_dim, hidden_dims = PAPER_SIZES[size]
        print(f"[benchmark] runner iterations, {size}", flush=True)
        times = {}
        for label, (algo, overrides) in variants.items():
            times[label] = seconds_per_iteration(runner_cfg(hidden_dims, algo, **overrides), obs_dim, action_dim, args)
        lines += [
            f"{size:<5} {label:<40} {seconds:7.3f} s / iteration   {seconds / times['PPO (ELU)']:5.2f}x PPO"
            for label, seconds in times.items()
        ]
    return lines


def host_reads_per_act_and_update(cfg: dict, obs_dim: int, action_dim: int, args: argparse.Namespace) -> tuple:
    """Host reads per ``act`` (mean over a rollout) and per update of one stock-runner iteration, and the runner."""
    env = SyntheticEnv(RUNNER_ROLLOUT["num_envs"], obs_dim, action_dim, device=args.device)
    with contextlib.redirect_stdout(io.StringIO()):  # the runner prints its models
        runner = OnPolicyRunner(env, copy.deepcopy(cfg), log_dir=None, device=args.device)
    alg, obs = runner.alg, env.get_observations()
    act_reads = 0
    with torch.inference_mode():
        for _ in range(RUNNER_ROLLOUT["num_steps_per_env"]):
            with HostReadCounter() as counter:
                actions = alg.act(obs)
            act_reads += len(counter.reads)
            obs, rewards, dones, extras = env.step(actions)
            alg.process_env_step(obs, rewards, dones, extras)
        alg.compute_returns(obs)
    with HostReadCounter() as counter:
        alg.update()
    return act_reads / RUNNER_ROLLOUT["num_steps_per_env"], len(counter.reads), runner


def kept_megabytes(model: torch.nn.Module) -> float:
    """Megabytes of the tensors a model holds in its own attributes (not parameters or buffers): what it keeps from
    its last batch."""
    storages = {}

    def visit(value) -> None:
        if isinstance(value, torch.Tensor):
            storages[value.untyped_storage().data_ptr()] = value.untyped_storage().nbytes()
        elif isinstance(value, (tuple, list)):
            for item in value:
                visit(item)

    for module in model.modules():
        for value in vars(module).values():
            visit(value)
    return sum(storages.values()) / MEGABYTE


@contextlib.contextmanager
def tf32_on(device: str) -> Iterator[None]:
    """Let float32 matmuls use TF32, as IsaacLab 3's train entry point does; emulated on the CPU."""
    previous = torch.get_float32_matmul_precision()
    torch.backends.cuda.matmul.allow_tf32 = True
    try:
        with EmulatedTF32() if device == "cpu" else contextlib.nullcontext():
            yield
    finally:
        torch.set_float32_matmul_precision(previous)


def first_minibatch_ratio_gap(obs_dim: int, action_dim: int, hidden_dims: list[int], args) -> tuple[float, float]:
    """Max ``|ratio - 1|`` of a sample re-scored with unchanged weights, with TF32 on globally: GenPO's
    full-precision likelihoods, and the same computations at the global setting."""
    torch.manual_seed(0)
    obs = TensorDict({"policy": torch.randn(args.minibatch_size, obs_dim, device=args.device)}, [args.minibatch_size])
    actor = GenPOActor(obs, {"actor": ["policy"]}, "actor", action_dim, hidden_dims=hidden_dims).to(args.device)
    with torch.no_grad():
        for parameter in actor.flow.velocity_field.parameters():
            parameter.mul_(TRAINED_WEIGHT_SCALE)

    def gap() -> float:
        actor.flow.clear_cache()
        with torch.inference_mode():
            outputs = actor(obs, stochastic_output=True)
            recorded = actor.output_log_prob
        actor.condition_on(obs)
        rescored = actor.get_output_log_prob(outputs.clone())
        return (torch.exp(rescored - recorded.clone()) - 1.0).abs().max().item()

    with tf32_on(args.device):
        exact = gap()
        with mock.patch.object(coupled_flow, "full_precision_matmul", contextlib.nullcontext):
            at_global_setting = gap()
    return exact, at_global_setting


def act_and_time_terms_seconds(obs_dim: int, action_dim: int, hidden_dims: list[int], args) -> tuple[float, float]:
    """Seconds per rollout ``act`` of a GenPO actor (time terms cached), and per computation of the time terms that
    the cache saves on every call."""
    obs = TensorDict({"policy": torch.randn(args.num_envs, obs_dim, device=args.device)}, [args.num_envs])
    actor = GenPOActor(obs, {"actor": ["policy"]}, "actor", action_dim, hidden_dims=hidden_dims).to(args.device)

    def act() -> None:
        with torch.inference_mode():
            actor(obs, stochastic_output=True)

    def time_terms() -> None:
        with torch.inference_mode():
            actor.flow.clear_cache()
            actor.flow.cached_time_terms()

    return median_seconds(act, args.min_run_time), median_seconds(time_terms, args.min_run_time)


def hot_path_table(args: argparse.Namespace) -> list[str]:
    """Host reads, kept memory, likelihood precision under TF32 and the time-term cache, per size."""
    updates = RUNNER_ROLLOUT["num_learning_epochs"] * RUNNER_ROLLOUT["num_mini_batches"]
    lines = [f"hot path (stock runner on the synthetic env as above: {updates} minibatches per update)"]
    for size in args.sizes:
        obs_dim, action_dim, hidden_dims = PAPER_SIZES[size]
        print(f"[benchmark] hot path, {size}", flush=True)
        reads = {
            algo: host_reads_per_act_and_update(runner_cfg(hidden_dims, algo), obs_dim, action_dim, args)
            for algo in ("genpo", "ppo")
        }
        genpo_runner = reads["genpo"][2]
        exact, at_global_setting = first_minibatch_ratio_gap(obs_dim, action_dim, hidden_dims, args)
        act_seconds, time_terms_seconds = act_and_time_terms_seconds(obs_dim, action_dim, hidden_dims, args)
        emulated = " (emulated on the CPU)" if args.device == "cpu" else ""
        lines += [
            f"{size:<5} host reads per act                 GenPO {reads['genpo'][0]:6.1f}   PPO {reads['ppo'][0]:6.1f}",
            f"{size:<5} host reads per update              GenPO {reads['genpo'][1]:6d}   PPO {reads['ppo'][1]:6d}",
            f"{size:<5} tensors the actor keeps after its update   {kept_megabytes(genpo_runner.alg.actor):8.2f} MB",
            f"{size:<5} first-minibatch max |ratio - 1|, TF32 on{emulated}: full-precision likelihoods "
            f"{exact:.1e}, at the global setting {at_global_setting:.1e}",
            f"{size:<5} act {act_seconds * 1e3:.2f} ms with cached time terms; computing them costs "
            f"{time_terms_seconds * 1e3:.3f} ms per call ({time_terms_seconds / act_seconds:.1%} of act)",
        ]
    return lines


def main() -> None:
    """Parse arguments, time every table and print them together."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="Torch device, e.g. 'cpu' or 'cuda:0' (default: cpu).")
    parser.add_argument("--sizes", nargs="+", choices=list(PAPER_SIZES), default=list(PAPER_SIZES))
    parser.add_argument("--tables", nargs="+", choices=TABLES, default=None, help="Tables to measure (default: all).")
    parser.add_argument("--num_envs", type=int, default=1024, help="Observations per rollout act (default: 1024).")
    parser.add_argument("--minibatch_size", type=int, default=1536, help="Samples per update minibatch.")
    parser.add_argument("--min_run_time", type=float, default=2.0, help="Seconds of timing per measurement.")
    parser.add_argument("--iterations", type=int, default=5, help="Timed runner iterations per variant.")
    parser.add_argument("--jacobian", action="store_true", help="Also time the paper code's per-sample Jacobian.")
    parser.add_argument("--threads", type=int, default=None, help="Torch CPU threads (default: torch's choice).")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    tables = args.tables or list(TABLES)
    print(f"device {args.device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads", flush=True)
    output = []
    if "activation" in tables:
        output += activation_table(args) + [""]
    if "phases" in tables:
        output += actor_phase_table(args) + [""]
    if "runner" in tables:
        output += runner_table(args) + [""]
    if "hot_path" in tables:
        output += hot_path_table(args)
    print("\n".join(output).rstrip())


if __name__ == "__main__":
    main()
