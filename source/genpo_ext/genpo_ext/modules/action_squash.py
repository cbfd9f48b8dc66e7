"""Bounded environment actions inside the flow: an elementwise ``b * tanh`` bijection on both latent halves."""

from __future__ import annotations

import math
import torch
import torch.nn as nn
import torch.nn.functional as F


class ActionSquash(nn.Module):
    """Elementwise bijection ``a = b * tanh(u)`` from the flow's output ``u = (x_N, y_N)`` onto the box ``(-b, b)``.

    Applied to both halves, it keeps the doubled action's density exact: ``log|det da/du| = sum_i log b +
    log(1 - tanh(u_i)^2)`` in closed form (it depends on ``u``, unlike the flow's constant log-determinant). The
    learner keeps storing and re-scoring the unbounded ``u``: the squashing's log-determinant is the same for the
    old and the new policy of a stored ``u`` and cancels in PPO's ratio. It enters where the density of the bounded
    action itself matters: its entropy (a saturated action has a log-determinant near minus infinity, so an
    entropy bonus cannot buy saturated noise) and the likeliest of several candidate actions.

    With ``bound=None`` the module is the identity with log-determinant 0 (the paper's unbounded actions).
    """

    def __init__(self, bound: float | None = None) -> None:
        """Initialize the bijection.

        Args:
            bound: Half-width ``b > 0`` of the action box, or None for unbounded actions.

        Raises:
            ValueError: If ``bound`` is not positive.
        """
        super().__init__()
        if bound is not None and not bound > 0.0:
            raise ValueError(f"action_bound must be > 0 (or None for unbounded actions), got {bound!r}.")
        self.enabled = bound is not None
        self.bound = float(bound) if bound is not None else 1.0
        self.log_bound = math.log(self.bound)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """Map flow outputs to bounded actions, elementwise (any shape)."""
        if not self.enabled:
            return u
        return self.bound * torch.tanh(u)

    def log_abs_det(self, u: torch.Tensor) -> torch.Tensor:
        """``log|det da/du|`` summed over the last dimension; zeros when unbounded.

        Uses ``log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2 u))``, finite for every finite ``u``.
        """
        if not self.enabled:
            return u.new_zeros(u.shape[:-1])
        log_derivative = 2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u)) + self.log_bound
        return log_derivative.sum(dim=-1)
