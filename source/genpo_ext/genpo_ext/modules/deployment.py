"""How a flow policy turns an observation into one deterministic action for deployment (play, exports, evaluation)."""

from __future__ import annotations

import torch
import torch.nn as nn

DEPLOY_MODES = ("zero", "mean", "likeliest")
"""Deployed actions of a flow policy: ``zero``, the image of the zero latent (the base distribution's mode);
``mean``, the mean of K sampled environment actions after the environment's own clipping; ``likeliest``, the most
likely of K samples under the policy's exact density. K samples come from fixed draws, so each is deterministic."""

DEPLOY_DRAWS_SEED = 20250524
"""Seed of the fixed standard-normal draws behind the ``mean`` and ``likeliest`` deployed actions; the same draws on
every device and in every export."""


class DeployedAction(nn.Module):
    """The deployed (deterministic) action of a flow policy: which mode, K, the temperature and the fixed draws.

    The K draws ``eps_k ~ N(0, I_2d)`` are made once from :data:`DEPLOY_DRAWS_SEED` on the CPU and kept as a
    non-persistent buffer: checkpoints do not change, every device sees the same numbers, a JIT or ONNX export
    embeds them as a constant, and the deployed action is a function of the observation alone. The flow pushes the
    latents ``temperature * sigma(s) * eps_k`` of every observation as one batch of ``B * K`` rows and this module
    reduces the K actions per observation to one.
    """

    def __init__(
        self,
        latent_dim: int,
        mode: str = "zero",
        num_samples: int = 16,
        temperature: float = 1.0,
        action_clip: float | None = None,
    ) -> None:
        """Initialize the deployed action.

        Args:
            latent_dim: Dimension ``2 d`` of the flow's latent.
            mode: One of :data:`DEPLOY_MODES`.
            num_samples: Number K of fixed draws per observation for ``mean`` and ``likeliest`` (>= 1).
            temperature: Scale in ``(0, 1]`` of the draws relative to the policy's noise (1: the policy's own).
            action_clip: Symmetric bound the environment clips actions to (rsl_rl's ``clip_actions``, a gymnasium
                task's action box); ``mean`` averages the samples after this clip. None: the environment does not
                clip.

        Raises:
            ValueError: For an unknown mode or a value outside its range, naming the valid ones.
        """
        super().__init__()
        if mode not in DEPLOY_MODES:
            raise ValueError(f"Unknown deterministic_mode '{mode}'. Valid options: {list(DEPLOY_MODES)}.")
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError(f"deterministic_samples must be an integer >= 1, got {num_samples!r}.")
        if not 0.0 < temperature <= 1.0:
            raise ValueError(f"deterministic_temperature must lie in (0, 1], got {temperature!r}.")
        if action_clip is not None and not action_clip > 0.0:
            raise ValueError(f"action_clip must be > 0 (or None when the environment does not clip), got {action_clip!r}.")
        self.mode = mode
        self.num_samples = num_samples
        self.temperature = float(temperature)
        self.clips = action_clip is not None
        self.action_clip = float(action_clip) if action_clip is not None else 0.0
        generator = torch.Generator().manual_seed(DEPLOY_DRAWS_SEED)
        self.register_buffer("draws", torch.randn(num_samples, latent_dim, generator=generator), persistent=False)

    @property
    def samples(self) -> bool:
        """Whether the mode pushes K fixed draws (every mode but ``zero``)."""
        return self.mode != "zero"

    def latents(self, noise_std: torch.Tensor, batch_size: int) -> torch.Tensor:
        """Latents ``temperature * sigma * eps_k`` for every observation and draw, observation-major: ``(B K, 2 d)``.

        Args:
            noise_std: The latent noise scale per latent entry, ``(1, 2 d)`` or ``(B, 2 d)``.
            batch_size: Number of observations ``B``.
        """
        eps = self.draws.repeat(batch_size, 1)
        scale = noise_std.repeat_interleave(self.num_samples, dim=0) if noise_std.shape[0] > 1 else noise_std
        return self.temperature * scale * eps

    def reduce(self, actions: torch.Tensor, log_density: torch.Tensor) -> torch.Tensor:
        """Reduce the K candidate actions of each observation to the deployed one.

        Args:
            actions: Environment actions of every draw, ``(B, K, d)``.
            log_density: Log-density of each candidate under the policy, up to a constant, ``(B, K)``.

        Returns:
            The deployed actions, ``(B, d)``.
        """
        if self.mode == "mean":
            if self.clips:
                actions = actions.clamp(-self.action_clip, self.action_clip)
            return actions.mean(dim=1)
        best = log_density.argmax(dim=1)
        return actions[torch.arange(actions.shape[0], device=actions.device), best]
