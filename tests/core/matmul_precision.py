"""A fixture that returns PyTorch's float32 matmul precision settings to their defaults after a test."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture
def restore_matmul_precision():
    """Return every float32 matmul precision setting to PyTorch's default after the test."""
    yield
    torch.set_float32_matmul_precision("highest")
    if hasattr(torch.backends.cuda.matmul, "fp32_precision"):
        matmul = (torch.backends.cuda.matmul, torch.backends.mkldnn.matmul)
        for module in (*matmul, torch.backends.cudnn, torch.backends.mkldnn, torch.backends):
            module.fp32_precision = "none"
