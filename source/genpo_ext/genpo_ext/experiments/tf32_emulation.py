"""TF32 matmuls emulated on the CPU: what cuBLAS computes on an Ampere or later GPU when the global settings allow it.

Used by the tests and ``scripts/benchmark.py`` to show, without a GPU, what TF32 does to GenPO's likelihoods.
"""

from __future__ import annotations

import torch
from torch.overrides import TorchFunctionMode

TF32_DROPPED_BITS = 13
"""float32 keeps 23 explicit mantissa bits, TF32 10: the 13 lowest are rounded away."""

MATMUL_OPERANDS = {
    torch.nn.functional.linear: (0, 1),
    torch.addmm: (1, 2),
    torch.Tensor.addmm: (1, 2),
    torch.matmul: (0, 1),
    torch.Tensor.matmul: (0, 1),
    torch.Tensor.__matmul__: (0, 1),
    torch.mm: (0, 1),
    torch.Tensor.mm: (0, 1),
    torch.bmm: (0, 1),
}
"""Matmul functions and the positions of the operands TF32 rounds (a bias or an added matrix stays float32)."""


def tf32_matmul_allowed() -> bool:
    """Whether the global settings let CUDA float32 matmuls use TF32."""
    if hasattr(torch.backends.cuda.matmul, "fp32_precision"):
        return torch.backends.cuda.matmul.fp32_precision == "tf32"
    return torch.get_float32_matmul_precision() != "highest"


def round_to_tf32(x: torch.Tensor) -> torch.Tensor:
    """Round float32 values to the nearest TF32 value (ties to even), keeping the gradient of the identity."""
    bits = x.detach().view(torch.int32)
    half = (1 << (TF32_DROPPED_BITS - 1)) - 1
    rounded = ((bits + half + ((bits >> TF32_DROPPED_BITS) & 1)) & ~((1 << TF32_DROPPED_BITS) - 1)).view(torch.float32)
    return x + (rounded - x.detach())


class EmulatedTF32(TorchFunctionMode):
    """Round the float32 operands of every matmul to TF32 while the global settings allow TF32 matmuls."""

    def __init__(self) -> None:
        super().__init__()
        self.rounded_calls = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        positions = MATMUL_OPERANDS.get(func)
        if positions is not None and tf32_matmul_allowed():
            args = list(args)
            for position in positions:
                if position < len(args) and args[position].dtype == torch.float32:
                    args[position] = round_to_tf32(args[position])
            self.rounded_calls += 1
        return func(*args, **kwargs)
