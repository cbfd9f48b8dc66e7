"""The IsaacLab 3 train and play paths without a simulation: ``--distributed`` under ``torchrun`` and the checkpoint
that ``--resume`` and play select when a save was cut short."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest
import torch
from checkpoint_files import truncate

from genpo_ext.checkpoints import CheckpointError
from genpo_ext.isaaclab import play, train

RANK_PROBE = pathlib.Path(__file__).with_name("rank_probe.py")
"""Runs ``scripts/train.py`` as one ``torchrun`` process up to rsl_rl's start of NCCL."""

PROBE_TIMEOUT_S = 300
"""Upper bound of one probe run (task registration and the kit-less launch take about 10 s)."""

SEED = 5
"""Seed given on the probe's command line."""

ERROR_PREFIX = "[ERROR] genpo_ext: "
"""Start of the one line that ends a run on a mistake in its flags."""

WARNING_PREFIX = "[WARNING] genpo_ext: "
"""Start of the line that names a broken checkpoint that was skipped."""


@pytest.mark.parametrize("rank", [0, 1])
def test_distributed_gives_each_rank_its_gpu_and_seed(tmp_path: pathlib.Path, rank: int) -> None:
    """Under ``torchrun``, ``scripts/train.py --distributed`` hands each process's simulation and rsl_rl runner
    ``cuda:<LOCAL_RANK>`` and the seed plus the rank, and the runner accepts the device and starts NCCL."""
    environment = {**os.environ, "GENPO_OFFLINE_ASSETS": "1", "OMP_NUM_THREADS": "1"}
    environment.update(WORLD_SIZE="2", RANK=str(rank), LOCAL_RANK=str(rank))
    command = [sys.executable, str(RANK_PROBE), "--task", "Isaac-Cartpole-Direct", "--distributed", "--seed", str(SEED)]
    command += ["--log_dir", str(tmp_path / "run")]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, cwd=tmp_path, env=environment
    )
    assert result.returncode == 0 and result.stdout.strip(), result.stderr[-3000:]
    record = json.loads(result.stdout.strip().splitlines()[-1])
    expected = {"device": f"cuda:{rank}", "seed": SEED + rank}
    assert record == {
        "sim": expected,
        "agent": expected,
        "process_group": {"backend": "nccl", "rank": rank, "world_size": 2},
    }, result.stderr[-3000:]


def parse_train_args(*argv: str) -> argparse.Namespace:
    """Parse a ``scripts/train.py`` command line."""
    spec = importlib.util.spec_from_file_location("train_script", RANK_PROBE.parents[2] / "scripts" / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.parse_args(list(argv))[0]


def test_distributed_on_the_cpu_is_one_error_line(monkeypatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    args = parse_train_args("--task", "Isaac-Cartpole-Direct", "--distributed", "--device", "cpu")
    with pytest.raises(SystemExit, match=re.escape(f"{ERROR_PREFIX}--distributed trains one process per GPU")):
        train.main(args, [])


def save_run(run_dir: pathlib.Path, iterations: tuple[int, ...]) -> list[pathlib.Path]:
    """Save one small checkpoint per iteration into a run folder."""
    run_dir.mkdir(parents=True)
    paths = [run_dir / f"model_{iteration}.pt" for iteration in iterations]
    for iteration, path in zip(iterations, paths):
        torch.save({"iter": iteration}, path)
    return paths


def test_resume_skips_a_checkpoint_cut_short_and_names_it(tmp_path: pathlib.Path, capsys) -> None:
    older, newest = save_run(tmp_path / "2024-01-01_00-00-00", (0, 49))
    truncate(newest)
    args = parse_train_args("--task", "Isaac-Cartpole-Direct", "--resume")
    assert train.resolve_resume_checkpoint(args, str(tmp_path)) == str(older)
    (warning,) = [line for line in capsys.readouterr().err.splitlines() if line.startswith(WARNING_PREFIX)]
    assert f"checkpoint {newest} is broken (truncated" in warning


def test_resume_from_a_chosen_broken_checkpoint_is_one_error_line(tmp_path: pathlib.Path, monkeypatch) -> None:
    _, newest = save_run(tmp_path / "logs" / "rsl_rl" / "cartpole_direct_genpo" / "2024-01-01_00-00-00", (0, 49))
    truncate(newest)
    monkeypatch.chdir(tmp_path)
    args = parse_train_args(
        "--task", "Isaac-Cartpole-Direct", "--resume", "--checkpoint", "model_49.pt",
        "--log_dir", str(newest.parents[1] / "resumed"),
    )  # fmt: skip
    with pytest.raises(SystemExit, match=re.escape(f"{ERROR_PREFIX}Checkpoint {newest} is broken (truncated")):
        train.main(args, [])
    args = parse_train_args("--task", "Isaac-Cartpole-Direct", "--resume", "--load_run", "2025")
    with pytest.raises(CheckpointError, match="No run folder matching '2025'"):
        train.resolve_resume_checkpoint(args, str(tmp_path))


def test_play_of_a_chosen_broken_checkpoint_is_one_error_line(tmp_path: pathlib.Path, monkeypatch) -> None:
    (broken,) = save_run(tmp_path / "run", (3,))
    truncate(broken)
    monkeypatch.setenv("GENPO_OFFLINE_ASSETS", "1")
    argv = ["--task", "Isaac-Cartpole-Direct", "--checkpoint", str(broken), "--device", "cpu"]
    with pytest.raises(SystemExit, match=re.escape(f"{ERROR_PREFIX}Checkpoint {broken} is broken (truncated")):
        play.main(argv)
