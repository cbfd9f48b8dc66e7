"""``scripts/gpu_check.sh``, the prepared GPU verification, works end to end: here on the CPU with small sizes."""

from __future__ import annotations

import pathlib
import re
import subprocess

import pytest

GPU_CHECK = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "gpu_check.sh"
"""The script under test."""

CPU_BUDGET_S = 1500
"""Budget of the CPU run: three kit-less Ant simulations start on a shared CPU, about two minutes each."""


@pytest.mark.isaaclab_sim
def test_every_stage_passes_on_the_cpu_and_prints_its_figures(tmp_path):
    """Set-up, benchmark and the three Isaac-Ant-Direct runs pass, each run's figures printed as it ends."""
    result = subprocess.run(
        [str(GPU_CHECK), "--device", "cpu", "--budget_s", str(CPU_BUDGET_S)],
        capture_output=True, text=True, timeout=CPU_BUDGET_S + 120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    for stage in ("setup", "benchmark", "isaac_ant_ppo", "isaac_ant_genpo", "isaac_ant_genpo_recommended"):
        assert f"[gpu_check] passed {stage} in" in result.stdout
    assert re.search(r"\[gpu_check\] ppo: [\d.]+ s/iteration .*final mean training return", result.stdout)
    for algo in ("genpo", "genpo_recommended"):
        assert re.search(rf"\[gpu_check\] {algo}: [\d.]+ s/iteration .*, [\d.]+x ppo, final mean", result.stdout), algo
    assert "every stage passed" in result.stdout


def test_a_spent_budget_skips_the_stages_and_fails():
    result = subprocess.run([str(GPU_CHECK), "--device", "cpu", "--budget_s", "0"], capture_output=True, text=True)
    assert result.returncode == 1
    assert "[gpu_check] SKIPPED setup: the 0 s budget is spent" in result.stdout


def test_an_unknown_argument_names_the_valid_ones():
    result = subprocess.run([str(GPU_CHECK), "--gpus", "2"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "unknown argument '--gpus'. Valid: --device, --num_envs, --iterations, --budget_s" in result.stderr
