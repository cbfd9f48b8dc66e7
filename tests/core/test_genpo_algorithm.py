"""GenPO's update: exact ratios, KL estimators, loss terms, rejections, determinism and learning."""

from __future__ import annotations

import pytest
import torch
from rollouts import collect_rollout as fill_storage
from toy_envs import PointReachEnv
from train_cfgs import genpo_train_cfg

from rsl_rl.runners import OnPolicyRunner

from genpo_ext.algorithms import KL_ESTIMATORS, GenPO, k3_kl, paper_kl


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
    assert set(losses) == {"value", "surrogate", "cross_entropy", "compression", "kl"}


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
    assert alg._compression(outputs).item() == pytest.approx((9.0 + 1.0) / 2)
    alg.compression_loss = "l2"
    assert alg._compression(outputs).item() == pytest.approx((3.0 + 1.0) / 2)


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


def test_stock_runner_trains_genpo_and_the_return_improves(point_reach_runner: OnPolicyRunner) -> None:
    before = evaluate(point_reach_runner)
    point_reach_runner.learn(num_learning_iterations=25)
    after = evaluate(point_reach_runner)
    # An untrained policy drifts around -30 per episode; a goal-seeking one stays near -8
    assert after > before + 0.4 * abs(before), f"return did not improve enough: {before:.2f} -> {after:.2f}"
