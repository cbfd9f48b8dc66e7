"""The velocity network ``v(u, s, t)`` shared by every coupling of the flow."""

from __future__ import annotations

import torch
import torch.nn as nn

from genpo_ext.modules.networks import MLP


class VelocityField(nn.Module):
    """MLP over the concatenation ``[u, s, tau(t)]`` of one latent half, the observation and the time features.

    The network is a plain :class:`rsl_rl.modules.MLP` on the concatenated input, exactly the paper's form. Its first
    layer is linear, so it splits into ``W_u u + (W_s s + b) + W_t tau(t)``: :meth:`condition` computes the observation
    term once per action and the time terms once per flow step, and :meth:`forward` only adds ``W_u u`` for each of
    the ``2 N`` network calls. The result equals evaluating the MLP on the concatenation (to float rounding).
    """

    def __init__(
        self,
        action_dim: int,
        obs_dim: int,
        time_dim: int,
        hidden_dims: tuple[int, ...] | list[int],
        activation: str,
    ) -> None:
        """Initialize the velocity network.

        Args:
            action_dim: Dimension ``d`` of one latent half (the environment's action dimension).
            obs_dim: Dimension of the (normalized) observation.
            time_dim: Dimension of the time features.
            hidden_dims: Hidden layer sizes of the MLP.
            activation: Activation function name (see :func:`rsl_rl.utils.resolve_nn_activation`).
        """
        super().__init__()
        self.action_dim = action_dim
        self.obs_dim = obs_dim
        self.time_dim = time_dim
        self.mlp = MLP(action_dim + obs_dim + time_dim, action_dim, hidden_dims, activation)

    def condition(self, obs: torch.Tensor, time_features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Precompute the first-layer terms that do not depend on the latent.

        Args:
            obs: Observations of shape ``(B, obs_dim)``.
            time_features: Time features of shape ``(N, time_dim)``, one row per flow step.

        Returns:
            The observation term ``W_s s + b`` of shape ``(B, h)`` and the time terms ``W_t tau`` of shape ``(N, h)``.
        """
        return self.obs_term(obs), self.time_terms(time_features)

    def obs_term(self, obs: torch.Tensor) -> torch.Tensor:
        """First-layer observation term ``W_s s + b`` of shape ``(B, h)`` for observations of shape ``(B, obs_dim)``."""
        first = self.mlp[0]
        obs_weight = first.weight[:, self.action_dim : self.action_dim + self.obs_dim]
        return nn.functional.linear(obs, obs_weight, first.bias)

    def time_terms(self, time_features: torch.Tensor) -> torch.Tensor:
        """First-layer time terms ``W_t tau`` of shape ``(N, h)`` for time features of shape ``(N, time_dim)``."""
        time_weight = self.mlp[0].weight[:, self.action_dim + self.obs_dim :]
        return nn.functional.linear(time_features, time_weight)

    def forward(self, u: torch.Tensor, step_term: torch.Tensor) -> torch.Tensor:
        """Evaluate ``v(u, s, t)`` from a latent half and the step's latent-independent first-layer term.

        Args:
            u: Latent half of shape ``(B, d)``.
            step_term: ``W_s s + b + W_t tau(t)`` of shape ``(B, h)``: the observation term of :meth:`condition` plus
                the time term of the current step.

        Returns:
            The velocity, of shape ``(B, d)``.
        """
        first = self.mlp[0]
        # One fused multiply-add completes the first layer: step_term + u W_u^T
        x = torch.addmm(step_term, u, first.weight[:, : self.action_dim].t())
        for index, layer in enumerate(self.mlp):
            if index > 0:
                x = layer(x)
        return x
