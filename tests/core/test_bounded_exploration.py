"""Bounded exploration with the likelihood kept exact: actions squashed inside the flow, a cap on the learned noise
scale, and an entropy target with a learned dual coefficient."""

from __future__ import annotations

import math
import pytest
import torch
from torch.func import jacrev, vmap

from genpo_ext.algorithms.genpo_loss import EntropyDual, validate_genpo_options
from genpo_ext.modules import CoupledFlow
from genpo_ext.modules.action_squash import ActionSquash

from test_coupled_flow import make_flow

BOUND = 0.7
"""Half-width of the action box in these tests (not 1, so that the bound's own log-determinant is checked)."""


def squashed_reference_log_density(flow: CoupledFlow, z: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, diag sigma^2) minus log|det| of the autograd Jacobian of z -> b tanh(f(z)), both halves."""
    sigma = flow.noise_std(flow.condition(obs)).expand(len(z), -1).repeat(1, 2)
    base = torch.distributions.Normal(torch.zeros_like(z), sigma).log_prob(z).sum(-1)

    def squashed_push(z_single: torch.Tensor, obs_single: torch.Tensor) -> torch.Tensor:
        return flow.squash(flow(z_single.unsqueeze(0), obs_single.unsqueeze(0))[0]).squeeze(0)

    _, autograd_logdet = torch.linalg.slogdet(vmap(jacrev(squashed_push))(z, obs))
    return base - autograd_logdet


@pytest.mark.parametrize("noise_std_type", ["fixed", "log", "state"])
def test_squashed_density_matches_the_autograd_jacobian(noise_std_type: str) -> None:
    flow = make_flow(noise_std_type=noise_std_type, action_bound=BOUND).double()
    obs = torch.randn(16, 5, dtype=torch.float64)
    outputs, log_prob = flow.sample(flow.condition(obs))
    z, _ = flow.inverse(outputs, obs)
    closed_form = log_prob - flow.squash.log_abs_det(outputs)
    torch.testing.assert_close(closed_form, squashed_reference_log_density(flow, z, obs), atol=1e-9, rtol=0)


def test_squash_log_det_is_finite_where_tanh_saturates() -> None:
    squash = ActionSquash(1.0)
    u = torch.tensor([[-30.0, -5.0, 0.0, 5.0, 30.0]], dtype=torch.float64)
    expected = torch.log1p(-torch.tanh(u).square()).sum(-1)
    assert torch.isfinite(squash.log_abs_det(u)).all()
    torch.testing.assert_close(squash.log_abs_det(u[:, 1:4]), expected[:, None].new_tensor([
        torch.log1p(-torch.tanh(u[:, 1:4]).square()).sum().item()
    ]))


def test_squashed_env_actions_lie_in_the_box_and_average_the_squashed_halves() -> None:
    flow = make_flow(noise_std_type="log", action_bound=BOUND)
    with torch.no_grad():
        flow.noise.log_std.fill_(math.log(5.0))  # wide noise: most samples saturate
        outputs, _ = flow.sample(flow.condition(torch.randn(512, 5)))
    actions = flow.to_env_action(outputs)
    assert actions.abs().max() <= BOUND
    expected = 0.5 * BOUND * (torch.tanh(outputs[:, :3]) + torch.tanh(outputs[:, 3:]))
    torch.testing.assert_close(actions, expected)


def test_squashed_entropy_estimate_matches_a_monte_carlo_estimate_of_the_exact_density() -> None:
    flow = make_flow(noise_std_type="log", action_bound=BOUND).double()
    obs = torch.randn(1, 5, dtype=torch.float64).expand(4096, -1)
    condition = flow.condition(obs)
    with torch.no_grad():
        outputs, log_prob = flow.sample(condition)
        surprisal = -(log_prob - flow.squash.log_abs_det(outputs))
        estimate = flow.entropy(condition, outputs).mean()
        unbounded = flow.noise.entropy(condition.noise_log_std, 1, obs)[0] + flow.logabsdet
    standard_error = surprisal.std() / math.sqrt(len(surprisal))
    assert abs(estimate - surprisal.mean()) < 4.0 * standard_error
    assert unbounded - estimate > 10.0 * standard_error, "squashing into a box of half-width < 1 lowers the entropy"


def test_entropy_bonus_cannot_buy_saturated_noise_once_actions_are_squashed() -> None:
    """The squashed entropy peaks at a finite sigma: beyond it, wider noise saturates and loses entropy."""
    flow = make_flow(noise_std_type="log", action_bound=1.0)
    obs = torch.randn(1, 5).expand(8192, -1)
    entropies = []
    for sigma in (0.3, 1.0, 30.0):
        with torch.no_grad():
            flow.noise.log_std.fill_(math.log(sigma))
            torch.manual_seed(0)
            entropies.append(flow.entropy(flow.condition(obs)).mean().item())
    assert entropies[1] > entropies[0] and entropies[1] > entropies[2]


def test_squashed_entropy_gradient_reaches_sigma_through_the_samples() -> None:
    flow = make_flow(noise_std_type="log", action_bound=1.0)
    with torch.no_grad():
        flow.noise.log_std.fill_(math.log(20.0))
    entropy = flow.entropy(flow.condition(torch.randn(2048, 5))).mean()
    entropy.backward()
    assert (flow.noise.log_std.grad < 0).all(), "at saturating noise the squashed entropy must ask for less noise"


def test_noise_cap_bounds_sigma_smoothly_and_keeps_the_gradient() -> None:
    flow = CoupledFlow(3, 5, hidden_dims=[8], noise_std_type="log", init_noise_std=0.5, max_noise_std=1.0)
    obs = torch.randn(4, 5)
    torch.testing.assert_close(flow.noise_std(flow.condition(obs)), torch.full((1, 3), 0.5))
    with torch.no_grad():
        flow.noise.log_std.fill_(50.0)
    sigma = flow.noise_std(flow.condition(obs))
    assert (sigma <= 1.0).all() and (sigma > 0.99).all()
    with torch.no_grad():
        flow.noise.log_std.fill_(1.0)
    flow.noise_std(flow.condition(obs)).sum().backward()
    assert (flow.noise.log_std.grad > 0).all(), "the parameter keeps a gradient beyond the cap"


def test_noise_capped_at_its_initial_value_starts_just_below_the_cap() -> None:
    flow = CoupledFlow(3, 5, hidden_dims=[8], noise_std_type="log", init_noise_std=1.0, max_noise_std=1.0)
    sigma = flow.noise_std(flow.condition(torch.randn(2, 5)))
    torch.testing.assert_close(sigma, torch.full((1, 3), math.exp(-0.01)))


def test_capped_noise_keeps_the_exact_density() -> None:
    flow = make_flow(noise_std_type="log", init_noise_std=0.5, max_noise_std=0.8).double()
    with torch.no_grad():
        flow.noise.log_std.fill_(3.0)
    obs = torch.randn(32, 5, dtype=torch.float64)
    condition = flow.condition(obs)
    outputs, log_prob = flow.sample(condition)
    z, _ = flow.inverse(outputs, obs)
    sigma = flow.noise_std(condition).repeat(1, 2)
    base = torch.distributions.Normal(torch.zeros_like(z), sigma).log_prob(z).sum(-1)
    torch.testing.assert_close(log_prob, base - flow.logabsdet, atol=1e-10, rtol=0)
    torch.testing.assert_close(flow.log_prob(outputs, condition), log_prob, atol=1e-10, rtol=0)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"noise_std_type": "log", "max_noise_std": 0.5}, "max_noise_std must be at least"),
        ({"noise_std_type": "fixed", "max_noise_std": 2.0}, "need a learned type"),
        ({"action_bound": 0.0}, "action_bound must be > 0"),
    ],
)
def test_invalid_bounds_raise_naming_the_valid_range(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CoupledFlow(2, 3, hidden_dims=[8], **kwargs)


def test_entropy_dual_raises_the_coefficient_below_the_target_and_lowers_it_above() -> None:
    dual = EntropyDual(initial_coef=0.01, target=1.0, learning_rate=0.1)
    for _ in range(5):
        dual.step(torch.tensor(0.0), world_size=1)
    assert dual.coef.item() == pytest.approx(0.01 * math.exp(0.5), rel=1e-5)
    for _ in range(20):
        dual.step(torch.tensor(3.0), world_size=1)
    assert dual.coef.item() == pytest.approx(0.01 * math.exp(0.5 - 4.0), rel=1e-5)


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"entropy_term": "paper"}, "set entropy_term to 'exact'"),
        ({"entropy_coef_lr": 0.0}, "entropy_coef_lr must be > 0"),
        ({"ppo_kwargs": {"entropy_coef": 0.0}}, "must be > 0"),
    ],
)
def test_entropy_target_options_are_checked(overrides: dict, message: str) -> None:
    options = {
        "compression_coef": 0.01,
        "compression_loss": "squared",
        "compression_batch_fraction": 1.0,
        "entropy_term": "exact",
        "kl_estimator": "paper",
        "ppo_kwargs": {"entropy_coef": 0.01},
        "entropy_target": 0.5,
        "entropy_coef_lr": 0.01,
    }
    options.update(overrides)
    with pytest.raises(ValueError, match=message):
        validate_genpo_options(**options)
