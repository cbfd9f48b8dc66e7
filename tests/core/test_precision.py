"""The flow's likelihood computations run their matmuls in full float32 precision whatever the global TF32 setting,
restore that setting exactly, and so keep re-scoring exact where TF32 would bend it (TF32 emulated on the CPU)."""

from __future__ import annotations

import pytest
import sys
import torch
from collections.abc import Callable
from torch.overrides import TorchFunctionMode

from genpo_ext.experiments.tf32_emulation import MATMUL_OPERANDS, EmulatedTF32
from genpo_ext.modules import CoupledFlow, full_precision_matmul

PER_BACKEND_API = hasattr(torch.backends.cuda.matmul, "fp32_precision")
"""Whether this PyTorch has the per-backend precision settings (2.9 and later)."""

LIKELIHOOD_METHODS = ("condition", "sample", "log_prob")
"""The flow's likelihood computations: conditioning, sampling with log-probs, re-scoring by inversion."""


def _set_per_backend(module, value: str) -> Callable[[], None]:
    return lambda: setattr(module, "fp32_precision", value)


REDUCED_PRECISION_SETTINGS = {
    # IsaacLab 3's rsl_rl entry point sets the legacy flag for the whole run
    "legacy allow_tf32": lambda: setattr(torch.backends.cuda.matmul, "allow_tf32", True),
    "matmul precision high": lambda: torch.set_float32_matmul_precision("high"),
    "matmul precision medium": lambda: torch.set_float32_matmul_precision("medium"),
}
if PER_BACKEND_API:
    REDUCED_PRECISION_SETTINGS |= {
        "per-backend cuda matmul tf32": _set_per_backend(torch.backends.cuda.matmul, "tf32"),
        "per-backend generic tf32": _set_per_backend(torch.backends, "tf32"),
        "per-backend mkldnn matmul bf16": _set_per_backend(torch.backends.mkldnn.matmul, "bf16"),
    }
"""The ways a program can let float32 matmuls use reduced precision."""


@pytest.fixture(autouse=True)
def _default_precision(restore_matmul_precision):
    """Return every precision setting to PyTorch's default after each test."""


def precision_snapshot() -> dict[str, str]:
    """Every reading of the precision settings, with the error a reading raises where the settings are mixed."""
    readers = {
        "allow_tf32": lambda: torch.backends.cuda.matmul.allow_tf32,
        "float32_matmul_precision": torch.get_float32_matmul_precision,
    }
    if PER_BACKEND_API:
        per_backend = {
            "cuda.matmul": torch.backends.cuda.matmul,
            "mkldnn.matmul": torch.backends.mkldnn.matmul,
            "cuda": torch.backends.cudnn,
            "mkldnn": torch.backends.mkldnn,
            "generic": torch.backends,
        }
        for name, module in per_backend.items():
            readers[name] = lambda module=module: module.fp32_precision
    snapshot = {}
    for name, read in readers.items():
        try:
            snapshot[name] = str(read())
        except RuntimeError as error:
            snapshot[name] = f"raises {str(error)[:40]}"
    return snapshot


def full_precision_now() -> bool:
    """Whether float32 matmuls currently run without reduced-precision internals, read consistently."""
    if PER_BACKEND_API:
        per_backend = (torch.backends.cuda.matmul.fp32_precision, torch.backends.mkldnn.matmul.fp32_precision)
        if any(value in ("tf32", "bf16") for value in per_backend):
            return False
    return torch.get_float32_matmul_precision() == "highest"


class MatmulPrecisionSpy(TorchFunctionMode):
    """Record, for every matmul, whether it ran inside one of the flow's likelihood methods and in full precision."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[bool, bool]] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in MATMUL_OPERANDS:
            self.calls.append((self._inside_likelihood(), full_precision_now()))
        return func(*args, **(kwargs or {}))

    @staticmethod
    def _inside_likelihood() -> bool:
        frame = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_name in LIKELIHOOD_METHODS and frame.f_code.co_filename.endswith("coupled_flow.py"):
                return True
            frame = frame.f_back
        return False


def make_flow(obs_dim: int = 6, action_dim: int = 3, hidden_dims: tuple = (32, 32), **kwargs) -> CoupledFlow:
    """A flow with the eager Mish (no kernel compilation per precision setting)."""
    kwargs.setdefault("time_hidden_dims", (16,))
    return CoupledFlow(action_dim, obs_dim, hidden_dims, compile_activation="never", **kwargs)


def likelihood_round_trip(flow: CoupledFlow, obs: torch.Tensor) -> torch.Tensor:
    """Sample as in a rollout, then condition and re-score by inversion as in an update; return the log-prob gaps."""
    with torch.inference_mode():
        outputs, sampled_log_prob = flow.sample(flow.condition(obs))
    condition = flow.condition(obs)
    rescored = flow.log_prob(outputs.clone(), condition)
    flow.sample(condition)  # the compression loss's fresh sample
    return (rescored - sampled_log_prob.clone()).detach()


@pytest.mark.parametrize("setting", list(REDUCED_PRECISION_SETTINGS))
def test_likelihood_matmuls_run_in_full_precision_while_reduced_precision_is_on_outside(setting: str) -> None:
    flow, obs, critic = make_flow(noise_std_type="state"), torch.randn(16, 6), torch.nn.Linear(6, 1)
    REDUCED_PRECISION_SETTINGS[setting]()
    with MatmulPrecisionSpy() as spy:
        likelihood_round_trip(flow, obs)
        critic(obs)
    inside = [full for in_likelihood, full in spy.calls if in_likelihood]
    outside = [full for in_likelihood, full in spy.calls if not in_likelihood]
    assert inside and all(inside), "every matmul of conditioning, sampling and re-scoring runs in full precision"
    assert outside and not any(outside), "the global setting still holds outside (here: a critic's layer)"


@pytest.mark.parametrize("setting", list(REDUCED_PRECISION_SETTINGS))
def test_precision_settings_are_restored_exactly(setting: str) -> None:
    REDUCED_PRECISION_SETTINGS[setting]()
    before = precision_snapshot()
    likelihood_round_trip(make_flow(), torch.randn(8, 6))
    assert precision_snapshot() == before
    with pytest.raises(ZeroDivisionError), full_precision_matmul():
        1 / 0
    assert precision_snapshot() == before, "restored when the block raises too"


@pytest.mark.skipif(not PER_BACKEND_API, reason="per-backend precision settings need PyTorch 2.9")
def test_an_inherited_per_backend_setting_stays_inherited() -> None:
    torch.backends.fp32_precision = "tf32"
    likelihood_round_trip(make_flow(), torch.randn(8, 6))
    torch.backends.fp32_precision = "ieee"
    assert torch.backends.cuda.matmul.fp32_precision == "ieee", "the CUDA matmul setting follows the generic one again"
    assert torch.backends.mkldnn.matmul.fp32_precision == "ieee"


def test_default_settings_are_left_untouched(monkeypatch: pytest.MonkeyPatch) -> None:
    writes = []
    monkeypatch.setattr(torch, "set_float32_matmul_precision", lambda precision: writes.append(precision))
    likelihood_round_trip(make_flow(), torch.randn(8, 6))
    assert writes == [], "with full precision on already, the context changes nothing"


def test_rescoring_stays_exact_under_emulated_tf32_at_h1_size() -> None:
    """TF32 (10 mantissa bits) emulated on the CPU: with trained-scale weights, reduced-precision matmuls would put
    the re-scored log-probs 5e-3 away from the rollout's; GenPO keeps them within float32 rounding."""
    torch.manual_seed(0)
    flow = make_flow(obs_dim=256, action_dim=19, hidden_dims=(512, 256, 128), time_hidden_dims=(256, 256))
    with torch.no_grad():
        for parameter in flow.velocity_field.parameters():
            parameter.mul_(3.0)  # trained networks carry larger weights than their initialization
    torch.backends.cuda.matmul.allow_tf32 = True
    with EmulatedTF32() as emulation:
        gap = likelihood_round_trip(flow, torch.randn(256, 256)).abs().max().item()
        flow(torch.randn(4, 38), torch.randn(4, 256))  # outside the likelihood computations TF32 still applies
    assert emulation.rounded_calls > 0, "the emulation is active outside the likelihood computations"
    assert gap < 1e-4, f"|log pi_rollout - log pi_update| = {gap:.1e}"
