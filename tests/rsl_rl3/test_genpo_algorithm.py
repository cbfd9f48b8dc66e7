"""GenPO's update on rsl_rl 3: storage, exact ratios, loss terms, rejections, RND, determinism, checkpoints and
learning through a stock rsl_rl 3 runner."""

from __future__ import annotations

import copy
import pathlib
import pytest
import torch
from types import SimpleNamespace
from reference_genpo import reference_loss_terms
from rollouts import collect_rollout as fill_storage
from rsl_rl3_train_cfgs import genpo_train_cfg, ppo_train_cfg
from toy_envs import PointReachEnv

from rsl_rl.runners import OnPolicyRunner


def collect_rollout(runner: OnPolicyRunner) -> None:
    """Fill the runner's storage with one rollout."""
    fill_storage(runner.alg, runner.env, runner.cfg["num_steps_per_env"])


def make_runner(cfg: dict, tmp_path: pathlib.Path, num_envs: int = 16, seed: int = 0) -> OnPolicyRunner:
    """A stock rsl_rl 3 runner on the point-reaching environment, built from a copy of ``cfg`` (rsl_rl 3 pops the
    class names out of the config it is given)."""
    env = PointReachEnv(num_envs=num_envs, seed=seed)
    return OnPolicyRunner(env, copy.deepcopy(cfg), log_dir=str(tmp_path), device="cpu")


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
    assert alg.storage.actions.shape[-1] == 2 * point_reach_runner.env.num_actions
    collect_rollout(point_reach_runner)  # asserts that act hands the environment d-dimensional actions
    stored = alg.storage.actions.flatten(0, 1)
    assert stored.abs().sum() > 0
    with torch.no_grad():
        alg.policy.condition_on(alg.storage.observations.flatten(0, 1))
        rescored = alg.policy.get_actions_log_prob(stored)
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
    expected_keys = {"surrogate", "value", "entropy", "cross_entropy", "compression", "noise_std", "entropy_coef", "kl"}
    assert set(losses) == expected_keys


def test_compression_loss_pulls_the_halves_together(tmp_path: pathlib.Path) -> None:
    runner = make_runner(genpo_train_cfg(compression_coef=10.0, schedule="fixed"), tmp_path, num_envs=32)
    gaps = []
    for _ in range(3):
        collect_rollout(runner)
        gaps.append(runner.alg.update()["compression"])
    assert gaps[-1] < 0.7 * gaps[0]


@pytest.mark.parametrize(
    "policy_overrides",
    [{}, {"noise_std_type": "state", "init_noise_std": 0.6, "actor_obs_normalization": True}],
    ids=["paper", "state noise, normalized observations"],
)
def test_first_minibatch_loss_equals_the_unoptimized_paper_formulas(policy_overrides: dict, tmp_path) -> None:
    runner = make_runner(genpo_train_cfg(policy=policy_overrides, entropy_coef=0.01), tmp_path, num_envs=32)
    collect_rollout(runner)
    alg = runner.alg
    torch.manual_seed(5)
    obs, actions, old_values, advantages, returns, old_log_prob, *_ = next(
        alg.storage.mini_batch_generator(alg.num_mini_batches, 1)
    )
    tensors = (actions, old_log_prob.squeeze(-1), advantages.squeeze(-1), alg.policy.evaluate(obs), old_values, returns)
    # the reference reads the flow as ``alg.actor.flow`` (rsl_rl 5's layout)
    reference_alg = SimpleNamespace(
        actor=SimpleNamespace(flow=alg.policy.flow), clip_param=alg.clip_param, compression_coef=alg.compression_coef
    )
    normalized_obs = alg.policy.actor_obs_normalizer(alg.policy.get_actor_obs(obs))
    torch.manual_seed(9)
    expected = reference_loss_terms(reference_alg, normalized_obs, *tensors)
    torch.manual_seed(9)
    condition = alg.policy.condition_on(obs)
    log_prob = alg.policy.get_actions_log_prob(actions)
    _, terms = alg._genpo_minibatch_loss(alg.policy.flow, condition, log_prob, *tensors[1:])
    for key, value in expected.items():
        torch.testing.assert_close(terms[key], value.detach(), rtol=1e-5, atol=1e-5, msg=key)


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"symmetry_cfg": {"use_data_augmentation": True, "use_mirror_loss": False}}, "symmetry"),
        ({"kl_estimator": "k2"}, r"Valid options: \['paper', 'k3'\]"),
        ({"compression_loss": "l1"}, r"Valid options: \['squared', 'l2'\]"),
        ({"compression_coef": -1.0}, ">= 0"),
    ],
)
def test_unsupported_options_are_rejected(overrides: dict, message: str, tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match=message):
        make_runner(genpo_train_cfg(**overrides), tmp_path, num_envs=4)


def test_gaussian_policy_is_rejected(tmp_path: pathlib.Path) -> None:
    cfg = ppo_train_cfg()
    cfg["algorithm"]["class_name"] = "GenPO"
    with pytest.raises(ValueError, match="GenPOActorCritic"):
        make_runner(cfg, tmp_path, num_envs=4)


def test_random_network_distillation_trains_alongside_genpo(tmp_path: pathlib.Path) -> None:
    cfg = genpo_train_cfg(
        rnd_cfg={"weight": 1.0, "num_outputs": 4, "predictor_hidden_dims": [16], "target_hidden_dims": [16]}
    )
    cfg["obs_groups"]["rnd_state"] = ["policy"]
    runner = make_runner(cfg, tmp_path)
    predictor_before = [p.detach().clone() for p in runner.alg.rnd.predictor.parameters()]
    collect_rollout(runner)
    losses = runner.alg.update()
    assert losses["rnd"] > 0
    assert any(
        not torch.equal(a, b) for a, b in zip(predictor_before, runner.alg.rnd.predictor.parameters(), strict=True)
    )


@pytest.mark.parametrize("noise_std_type", ["fixed", "log"])
def test_same_seed_gives_identical_losses_twice(noise_std_type: str, tmp_path: pathlib.Path) -> None:
    init_noise_std = 1.0 if noise_std_type == "fixed" else 0.7
    cfg = genpo_train_cfg(policy={"noise_std_type": noise_std_type, "init_noise_std": init_noise_std})

    def losses() -> dict[str, float]:
        torch.manual_seed(3)
        runner = make_runner(cfg, tmp_path, seed=3)
        collect_rollout(runner)
        return runner.alg.update()

    first = losses()
    assert first == losses()
    if noise_std_type == "log":
        assert first["noise_std"] != pytest.approx(init_noise_std, abs=1e-6), "the learned noise scale must move"


def test_save_load_round_trip_restores_identical_actions(point_reach_runner: OnPolicyRunner, tmp_path) -> None:
    point_reach_runner.learn(num_learning_iterations=2)
    path = tmp_path / "checkpoint.pt"
    point_reach_runner.save(str(path))
    obs = point_reach_runner.env.get_observations()

    def sample(runner: OnPolicyRunner) -> torch.Tensor:
        torch.manual_seed(123)
        with torch.no_grad():
            return runner.alg.policy.act(obs)

    reference = sample(point_reach_runner)
    fresh = make_runner(genpo_train_cfg(), tmp_path / "fresh", num_envs=point_reach_runner.env.num_envs)
    assert not torch.equal(sample(fresh), reference)
    fresh.load(str(path))
    assert torch.equal(sample(fresh), reference)
    assert fresh.current_learning_iteration == point_reach_runner.current_learning_iteration
    assert fresh.alg.optimizer.state_dict()["state"], "the optimizer state resumes with the policy"


def test_stock_runner_trains_genpo_from_class_name_strings_and_the_return_improves(tmp_path: pathlib.Path) -> None:
    cfg = genpo_train_cfg()
    assert (cfg["policy"]["class_name"], cfg["algorithm"]["class_name"]) == ("GenPOActorCritic", "GenPO")
    runner = make_runner(cfg, tmp_path, num_envs=32)
    before = evaluate(runner)
    runner.learn(num_learning_iterations=25)
    after = evaluate(runner)
    # An untrained policy drifts around -30 per episode; a goal-seeking one stays near -8
    assert after > before + 0.4 * abs(before), f"return did not improve enough: {before:.2f} -> {after:.2f}"
