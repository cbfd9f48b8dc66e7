"""GenPO on rsl_rl 3 and CUDA: exact first-minibatch ratio with TF32 on globally, PyTorch's fused Mish, the
synchronization budget and learned noise. Skipped without a CUDA device (this project's rsl_rl 3 environment has a
CPU build of PyTorch); no GPU was available when these tests were written, so they have not run yet."""

from __future__ import annotations

import copy
import pathlib
import pytest
import torch
import warnings
from rollouts import collect_rollout
from rsl_rl3_train_cfgs import genpo_train_cfg
from toy_envs import PointReachEnv

from rsl_rl.runners import OnPolicyRunner

from genpo_ext.experiments.synthetic_env import SyntheticEnv
from genpo_ext.modules import activations

pytestmark = pytest.mark.cuda

DEVICE = "cuda:0"
"""The device under test."""

NUM_UPDATES = 5 * 4
"""Minibatches per update of :func:`genpo_train_cfg` (5 epochs x 4 minibatches)."""


def make_runner(cfg: dict, tmp_path: pathlib.Path, env=None) -> OnPolicyRunner:
    """A stock rsl_rl 3 runner driving GenPO on the GPU (point-reaching environment unless ``env`` is given)."""
    env = env or PointReachEnv(num_envs=32, device=DEVICE)
    return OnPolicyRunner(env, copy.deepcopy(cfg), log_dir=str(tmp_path), device=DEVICE)


def test_first_minibatch_ratio_is_one_with_tf32_on_globally(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path, restore_matmul_precision
) -> None:
    policy = {"time_embed_dim": 32, "time_hidden_dims": [256, 256]}
    cfg = genpo_train_cfg([512, 256, 128], policy=policy, num_learning_epochs=1)
    cfg["num_steps_per_env"] = 8
    runner = make_runner(cfg, tmp_path, env=SyntheticEnv(1024, 256, 19, device=DEVICE))
    alg = runner.alg
    with torch.no_grad():
        for parameter in alg.policy.flow.velocity_field.parameters():
            parameter.mul_(3.0)  # trained networks carry larger weights than their initialization
    ratios = []
    original = alg._surrogate_loss

    def record(log_prob, old_log_prob, advantages):
        ratios.append(torch.exp(log_prob - old_log_prob).detach())
        return original(log_prob, old_log_prob, advantages)

    monkeypatch.setattr(alg, "_surrogate_loss", record)
    torch.backends.cuda.matmul.allow_tf32 = True
    collect_rollout(alg, runner.env, cfg["num_steps_per_env"])
    alg.update()
    gap = (ratios[0] - 1.0).abs().max().item()
    assert gap < 1e-4, f"first-minibatch |ratio - 1| = {gap:.1e}"


def test_native_mish_runs_every_hidden_activation(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    def refuse(x: torch.Tensor) -> torch.Tensor:
        raise AssertionError("the hand-written Mish ran on CUDA")

    monkeypatch.setattr(activations._EagerMishFunction, "apply", refuse)
    monkeypatch.setattr(activations, "_compiled_mish", refuse)
    runner = make_runner(genpo_train_cfg(), tmp_path, env=PointReachEnv(num_envs=512, device=DEVICE))
    collect_rollout(runner.alg, runner.env, runner.cfg["num_steps_per_env"])
    runner.alg.update()


def test_act_never_synchronizes_and_update_once_per_minibatch_and_once_at_its_end(tmp_path: pathlib.Path) -> None:
    cfg = genpo_train_cfg(policy={"noise_std_type": "log", "init_noise_std": 0.7})
    runner = make_runner(cfg, tmp_path)
    alg, env = runner.alg, runner.env
    obs = env.get_observations()
    with torch.inference_mode():
        for _ in range(cfg["num_steps_per_env"]):
            torch.cuda.set_sync_debug_mode("warn")
            with warnings.catch_warnings(record=True) as act_syncs:
                warnings.simplefilter("always")
                actions = alg.act(obs)
            torch.cuda.set_sync_debug_mode("default")
            assert not act_syncs, [str(w.message) for w in act_syncs]
            obs, rewards, dones, extras = env.step(actions)
            alg.process_env_step(obs, rewards, dones, extras)
        alg.compute_returns(obs)
    before = alg.policy.flow.noise.log_std.detach().clone()
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as update_syncs:
            warnings.simplefilter("always")
            alg.update()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    syncs = [w for w in update_syncs if "synchronizing" in str(w.message)]
    assert len(syncs) <= NUM_UPDATES + 1, [str(w.message) for w in syncs]
    assert not torch.equal(before, alg.policy.flow.noise.log_std.detach()), "the learned noise scale moves"
