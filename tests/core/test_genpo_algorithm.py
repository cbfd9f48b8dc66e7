"""GenPO's update: exact ratios, KL estimators, loss terms, rejections, determinism and learning."""

from __future__ import annotations

import pytest
import torch
from reference_genpo import reference_loss_terms
from rollouts import collect_rollout as fill_storage
from toy_envs import PointReachEnv, TargetBanditEnv
from train_cfgs import genpo_train_cfg

from rsl_rl.runners import OnPolicyRunner

from genpo_ext.algorithms import KL_ESTIMATORS, GenPO, k3_kl, paper_kl
from genpo_ext.algorithms.genpo import LOSS_KEYS
from genpo_ext.modules import CoupledFlow


def collect_rollout(runner: OnPolicyRunner) -> None:
    """Fill the runner's storage with one rollout."""
    fill_storage(runner.alg, runner.env, runner.cfg["num_steps_per_env"])


def evaluate(runner: OnPolicyRunner, seed: int = 7, episodes: int = 2) -> float:
    """Mean return of the deterministic policy on fresh point-reaching episodes."""
    env = PointReachEnv(num_envs=64, seed=seed)
    policy = runner.get_inference_policy()
    obs, total = env.get_observations(), torch.zeros(env.num_envs)
    with torch.inference_mode():
        for _ in range(env.max_episode_length * episodes):
            obs, rewards, _, _ = env.step(policy(obs))
            total += rewards
    return float(total.mean()) / episodes


def test_storage_holds_the_latent_and_act_returns_env_actions(point_reach_runner: OnPolicyRunner) -> None:
    alg = point_reach_runner.alg
    assert isinstance(alg, GenPO)
    assert alg.storage.actions.shape[-1] == 2 * point_reach_runner.env.num_actions
    collect_rollout(point_reach_runner)
    stored = alg.storage.actions.flatten(0, 1)
    assert stored.abs().sum() > 0
    obs = alg.storage.observations.flatten(0, 1)
    with torch.no_grad():
        alg.actor(obs)
        rescored = alg.actor.get_output_log_prob(stored)
    torch.testing.assert_close(rescored, alg.storage.actions_log_prob.flatten(), atol=1e-4, rtol=0)


@pytest.mark.parametrize(
    "point_reach_runner",
    [{}, {"noise_std_type": "scalar", "init_noise_std": 0.5}, {"noise_std_type": "log", "init_noise_std": 1.5},
     {"noise_std_type": "state", "init_noise_std": 0.7}],
    indirect=True,
)
def test_ratio_is_one_on_the_first_minibatch_before_any_step(point_reach_runner: OnPolicyRunner) -> None:
    alg = point_reach_runner.alg
    collect_rollout(point_reach_runner)
    ratios = []
    original = alg._surrogate_loss

    def record(log_prob, old_log_prob, advantages):
        ratios.append(torch.exp(log_prob - old_log_prob).detach())
        return original(log_prob, old_log_prob, advantages)

    alg._surrogate_loss = record
    losses = alg.update()
    torch.testing.assert_close(ratios[0], torch.ones_like(ratios[0]), atol=1e-4, rtol=0)
    assert max((r - 1).abs().max().item() for r in ratios[1:]) > 1e-4, "later minibatches see an updated policy"
    assert set(losses) == set(LOSS_KEYS)


def first_minibatch(alg: GenPO) -> tuple:
    """The update's first minibatch, as ``(obs, stored outputs, old log-probs, advantages, values, old values,
    returns)``, with current values from the critic."""
    torch.manual_seed(5)
    batch = next(alg.storage.mini_batch_generator(alg.num_mini_batches, 1))
    advantages = batch.advantages.squeeze(-1)
    values = alg.critic(batch.observations)
    return batch, (batch.actions, batch.old_actions_log_prob.squeeze(-1), advantages, values, batch.values, batch.returns)


@pytest.mark.parametrize(
    "actor_overrides,compile_activation",
    [({}, "auto"), ({}, "never"), ({"noise_std_type": "state", "init_noise_std": 0.6}, "auto"),
     ({"noise_std_type": "scalar", "init_noise_std": 1.3, "activation": "elu"}, "auto")],
)
def test_optimized_loss_equals_the_unoptimized_paper_formulas(actor_overrides: dict, compile_activation: str) -> None:
    """Shared conditioning, the fused activation and the closed form give the paper's losses to float32 rounding."""
    cfg = genpo_train_cfg(entropy_coef=0.01)
    cfg["actor"].update(actor_overrides, compile_activation=compile_activation)
    runner = OnPolicyRunner(PointReachEnv(num_envs=32), cfg, log_dir=None, device="cpu")
    collect_rollout(runner)
    alg = runner.alg
    batch, tensors = first_minibatch(alg)
    obs = alg.actor.get_latent(batch.observations)
    torch.manual_seed(9)
    expected = reference_loss_terms(alg, obs, *tensors)
    torch.manual_seed(9)
    condition = alg.actor.condition_on(batch.observations)
    log_prob = alg.actor.get_output_log_prob(batch.actions)
    _, terms = alg._genpo_minibatch_loss(alg.actor.flow, condition, log_prob, *tensors[1:])
    for key, value in expected.items():
        torch.testing.assert_close(terms[key], value.detach(), rtol=1e-5, atol=1e-5, msg=key)


def test_no_fresh_samples_are_drawn_when_compression_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = OnPolicyRunner(PointReachEnv(num_envs=16), genpo_train_cfg(compression_coef=0.0), log_dir=None, device="cpu")
    collect_rollout(runner)
    sampled_batches = []
    original = CoupledFlow.sample
    monkeypatch.setattr(CoupledFlow, "sample", lambda self, c: sampled_batches.append(c.batch_size) or original(self, c))
    losses = runner.alg.update()
    assert sampled_batches == [], "the update draws no fresh samples"
    assert losses["compression"] == 0.0


def test_compression_batch_fraction_samples_a_subset_of_each_minibatch(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = genpo_train_cfg(compression_batch_fraction=0.25)
    runner = OnPolicyRunner(PointReachEnv(num_envs=32), cfg, log_dir=None, device="cpu")
    collect_rollout(runner)
    sampled_batches = []
    original = CoupledFlow.sample
    monkeypatch.setattr(CoupledFlow, "sample", lambda self, c: sampled_batches.append(c.batch_size) or original(self, c))
    losses = runner.alg.update()
    minibatch = 32 * 16 // 4
    assert sampled_batches == [minibatch // 4] * (5 * 4)
    assert losses["compression"] > 0.0


def test_compression_batch_fraction_is_an_unbiased_estimate() -> None:
    runner = OnPolicyRunner(PointReachEnv(num_envs=32), genpo_train_cfg(), log_dir=None, device="cpu")
    collect_rollout(runner)
    alg = runner.alg
    batch, _ = first_minibatch(alg)
    flow = alg.actor.flow

    def compression() -> torch.Tensor:
        return alg._compression(alg._fresh_samples(flow, condition)[0], flow.action_dim)

    with torch.no_grad():
        condition = alg.actor.condition_on(batch.observations)
        full = torch.stack([compression() for _ in range(200)])
        alg.compression_batch_fraction = 0.25
        subset = torch.stack([compression() for _ in range(200)])
    assert abs(subset.mean() - full.mean()) < 4 * subset.std() / 200**0.5
    assert subset.std() > full.std(), "fewer samples give a noisier estimate"


def test_kl_estimates_vanish_for_identical_policies_and_k3_is_non_negative() -> None:
    old = torch.randn(4096)
    new = old + 0.2 * torch.randn(4096)
    for estimator in KL_ESTIMATORS.values():
        assert torch.equal(estimator.estimate(old, old), torch.zeros(4096))
    assert bool((k3_kl(old, new) >= 0).all())
    assert bool((paper_kl(old, new) < 0).any()), "single-sample k1 estimates can be negative"


@pytest.mark.parametrize("estimator,kl_mean,expect_raise", [("paper", -5e-5, True), ("k3", 0.0, False)])
def test_adaptive_learning_rate_follows_the_estimators_guard(
    point_reach_runner: OnPolicyRunner, estimator: str, kl_mean: float, expect_raise: bool
) -> None:
    alg = point_reach_runner.alg
    alg.kl_estimator = KL_ESTIMATORS[estimator]
    before = alg.learning_rate
    alg._adapt_learning_rate(torch.tensor(kl_mean))
    assert (alg.learning_rate > before) is expect_raise
    alg._adapt_learning_rate(torch.tensor(10 * alg.desired_kl))
    assert alg.learning_rate < max(before, alg.learning_rate * 1.5)
    assert alg.optimizer.param_groups[0]["lr"] == alg.learning_rate


def test_compression_forms(point_reach_runner: OnPolicyRunner) -> None:
    alg = point_reach_runner.alg
    outputs = torch.tensor([[3.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])  # gaps (3, 0) and (0, 1)
    alg.compression_loss = "squared"
    assert alg._compression(outputs, 2).item() == pytest.approx((9.0 + 1.0) / 2)
    alg.compression_loss = "l2"
    assert alg._compression(outputs, 2).item() == pytest.approx((3.0 + 1.0) / 2)


def test_compression_loss_pulls_the_halves_together() -> None:
    torch.manual_seed(0)
    cfg = genpo_train_cfg(compression_coef=10.0, learning_rate=1e-3, schedule="fixed")
    runner = OnPolicyRunner(PointReachEnv(num_envs=32), cfg, log_dir=None, device="cpu")
    gaps = []
    for _ in range(3):
        collect_rollout(runner)
        gaps.append(runner.alg.update()["compression"])
    assert gaps[-1] < 0.7 * gaps[0]


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"symmetry_cfg": {"use_data_augmentation": True}}, "symmetry"),
        ({"use_mixed_precision": True}, "mixed precision"),
        ({"kl_estimator": "k2"}, r"Valid options: \['paper', 'k3'\]"),
        ({"compression_loss": "l1"}, r"Valid options: \['squared', 'l2'\]"),
        ({"compression_coef": -1.0}, ">= 0"),
        ({"entropy_term": "true"}, r"Valid options: \['paper', 'exact'\]"),
        ({"compression_batch_fraction": 0.0}, r"\(0, 1\]"),
        ({"compression_batch_fraction": 1.5}, r"\(0, 1\]"),
    ],
)
def test_unsupported_options_are_rejected(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OnPolicyRunner(PointReachEnv(num_envs=4), genpo_train_cfg(**overrides), log_dir=None, device="cpu")


def test_gaussian_actor_is_rejected() -> None:
    cfg = genpo_train_cfg()
    cfg["actor"] = {"class_name": "MLPModel", "distribution_cfg": {"class_name": "GaussianDistribution"}}
    with pytest.raises(ValueError, match="genpo_ext.models:GenPOActor"):
        OnPolicyRunner(PointReachEnv(num_envs=4), cfg, log_dir=None, device="cpu")


def test_random_network_distillation_trains_alongside_genpo() -> None:
    cfg = genpo_train_cfg(
        rnd_cfg={"weight": 1.0, "num_outputs": 4, "predictor_hidden_dims": [16], "target_hidden_dims": [16]}
    )
    cfg["obs_groups"]["rnd_state"] = ["policy"]
    runner = OnPolicyRunner(PointReachEnv(num_envs=16), cfg, log_dir=None, device="cpu")
    predictor_before = [p.detach().clone() for p in runner.alg.rnd.predictor.parameters()]
    collect_rollout(runner)
    losses = runner.alg.update()
    assert losses["rnd"] > 0
    assert any(not torch.equal(a, b) for a, b in zip(predictor_before, runner.alg.rnd.predictor.parameters()))


def test_same_seed_gives_identical_losses_twice() -> None:
    def losses() -> dict[str, float]:
        torch.manual_seed(3)
        runner = OnPolicyRunner(PointReachEnv(num_envs=16, seed=3), genpo_train_cfg(), log_dir=None, device="cpu")
        collect_rollout(runner)
        return runner.alg.update()

    assert losses() == losses()


@pytest.mark.parametrize("noise_std_type", ["scalar", "log", "state"])
def test_training_shrinks_a_learned_noise_scale_where_low_noise_is_optimal(noise_std_type: str) -> None:
    """Every unit of action noise costs reward on the target bandit: GenPO with a learned sigma narrows its noise.

    A fixed learning rate keeps the test short: the adaptive schedule drives GenPO's rate down on this bandit.
    """
    cfg = genpo_train_cfg(compression_coef=0.0, schedule="fixed", learning_rate=3e-3)
    cfg["num_steps_per_env"] = 4
    cfg["actor"].update(noise_std_type=noise_std_type, init_noise_std=1.0)
    runner = OnPolicyRunner(TargetBanditEnv(num_envs=64, seed=1), cfg, log_dir=None, device="cpu")
    runner.learn(num_learning_iterations=10)
    sigma = runner.alg.actor.noise_std.mean().item()
    assert sigma < 0.7, f"sigma stayed at {sigma:.3f}"


def test_exact_entropy_bonus_keeps_sigma_wider_than_no_bonus() -> None:
    def final_sigma(entropy_coef: float) -> float:
        torch.manual_seed(2)
        cfg = genpo_train_cfg(
            compression_coef=0.0, entropy_coef=entropy_coef, entropy_term="exact", schedule="fixed", learning_rate=3e-3
        )
        cfg["num_steps_per_env"] = 4
        cfg["actor"].update(noise_std_type="log")
        runner = OnPolicyRunner(TargetBanditEnv(num_envs=64, seed=1), cfg, log_dir=None, device="cpu")
        runner.learn(num_learning_iterations=8)
        return runner.alg.actor.noise_std.mean().item()

    assert final_sigma(0.3) > final_sigma(0.0) + 0.05


def test_stock_runner_trains_genpo_and_the_return_improves(point_reach_runner: OnPolicyRunner) -> None:
    before = evaluate(point_reach_runner)
    point_reach_runner.learn(num_learning_iterations=25)
    after = evaluate(point_reach_runner)
    # An untrained policy drifts around -30 per episode; a goal-seeking one stays near -8
    assert after > before + 0.4 * abs(before), f"return did not improve enough: {before:.2f} -> {after:.2f}"
