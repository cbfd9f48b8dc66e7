"""Short CPU trainings through ``scripts/train.py`` and the configs IsaacLab records for them, shared by the IsaacLab
tests."""

from __future__ import annotations

import pathlib

import yaml


def train(run_script, task: str, run_dir: pathlib.Path, num_envs: str, iterations: str, *extra: str):
    """Run a short CPU training (seed 1) through ``scripts/train.py`` into ``run_dir``."""
    common = ["--num_envs", num_envs, "--max_iterations", iterations, "--device", "cpu", "--seed", "1"]
    return run_script("train.py", "--task", task, *common, "--log_dir", str(run_dir), *extra, cwd=run_dir.parent)


def agent_params(run_dir: pathlib.Path) -> dict:
    """Return the agent config IsaacLab recorded for a run."""
    return yaml.unsafe_load((run_dir / "params" / "agent.yaml").read_text())
