"""Checks shared by the rsl_rl-facing GenPO models of both rsl_rl generations."""

from __future__ import annotations

import torch


def checked_finite(values: torch.Tensor, name: str, origin: str, obs: torch.Tensor, owner: str) -> torch.Tensor:
    """Return ``values`` unchanged, raising if any entry is not finite.

    Args:
        values: The values to check.
        name: What the values are (e.g. ``"log-probs"``).
        origin: The operation that produced them (e.g. ``"sampling the flow"``).
        obs: The observations they were computed from, whose finiteness the message reports.
        owner: Name of the model, for the message.

    Raises:
        FloatingPointError: Naming the values, the operation and whether the observations were finite.
    """
    if not bool(torch.isfinite(values).all()):
        num_bad = int((~torch.isfinite(values)).sum())
        raise FloatingPointError(
            f"{owner}: {num_bad} of {values.numel()} {name} are not finite after {origin} "
            f"(observations finite: {bool(torch.isfinite(obs).all())}). Check the environment's observations and the "
            "learning rate."
        )
    return values
