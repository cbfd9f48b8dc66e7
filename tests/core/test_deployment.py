"""Deployed actions of a flow policy: the zero latent, the mean and the likeliest of K fixed draws, a reduced
temperature; each deterministic given the observation, and exported as one graph."""

from __future__ import annotations

import numpy as np
import onnxruntime
import pathlib
import pytest
import torch

from rsl_rl.runners import OnPolicyRunner

from genpo_ext.modules import CoupledFlow
from genpo_ext.modules.deployment import DEPLOY_DRAWS_SEED, DeployedAction

from test_coupled_flow import make_flow

OBS_DIM, ACTION_DIM, SAMPLES = 5, 3, 8


def candidates(flow: CoupledFlow, obs: torch.Tensor, temperature: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Every observation's K candidate outputs from the fixed draws, computed one observation at a time, and their
    exact log-densities under the policy (by inversion, as the learner scores stored outputs)."""
    draws = torch.randn(SAMPLES, 2 * ACTION_DIM, generator=torch.Generator().manual_seed(DEPLOY_DRAWS_SEED))
    outputs, log_densities = [], []
    for row in obs:
        repeated = row.expand(SAMPLES, -1)
        condition = flow.condition(repeated)
        z = temperature * draws * flow.noise_std(condition).repeat(1, 2)
        u, _ = flow(z, repeated)
        outputs.append(u)
        log_densities.append(flow.log_prob(u, condition) - flow.squash.log_abs_det(u))
    return torch.stack(outputs), torch.stack(log_densities)


@pytest.mark.parametrize("action_bound", [None, 1.0])
@pytest.mark.parametrize("noise_std_type", ["fixed", "state"])
def test_mean_is_the_mean_of_the_clipped_env_actions_of_the_fixed_draws(noise_std_type, action_bound) -> None:
    flow = make_flow(
        noise_std_type=noise_std_type, action_bound=action_bound, deterministic_mode="mean",
        deterministic_samples=SAMPLES, action_clip=0.3,
    )
    obs = torch.randn(6, OBS_DIM)
    with torch.no_grad():
        outputs, _ = candidates(flow, obs)
        expected = flow.to_env_action(outputs).clamp(-0.3, 0.3).mean(dim=1)
        torch.testing.assert_close(flow.deployed_action(obs), expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("action_bound", [None, 0.8])
def test_likeliest_is_the_draw_of_highest_exact_density(action_bound) -> None:
    flow = make_flow(
        noise_std_type="state", action_bound=action_bound, deterministic_mode="likeliest",
        deterministic_samples=SAMPLES,
    )
    obs = torch.randn(6, OBS_DIM)
    with torch.no_grad():
        outputs, log_densities = candidates(flow, obs)
        best = log_densities.argmax(dim=1)
        expected = flow.to_env_action(outputs[torch.arange(6), best])
        torch.testing.assert_close(flow.deployed_action(obs), expected, atol=1e-5, rtol=0)


def test_likeliest_of_the_unbounded_flow_is_one_fixed_draw_in_every_state() -> None:
    """The flow's log-determinant is constant, so the likeliest candidate is the draw of smallest norm."""
    flow = make_flow(noise_std_type="log", deterministic_mode="likeliest", deterministic_samples=SAMPLES)
    obs = torch.randn(16, OBS_DIM)
    with torch.no_grad():
        outputs, log_densities = candidates(flow, obs)
        smallest = flow.deployment.draws.norm(dim=1).argmin()
        assert (log_densities.argmax(dim=1) == smallest).all()


def test_a_low_temperature_mean_approaches_the_zero_latent() -> None:
    obs = torch.randn(6, OBS_DIM)
    zero = make_flow(noise_std_type="log")
    torch.manual_seed(0)
    cold = make_flow(noise_std_type="log", deterministic_mode="mean", deterministic_temperature=1e-4)
    cold.load_state_dict(zero.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(cold.deployed_action(obs), zero.deployed_action(obs), atol=1e-4, rtol=0)
        zero_action = zero.to_env_action(zero.deterministic_output(obs))
        torch.testing.assert_close(zero.deployed_action(obs), zero_action)


def test_deployed_actions_are_deterministic_and_the_draws_the_same_in_every_flow() -> None:
    flow = make_flow(noise_std_type="log", deterministic_mode="mean")
    obs = torch.randn(6, OBS_DIM)
    with torch.no_grad():
        first = flow.deployed_action(obs)
        torch.randn(100)  # the global generator's state must not matter
        torch.testing.assert_close(flow.deployed_action(obs), first, atol=0, rtol=0)
    torch.testing.assert_close(DeployedAction(6, "mean").draws, DeployedAction(6, "likeliest").draws)
    assert "deployment.draws" not in flow.state_dict(), "the draws are no part of a checkpoint"


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"mode": "median"}, "Unknown deterministic_mode 'median'. Valid options"),
        ({"num_samples": 0}, "deterministic_samples must be an integer >= 1"),
        ({"temperature": 1.5}, "deterministic_temperature must lie in"),
        ({"action_clip": -1.0}, "action_clip must be > 0"),
    ],
)
def test_invalid_deployment_options_raise_naming_the_valid_ones(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DeployedAction(6, **kwargs)


EXPORTED_ACTORS = [
    {"deterministic_mode": "mean", "action_clip": 0.5},
    {"deterministic_mode": "mean", "deterministic_temperature": 0.5, "noise_std_type": "log", "action_bound": 1.0},
    {"deterministic_mode": "likeliest", "noise_std_type": "state", "init_noise_std": 0.5, "action_bound": 1.0},
    {"deterministic_mode": "likeliest", "noise_std_type": "scalar", "init_noise_std": 0.5, "max_noise_std": 2.0},
]


@pytest.mark.parametrize("point_reach_runner", EXPORTED_ACTORS, indirect=True)
def test_jit_and_onnx_exports_of_every_mode_match_inference(
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
