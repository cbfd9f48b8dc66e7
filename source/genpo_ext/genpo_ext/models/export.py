"""Exportable deterministic GenPO policies (observations -> environment action) for TorchScript and ONNX."""

from __future__ import annotations

import copy
import torch
import torch.nn as nn

from genpo_ext.modules import CoupledFlow, use_native_activations


class JitGenPOPolicy(nn.Module):
    """Deterministic GenPO policy for TorchScript: normalize, then the flow's deployed action (the zero latent, or the
    mean or likeliest of its fixed draws, as one batched graph)."""

    def __init__(self, obs_normalizer: nn.Module, flow: CoupledFlow) -> None:
        """Copy the normalizer and the flow so that export never aliases training parameters; the copy uses the
        plain Mish operator, which TorchScript and ONNX know."""
        super().__init__()
        self.obs_normalizer = copy.deepcopy(obs_normalizer)
        self.flow = use_native_activations(copy.deepcopy(flow))
        self.flow.clear_cache()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map concatenated observations of shape ``(B, obs_dim)`` to actions of shape ``(B, d)``."""
        return self.flow.deployed_action(self.obs_normalizer(x))

    @torch.jit.export
    def reset(self) -> None:
        """Reset recurrent state (no-op: the policy is feed-forward)."""
        pass


class OnnxGenPOPolicy(JitGenPOPolicy):
    """Deterministic GenPO policy for ONNX export, with the input/output metadata rsl_rl's exporter reads."""

    is_recurrent: bool = False

    def __init__(self, obs_normalizer: nn.Module, flow: CoupledFlow, obs_dim: int, verbose: bool) -> None:
        """Copy the modules and record the observation dimension for the dummy export input."""
        super().__init__(obs_normalizer, flow)
        self.input_size = obs_dim
        self.verbose = verbose

    def get_dummy_inputs(self) -> tuple[torch.Tensor]:
        """Return representative dummy inputs for ONNX tracing."""
        return (torch.zeros(1, self.input_size),)

    @property
    def input_names(self) -> list[str]:
        """Return ONNX input tensor names."""
        return ["obs"]

    @property
    def output_names(self) -> list[str]:
        """Return ONNX output tensor names."""
        return ["actions"]
