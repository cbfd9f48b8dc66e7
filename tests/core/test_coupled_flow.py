"""Exactness of the coupled flow: inversion, closed-form log-determinant, normalized density."""

from __future__ import annotations

import math
import pytest
import torch
from torch.func import jacrev, vmap

from genpo_ext.modules import CoupledFlow, SinusoidalTimeEmbedding


def make_flow(action_dim: int = 3, obs_dim: int = 5, **kwargs) -> CoupledFlow:
    """A small flow with non-trivial weights."""
    kwargs.setdefault("time_embed_dim", 8)
    kwargs.setdefault("time_hidden_dims", [16])
    return CoupledFlow(action_dim, obs_dim, hidden_dims=[32, 32], **kwargs)


@pytest.mark.parametrize("num_steps,mixing_coef", [(5, 0.9), (1, 0.5), (3, 1.0)])
def test_round_trip_is_exact_to_float32_precision(num_steps: int, mixing_coef: float) -> None:
    flow = make_flow(num_steps=num_steps, mixing_coef=mixing_coef)
    obs = torch.randn(256, 5)
    z = torch.randn(256, 6)
    u, forward_logdet = flow(z, obs)
    z_back, inverse_logdet = flow.inverse(u, obs)
    u_again, _ = flow(z_back, obs)
    assert not torch.allclose(u, z, atol=1e-2), "the flow must not be the identity for this check to mean anything"
    torch.testing.assert_close(z_back, z, atol=1e-5, rtol=0)
    torch.testing.assert_close(u_again, u, atol=1e-5, rtol=0)
    torch.testing.assert_close(inverse_logdet, -forward_logdet)


@pytest.mark.parametrize("num_steps,mixing_coef", [(5, 0.9), (2, 0.6)])
def test_closed_form_logdet_matches_autograd_jacobian(num_steps: int, mixing_coef: float) -> None:
    flow = make_flow(num_steps=num_steps, mixing_coef=mixing_coef).double()
    obs = torch.randn(16, 5, dtype=torch.float64)
    z = torch.randn(16, 6, dtype=torch.float64)

    def push_one(z_single: torch.Tensor, obs_single: torch.Tensor) -> torch.Tensor:
        return flow(z_single.unsqueeze(0), obs_single.unsqueeze(0))[0].squeeze(0)

    jacobians = vmap(jacrev(push_one))(z, obs)
    _, autograd_logdet = torch.linalg.slogdet(jacobians)
    _, closed_form_logdet = flow(z, obs)
    expected = 2 * num_steps * 3 * math.log(mixing_coef)
    torch.testing.assert_close(autograd_logdet, closed_form_logdet, atol=1e-10, rtol=0)
    torch.testing.assert_close(closed_form_logdet, torch.full_like(closed_form_logdet, expected))


def test_density_of_one_dimensional_action_integrates_to_one() -> None:
    flow = make_flow(action_dim=1, obs_dim=2).double()
    with torch.no_grad():
        for parameter in flow.velocity_field.parameters():
            parameter.mul_(3.0)  # a strongly non-linear map makes the check meaningful
    obs = torch.tensor([[0.3, -0.7]], dtype=torch.float64)
    half_width, num_points = 9.0, 601
    axis = torch.linspace(-half_width, half_width, num_points, dtype=torch.float64)
    grid = torch.cartesian_prod(axis, axis)
    log_density = flow.log_prob(grid, obs.expand(len(grid), -1))
    cell_area = (axis[1] - axis[0]) ** 2
    total_mass = (log_density.exp() * cell_area).sum().item()
    assert total_mass == pytest.approx(1.0, abs=5e-3)


def test_sampled_log_prob_is_reproduced_by_inversion() -> None:
    flow = make_flow()
    obs = torch.randn(128, 5)
    outputs, sampled_log_prob = flow.sample(obs)
    torch.testing.assert_close(flow.log_prob(outputs, obs), sampled_log_prob, atol=1e-4, rtol=0)


def test_factorized_velocity_field_equals_mlp_on_concatenated_input() -> None:
    flow = make_flow()
    field = flow.velocity_field
    obs, half = torch.randn(64, 5), torch.randn(64, 3)
    time_features = flow.time_encoder(flow.step_times)
    obs_term, time_terms = field.condition(obs, time_features)
    for step in range(flow.num_steps):
        concatenated = torch.cat([half, obs, time_features[step].expand(64, -1)], dim=-1)
        torch.testing.assert_close(field(half, obs_term + time_terms[step]), field.mlp(concatenated))


def test_deterministic_output_is_the_image_of_the_zero_latent_and_env_action_averages_halves() -> None:
    flow = make_flow()
    obs = torch.randn(8, 5)
    deterministic = flow.deterministic_output(obs)
    torch.testing.assert_close(deterministic, flow(torch.zeros(8, 6), obs)[0])
    torch.testing.assert_close(flow.to_env_action(deterministic), 0.5 * (deterministic[:, :3] + deterministic[:, 3:]))


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"mixing_coef": 0.0}, r"\(0, 1\]"),
        ({"mixing_coef": 1.2}, r"\(0, 1\]"),
        ({"num_steps": 0}, ">= 1"),
        ({"num_steps": 2.5}, ">= 1"),
        ({"activation": "softsign"}, "Valid activations"),
        ({"time_embed_dim": 7}, "even"),
    ],
)
def test_invalid_arguments_raise_value_errors_naming_the_valid_range(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_flow(**kwargs)


def test_sinusoidal_embedding_distinguishes_every_step_time() -> None:
    embedding = SinusoidalTimeEmbedding(16)
    features = embedding(torch.arange(5) / 5)
    distances = torch.cdist(features, features) + torch.eye(5)
    assert features.shape == (5, 16)
    assert distances.min() > 1e-3
