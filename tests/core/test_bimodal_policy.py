"""GenPO learns a bimodal optimal action, which no Gaussian policy can represent."""

from __future__ import annotations

import torch
from tensordict import TensorDict
from toy_envs import AlternatingBanditEnv
from train_cfgs import genpo_train_cfg

from rsl_rl.runners import OnPolicyRunner

PEAK_HALF_WIDTH = 0.5
"""An action lies on a peak when it is within 0.5 of -1 or +1."""


def peak_masses(actions: torch.Tensor) -> tuple[float, float]:
    """Fractions of 1-d actions on the positive and on the negative peak."""
    positive = float(((actions - 1.0).abs() < PEAK_HALF_WIDTH).float().mean())
    negative = float(((actions + 1.0).abs() < PEAK_HALF_WIDTH).float().mean())
    return positive, negative


def best_two_peak_coverage_of_a_gaussian() -> float:
    """Largest ``min(mass on +1 peak, mass on -1 peak)`` that any Gaussian achieves (grid search over mean, std)."""
    normal = torch.distributions.Normal(0.0, 1.0)
    means = torch.linspace(-1.5, 1.5, 301).unsqueeze(1)
    stds = torch.logspace(-2, 1, 301).unsqueeze(0)

    def mass(center: float) -> torch.Tensor:
        upper = normal.cdf((center + PEAK_HALF_WIDTH - means) / stds)
        return upper - normal.cdf((center - PEAK_HALF_WIDTH - means) / stds)

    return float(torch.minimum(mass(1.0), mass(-1.0)).max())


def test_genpo_learns_both_peaks_where_a_gaussian_cannot() -> None:
    env = AlternatingBanditEnv(num_envs=128)
    cfg = genpo_train_cfg()
    cfg["num_steps_per_env"] = 4
    runner = OnPolicyRunner(env, cfg, log_dir=None, device="cpu")
    actor = runner.alg.actor
    probe = TensorDict({"policy": torch.ones(4000, 1)}, batch_size=[4000])

    def sample_actions() -> torch.Tensor:
        with torch.no_grad():
            return actor.to_env_action(actor(probe, stochastic_output=True)).squeeze(-1)

    initial_return = float(AlternatingBanditEnv.expected_return(*sample_actions().chunk(2)))
    runner.learn(num_learning_iterations=50)
    actions = sample_actions()
    final_return = float(AlternatingBanditEnv.expected_return(*actions.chunk(2)))
    coverage = min(peak_masses(actions))

    gaussian_coverage = best_two_peak_coverage_of_a_gaussian()
    assert final_return > initial_return + 0.5, f"return {initial_return:.2f} -> {final_return:.2f}"
    assert gaussian_coverage < 0.3, "a Gaussian cannot put much mass on both peaks at once"
    assert coverage > gaussian_coverage + 0.1, f"GenPO covers each peak with {coverage:.2f}, a Gaussian {gaussian_coverage:.2f}"
