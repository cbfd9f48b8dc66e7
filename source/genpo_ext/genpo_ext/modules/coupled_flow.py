"""The exactly invertible coupled flow over the doubled latent action (GenPO, arXiv 2505.18763)."""

from __future__ import annotations

import math
import torch
import torch.nn as nn

from genpo_ext.modules.time_embedding import TimeEncoder
from genpo_ext.modules.velocity_field import VelocityField


class CoupledFlow(nn.Module):
    """N steps of additive couplings and mixing over a doubled latent ``(x, y)``, conditioned on the observation.

    One step ``i`` with ``dt = 1 / N``, ``t_i = i / N`` and mixing coefficient ``p``::

        x <- x + dt * v(y, s, t_i)        # additive coupling, |det| = 1
        y <- y + dt * v(x, s, t_i)        # additive coupling, |det| = 1
        x <- p * x + (1 - p) * y          # mixing, |det| = p^d
        y <- p * y + (1 - p) * x          # mixing, |det| = p^d

    Every step is inverted exactly in reverse order, and ``log|det|`` of the whole map is the constant
    ``2 N d log p``: densities need no Jacobian. The latent ``z = (x_0, y_0)`` is standard normal, the flow's output
    ``u = (x_N, y_N)`` is what the learner stores, and the environment receives ``(x_N + y_N) / 2``.
    """

    def __init__(
        self,
        action_dim: int,
        obs_dim: int,
        hidden_dims: tuple[int, ...] | list[int],
        activation: str = "mish",
        num_steps: int = 5,
        mixing_coef: float = 0.9,
        time_embed_dim: int = 32,
        time_hidden_dims: tuple[int, ...] | list[int] = (256, 256),
    ) -> None:
        """Initialize the flow.

        Args:
            action_dim: Dimension ``d`` of the environment action; the latent has ``2 d`` dimensions.
            obs_dim: Dimension of the conditioning observation.
            hidden_dims: Hidden layer sizes of the velocity network.
            activation: Activation function of the velocity and time networks.
            num_steps: Number of flow steps ``N`` (>= 1).
            mixing_coef: Mixing coefficient ``p`` in ``(0, 1]``.
            time_embed_dim: Number of sinusoidal time features (even).
            time_hidden_dims: Hidden layer sizes of the time-embedding MLP.

        Raises:
            ValueError: If ``num_steps`` or ``mixing_coef`` lies outside its valid range.
        """
        super().__init__()
        if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
            raise ValueError(f"The number of flow steps must be an integer >= 1, got {num_steps!r}.")
        if not 0.0 < mixing_coef <= 1.0:
            raise ValueError(f"The mixing coefficient p must lie in (0, 1], got {mixing_coef!r}.")
        self.action_dim = action_dim
        self.latent_dim = 2 * action_dim
        self.num_steps = num_steps
        self.mixing_coef = float(mixing_coef)
        self.step_size = 1.0 / num_steps
        # Each step has two mixings of determinant p^d each: log|det| = 2 N d log p
        self.logabsdet = 2.0 * num_steps * action_dim * math.log(mixing_coef)
        # Log-normalizer of the standard normal latent: (2d / 2) log(2 pi)
        self.base_log_normalizer = 0.5 * self.latent_dim * math.log(2.0 * math.pi)
        self.time_encoder = TimeEncoder(time_embed_dim, time_hidden_dims, activation)
        self.velocity_field = VelocityField(action_dim, obs_dim, time_embed_dim, hidden_dims, activation)
        self.register_buffer("step_times", torch.arange(num_steps, dtype=torch.float32) / num_steps, persistent=False)

    def forward(self, z: torch.Tensor, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Push latents through the flow.

        Args:
            z: Latents ``(x_0, y_0)`` of shape ``(B, 2 d)``.
            obs: Conditioning observations of shape ``(B, obs_dim)``.

        Returns:
            The outputs ``(x_N, y_N)`` of shape ``(B, 2 d)`` and ``log|det dz'/dz|`` of shape ``(B,)``.
        """
        obs_term, time_terms = self._condition(obs)
        x, y = z[:, : self.action_dim], z[:, self.action_dim :]
        for i in range(self.num_steps):
            x, y = self._step_forward(x, y, obs_term + time_terms[i])
        return torch.cat([x, y], dim=-1), z.new_full(z.shape[:1], self.logabsdet)

    def inverse(self, u: torch.Tensor, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pull outputs back to their latents, exactly.

        Args:
            u: Outputs ``(x_N, y_N)`` of shape ``(B, 2 d)``.
            obs: Conditioning observations of shape ``(B, obs_dim)``.

        Returns:
            The latents ``(x_0, y_0)`` of shape ``(B, 2 d)`` and ``log|det dz/du|`` of shape ``(B,)``.
        """
        obs_term, time_terms = self._condition(obs)
        x, y = u[:, : self.action_dim], u[:, self.action_dim :]
        for i in range(self.num_steps - 1, -1, -1):
            x, y = self._step_inverse(x, y, obs_term + time_terms[i])
        return torch.cat([x, y], dim=-1), u.new_full(u.shape[:1], -self.logabsdet)

    def sample(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw outputs and their exact log-densities in one forward pass (no inversion).

        Args:
            obs: Conditioning observations of shape ``(B, obs_dim)``.

        Returns:
            Outputs of shape ``(B, 2 d)`` and their log-densities of shape ``(B,)``.
        """
        z = torch.randn(obs.shape[0], self.latent_dim, device=obs.device, dtype=obs.dtype)
        u, logabsdet = self.forward(z, obs)
        return u, self.base_log_prob(z) - logabsdet

    def log_prob(self, u: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
        """Exact log-density of outputs ``u``: ``log N(f^-1(u)) + log|det df^-1/du|``, of shape ``(B,)``."""
        z, logabsdet = self.inverse(u, obs)
        return self.base_log_prob(z) + logabsdet

    def deterministic_output(self, obs: torch.Tensor) -> torch.Tensor:
        """Push the zero latent (the mode of the base distribution) through the flow; shape ``(B, 2 d)``."""
        z = torch.zeros(obs.shape[0], self.latent_dim, device=obs.device, dtype=obs.dtype)
        return self.forward(z, obs)[0]

    def to_env_action(self, u: torch.Tensor) -> torch.Tensor:
        """Map flow outputs ``(x_N, y_N)`` to environment actions ``(x_N + y_N) / 2``."""
        return 0.5 * (u[..., : self.action_dim] + u[..., self.action_dim :])

    def base_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """Log-density of the standard normal latent, summed over the last dimension."""
        return -0.5 * z.square().sum(dim=-1) - self.base_log_normalizer

    def _condition(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Latent-independent velocity-network terms: once per observation and once per step."""
        return self.velocity_field.condition(obs, self.time_encoder(self.step_times))

    def _step_forward(
        self, x: torch.Tensor, y: torch.Tensor, step_term: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One flow step: two additive couplings, then two mixings; ``step_term`` conditions the velocity network."""
        p = self.mixing_coef
        x = x + self.step_size * self.velocity_field(y, step_term)
        y = y + self.step_size * self.velocity_field(x, step_term)
        x = p * x + (1.0 - p) * y
        y = p * y + (1.0 - p) * x
        return x, y

    def _step_inverse(
        self, x: torch.Tensor, y: torch.Tensor, step_term: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Exact inverse of :meth:`_step_forward`, undoing its four maps in reverse order."""
        p = self.mixing_coef
        y = (y - (1.0 - p) * x) / p
        x = (x - (1.0 - p) * y) / p
        y = y - self.step_size * self.velocity_field(x, step_term)
        x = x - self.step_size * self.velocity_field(y, step_term)
        return x, y
