"""GenPO on CUDA: exact first-minibatch ratio with TF32 on globally, PyTorch's fused Mish, the synchronization budget,
non-finite values reported by the update, learned noise and exports. Skipped without a CUDA device; no GPU was
available when these tests were written, so they have not run yet."""

from __future__ import annotations

import numpy as np
import onnxruntime
import pathlib
import pytest
import torch
import warnings
from rollouts import collect_rollout
from toy_envs import PointReachEnv
from train_cfgs import genpo_train_cfg

from rsl_rl.runners import OnPolicyRunner

from genpo_ext.experiments.synthetic_env import SyntheticEnv
from genpo_ext.modules import activations

pytestmark = pytest.mark.cuda

DEVICE = "cuda:0"
"""The device under test."""

NUM_UPDATES = 5 * 4
"""Minibatches per update of :func:`genpo_train_cfg` (5 epochs x 4 minibatches)."""


def make_runner(cfg: dict | None = None, num_envs: int = 32) -> OnPolicyRunner:
    """A stock runner driving GenPO on the point-reaching environment, on the GPU."""
    env = PointReachEnv(num_envs=num_envs, device=DEVICE)
    return OnPolicyRunner(env, cfg or genpo_train_cfg(), log_dir=None, device=DEVICE)


def record_first_ratio(alg, monkeypatch: pytest.MonkeyPatch) -> list[torch.Tensor]:
    """Record the likelihood ratios of every minibatch of the next update."""
    ratios = []
    original = alg._surrogate_loss

    def record(log_prob, old_log_prob, advantages):
        ratios.append(torch.exp(log_prob - old_log_prob).detach())
        return original(log_prob, old_log_prob, advantages)

    monkeypatch.setattr(alg, "_surrogate_loss", record)
    return ratios


def test_first_minibatch_ratio_is_one_with_tf32_on_globally(
    monkeypatch: pytest.MonkeyPatch, restore_matmul_precision
) -> None:
    """IsaacLab 3's train entry point turns TF32 on for the whole run; H1 sizes, trained-scale weights."""
    cfg = genpo_train_cfg(hidden_dims=[512, 256, 128], num_learning_epochs=1)
    cfg["actor"].update(time_embed_dim=32, time_hidden_dims=[256, 256])
    cfg["num_steps_per_env"] = 8
    runner = OnPolicyRunner(SyntheticEnv(1024, 256, 19, device=DEVICE), cfg, log_dir=None, device=DEVICE)
    alg = runner.alg
    with torch.no_grad():
        for parameter in alg.actor.flow.velocity_field.parameters():
            parameter.mul_(3.0)
    ratios = record_first_ratio(alg, monkeypatch)
    torch.backends.cuda.matmul.allow_tf32 = True
    collect_rollout(alg, runner.env, cfg["num_steps_per_env"])
    alg.update()
    assert torch.backends.cuda.matmul.allow_tf32, "the global setting is restored"
    gap = (ratios[0] - 1.0).abs().max().item()
    assert gap < 1e-4, f"first-minibatch |ratio - 1| = {gap:.1e}"


def test_native_mish_runs_every_hidden_activation(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(x: torch.Tensor) -> torch.Tensor:
        raise AssertionError("the hand-written Mish ran on CUDA")

    monkeypatch.setattr(activations._EagerMishFunction, "apply", refuse)
    monkeypatch.setattr(activations, "_compiled_mish", refuse)
    calls = []
    native = torch.nn.functional.mish
    monkeypatch.setattr(torch.nn.functional, "mish", lambda x: calls.append(x.numel()) or native(x))
    runner = make_runner(num_envs=512)
    collect_rollout(runner.alg, runner.env, runner.cfg["num_steps_per_env"])
    runner.alg.update()
    assert max(calls) >= activations.COMPILED_MIN_ELEMENTS, "large activations too take PyTorch's fused kernel"


def test_act_never_synchronizes_and_update_once_per_minibatch_and_once_at_its_end() -> None:
    runner = make_runner(genpo_train_cfg())
    alg, env = runner.alg, runner.env
    obs = env.get_observations()
    collect_rollout(alg, env, 1)  # warm-up: first-call allocations
    alg.storage.clear()
    with torch.inference_mode():
        for _ in range(runner.cfg["num_steps_per_env"]):
            torch.cuda.set_sync_debug_mode("warn")
            with warnings.catch_warnings(record=True) as act_syncs:
                warnings.simplefilter("always")
                actions = alg.act(obs)
            torch.cuda.set_sync_debug_mode("default")
            assert not act_syncs, [str(w.message) for w in act_syncs]
            obs, rewards, dones, extras = env.step(actions)
            alg.process_env_step(obs, rewards, dones, extras)
        alg.compute_returns(obs)
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as update_syncs:
            warnings.simplefilter("always")
            alg.update()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    syncs = [w for w in update_syncs if "synchronizing" in str(w.message)]
    assert len(syncs) <= NUM_UPDATES + 1, [str(w.message) for w in syncs]


def test_a_nan_in_the_rollout_is_reported_by_the_next_update() -> None:
    runner = make_runner()
    alg = runner.alg
    with torch.no_grad():
        alg.actor.flow.velocity_field.mlp[-1].bias[0] = float("nan")
    collect_rollout(alg, runner.env, runner.cfg["num_steps_per_env"])
    with pytest.raises(FloatingPointError, match="flow samples are not finite after sampling the flow"):
        alg.update()


def test_learned_noise_rescoring_is_exact_and_sigma_learns() -> None:
    cfg = genpo_train_cfg()
    cfg["actor"].update(noise_std_type="log", init_noise_std=0.7)
    runner = make_runner(cfg)
    alg = runner.alg
    collect_rollout(alg, runner.env, cfg["num_steps_per_env"])
    stored, recorded = alg.storage.actions.flatten(0, 1), alg.storage.actions_log_prob.flatten()
    with torch.no_grad():
        alg.actor.condition_on(alg.storage.observations.flatten(0, 1))
        rescored = alg.actor.get_output_log_prob(stored)
    torch.testing.assert_close(rescored, recorded, atol=1e-4, rtol=0)
    before = alg.actor.flow.noise.log_std.detach().clone()
    alg.update()
    assert not torch.equal(before, alg.actor.flow.noise.log_std.detach()), "sigma moves"


@pytest.mark.parametrize("noise_std_type", ["fixed", "log"])
def test_jit_and_onnx_exports_match_deterministic_inference_on_cuda(
    noise_std_type: str, tmp_path: pathlib.Path
) -> None:
    cfg = genpo_train_cfg()
    if noise_std_type == "log":
        cfg["actor"].update(noise_std_type="log", init_noise_std=0.5)
    runner = make_runner(cfg)
    runner.learn(num_learning_iterations=1)
    policy = runner.get_inference_policy(device=DEVICE)
    obs = runner.env.get_observations()
    with torch.no_grad():
        expected = policy(obs).cpu()
    flat_obs = obs["policy"].cpu()
    runner.export_policy_to_jit(str(tmp_path))
    jit_policy = torch.jit.load(str(tmp_path / "policy.pt"))
    torch.testing.assert_close(jit_policy(flat_obs), expected, atol=1e-5, rtol=0)
    runner.export_policy_to_onnx(str(tmp_path))
    session = onnxruntime.InferenceSession(str(tmp_path / "policy.onnx"))
    onnx_actions = np.concatenate([session.run(None, {"obs": row[None].numpy()})[0] for row in flat_obs])
    np.testing.assert_allclose(onnx_actions, expected.numpy(), atol=1e-5)
