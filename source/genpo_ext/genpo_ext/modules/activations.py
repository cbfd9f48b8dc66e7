"""A faster Mish for the velocity network: the same function, evaluated with fewer and fused operations.

PyTorch's CPU kernel evaluates ``mish(x) = x * tanh(softplus(x))`` with three transcendental functions per element,
and its backward recomputes them; on the CPU it costs several times an ELU and dominates GenPO's update. With
``s = sigmoid(x)`` and ``q = (1 - s)^2 = (1 + e^x)^-2``,

    tanh(softplus(x)) = (1 - q) / (1 + q),        d mish / dx = tanh(softplus(x)) + x * s * (1 - tanh(softplus(x))^2)

need one sigmoid per element. :class:`FastMish` picks, per call, the cheapest of three evaluations of the same function
(measured on the CPU with ``scripts/benchmark.py``'s activation table):

- tensors on other devices than the CPU (CUDA): PyTorch's Mish operator, one fused kernel forward and one backward
  that saves only its input, where the hand-written form would launch about 7 kernels forward and 5 backward and
  save twice the activations (unless the compiled kernel is asked for with ``"always"``);
- small CPU tensors (fewer than :data:`EAGER_MIN_ELEMENTS`): PyTorch's single Mish operator, whose call overhead is
  the lowest;
- large tensors on the CPU (from :data:`COMPILED_MIN_ELEMENTS`): the sigmoid form compiled by ``torch.compile`` into
  one fused kernel forward and one backward (its fixed call overhead pays off only on large tensors);
- otherwise: the sigmoid form as an autograd function whose backward reuses the forward's intermediates
  (:func:`eager_mish`).

Outputs and gradients equal ``torch.nn.functional.mish`` to float rounding.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import warnings

COMPILE_MODES = ("auto", "always", "never")
"""When :class:`FastMish` uses its compiled kernel: ``auto`` on CPU tensors of at least :data:`COMPILED_MIN_ELEMENTS`
elements (where it was measured to help), ``always`` on every tensor, ``never`` not at all. Without the compiled
kernel, tensors off the CPU use PyTorch's fused Mish operator."""

EAGER_MIN_ELEMENTS = 32768
"""Below this many elements PyTorch's Mish operator is the cheapest (per-call overhead dominates); from here the
eager sigmoid form is cheaper (measured on the CPU, forward + backward: 1.5x faster at 512 x 64)."""

COMPILED_MIN_ELEMENTS = 65536
"""From this many elements the compiled kernel beats the eager sigmoid form on the CPU (1.5x at 1536 x 200); below
it, its fixed call overhead of a few hundred microseconds does not pay off."""


def _mish_sigmoid_form(x: torch.Tensor) -> torch.Tensor:
    """``x * (1 - q) / (1 + q)`` with ``q = (1 - sigmoid(x))^2``, written for ``torch.compile`` to fuse."""
    q = (1.0 - torch.sigmoid(x)).square()
    return x * (1.0 - q) / (1.0 + q)


class _EagerMishFunction(torch.autograd.Function):
    """Mish in the sigmoid form with a hand-written backward that reuses the forward's intermediates."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        s = torch.sigmoid(x)
        q = (1.0 - s).square_()
        # w = tanh(softplus(x))
        w = (1.0 - q).div_(1.0 + q)
        ctx.save_for_backward(x, s, w)
        return x * w

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        x, s, w = ctx.saved_tensors
        # d/dx [x * w] = w + x * s * (1 - w^2)
        return grad_output * torch.addcmul(w, x * s, 1.0 - w.square())


def eager_mish(x: torch.Tensor) -> torch.Tensor:
    """Mish in the sigmoid form, eager, with the backward that reuses the forward's intermediates."""
    return _EagerMishFunction.apply(x)


_compiled_mish = None
"""The compiled sigmoid form, built on first use; False once compilation failed in this process."""


def _compiled_or_none():
    """Return the compiled sigmoid form, or None if ``torch.compile`` is unavailable or failed before."""
    global _compiled_mish
    if _compiled_mish is None:
        try:
            _compiled_mish = torch.compile(_mish_sigmoid_form, dynamic=True)
        except Exception as error:  # noqa: BLE001 - any failure means: use the eager path
            _disable_compilation(error)
    return _compiled_mish or None


def _disable_compilation(error: Exception) -> None:
    """Fall back to the eager path for the rest of the process, saying why once."""
    global _compiled_mish
    _compiled_mish = False
    warnings.warn(
        f"FastMish: torch.compile is unavailable ({type(error).__name__}: {error}); using the eager Mish path.",
        stacklevel=3,
    )


class FastMish(nn.Module):
    """Drop-in replacement for :class:`torch.nn.Mish` with a cheaper forward and backward (see the module notes)."""

    def __init__(self, compile_mode: str = "auto") -> None:
        """Initialize the activation.

        Args:
            compile_mode: One of :data:`COMPILE_MODES`.

        Raises:
            ValueError: If ``compile_mode`` is not one of :data:`COMPILE_MODES`.
        """
        super().__init__()
        validate_compile_mode(compile_mode)
        self.compile_mode = compile_mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply Mish elementwise."""
        if torch.compiler.is_compiling():
            return _mish_sigmoid_form(x)
        if self.compile_mode != "always" and (x.device.type != "cpu" or x.numel() < EAGER_MIN_ELEMENTS):
            return nn.functional.mish(x)
        if self._wants_compiled(x):
            compiled = _compiled_or_none()
            if compiled is not None:
                try:
                    return compiled(x)
                except Exception as error:  # noqa: BLE001 - e.g. no C++ compiler for the inductor backend
                    _disable_compilation(error)
        return eager_mish(x)

    def _wants_compiled(self, x: torch.Tensor) -> bool:
        """Whether this call should use the compiled kernel, by mode and device."""
        if self.compile_mode == "auto":
            return x.device.type == "cpu" and x.numel() >= COMPILED_MIN_ELEMENTS
        return self.compile_mode == "always"


def validate_compile_mode(compile_mode: str) -> None:
    """Raise a ``ValueError`` naming :data:`COMPILE_MODES` if ``compile_mode`` is not one of them."""
    if compile_mode not in COMPILE_MODES:
        raise ValueError(f"Unknown compile_activation '{compile_mode}'. Valid options: {list(COMPILE_MODES)}.")


def use_fast_activations(module: nn.Module, compile_mode: str = "auto") -> nn.Module:
    """Replace every :class:`torch.nn.Mish` inside ``module`` by :class:`FastMish`, in place; return ``module``.

    Raises:
        ValueError: If ``compile_mode`` is not one of :data:`COMPILE_MODES`.
    """
    validate_compile_mode(compile_mode)
    for name, child in _all_children(module):
        if isinstance(child, nn.Mish):
            setattr(module, name, FastMish(compile_mode))
        else:
            use_fast_activations(child, compile_mode)
    return module


def use_native_activations(module: nn.Module) -> nn.Module:
    """Replace every :class:`FastMish` inside ``module`` by :class:`torch.nn.Mish`, in place (for TorchScript and
    ONNX export, which need the plain operator); return ``module``."""
    for name, child in _all_children(module):
        if isinstance(child, FastMish):
            setattr(module, name, nn.Mish())
        else:
            use_native_activations(child)
    return module


def _all_children(module: nn.Module) -> list[tuple[str, nn.Module]]:
    """Every ``(name, child)`` of ``module``, repeats included: rsl_rl's ``MLP`` reuses one activation instance for
    all its layers, and ``named_children`` would yield it only once."""
    return list(module._modules.items())
