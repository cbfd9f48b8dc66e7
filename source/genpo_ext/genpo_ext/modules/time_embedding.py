"""Time embedding of the flow's integration steps."""

from __future__ import annotations

import math
import torch
import torch.nn as nn

from genpo_ext.modules.networks import MLP

MAX_PERIOD = 10000.0
"""Longest period of the sinusoidal features (the transformer convention)."""


class SinusoidalTimeEmbedding(nn.Module):
    """Sinusoidal features of a scalar time: ``[sin(t * w_k), cos(t * w_k)]`` with geometric frequencies ``w_k``."""

    def __init__(self, dim: int) -> None:
        """Initialize the embedding.

        Args:
            dim: Number of features; must be even and at least 2.

        Raises:
            ValueError: If ``dim`` is odd or smaller than 2.
        """
        super().__init__()
        if dim < 2 or dim % 2 != 0:
            raise ValueError(f"The sinusoidal time embedding needs an even dimension >= 2, got {dim}.")
        half = dim // 2
        # w_k = MAX_PERIOD^(-k / (half - 1)), k = 0 .. half - 1
        exponent = torch.arange(half, dtype=torch.float32) / max(half - 1, 1)
        self.register_buffer("frequencies", torch.exp(-math.log(MAX_PERIOD) * exponent), persistent=False)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """Embed times of shape ``(T,)`` into features of shape ``(T, dim)``."""
        angles = t.unsqueeze(-1) * self.frequencies
        return torch.cat([angles.sin(), angles.cos()], dim=-1)


class TimeEncoder(nn.Module):
    """Sinusoidal embedding followed by an MLP, as in the paper (32 features, hidden layers [256, 256])."""

    def __init__(self, embed_dim: int, hidden_dims: tuple[int, ...] | list[int], activation: str) -> None:
        """Initialize the encoder.

        Args:
            embed_dim: Number of sinusoidal features, which is also the output dimension.
            hidden_dims: Hidden layer sizes of the MLP.
            activation: Activation function name (see :func:`rsl_rl.utils.resolve_nn_activation`).
        """
        super().__init__()
        self.embed_dim = embed_dim
        self.sinusoidal = SinusoidalTimeEmbedding(embed_dim)
        self.mlp = MLP(embed_dim, embed_dim, hidden_dims, activation)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """Encode times of shape ``(T,)`` into features of shape ``(T, embed_dim)``."""
        return self.mlp(self.sinusoidal(t))
