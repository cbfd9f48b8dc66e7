"""The flow's base distribution: Gaussian latent noise with a fixed, learned or state-dependent scale."""

from __future__ import annotations

import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from collections.abc import Mapping
from typing import Any

from genpo_ext.modules.networks import MLP
from genpo_ext.modules.non_finite import SCALAR_NOISE, NonFiniteRecord

NOISE_STD_TYPES = ("fixed", "scalar", "log", "state")
"""Parameterizations of the latent noise scale sigma (one value per action dimension, shared by both halves):
``fixed`` sigma = 1 (the paper), ``scalar`` sigma is the parameter, ``log`` log sigma is the parameter, ``state``
log sigma(s) = theta + a bounded head on the observation."""

STATE_LOG_STD_RANGE = 1.0
"""Largest change of log sigma the observation head of ``state`` noise can make: sigma(s) / exp(theta) lies in
[e^-1, e^1]."""

STATE_HEAD_HIDDEN_DIMS = (64,)
"""Hidden layer sizes of the observation head of ``state`` noise."""

STATE_HEAD_ACTIVATION = "elu"
"""Activation of the observation head of ``state`` noise."""

CAP_START_MARGIN = 0.01
"""How far below a cap (in log sigma) a capped sigma starts when ``init_noise_std`` equals the cap: the smooth cap
reaches the cap itself only in the limit."""


class LatentNoise(nn.Module):
    """Base distribution ``z = sigma * eps``, ``eps ~ N(0, I_2d)``, of the coupled flow's doubled latent.

    ``sigma`` has one entry per action dimension ``j``, shared by the latent's two halves, so with ``2 d`` entries

        log N(z; 0, diag sigma^2) = -1/2 ||z / sigma||^2 - 2 sum_j log sigma_j - d log(2 pi)
        H(N(0, diag sigma^2))     = d (1 + log(2 pi)) + 2 sum_j log sigma_j

    Both are closed form and differentiable in ``sigma``. With ``noise_std_type="fixed"`` the module has no
    parameters, ``z = eps`` exactly and every formula reduces to the standard normal's (the paper's flow).
    """

    def __init__(
        self,
        action_dim: int,
        obs_dim: int,
        noise_std_type: str = "fixed",
        init_noise_std: float = 1.0,
        min_noise_std: float = 0.0,
        non_finite: NonFiniteRecord | None = None,
        max_noise_std: float | None = None,
    ) -> None:
        """Initialize the noise.

        Args:
            action_dim: Dimension ``d`` of the environment action; the latent has ``2 d`` entries.
            obs_dim: Dimension of the observation that ``state`` noise reads.
            noise_std_type: One of :data:`NOISE_STD_TYPES`.
            init_noise_std: Initial sigma of the learned types (> 0); ``fixed`` requires 1.0.
            min_noise_std: Lower bound of a learned sigma (a floor on the latent noise), in ``[0, init_noise_std]``;
                0 leaves sigma unbounded.
            non_finite: Record that a ``scalar`` sigma outside the positive reals is reported to (a new one if None).
            max_noise_std: Upper bound of a learned sigma (a cap on the latent noise), at least ``init_noise_std``;
                None leaves sigma unbounded. The cap is smooth, ``log sigma = log cap - softplus(log cap - theta)``,
                so the parameter ``theta`` keeps its gradient beyond it and can come back; a sigma that starts at
                the cap starts :data:`CAP_START_MARGIN` below it in log.

        Raises:
            ValueError: For an unknown type, a non-positive ``init_noise_std``, a bound outside its range, or
                ``fixed`` noise with ``init_noise_std`` other than 1 or a bound.
        """
        super().__init__()
        if noise_std_type not in NOISE_STD_TYPES:
            raise ValueError(f"Unknown noise_std_type '{noise_std_type}'. Valid options: {list(NOISE_STD_TYPES)}.")
        if not init_noise_std > 0.0:
            raise ValueError(f"init_noise_std must be > 0, got {init_noise_std!r}.")
        if noise_std_type == "fixed" and (init_noise_std != 1.0 or min_noise_std != 0.0 or max_noise_std is not None):
            raise ValueError(
                f"noise_std_type 'fixed' keeps the paper's unit noise; init_noise_std={init_noise_std}, "
                f"min_noise_std={min_noise_std} and max_noise_std={max_noise_std} need a learned type. "
                f"Valid options: {list(NOISE_STD_TYPES[1:])}."
            )
        if not 0.0 <= min_noise_std <= init_noise_std:
            raise ValueError(f"min_noise_std must lie in [0, init_noise_std={init_noise_std}], got {min_noise_std!r}.")
        if max_noise_std is not None and not max_noise_std >= init_noise_std:
            raise ValueError(
                f"max_noise_std must be at least init_noise_std={init_noise_std} (or None for no cap), "
                f"got {max_noise_std!r}."
            )
        self.action_dim = action_dim
        self.noise_std_type = noise_std_type
        self.non_finite = non_finite if non_finite is not None else NonFiniteRecord()
        self.min_log_std = math.log(min_noise_std) if min_noise_std > 0.0 else None
        self.max_log_std = math.log(max_noise_std) if max_noise_std is not None else None
        # d log(2 pi): the log-normalizer of a 2d-dimensional Gaussian with unit scale
        self.log_normalizer = action_dim * math.log(2.0 * math.pi)
        # Absent parameters and head are None (not in the state dict), so that TorchScript prunes their branches
        initial_log_std = self._uncapped_log(math.log(init_noise_std))
        scalar_std = nn.Parameter(torch.full((action_dim,), math.exp(initial_log_std)))
        self.register_parameter("std", scalar_std if noise_std_type == "scalar" else None)
        log_std = nn.Parameter(torch.full((action_dim,), initial_log_std))
        self.register_parameter("log_std", log_std if noise_std_type in ("log", "state") else None)
        self.state_head: nn.Module | None = None
        self.state_log_std_range = STATE_LOG_STD_RANGE
        if noise_std_type == "state":
            self.state_head = MLP(obs_dim, action_dim, STATE_HEAD_HIDDEN_DIMS, STATE_HEAD_ACTIVATION)
            # A zero last layer starts the state noise at the global scale
            nn.init.zeros_(self.state_head[-1].weight)
            nn.init.zeros_(self.state_head[-1].bias)

    @property
    def is_learned(self) -> bool:
        """Whether sigma has parameters."""
        return self.noise_std_type != "fixed"

    def scale_log(self, obs: torch.Tensor) -> torch.Tensor | None:
        """Return ``log sigma`` of shape ``(1, d)`` or ``(B, d)`` (``state``), or None for fixed unit noise.

        A ``scalar`` sigma that has left the positive reals is reported to :attr:`non_finite` (on the device, no
        host read).
        """
        if self.noise_std_type == "fixed":
            return None
        log_std = self._unbounded_scale_log(obs)
        max_log_std = self.max_log_std
        if max_log_std is not None:
            log_std = max_log_std - F.softplus(max_log_std - log_std)
        min_log_std = self.min_log_std
        return log_std if min_log_std is None else log_std.clamp(min=min_log_std)

    def _uncapped_log(self, log_std: float) -> float:
        """The parameter ``theta`` whose capped value is ``log_std`` (the inverse of the smooth cap; identity without
        one)."""
        if self.max_log_std is None:
            return log_std
        gap = max(self.max_log_std - log_std, CAP_START_MARGIN)
        # log cap - softplus(log cap - theta) = log cap - gap  <=>  theta = log cap - log(expm1(gap))
        return self.max_log_std - math.log(math.expm1(gap))

    def _unbounded_scale_log(self, obs: torch.Tensor) -> torch.Tensor:
        """``log sigma`` of a learned type before its bounds."""
        std, log_std = self.std, self.log_std
        if std is not None:
            if not torch.jit.is_scripting():
                self.check_scale()
            return std.log().unsqueeze(0)
        assert log_std is not None, "a learned noise type has std or log_std"
        if self.state_head is None:
            return log_std.unsqueeze(0)
        head_range = self.state_log_std_range
        return log_std.unsqueeze(0) + head_range * torch.tanh(self.state_head(obs) / head_range)

    @torch.jit.unused
    def check_scale(self) -> None:
        """Report entries of a ``scalar`` sigma that are not positive (NaN included) to :attr:`non_finite`."""
        if self.noise_std_type == "scalar":
            self.non_finite.record(SCALAR_NOISE, ~(self.std.detach() > 0.0))

    def sample(self, log_std: torch.Tensor | None, shape: tuple[int, int], like: torch.Tensor) -> torch.Tensor:
        """Draw latents ``z`` of ``shape = (B, 2 d)`` with the dtype and device of ``like``."""
        eps = torch.randn(shape, device=like.device, dtype=like.dtype)
        return eps if log_std is None else eps * log_std.exp().repeat(1, 2)

    def log_prob(self, z: torch.Tensor, log_std: torch.Tensor | None) -> torch.Tensor:
        """Log-density of latents ``z`` of shape ``(B, 2 d)``, summed over the latent: shape ``(B,)``."""
        if log_std is None:
            return -0.5 * z.square().sum(dim=-1) - self.log_normalizer
        whitened = z * (-log_std).exp().repeat(1, 2)
        return -0.5 * whitened.square().sum(dim=-1) - 2.0 * log_std.sum(dim=-1) - self.log_normalizer

    def entropy(self, log_std: torch.Tensor | None, batch_size: int, like: torch.Tensor) -> torch.Tensor:
        """Entropy of the latent distribution per sample, shape ``(B,)``."""
        constant = self.action_dim + self.log_normalizer
        if log_std is None:
            return like.new_full((batch_size,), constant)
        return (constant + 2.0 * log_std.sum(dim=-1)).expand(batch_size)


def noise_std_type_of(parameter_names: list[str]) -> str:
    """Infer the ``noise_std_type`` that produced a :class:`LatentNoise`'s state-dict keys (relative names)."""
    if "std" in parameter_names:
        return "scalar"
    if any(name.startswith("state_head.") for name in parameter_names):
        return "state"
    return "log" if "log_std" in parameter_names else "fixed"


def check_noise_keys(state_dict: Mapping[str, Any], noise_std_type: str, prefix: str) -> None:
    """Raise a clear error if a checkpoint's latent noise keys (under ``prefix``) belong to another noise type.

    Raises:
        RuntimeError: Naming the checkpoint's noise type and the setting that loads it.
    """
    saved_type = noise_std_type_of([key[len(prefix) :] for key in state_dict if key.startswith(prefix)])
    if saved_type != noise_std_type:
        raise RuntimeError(
            f"This checkpoint's flow was trained with noise_std_type '{saved_type}', but this actor uses "
            f"'{noise_std_type}'. Set the actor's noise_std_type to '{saved_type}' to load it."
        )
