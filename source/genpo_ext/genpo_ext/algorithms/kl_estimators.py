"""Sample estimators of KL(pi_old || pi_new) from log-probabilities of actions drawn from pi_old."""

from __future__ import annotations

import torch
from dataclasses import dataclass
from typing import Callable


def paper_kl(old_log_prob: torch.Tensor, new_log_prob: torch.Tensor) -> torch.Tensor:
    """k1 estimate ``log pi_old - log pi_new`` used by the GenPO code: unbiased, but negative on single samples."""
    return old_log_prob - new_log_prob


def k3_kl(old_log_prob: torch.Tensor, new_log_prob: torch.Tensor) -> torch.Tensor:
    """k3 estimate ``(r - 1) - log r`` with ``r = pi_new / pi_old``: unbiased, non-negative, lower variance."""
    log_ratio = new_log_prob - old_log_prob
    return torch.expm1(log_ratio) - log_ratio


@dataclass(frozen=True)
class KLEstimator:
    """A KL estimator with the smallest mean KL at which the adaptive schedule may still raise the learning rate."""

    estimate: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    """Per-sample estimate from (old, new) log-probabilities."""

    raise_floor: float
    """The learning rate is raised only when the mean estimate is above this value."""


KL_ESTIMATORS: dict[str, KLEstimator] = {
    # The GenPO code raises the learning rate only while the (possibly negative) k1 mean exceeds -1e-4
    "paper": KLEstimator(paper_kl, raise_floor=-1e-4),
    # rsl_rl's guard for a non-negative estimate: do not raise on an exactly zero KL
    "k3": KLEstimator(k3_kl, raise_floor=0.0),
}
"""Selectable KL estimators, by name."""
