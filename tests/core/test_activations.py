"""FastMish equals PyTorch's Mish in value and gradient on every path, and falls back cleanly without compilation."""

from __future__ import annotations

import pytest
import torch

from rsl_rl.modules import MLP

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
    """Large enough for the compiled (``always``) and the eager sigmoid form (``never``), not the native operator."""
    num_random = activations.COMPILED_MIN_ELEMENTS - 2001
    x = torch.cat([torch.linspace(-60.0, 60.0, 2001), torch.randn(num_random)]).to(dtype).view(-1, 1)
    expected_output, expected_gradient = values_and_gradients(torch.nn.Mish(), x)
    output, gradient = values_and_gradients(FastMish(compile_mode), x)
    tolerance = {"atol": 2e-6, "rtol": 1e-5} if dtype == torch.float32 else {"atol": 1e-12, "rtol": 1e-10}
    torch.testing.assert_close(output, expected_output, **tolerance)
    torch.testing.assert_close(gradient, expected_gradient, **tolerance)


CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
"""Marks a case that needs a CUDA device."""


@pytest.mark.parametrize(
    "compile_mode,num_elements,device,expected_path",
    [
        ("auto", activations.EAGER_MIN_ELEMENTS - 1, "cpu", "native"),
        ("auto", activations.EAGER_MIN_ELEMENTS, "cpu", "eager"),
        ("auto", activations.COMPILED_MIN_ELEMENTS, "cpu", "compiled"),
        ("never", activations.COMPILED_MIN_ELEMENTS, "cpu", "eager"),
        ("always", 8, "cpu", "compiled"),
        # off the CPU PyTorch's fused operator, unless the compiled kernel is asked for ("meta" stands in for CUDA)
        ("auto", activations.COMPILED_MIN_ELEMENTS, "meta", "native"),
        ("never", activations.COMPILED_MIN_ELEMENTS, "meta", "native"),
        ("always", activations.COMPILED_MIN_ELEMENTS, "meta", "compiled"),
        pytest.param("auto", activations.COMPILED_MIN_ELEMENTS, "cuda", "native", marks=CUDA),
        pytest.param("auto", activations.EAGER_MIN_ELEMENTS, "cuda", "native", marks=CUDA),
    ],
)
def test_each_call_takes_the_path_chosen_by_mode_size_and_device(
    monkeypatch: pytest.MonkeyPatch, compile_mode: str, num_elements: int, device: str, expected_path: str
) -> None:
    taken = []
    native, eager = torch.nn.functional.mish, activations._EagerMishFunction.apply
    monkeypatch.setattr(torch.nn.functional, "mish", lambda x: taken.append("native") or native(x))
    monkeypatch.setattr(activations._EagerMishFunction, "apply", lambda x: taken.append("eager") or eager(x))
    monkeypatch.setattr(activations, "_compiled_mish", lambda x: taken.append("compiled") or native(x))
    FastMish(compile_mode)(torch.randn(num_elements, 1, device=device))
    assert taken == [expected_path]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_fast_mish_on_cuda_equals_torch_mish_in_value_and_gradient() -> None:
    x = torch.randn(activations.COMPILED_MIN_ELEMENTS, 1, device="cuda")
    expected_output, expected_gradient = values_and_gradients(torch.nn.Mish(), x)
    output, gradient = values_and_gradients(FastMish("auto"), x)
    torch.testing.assert_close(output, expected_output)
    torch.testing.assert_close(gradient, expected_gradient)


def test_compilation_failure_falls_back_to_the_eager_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_compile(*args, **kwargs):
        raise RuntimeError("no C++ compiler")

    monkeypatch.setattr(activations, "_compiled_mish", None)
    monkeypatch.setattr(torch, "compile", failing_compile)
    x = torch.randn(activations.COMPILED_MIN_ELEMENTS, 1)
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
    x = torch.randn(activations.COMPILED_MIN_ELEMENTS, 1)
    with pytest.warns(UserWarning, match="inductor backend failed"):
        output, _ = values_and_gradients(FastMish("auto"), x)
    torch.testing.assert_close(output, torch.nn.functional.mish(x))
    assert activations._compiled_mish is False


def test_activation_swaps_are_inverse_and_leave_parameters_alone() -> None:
    """Every activation is swapped, also where one instance serves several layers (as in rsl_rl's MLP)."""
    network = MLP(3, 2, [4, 4, 4], "mish")
    assert network[1] is network[3], "rsl_rl's MLP shares its activation module"
    network.append(torch.nn.ELU())
    state = {key: value.clone() for key, value in network.state_dict().items()}
    use_fast_activations(network)
    assert all(isinstance(network[index], FastMish) for index in (1, 3, 5)) and isinstance(network[-1], torch.nn.ELU)
    use_native_activations(network)
    assert all(type(network[index]) is torch.nn.Mish for index in (1, 3, 5))
    assert all(torch.equal(state[key], value) for key, value in network.state_dict().items())
