"""GenPOActor serves rsl_rl's actor interface: sampling, exact re-scoring, checkpoints and exports."""

from __future__ import annotations

import numpy as np
import onnxruntime
import pathlib
import pytest
import torch
from tensordict import TensorDict

from rsl_rl.models import MLPModel
from rsl_rl.runners import OnPolicyRunner

from genpo_ext.models import GenPOActor

OBS_DIM, ACTION_DIM = 6, 3


def make_obs(batch_size: int = 32) -> TensorDict:
    """Observations with a policy group and a privileged group the actor must ignore."""
    return TensorDict(
        {"policy": torch.randn(batch_size, OBS_DIM), "privileged": torch.randn(batch_size, 2)}, batch_size=[batch_size]
    )


def make_actor(**kwargs) -> GenPOActor:
    """A small GenPO actor reading the policy group."""
    kwargs.setdefault("hidden_dims", [32, 32])
    kwargs.setdefault("time_hidden_dims", [16])
    return GenPOActor(make_obs(), {"actor": ["policy"]}, "actor", ACTION_DIM, **kwargs)


def test_stochastic_output_is_the_doubled_latent_and_deterministic_output_the_env_action() -> None:
    actor = make_actor()
    obs = make_obs()
    outputs = actor(obs, stochastic_output=True)
    assert outputs.shape == (32, 2 * ACTION_DIM) and actor.output_dim == 2 * ACTION_DIM
    assert actor.to_env_action(outputs).shape == (32, ACTION_DIM)
    assert actor(obs).shape == (32, ACTION_DIM)
    assert actor.output_mean.shape == (32, ACTION_DIM)
    assert actor.output_std.shape == (ACTION_DIM,) and bool((actor.output_std > 0).all())


def test_recorded_log_prob_is_reproduced_by_inverting_the_stored_latent() -> None:
    actor = make_actor(obs_normalization=True)
    obs = make_obs(256)
    actor.update_normalization(obs)
    outputs = actor(obs, stochastic_output=True).detach()
    recorded = actor.output_log_prob.detach().clone()
    actor(obs, stochastic_output=True)  # a later forward pass samples anew; re-scoring uses its observations
    rescored = actor.get_output_log_prob(outputs)
    torch.testing.assert_close(rescored, recorded, atol=1e-4, rtol=0)
    assert actor.output_distribution_params[0] is actor.output_log_prob
    torch.testing.assert_close(actor.output_entropy, actor.flow.entropy(actor.flow.condition(actor.get_latent(obs))))


def test_kl_divergence_is_zero_for_identical_log_probs_and_non_negative_otherwise() -> None:
    actor = make_actor()
    old = (torch.randn(1000),)
    new = (old[0] + 0.3 * torch.randn(1000),)
    assert torch.equal(actor.get_kl_divergence(old, old), torch.zeros(1000))
    assert bool((actor.get_kl_divergence(old, new) >= 0).all())


def test_gaussian_ppo_checkpoint_is_refused_with_an_explanation() -> None:
    gaussian = MLPModel(
        make_obs(), {"actor": ["policy"]}, "actor", ACTION_DIM, distribution_cfg={"class_name": "GaussianDistribution"}
    )
    with pytest.raises(RuntimeError, match="Gaussian PPO actor"):
        make_actor().load_state_dict(gaussian.state_dict())


def test_non_finite_values_are_recorded_and_reported_later_with_their_origin() -> None:
    actor = make_actor()
    obs = make_obs()
    obs["policy"][3, 0] = float("nan")
    actor(obs, stochastic_output=True)
    actor(make_obs(), stochastic_output=True)  # the first problem is the one reported
    message = r"GenPOActor: 6 of 192 flow samples are not finite after sampling the flow \(observations finite: False\)"
    with pytest.raises(FloatingPointError, match=message):
        actor.raise_if_non_finite()
    actor.raise_if_non_finite()  # reported once, then forgotten
    actor(make_obs(), stochastic_output=True)
    actor.get_output_log_prob(torch.full((32, 2 * ACTION_DIM), float("inf")))
    with pytest.raises(FloatingPointError, match=r"log-probs are not finite after inverting stored samples"):
        actor.raise_if_non_finite()


def test_stock_distribution_cfg_is_accepted_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="ignores 'distribution_cfg'"):
        make_actor(distribution_cfg={"class_name": "GaussianDistribution", "init_std": 1.0})


@pytest.mark.parametrize("noise_std_type", ["fixed", "log", "state"])
def test_checkpoint_loads_into_an_actor_of_the_same_noise_type_only(noise_std_type: str) -> None:
    trained = make_actor(noise_std_type=noise_std_type)
    make_actor(noise_std_type=noise_std_type).load_state_dict(trained.state_dict())
    other = "log" if noise_std_type == "fixed" else "fixed"
    with pytest.raises(RuntimeError, match=f"trained with noise_std_type '{noise_std_type}'.*uses '{other}'"):
        make_actor(noise_std_type=other).load_state_dict(trained.state_dict())


def test_noise_std_reports_the_learned_scale() -> None:
    obs = make_obs()
    actor, unit_noise_actor = make_actor(noise_std_type="log", init_noise_std=0.4), make_actor()
    unit_noise_actor.load_state_dict(actor.state_dict(), strict=False)
    actor(obs, stochastic_output=True)
    unit_noise_actor(obs, stochastic_output=True)
    torch.testing.assert_close(actor.noise_std, torch.full((1, ACTION_DIM), 0.4))
    assert actor.output_std.max() < unit_noise_actor.output_std.min(), "a smaller latent noise narrows the env action"


@pytest.mark.parametrize("point_reach_runner", [{}, {"noise_std_type": "state", "init_noise_std": 0.5}], indirect=True)
def test_save_load_round_trip_restores_identical_actions(point_reach_runner: OnPolicyRunner, tmp_path) -> None:
    point_reach_runner.learn(num_learning_iterations=2)
    path = tmp_path / "checkpoint.pt"
    point_reach_runner.save(str(path))
    obs = point_reach_runner.env.get_observations()

    def sample(runner: OnPolicyRunner) -> torch.Tensor:
        torch.manual_seed(123)
        with torch.no_grad():
            return runner.alg.actor(obs, stochastic_output=True)

    reference = sample(point_reach_runner)
    fresh = OnPolicyRunner(point_reach_runner.env, point_reach_runner.cfg, log_dir=None, device="cpu")
    assert not torch.equal(sample(fresh), reference)
    fresh.load(str(path))
    assert torch.equal(sample(fresh), reference)
    assert fresh.current_learning_iteration == point_reach_runner.current_learning_iteration


@pytest.mark.parametrize("point_reach_runner", [{}, {"noise_std_type": "log", "init_noise_std": 0.5}], indirect=True)
def test_jit_and_onnx_exports_match_deterministic_inference(
    point_reach_runner: OnPolicyRunner, tmp_path: pathlib.Path
) -> None:
    point_reach_runner.learn(num_learning_iterations=1)
    policy = point_reach_runner.get_inference_policy()
    obs = point_reach_runner.env.get_observations()
    with torch.no_grad():
        expected = policy(obs)
    flat_obs = obs["policy"]

    point_reach_runner.export_policy_to_jit(str(tmp_path))
    jit_policy = torch.jit.load(str(tmp_path / "policy.pt"))
    torch.testing.assert_close(jit_policy(flat_obs), expected, atol=1e-5, rtol=0)

    point_reach_runner.export_policy_to_onnx(str(tmp_path))
    session = onnxruntime.InferenceSession(str(tmp_path / "policy.onnx"))
    onnx_actions = np.concatenate([session.run(None, {"obs": row[None].numpy()})[0] for row in flat_obs])
    np.testing.assert_allclose(onnx_actions, expected.numpy(), atol=1e-5)
