"""GenPO's hot path on a GPU, checked on the CPU: host reads per rollout step and per update, non-finite values
reported once per update with their origin, the update's conditioning released, the compiled path refused, and the
likelihood computations in full precision under emulated TF32."""

from __future__ import annotations

import gc
import pytest
import torch
import weakref
from rollouts import collect_rollout
from toy_envs import PointReachEnv
from train_cfgs import genpo_train_cfg

from rsl_rl.runners import OnPolicyRunner

from genpo_ext.algorithms.genpo import LOSS_KEYS
from genpo_ext.experiments.host_reads import HostReadCounter
from genpo_ext.experiments.synthetic_env import SyntheticEnv
from genpo_ext.experiments.tf32_emulation import EmulatedTF32

NUM_UPDATES = 5 * 4
"""Minibatches per update of :func:`genpo_train_cfg` (5 epochs x 4 minibatches)."""


def make_runner(num_envs: int = 16, actor: dict | None = None, **algorithm) -> OnPolicyRunner:
    """A stock runner driving GenPO on the point-reaching environment."""
    cfg = genpo_train_cfg(**algorithm)
    cfg["actor"].update(actor or {})
    return OnPolicyRunner(PointReachEnv(num_envs=num_envs), cfg, log_dir=None, device="cpu")


@pytest.mark.parametrize("schedule,reads_per_minibatch", [("adaptive", 1), ("fixed", 0)])
def test_act_reads_nothing_from_the_device_and_update_once_per_minibatch_and_once_at_its_end(
    schedule: str, reads_per_minibatch: int
) -> None:
    """On a GPU every host read is a synchronization; stock PPO makes 3 per minibatch, plus its KL rule's."""
    runner = make_runner(actor={"noise_std_type": "scalar", "init_noise_std": 0.8}, schedule=schedule)
    alg, env = runner.alg, runner.env
    obs = env.get_observations()
    with torch.inference_mode():
        for _ in range(runner.cfg["num_steps_per_env"]):
            with HostReadCounter() as rollout_reads:
                actions = alg.act(obs)
            assert rollout_reads.reads == [], "a rollout step reads nothing back from the device"
            obs, rewards, dones, extras = env.step(actions)
            alg.process_env_step(obs, rewards, dones, extras)
        alg.compute_returns(obs)
    with HostReadCounter() as update_reads:
        alg.update()
    assert len(update_reads.reads) == reads_per_minibatch * NUM_UPDATES + 1, update_reads.reads


@pytest.mark.parametrize("rnd", [False, True])
def test_update_returns_the_mean_of_its_minibatch_terms_as_floats(monkeypatch: pytest.MonkeyPatch, rnd: bool) -> None:
    algorithm = {}
    if rnd:
        hidden = {"predictor_hidden_dims": [16], "target_hidden_dims": [16]}
        algorithm["rnd_cfg"] = {"weight": 1.0, "num_outputs": 4, **hidden}
    cfg = genpo_train_cfg(**algorithm)
    cfg["obs_groups"]["rnd_state"] = ["policy"]
    runner = OnPolicyRunner(PointReachEnv(num_envs=16), cfg, log_dir=None, device="cpu")
    alg = runner.alg
    collect_rollout(alg, runner.env, cfg["num_steps_per_env"])
    minibatch_terms = []
    original = alg._genpo_minibatch_loss

    def record(*args):
        loss, terms = original(*args)
        minibatch_terms.append(terms)  # the update adds "kl" (and "rnd") to this dict afterwards
        return loss, terms

    monkeypatch.setattr(alg, "_genpo_minibatch_loss", record)
    losses = alg.update()
    assert list(losses) == [*LOSS_KEYS, "rnd"] if rnd else list(LOSS_KEYS)
    assert all(type(value) is float for value in losses.values())
    for key, value in losses.items():
        expected = 0.0
        for terms in minibatch_terms:
            expected += terms[key].item()
        assert value == expected / NUM_UPDATES, key


def test_update_releases_the_last_minibatch_conditioning(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = make_runner(actor={"compile_activation": "never"})
    alg = runner.alg
    collect_rollout(alg, runner.env, runner.cfg["num_steps_per_env"])
    conditions, observations = [], []
    original = alg.actor.condition_on

    def record(obs):
        condition = original(obs)
        conditions.append(weakref.ref(condition.step_terms))
        observations.append(alg.actor.get_latent(obs))
        return condition

    monkeypatch.setattr(alg.actor, "condition_on", record)
    alg.update()
    gc.collect()
    assert len(conditions) == NUM_UPDATES and conditions[-1]() is None, "nothing keeps the (N, B, h) terms alive"
    torch.manual_seed(1)
    logged_std = alg.get_policy().output_std
    torch.manual_seed(1)
    torch.testing.assert_close(logged_std, alg.actor.flow.env_action_std(observations[-1]), rtol=0, atol=0)


def test_torch_compile_mode_is_refused_naming_the_key() -> None:
    cfg = genpo_train_cfg()
    cfg["torch_compile_mode"] = "default"
    with pytest.raises(ValueError, match=r"torch_compile_mode='default'.*'torch_compile_mode' to None"):
        OnPolicyRunner(PointReachEnv(num_envs=4), cfg, log_dir=None, device="cpu")
    cfg["torch_compile_mode"] = None
    OnPolicyRunner(PointReachEnv(num_envs=4), cfg, log_dir=None, device="cpu")


def test_a_nan_in_the_rollout_is_reported_by_the_next_update_with_its_origin() -> None:
    runner = make_runner()
    alg = runner.alg
    with torch.no_grad():
        alg.actor.flow.velocity_field.mlp[-1].bias[0] = float("nan")
    collect_rollout(alg, runner.env, runner.cfg["num_steps_per_env"])  # no host read, no raise in the rollout
    message = r"GenPOActor: 64 of 64 flow samples are not finite after sampling the flow \(observations finite: True\)"
    with pytest.raises(FloatingPointError, match=message):
        alg.update()


def test_a_non_positive_scalar_noise_std_is_reported_by_the_next_update() -> None:
    runner = make_runner(actor={"noise_std_type": "scalar", "init_noise_std": 0.8})
    alg = runner.alg
    with torch.no_grad():
        alg.actor.flow.noise.std[1] = -0.1
    collect_rollout(alg, runner.env, runner.cfg["num_steps_per_env"])
    with pytest.raises(FloatingPointError, match="1 of 2 entries of the 'scalar' latent noise std are not positive"):
        alg.update()


def test_parameters_diverged_by_the_last_optimizer_step_are_reported_before_the_next_rollout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runner = make_runner()
    alg = runner.alg
    collect_rollout(alg, runner.env, runner.cfg["num_steps_per_env"])
    steps = []
    original = alg.optimizer.step

    def step_and_diverge_at_the_end(*args, **kwargs):
        result = original(*args, **kwargs)
        steps.append(1)
        if len(steps) == NUM_UPDATES:
            with torch.no_grad():
                alg.actor.flow.time_encoder.mlp[0].weight[0, 0] = float("inf")
        return result

    monkeypatch.setattr(alg.optimizer, "step", step_and_diverge_at_the_end)
    with pytest.raises(FloatingPointError, match=r"GenPOActor: 1 of \d+ parameters are not finite after the update's"):
        alg.update()


def test_first_minibatch_ratio_is_exact_under_emulated_tf32_at_h1_size(
    monkeypatch: pytest.MonkeyPatch, restore_matmul_precision
) -> None:
    """IsaacLab 3 turns TF32 on for the whole run; TF32 is emulated here on the CPU (10 mantissa bits per matmul
    operand). With trained-scale weights reduced-precision likelihoods would put the first ratio 5e-3 away from 1."""
    cfg = genpo_train_cfg(hidden_dims=[512, 256, 128], num_learning_epochs=1, compression_coef=0.0)
    cfg["actor"].update(time_embed_dim=32, time_hidden_dims=[256, 256], compile_activation="never")
    cfg["num_steps_per_env"] = 4
    runner = OnPolicyRunner(SyntheticEnv(64, 256, 19), cfg, log_dir=None, device="cpu")
    alg = runner.alg
    with torch.no_grad():
        for parameter in alg.actor.flow.velocity_field.parameters():
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
