"""The exactly invertible coupled flow over the doubled latent action (GenPO, arXiv 2505.18763)."""

from __future__ import annotations

import math
import torch
import torch.nn as nn
from typing import NamedTuple

from genpo_ext.modules.action_squash import ActionSquash
from genpo_ext.modules.activations import use_fast_activations
from genpo_ext.modules.deployment import DeployedAction
from genpo_ext.modules.latent_noise import LatentNoise
from genpo_ext.modules.non_finite import PARAMETERS, NonFiniteRecord
from genpo_ext.modules.precision import full_precision_matmul
from genpo_ext.modules.time_embedding import TimeEncoder
from genpo_ext.modules.velocity_field import VelocityField


STD_PROBE_STATES = 64
"""Number of observations on which :meth:`CoupledFlow.env_action_std` estimates the action spread."""

STD_PROBE_SAMPLES = 16
"""Number of flow samples per observation for :meth:`CoupledFlow.env_action_std`."""


class FlowCondition(NamedTuple):
    """Everything of the flow that depends on the observations but not on the latent, computed once per batch.

    One condition serves any number of forward and inverse passes over the same observations (e.g. the update's
    fresh samples and its re-scoring of stored latents), so the conditioning terms are computed and
    back-propagated once.
    """

    step_terms: torch.Tensor
    """Latent-independent first-layer terms ``W_s s + b + W_t tau(t_i)`` of the velocity network, ``(N, B, h)``."""
    noise_log_std: torch.Tensor | None
    """``log sigma`` of the latent noise, ``(1, d)`` or ``(B, d)``; None for the paper's fixed unit noise."""

    @property
    def batch_size(self) -> int:
        """Number of observations ``B``."""
        return self.step_terms.shape[1]

    def select(self, rows: torch.Tensor) -> FlowCondition:
        """Return the condition of a subset of the observations (``rows`` indexes the batch)."""
        log_std = self.noise_log_std
        if log_std is not None and log_std.shape[0] > 1:
            log_std = log_std[rows]
        return FlowCondition(self.step_terms[:, rows], log_std)


class CoupledFlow(nn.Module):
    """N steps of additive couplings and mixing over a doubled latent ``(x, y)``, conditioned on the observation.

    One step ``i`` with ``dt = 1 / N``, ``t_i = i / N`` and mixing coefficient ``p``::

        x <- x + dt * v(y, s, t_i)        # additive coupling, |det| = 1
        y <- y + dt * v(x, s, t_i)        # additive coupling, |det| = 1
        x <- p * x + (1 - p) * y          # mixing, |det| = p^d
        y <- p * y + (1 - p) * x          # mixing, |det| = p^d

    Every step is inverted exactly in reverse order, and ``log|det|`` of the whole map is the constant
    ``2 N d log p``: densities need no Jacobian. The latent ``z = (x_0, y_0) = sigma * eps`` comes from
    :class:`LatentNoise` (``sigma = 1`` in the paper), the flow's output ``u = (x_N, y_N)`` is what the learner stores,
    and the environment receives ``(x_N + y_N) / 2``. Hence, exactly and in closed form,

        log pi(u | s) = log N(f^-1(u); 0, diag sigma^2) - 2 N d log p
        H(pi(. | s))  = H(N(0, diag sigma^2)) + 2 N d log p

    Batch methods take a :class:`FlowCondition` from :meth:`condition`, computed once per batch of observations.
    The likelihood computations (:meth:`condition`, :meth:`sample`, :meth:`log_prob`) run their matmuls in full
    float32 precision whatever the global TF32 setting (:mod:`~genpo_ext.modules.precision`), so that re-scoring a
    sample reproduces the log-prob recorded when it was drawn. Problems are recorded on the device in
    :attr:`non_finite` for the caller to read at a synchronization point of its choice.
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
        noise_std_type: str = "fixed",
        init_noise_std: float = 1.0,
        min_noise_std: float = 0.0,
        compile_activation: str = "auto",
        max_noise_std: float | None = None,
        action_bound: float | None = None,
        deterministic_mode: str = "zero",
        deterministic_samples: int = 16,
        deterministic_temperature: float = 1.0,
        action_clip: float | None = None,
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
            noise_std_type: Scale of the latent noise: ``"fixed"`` (the paper's unit noise), ``"scalar"``, ``"log"``
                or ``"state"`` (see :class:`LatentNoise`).
            init_noise_std: Initial scale of a learned latent noise.
            min_noise_std: Lower bound of a learned latent noise scale (0: none).
            compile_activation: When Mish runs as a compiled kernel: ``"auto"`` (CPU), ``"always"``, ``"never"``
                (see :class:`~genpo_ext.modules.activations.FastMish`).
            max_noise_std: Smooth upper bound of a learned latent noise scale (None: none).
            action_bound: Half-width ``b`` of a box that both halves are squashed into by ``b * tanh`` before they
                are averaged into the environment action (:class:`ActionSquash`); None keeps the paper's unbounded
                outputs.
            deterministic_mode: The deployed action: ``"zero"``, ``"mean"`` or ``"likeliest"`` (see
                :class:`DeployedAction`).
            deterministic_samples: Number K of fixed draws for the ``mean`` and ``likeliest`` deployed actions.
            deterministic_temperature: Scale in ``(0, 1]`` of those draws relative to the policy's noise.
            action_clip: Symmetric bound the environment clips actions to, applied to each draw of the ``mean``
                deployed action (None: no clip).

        Raises:
            ValueError: If an argument lies outside its valid range.
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
        self.non_finite = NonFiniteRecord()
        self.noise = LatentNoise(
            action_dim, obs_dim, noise_std_type, init_noise_std, min_noise_std, self.non_finite, max_noise_std
        )
        self.squash = ActionSquash(action_bound)
        self.deployment = DeployedAction(
            self.latent_dim, deterministic_mode, deterministic_samples, deterministic_temperature, action_clip
        )
        self.time_encoder = use_fast_activations(TimeEncoder(time_embed_dim, time_hidden_dims, activation), compile_activation)
        self.velocity_field = use_fast_activations(
            VelocityField(action_dim, obs_dim, time_embed_dim, hidden_dims, activation), compile_activation
        )
        self.register_buffer("step_times", torch.arange(num_steps, dtype=torch.float32) / num_steps, persistent=False)
        # Time terms W_t tau(t_i) computed without gradient, keyed by the state of the parameters they depend on
        self._time_terms_cache: tuple[tuple, torch.Tensor] | None = None

    def condition(self, obs: torch.Tensor) -> FlowCondition:
        """Compute the latent-independent terms for a batch of observations of shape ``(B, obs_dim)``.

        Equal to :meth:`step_terms`; the time terms are reused from the last call while no gradient flows and the
        parameters they depend on are unchanged (see :meth:`cached_time_terms`).
        """
        with full_precision_matmul():
            step_terms = self.velocity_field.obs_term(obs).unsqueeze(0) + self.cached_time_terms().unsqueeze(1)
            return FlowCondition(step_terms, self.noise.scale_log(obs))

    def cached_time_terms(self) -> torch.Tensor:
        """First-layer time terms ``W_t tau(t_i)`` of every step, shape ``(N, h)``.

        They depend on the parameters only, not on the observations. While gradients flow they are computed anew
        (the update back-propagates through them); otherwise (rollout, inference) the last result is reused as long
        as every parameter and buffer they depend on is the same tensor, in the same place, at the same version
        (each in-place change such as an optimizer step or ``load_state_dict`` bumps the version).
        """
        if torch.is_grad_enabled():
            return self._time_terms()
        key = tuple((id(t), t.data_ptr(), t._version) for t in self._time_terms_inputs())
        if self._time_terms_cache is None or self._time_terms_cache[0] != key:
            self._time_terms_cache = (key, self._time_terms())
        return self._time_terms_cache[1]

    def clear_cache(self) -> None:
        """Forget the cached time terms, e.g. after writing parameters by means that keep their version (collectives
        such as ``torch.distributed.broadcast``)."""
        self._time_terms_cache = None

    def check_parameters(self) -> None:
        """Record non-finite parameters and a ``scalar`` noise std outside the positive reals in :attr:`non_finite`."""
        with torch.no_grad():
            self.non_finite.record(PARAMETERS, torch.cat([~torch.isfinite(p).flatten() for p in self.parameters()]))
        self.noise.check_scale()

    def _time_terms(self) -> torch.Tensor:
        """``W_t tau(t_i)`` of every step, computed now; shape ``(N, h)``."""
        return self.velocity_field.time_terms(self.time_encoder(self.step_times))

    def _time_terms_inputs(self) -> list[torch.Tensor]:
        """The tensors :meth:`cached_time_terms` depends on: the time encoder, the velocity network's first layer and
        the step times."""
        return [*self.time_encoder.parameters(), self.velocity_field.mlp[0].weight, self.step_times]

    def step_terms(self, obs: torch.Tensor) -> torch.Tensor:
        """First-layer terms ``W_s s + b + W_t tau(t_i)`` of the velocity network per step, shape ``(N, B, h)``."""
        obs_term, time_terms = self.velocity_field.condition(obs, self.time_encoder(self.step_times))
        return obs_term.unsqueeze(0) + time_terms.unsqueeze(1)

    def forward(self, z: torch.Tensor, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Push latents ``(x_0, y_0)`` of shape ``(B, 2 d)`` through the flow conditioned on ``obs``.

        Returns:
            The outputs ``(x_N, y_N)`` of shape ``(B, 2 d)`` and ``log|det du/dz|`` of shape ``(B,)``.
        """
        return self.push(z, self.step_terms(obs))

    def inverse(self, u: torch.Tensor, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pull outputs ``(x_N, y_N)`` of shape ``(B, 2 d)`` back to their latents, exactly.

        Returns:
            The latents ``(x_0, y_0)`` of shape ``(B, 2 d)`` and ``log|det dz/du|`` of shape ``(B,)``.
        """
        return self.pull(u, self.step_terms(obs))

    def push(self, z: torch.Tensor, step_terms: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`forward` for precomputed :meth:`step_terms`."""
        x, y = z[:, : self.action_dim], z[:, self.action_dim :]
        for step_term in step_terms.unbind(0):
            x, y = self._step_forward(x, y, step_term)
        return torch.cat([x, y], dim=-1), z.new_full(z.shape[:1], self.logabsdet)

    def pull(self, u: torch.Tensor, step_terms: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`inverse` for precomputed :meth:`step_terms`."""
        x, y = u[:, : self.action_dim], u[:, self.action_dim :]
        for step_term in reversed(step_terms.unbind(0)):
            x, y = self._step_inverse(x, y, step_term)
        return torch.cat([x, y], dim=-1), u.new_full(u.shape[:1], -self.logabsdet)

    def sample(self, condition: FlowCondition) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw outputs and their exact log-densities in one forward pass (no inversion), in full float32 precision.

        Returns:
            Outputs of shape ``(B, 2 d)`` and their log-densities of shape ``(B,)``.
        """
        z = self.noise.sample(condition.noise_log_std, (condition.batch_size, self.latent_dim), condition.step_terms)
        with full_precision_matmul():
            u, logabsdet = self.push(z, condition.step_terms)
        return u, self.noise.log_prob(z, condition.noise_log_std) - logabsdet

    def log_prob(self, u: torch.Tensor, condition: FlowCondition) -> torch.Tensor:
        """Exact log-density ``log N(f^-1(u); 0, diag sigma^2) - 2 N d log p`` of outputs ``u``, of shape ``(B,)``,
        by exact inversion in full float32 precision."""
        with full_precision_matmul():
            z, logabsdet = self.pull(u, condition.step_terms)
        return self.noise.log_prob(z, condition.noise_log_std) + logabsdet

    def entropy(self, condition: FlowCondition, outputs: torch.Tensor | None = None) -> torch.Tensor:
        """Entropy of the doubled action per observation, shape ``(B,)``.

        Unbounded outputs: exactly ``H(N(0, diag sigma^2)) + 2 N d log p``, constant for the paper's fixed noise and
        differentiable in a learned sigma. Squashed outputs (``action_bound``) add ``E[log|det da/du|]``, which has no
        closed form: each observation's term is estimated from one fresh sample ``outputs`` of the flow for it
        (drawn here if None), an unbiased estimate whose gradient flows through the sample.

        Args:
            condition: The flow conditioned on the observations.
            outputs: Fresh samples ``u`` of shape ``(B, 2 d)`` drawn from ``condition`` (squashed outputs only).
        """
        entropy = self.noise.entropy(condition.noise_log_std, condition.batch_size, condition.step_terms) + self.logabsdet
        if not self.squash.enabled:
            return entropy
        if outputs is None:
            outputs = self.sample(condition)[0]
        return entropy + self.squash.log_abs_det(outputs)

    def noise_std(self, condition: FlowCondition) -> torch.Tensor:
        """Latent noise scale sigma of shape ``(1, d)`` or ``(B, d)`` (ones for the paper's fixed noise)."""
        if condition.noise_log_std is None:
            return condition.step_terms.new_ones(1, self.action_dim)
        return condition.noise_log_std.exp()

    @torch.no_grad()
    def env_action_std(self, obs: torch.Tensor) -> torch.Tensor:
        """Per-dimension spread of environment actions given the state, averaged over observations: shape ``(d,)``.

        Estimated from :data:`STD_PROBE_SAMPLES` samples on each of the first :data:`STD_PROBE_STATES` observations
        (the flow has no closed-form action variance); the runners log it as the policy's action std.
        """
        probe = obs[:STD_PROBE_STATES].repeat_interleave(STD_PROBE_SAMPLES, dim=0)
        actions = self.to_env_action(self.sample(self.condition(probe))[0])
        return actions.view(-1, STD_PROBE_SAMPLES, self.action_dim).std(dim=1).mean(dim=0)

    def deterministic_output(self, obs: torch.Tensor) -> torch.Tensor:
        """Push the zero latent (the mode of the base distribution) through the flow; shape ``(B, 2 d)``."""
        z = torch.zeros(obs.shape[0], self.latent_dim, device=obs.device, dtype=obs.dtype)
        return self.forward(z, obs)[0]

    def deployed_action(self, obs: torch.Tensor) -> torch.Tensor:
        """The deterministic environment action for observations of shape ``(B, obs_dim)``: shape ``(B, d)``.

        ``zero`` maps the image of the zero latent; ``mean`` and ``likeliest`` push the fixed draws of
        :class:`DeployedAction` for every observation as one batch of ``B K`` rows and reduce the K actions per
        observation, ``likeliest`` by their exact log-density (the flow's constant log-determinant left out).
        """
        if not self.deployment.samples:
            return self.to_env_action(self.deterministic_output(obs))
        batch_size, num_samples = obs.shape[0], self.deployment.num_samples
        step_terms = self.step_terms(obs).repeat_interleave(num_samples, dim=1)
        log_std = self.noise.scale_log(obs)
        if log_std is None:
            log_std = obs.new_zeros(1, self.action_dim)
        z = self.deployment.latents(log_std.exp().repeat(1, 2), batch_size)
        u = self.push(z, step_terms)[0]
        expanded_log_std = log_std.repeat_interleave(num_samples, dim=0) if log_std.shape[0] > 1 else log_std
        log_density = self.noise.log_prob(z, expanded_log_std) - self.squash.log_abs_det(u)
        actions = self.to_env_action(u).view(batch_size, num_samples, self.action_dim)
        return self.deployment.reduce(actions, log_density.view(batch_size, num_samples))

    def to_env_action(self, u: torch.Tensor) -> torch.Tensor:
        """Map flow outputs ``(x_N, y_N)`` to environment actions ``(a(x_N) + a(y_N)) / 2``, where ``a`` is the
        identity (the paper) or the squashing into the action box."""
        return 0.5 * (self.squash(u[..., : self.action_dim]) + self.squash(u[..., self.action_dim :]))

    def _step_forward(
        self, x: torch.Tensor, y: torch.Tensor, step_term: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One flow step: two additive couplings, then two mixings; ``step_term`` conditions the velocity network."""
        p = self.mixing_coef
        x = torch.add(x, self.velocity_field(y, step_term), alpha=self.step_size)
        y = torch.add(y, self.velocity_field(x, step_term), alpha=self.step_size)
        # lerp(y, x, p) = p x + (1 - p) y
        x = torch.lerp(y, x, p)
        y = torch.lerp(x, y, p)
        return x, y

    def _step_inverse(
        self, x: torch.Tensor, y: torch.Tensor, step_term: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Exact inverse of :meth:`_step_forward`, undoing its four maps in reverse order."""
        p = self.mixing_coef
        y = torch.add(y, x, alpha=p - 1.0) / p
        x = torch.add(x, y, alpha=p - 1.0) / p
        y = torch.add(y, self.velocity_field(x, step_term), alpha=-self.step_size)
        x = torch.add(x, self.velocity_field(y, step_term), alpha=-self.step_size)
        return x, y
