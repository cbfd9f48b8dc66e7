"""``scripts/benchmark.py`` runs on each available device and prints its tables (figures, never timing asserts)."""

from __future__ import annotations

import argparse
import importlib.util
import pathlib
import re
import subprocess
import sys

import pytest

BENCHMARK = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "benchmark.py"
"""The benchmark script under test."""

TIMEOUT_S = 600
"""Generous bound for one short benchmark run on a shared CPU."""

DEVICES = [
    "cpu",
    pytest.param("cuda:0", marks=pytest.mark.cuda),
]


@pytest.mark.parametrize("device", DEVICES)
def test_activation_and_phase_tables_are_printed_with_ratios(device):
    command = [sys.executable, str(BENCHMARK), "--device", device, "--sizes", "ant", "--tables", "activation", "phases"]
    command += ["--min_run_time", "0.01", "--threads", "1", "--num_envs", "64", "--minibatch_size", "128"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert result.returncode == 0, result.stderr[-2000:]
    for name in ("torch Mish", "FastMish (compiled)", "FastMish (eager)", "FastMish (auto)", "ELU"):
        row = rf"{re.escape(name)}\s+[\d.]+ ms\s+[\d.]+x ELU\s+[\d.]+ MB saved"
        assert re.search(row, result.stdout), result.stdout
    for phase in ("act", "update"):
        # GenPO, floor and Gaussian times, then GenPO/floor and GenPO/Gaussian ratios
        assert re.search(rf"^ant\s+{phase}\s+(\S+ ms\s+){{3}}\S+x\s+\S+x$", result.stdout, re.MULTILINE), result.stdout


def test_hot_path_table_counts_host_reads_and_measures_precision():
    command = [sys.executable, str(BENCHMARK), "--device", "cpu", "--sizes", "ant", "--tables", "hot_path"]
    command += ["--min_run_time", "0.01", "--threads", "1", "--num_envs", "64", "--minibatch_size", "128"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.search(r"^ant\s+host reads per act\s+GenPO\s+0\.0\s+PPO\s+[\d.]+$", result.stdout, re.M), result.stdout
    # one read per minibatch for the adaptive learning rate, one at the end of the update
    assert re.search(r"^ant\s+host reads per update\s+GenPO\s+21\s+PPO\s+\d+$", result.stdout, re.M), result.stdout
    assert re.search(r"^ant\s+tensors the actor keeps after its update\s+[\d.]+ MB$", result.stdout, re.M)
    assert re.search(r"full-precision likelihoods \S+, at the global setting \S+$", result.stdout, re.M)
    assert re.search(r"^ant\s+act [\d.]+ ms with cached time terms; computing them costs", result.stdout, re.M)


def test_an_unknown_table_names_the_valid_ones():
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), "--tables", "rollout"], capture_output=True, text=True, timeout=TIMEOUT_S
    )
    assert result.returncode != 0
    assert "invalid choice: 'rollout'" in result.stderr
    assert "'activation', 'phases', 'runner', 'hot_path'" in result.stderr


def load_benchmark_module():
    """Import ``scripts/benchmark.py`` as a module."""
    spec = importlib.util.spec_from_file_location("genpo_benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_runner_variant_trains_through_the_stock_runner():
    benchmark = load_benchmark_module()
    recommended = benchmark.runner_cfg([8], "genpo", **benchmark.RECOMMENDED_ACTOR, **benchmark.RECOMMENDED_ALGORITHM)
    assert benchmark.RECOMMENDED_ACTOR.items() <= recommended["actor"].items()
    assert benchmark.RECOMMENDED_ALGORITHM.items() <= recommended["algorithm"].items()
    assert not benchmark.RECOMMENDED_ACTOR.keys() & recommended["algorithm"].keys()
    args = argparse.Namespace(device="cpu", iterations=1)
    for algo, overrides in [("ppo", {}), ("genpo", {}), ("genpo", {"compression_batch_fraction": 0.25})]:
        seconds = benchmark.seconds_per_iteration(benchmark.runner_cfg([8], algo, **overrides), 3, 2, args)
        assert seconds > 0.0
    assert benchmark.seconds_per_iteration(recommended, 3, 2, args) > 0.0
