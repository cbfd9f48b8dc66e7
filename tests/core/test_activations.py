"""FastMish equals PyTorch's Mish in value and gradient on every path, and falls back cleanly without compilation."""

from __future__ import annotations

import pytest
import torch

from genpo_ext.modules import FastMish, activations, use_fast_activations, use_native_activations


def values_and_gradients(module: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Output and input gradient of ``module`` for a random upstream gradient."""
    x = x.detach().requires_grad_(True)
    output = module(x)
    output.backward(torch.linspace(-2.0, 2.0, x.numel()).view_as(x))
    return output.detach(), x.grad


@pytest.mark.parametrize("compile_mode", ["always", "never"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fast_mish_matches_torch_mish_over_the_whole_range(compile_mode: str, dtype: torch.dtype) -> None:
    x = torch.cat([torch.linspace(-60.0, 60.0, 2001), torch.randn(3999)]).to(dtype).view(-1, 3)
    expected_output, expected_gradient = values_and_gradients(torch.nn.Mish(), x)
    output, gradient = values_and_gradients(FastMish(compile_mode), x)
    tolerance = {"atol": 2e-6, "rtol": 1e-5} if dtype == torch.float32 else {"atol": 1e-12, "rtol": 1e-10}
    torch.testing.assert_close(output, expected_output, **tolerance)
    torch.testing.assert_close(gradient, expected_gradient, **tolerance)


def test_compilation_failure_falls_back_to_the_eager_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_compile(*args, **kwargs):
        raise RuntimeError("no C++ compiler")

    monkeypatch.setattr(activations, "_compiled_mish", None)
    monkeypatch.setattr(torch, "compile", failing_compile)
    x = torch.randn(64, 8)
    with pytest.warns(UserWarning, match="torch.compile is unavailable .*no C\\+\\+ compiler.*eager Mish path"):
        output, gradient = values_and_gradients(FastMish("always"), x)
    expected_output, expected_gradient = values_and_gradients(torch.nn.Mish(), x)
    torch.testing.assert_close(output, expected_output)
    torch.testing.assert_close(gradient, expected_gradient)
    assert activations._compiled_mish is False, "later calls go straight to the eager path"


def test_a_compiled_kernel_that_fails_at_run_time_falls_back_too(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_kernel(x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("inductor backend failed")

    monkeypatch.setattr(activations, "_compiled_mish", failing_kernel)
    x = torch.randn(16, 4)
    with pytest.warns(UserWarning, match="inductor backend failed"):
        output, _ = values_and_gradients(FastMish("auto"), x)
    torch.testing.assert_close(output, torch.nn.functional.mish(x))
    assert activations._compiled_mish is False


def test_activation_swaps_are_inverse_and_leave_parameters_alone() -> None:
    network = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Mish(), torch.nn.Linear(4, 2), torch.nn.ELU())
    state = {key: value.clone() for key, value in network.state_dict().items()}
    use_fast_activations(network)
    assert isinstance(network[1], FastMish) and isinstance(network[3], torch.nn.ELU)
    use_native_activations(network)
    assert type(network[1]) is torch.nn.Mish
    assert all(torch.equal(state[key], value) for key, value in network.state_dict().items())
