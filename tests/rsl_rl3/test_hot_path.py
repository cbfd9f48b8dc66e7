"""GenPO's hot path on rsl_rl 3, checked on the CPU: host reads per rollout step and per update, non-finite values
reported once per update with their origin, the update's conditioning released, and an exact first-minibatch ratio
under emulated TF32."""

from __future__ import annotations

import copy
import gc
import pathlib
import pytest
import torch
import weakref
from rollouts import collect_rollout
from rsl_rl3_train_cfgs import genpo_train_cfg
from toy_envs import PointReachEnv

from rsl_rl.runners import OnPolicyRunner

from genpo_ext.experiments.host_reads import HostReadCounter
from genpo_ext.experiments.synthetic_env import SyntheticEnv
from genpo_ext.experiments.tf32_emulation import EmulatedTF32

NUM_UPDATES = 5 * 4
"""Minibatches per update of :func:`genpo_train_cfg` (5 epochs x 4 minibatches)."""


def make_runner(cfg: dict, tmp_path: pathlib.Path, env=None) -> OnPolicyRunner:
    """A stock rsl_rl 3 runner driving GenPO (on the point-reaching environment unless ``env`` is given)."""
    env = env or PointReachEnv(num_envs=16)
    return OnPolicyRunner(env, copy.deepcopy(cfg), log_dir=str(tmp_path), device="cpu")


@pytest.mark.parametrize("schedule,reads_per_minibatch", [("adaptive", 1), ("fixed", 0)])
def test_act_reads_nothing_from_the_device_and_update_once_per_minibatch_and_once_at_its_end(
    schedule: str, reads_per_minibatch: int, tmp_path: pathlib.Path
) -> None:
    cfg = genpo_train_cfg(policy={"noise_std_type": "scalar", "init_noise_std": 0.8}, schedule=schedule)
    runner = make_runner(cfg, tmp_path)
    alg, env = runner.alg, runner.env
    obs = env.get_observations()
    with torch.inference_mode():
        for _ in range(cfg["num_steps_per_env"]):
            with HostReadCounter() as rollout_reads:
                actions = alg.act(obs)
            assert rollout_reads.reads == [], "a rollout step reads nothing back from the device"
            obs, rewards, dones, extras = env.step(actions)
            alg.process_env_step(obs, rewards, dones, extras)
        alg.compute_returns(obs)
    with HostReadCounter() as update_reads:
        alg.update()
    assert len(update_reads.reads) == reads_per_minibatch * NUM_UPDATES + 1, update_reads.reads


def test_update_returns_the_mean_of_its_minibatch_terms_as_floats(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    runner = make_runner(genpo_train_cfg(), tmp_path)
    alg = runner.alg
    collect_rollout(alg, runner.env, runner.cfg["num_steps_per_env"])
    minibatch_terms = []
    original = alg._genpo_minibatch_loss

    def record(*args):
        loss, terms = original(*args)
        minibatch_terms.append(terms)  # the update adds "kl" to this dict afterwards
        return loss, terms

    monkeypatch.setattr(alg, "_genpo_minibatch_loss", record)
    losses = alg.update()
    assert list(losses) == [
        "surrogate", "value", "entropy", "cross_entropy", "compression", "noise_std", "entropy_coef", "kl"
    ]
    assert all(type(value) is float for value in losses.values())
    for key, value in losses.items():
        expected = 0.0
        for terms in minibatch_terms:
            expected += terms[key].item()
        assert value == expected / NUM_UPDATES, key


def test_update_releases_the_last_minibatch_conditioning(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    runner = make_runner(genpo_train_cfg(policy={"compile_activation": "never"}), tmp_path)
    alg = runner.alg
    collect_rollout(alg, runner.env, runner.cfg["num_steps_per_env"])
    conditions, observations = [], []
    original = alg.policy.condition_on

    def record(obs):
        condition = original(obs)
        conditions.append(weakref.ref(condition.step_terms))
        observations.append(alg.policy.actor_obs_normalizer(alg.policy.get_actor_obs(obs)))
        return condition

    monkeypatch.setattr(alg.policy, "condition_on", record)
    alg.update()
    gc.collect()
    assert len(conditions) == NUM_UPDATES and conditions[-1]() is None, "nothing keeps the (N, B, h) terms alive"
    torch.manual_seed(1)
    logged_std = alg.policy.action_std
    torch.manual_seed(1)
    torch.testing.assert_close(logged_std, alg.policy.flow.env_action_std(observations[-1]), rtol=0, atol=0)


def test_a_nan_in_the_rollout_is_reported_by_the_next_update_with_its_origin(tmp_path: pathlib.Path) -> None:
    runner = make_runner(genpo_train_cfg(), tmp_path)
    alg = runner.alg
    with torch.no_grad():
        alg.policy.flow.velocity_field.mlp[-1].bias[0] = float("nan")
    collect_rollout(alg, runner.env, runner.cfg["num_steps_per_env"])  # no host read, no raise in the rollout
    message = r"GenPOActorCritic: 64 of 64 flow samples are not finite after sampling the flow"
    with pytest.raises(FloatingPointError, match=message):
        alg.update()


def test_parameters_diverged_by_the_last_optimizer_step_are_reported_before_the_next_rollout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    runner = make_runner(genpo_train_cfg(policy={"noise_std_type": "scalar", "init_noise_std": 0.8}), tmp_path)
    alg = runner.alg
    collect_rollout(alg, runner.env, runner.cfg["num_steps_per_env"])
    steps = []
    original = alg.optimizer.step

    def step_and_leave_the_positive_reals_at_the_end(*args, **kwargs):
        result = original(*args, **kwargs)
        steps.append(1)
        if len(steps) == NUM_UPDATES:
            with torch.no_grad():
                alg.policy.flow.noise.std[0] = -0.1
        return result

    monkeypatch.setattr(alg.optimizer, "step", step_and_leave_the_positive_reals_at_the_end)
    with pytest.raises(FloatingPointError, match="1 of 2 entries of the 'scalar' latent noise std are not positive"):
        alg.update()


def test_first_minibatch_ratio_is_exact_under_emulated_tf32_at_h1_size(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path, restore_matmul_precision
) -> None:
    """TF32 emulated on the CPU (10 mantissa bits per matmul operand), as IsaacLab turns it on for a whole run; with
    trained-scale weights reduced-precision likelihoods would put the first ratio 5e-3 away from 1."""
    policy = {"time_embed_dim": 32, "time_hidden_dims": [256, 256], "compile_activation": "never"}
    cfg = genpo_train_cfg([512, 256, 128], policy=policy, num_learning_epochs=1, compression_coef=0.0)
    cfg["num_steps_per_env"] = 4
    runner = make_runner(cfg, tmp_path, env=SyntheticEnv(64, 256, 19))
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
    with EmulatedTF32() as emulation:
        collect_rollout(alg, runner.env, cfg["num_steps_per_env"])
        alg.update()
    assert emulation.rounded_calls > 0, "the critic's matmuls still run in (emulated) TF32"
    gap = (ratios[0] - 1.0).abs().max().item()
    assert gap < 1e-4, f"first-minibatch |ratio - 1| = {gap:.1e}"
