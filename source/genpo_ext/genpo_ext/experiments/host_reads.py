"""Counting the host reads of tensor values (each a synchronization with a GPU) that the code under test makes.

Used by the tests and ``scripts/benchmark.py``; on the CPU the count shows what would stall a GPU.
"""

from __future__ import annotations

import pathlib
import sys
import torch
from torch.overrides import TorchFunctionMode

HOST_READS = ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__")
"""Tensor methods that copy a value to the host (and on a GPU wait for it)."""

TORCH_ROOT = str(pathlib.Path(torch.__file__).parent)
"""PyTorch's own reads (e.g. Adam's step count, which lives on the CPU) are not the code under test's."""


class HostReadCounter(TorchFunctionMode):
    """Record every host read of a tensor value made from code outside PyTorch, with the file and line it came from.

    A read on a CPU tensor is counted like one on a GPU tensor: on the CPU the count shows what would stall a GPU.
    """

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", None) in HOST_READS:
            caller = sys._getframe(1)
            if not caller.f_code.co_filename.startswith(TORCH_ROOT):
                self.reads.append(f"{func.__name__} at {caller.f_code.co_filename}:{caller.f_lineno}")
        return func(*args, **(kwargs or {}))
