"""Exactness of the coupled flow: inversion, closed-form log-determinant, normalized density, for the paper's fixed
latent noise and for every learned noise scale."""

from __future__ import annotations

import math
import pytest
import torch
from torch.func import jacrev, vmap

from genpo_ext.modules import NOISE_STD_TYPES, CoupledFlow, SinusoidalTimeEmbedding, TimeEncoder, non_finite_message

LEARNED_NOISE_TYPES = [noise for noise in NOISE_STD_TYPES if noise != "fixed"]


def make_flow(action_dim: int = 3, obs_dim: int = 5, **kwargs) -> CoupledFlow:
    """A small flow with non-trivial weights; a learned noise scale is moved away from 1 (and made state-dependent)."""
    kwargs.setdefault("time_embed_dim", 8)
    kwargs.setdefault("time_hidden_dims", [16])
    flow = CoupledFlow(action_dim, obs_dim, hidden_dims=[32, 32], **kwargs)
    randomize_noise_scale(flow)
    return flow


def randomize_noise_scale(flow: CoupledFlow) -> None:
    """Give a learned noise scale sigma != 1 per action dimension (and a state head with non-zero output)."""
    noise = flow.noise
    with torch.no_grad():
        if noise.noise_std_type == "scalar":
            noise.std.uniform_(0.4, 0.8)
        elif noise.noise_std_type in ("log", "state"):
            noise.log_std.uniform_(math.log(0.4), math.log(0.8))
        if noise.noise_std_type == "state":
            torch.nn.init.normal_(noise.state_head[-1].weight, std=0.5)


def reference_log_density(flow: CoupledFlow, z: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, diag sigma^2) from torch.distributions, minus log|det| of the flow's autograd Jacobian at z."""
    sigma = flow.noise_std(flow.condition(obs)).expand(len(z), -1).repeat(1, 2)
    base = torch.distributions.Normal(torch.zeros_like(z), sigma).log_prob(z).sum(-1)

    def push_one(z_single: torch.Tensor, obs_single: torch.Tensor) -> torch.Tensor:
        return flow(z_single.unsqueeze(0), obs_single.unsqueeze(0))[0].squeeze(0)

    _, autograd_logdet = torch.linalg.slogdet(vmap(jacrev(push_one))(z, obs))
    return base - autograd_logdet


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


@pytest.mark.parametrize("noise_std_type", NOISE_STD_TYPES)
def test_closed_form_log_prob_matches_the_autograd_jacobian_density(noise_std_type: str) -> None:
    flow = make_flow(noise_std_type=noise_std_type).double()
    obs = torch.randn(16, 5, dtype=torch.float64)
    condition = flow.condition(obs)
    if noise_std_type != "fixed":
        sigma = flow.noise_std(condition)
        assert (sigma - 1.0).abs().min() > 0.05, "sigma must differ from 1 for the check to mean anything"
    if noise_std_type == "state":
        assert sigma.std(dim=0).min() > 1e-3, "the state noise must depend on the observation"
    outputs, log_prob = flow.sample(condition)
    z, _ = flow.inverse(outputs, obs)
    torch.testing.assert_close(log_prob, reference_log_density(flow, z, obs), atol=1e-10, rtol=0)
    torch.testing.assert_close(flow.log_prob(outputs, condition), log_prob, atol=1e-10, rtol=0)


@pytest.mark.parametrize("noise_std_type", NOISE_STD_TYPES)
def test_density_of_one_dimensional_action_integrates_to_one(noise_std_type: str) -> None:
    flow = make_flow(action_dim=1, obs_dim=2, noise_std_type=noise_std_type).double()
    with torch.no_grad():
        for parameter in flow.velocity_field.parameters():
            parameter.mul_(3.0)  # a strongly non-linear map makes the check meaningful
    obs = torch.tensor([[0.3, -0.7]], dtype=torch.float64)
    half_width, num_points = 14.0, 561
    axis = torch.linspace(-half_width, half_width, num_points, dtype=torch.float64)
    grid = torch.cartesian_prod(axis, axis)
    with torch.no_grad():
        log_density = flow.log_prob(grid, flow.condition(obs.expand(len(grid), -1)))
    cell_area = (axis[1] - axis[0]) ** 2
    total_mass = (log_density.exp() * cell_area).sum().item()
    assert total_mass == pytest.approx(1.0, abs=5e-3)


@pytest.mark.parametrize("noise_std_type", NOISE_STD_TYPES)
def test_sampled_log_prob_is_reproduced_by_inversion(noise_std_type: str) -> None:
    flow = make_flow(noise_std_type=noise_std_type)
    obs = torch.randn(128, 5)
    outputs, sampled_log_prob = flow.sample(flow.condition(obs))
    torch.testing.assert_close(flow.log_prob(outputs, flow.condition(obs)), sampled_log_prob, atol=1e-4, rtol=0)


def test_fixed_noise_draws_the_standard_normal_bit_for_bit() -> None:
    """The paper's path has no scaling: the latent is exactly torch.randn's draw and its density the standard one."""
    flow = make_flow()
    obs = torch.randn(64, 5)
    condition = flow.condition(obs)
    torch.manual_seed(11)
    expected_z = torch.randn(64, 6)
    torch.manual_seed(11)
    outputs, log_prob = flow.sample(condition)
    expected_outputs, logabsdet = flow.push(expected_z, condition.step_terms)
    assert torch.equal(outputs, expected_outputs)
    assert torch.equal(log_prob, -0.5 * expected_z.square().sum(-1) - 3 * math.log(2 * math.pi) - logabsdet)
    assert list(flow.noise.parameters()) == []


@pytest.mark.parametrize("noise_std_type", NOISE_STD_TYPES)
def test_exact_entropy_matches_a_monte_carlo_estimate(noise_std_type: str) -> None:
    flow = make_flow(noise_std_type=noise_std_type).double()
    obs = torch.randn(4, 5, dtype=torch.float64)
    num_samples = 20000
    repeated = obs.repeat_interleave(num_samples, dim=0)
    with torch.no_grad():
        _, log_prob = flow.sample(flow.condition(repeated))
        exact = flow.entropy(flow.condition(obs))
    negative_log_prob = -log_prob.view(4, num_samples)
    standard_error = negative_log_prob.std(dim=1) / math.sqrt(num_samples)
    assert bool(((negative_log_prob.mean(dim=1) - exact).abs() < 4 * standard_error).all())


@pytest.mark.parametrize("noise_std_type", LEARNED_NOISE_TYPES)
def test_exact_entropy_gradient_moves_sigma(noise_std_type: str) -> None:
    flow = make_flow(noise_std_type=noise_std_type)
    obs = torch.randn(32, 5)
    optimizer = torch.optim.SGD(flow.noise.parameters(), lr=0.1)
    before = flow.noise_std(flow.condition(obs)).mean().item()
    for _ in range(3):
        optimizer.zero_grad()
        (-flow.entropy(flow.condition(obs)).mean()).backward()
        optimizer.step()
    assert flow.noise_std(flow.condition(obs)).mean().item() > before + 0.05, "maximizing the entropy widens sigma"


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
    learned = make_flow(noise_std_type="log")
    learned.load_state_dict(flow.state_dict(), strict=False)
    torch.testing.assert_close(learned.deterministic_output(obs), deterministic)
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
        ({"noise_std_type": "learned"}, r"Valid options: \['fixed', 'scalar', 'log', 'state'\]"),
        ({"noise_std_type": "log", "init_noise_std": 0.0}, "init_noise_std must be > 0"),
        ({"noise_std_type": "scalar", "init_noise_std": -1.0}, "init_noise_std must be > 0"),
        ({"init_noise_std": 0.5}, r"need a learned type. Valid options: \['scalar', 'log', 'state'\]"),
        ({"min_noise_std": 0.2}, r"need a learned type"),
        ({"noise_std_type": "log", "min_noise_std": 1.5}, r"min_noise_std must lie in \[0, init_noise_std=1.0\]"),
        ({"compile_activation": "sometimes"}, r"Valid options: \['auto', 'always', 'never'\]"),
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


def count_time_encoder_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the time encoder's forward passes (one list entry per call)."""
    calls = []
    original = TimeEncoder.forward
    monkeypatch.setattr(TimeEncoder, "forward", lambda self, t: calls.append(1) or original(self, t))
    return calls


def test_time_terms_are_computed_once_while_no_gradient_flows(monkeypatch: pytest.MonkeyPatch) -> None:
    flow, obs = make_flow(), torch.randn(8, 5)
    calls = count_time_encoder_calls(monkeypatch)
    with torch.inference_mode():
        first = flow.condition(obs).step_terms
        for _ in range(3):
            flow.condition(torch.randn(8, 5))
    with torch.no_grad():
        again = flow.condition(obs).step_terms
    assert len(calls) == 1, "the rollout's conditioning reuses the time terms"
    torch.testing.assert_close(first, flow.step_terms(obs), rtol=0, atol=0)
    torch.testing.assert_close(again, first, rtol=0, atol=0)
    flow.condition(obs).step_terms.sum().backward()
    assert len(calls) == 3, "with gradients flowing they are computed anew (here and by step_terms above)"
    assert all(p.grad is not None for p in flow.time_encoder.parameters()), "the update trains the time network"


@pytest.mark.parametrize("change", ["optimizer step", "load_state_dict", "dtype", "clear_cache"])
def test_cached_time_terms_are_never_used_stale(change: str) -> None:
    flow, obs = make_flow(), torch.randn(8, 5)
    with torch.no_grad():
        cached = flow.condition(obs).step_terms
    if change == "optimizer step":
        flow.condition(obs).step_terms.square().sum().backward()
        torch.optim.Adam(flow.parameters(), lr=0.1).step()
    elif change == "load_state_dict":
        flow.load_state_dict(make_flow().state_dict())
    elif change == "dtype":
        flow, obs = flow.double(), obs.double()
    else:
        # a write that keeps the version counter (as a collective's broadcast does), then the documented remedy
        flow.time_encoder.mlp[0].weight.data.mul_(2.0)
        flow.clear_cache()
    with torch.no_grad():
        after = flow.condition(obs).step_terms
    assert not torch.allclose(after.float(), cached), "the change reaches the conditioning"
    torch.testing.assert_close(after, flow.step_terms(obs), rtol=0, atol=0)


def test_problems_are_recorded_on_the_device_first_one_kept() -> None:
    flow = make_flow(noise_std_type="scalar")
    with torch.no_grad():
        flow.noise.std[1] = -0.5
    flow.sample(flow.condition(torch.randn(4, 5)))  # sigma < 0 makes the samples NaN as well

    def message() -> str | None:
        return non_finite_message([flow.non_finite.state("cpu").tolist()], "Flow")

    assert message() == (
        "Flow: 1 of 3 entries of the 'scalar' latent noise std are not positive; use noise_std_type 'log', which "
        "keeps sigma positive. Check the environment's observations and the learning rate."
    )
    flow.non_finite.clear()
    assert message() is None
    with torch.no_grad():
        flow.noise.std[1] = 0.5
        flow.velocity_field.mlp[0].weight[0, :2] = float("inf")
    flow.check_parameters()
    assert message().startswith("Flow: 2 of ")
    assert "parameters are not finite after the update's last optimizer step" in message()
