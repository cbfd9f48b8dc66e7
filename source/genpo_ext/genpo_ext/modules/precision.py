"""Full float32 precision for the matmuls of GenPO's likelihood computations, whatever the global setting says.

Why: PPO's first minibatch must see the ratio ``pi_new / pi_old = 1`` exactly, and GenPO's ``pi_old`` comes from the
rollout's forward pass while ``pi_new`` comes from the update's exact inversion of the stored sample. Both are exact
only if the velocity network returns the same values in both passes; with reduced-precision matmuls (TF32 keeps 10
mantissa bits) the inversion no longer undoes the forward pass, and the error compounds over the flow's ``2 N``
network calls. IsaacLab 3's rsl_rl entry point turns ``torch.backends.cuda.matmul.allow_tf32`` on for the whole run.
An emulation on the CPU at H1 sizes with trained-scale weights put ``|log pi_rollout - log pi_update|`` at up to
2e-2 with unchanged weights (float32: 5e-6). No GPU was available to measure whether real TF32 kernels keep the
ratio within 1e-4, so the likelihood computations switch reduced precision off (:func:`full_precision_matmul`).
Gradients (the backward pass) and every other network keep the global setting.

PyTorch keeps two records of the float32 matmul precision: the legacy one
(``torch.set_float32_matmul_precision`` / ``torch.backends.cuda.matmul.allow_tf32``) and, since PyTorch 2.9, one
per backend and operation (``torch.backends.{cuda,mkldnn}.matmul.fp32_precision``), which the kernels read.
Reads through the legacy API raise when the two disagree, so the context sets both consistently and restores both,
including a per-backend value that was inherited from its parent rather than set. cuDNN's ``allow_tf32`` is left
alone: it governs convolutions, and the flow has none.
"""

from __future__ import annotations

import contextlib
import torch
from collections.abc import Iterator
from dataclasses import dataclass

FULL_PRECISION = "highest"
"""Legacy float32 matmul precision with no TF32 or bfloat16 internals."""

PER_BACKEND_FULL_PRECISION = "ieee"
"""Per-backend float32 matmul precision with no TF32 or bfloat16 internals (PyTorch >= 2.9)."""

PER_BACKEND_INHERITED = "none"
"""Per-backend value that defers to the parent setting (``("cuda", "all")``, then the generic one)."""

REDUCED_PRECISIONS = ("tf32", "bf16")
"""Per-backend values that let float32 matmuls use reduced-precision internals."""


def _per_backend_api() -> bool:
    """Whether this PyTorch has the per-backend precision settings (2.9 and later)."""
    return hasattr(torch.backends.cuda.matmul, "fp32_precision")


def _matmul_settings() -> tuple:
    """The per-backend float32 matmul settings that :func:`full_precision_matmul` changes: CUDA (cuBLAS) and MKLDNN
    (CPU), each with the module holding its parent setting, whose value it inherits when it has none of its own."""
    # ("cuda", "all") is exposed as torch.backends.cudnn.fp32_precision, ("mkldnn", "all") as torch.backends.mkldnn's
    return (
        (torch.backends.cuda.matmul, torch.backends.cudnn),
        (torch.backends.mkldnn.matmul, torch.backends.mkldnn),
    )


def reduced_precision_matmul_allowed() -> bool:
    """Whether float32 matmuls may currently run with TF32 or bfloat16 internals on some backend."""
    if _per_backend_api():
        return any(setting.fp32_precision in REDUCED_PRECISIONS for setting, _ in _matmul_settings())
    return torch.get_float32_matmul_precision() != FULL_PRECISION


@dataclass(frozen=True)
class _SavedPrecision:
    """What :func:`full_precision_matmul` restores: the legacy precision and the per-backend values it overwrote."""

    legacy: str
    """Legacy precision: ``"highest"``, ``"high"`` or ``"medium"``."""
    per_backend: tuple[str, ...]
    """Per-backend value of each of :func:`_matmul_settings`, ``"none"`` where it was inherited (PyTorch >= 2.9)."""


def _save_and_set_full_precision() -> _SavedPrecision:
    """Record the current precision settings, then set full precision in both records consistently."""
    per_backend = ()
    if _per_backend_api():
        # an own value equal to the parent's is recorded as inherited, so that later changes of the parent still apply
        per_backend = tuple(
            PER_BACKEND_INHERITED if setting.fp32_precision == parent.fp32_precision else setting.fp32_precision
            for setting, parent in _matmul_settings()
        )
        # full per-backend precision first: the legacy value can always be read then, even after mixed use of the APIs
        for setting, _ in _matmul_settings():
            setting.fp32_precision = PER_BACKEND_FULL_PRECISION
    saved = _SavedPrecision(torch.get_float32_matmul_precision(), per_backend)
    torch.set_float32_matmul_precision(FULL_PRECISION)
    return saved


def _restore(saved: _SavedPrecision) -> None:
    """Restore the settings recorded by :func:`_save_and_set_full_precision`."""
    # the legacy setter also writes the per-backend values, which are restored after it
    torch.set_float32_matmul_precision(saved.legacy)
    for (setting, _), value in zip(_matmul_settings(), saved.per_backend):
        setting.fp32_precision = value


@contextlib.contextmanager
def full_precision_matmul() -> Iterator[None]:
    """Run float32 matmuls without TF32 or bfloat16 internals inside the block, restoring the settings afterwards.

    Changes nothing when reduced precision is off already (PyTorch's default), so nested uses cost two reads.
    """
    if not reduced_precision_matmul_allowed():
        yield
        return
    saved = _save_and_set_full_precision()
    try:
        yield
    finally:
        _restore(saved)
