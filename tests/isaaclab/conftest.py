"""Fixtures of the IsaacLab tests: skip without IsaacLab, run scripts as subprocesses with the offline assets."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

pytest.importorskip("isaaclab", reason="IsaacLab 3 is not installed (pip install -e .[isaaclab])")

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPTS = REPO_ROOT / "scripts"
SIM_TIMEOUT_S = 900
"""Upper bound of one simulated run; a cold warp kernel cache costs about a minute of it."""


def script_env() -> dict[str, str]:
    """Return the environment of a script run: offline assets (no network dependency), one torch thread (the
    ``isaaclab`` CLI does not limit it on the CPU itself) and an unbuffered log."""
    return {**os.environ, "GENPO_OFFLINE_ASSETS": "1", "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _run_command(command: list[str], cwd: pathlib.Path) -> subprocess.CompletedProcess:
    """Run a command, failing the test with the tail of its output when it does not succeed."""
    result = subprocess.run(command, capture_output=True, text=True, timeout=SIM_TIMEOUT_S, cwd=cwd, env=script_env())
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def _run_script(name: str, *args: str, cwd: pathlib.Path) -> subprocess.CompletedProcess:
    """Run one of the repository's scripts with this interpreter."""
    return _run_command([sys.executable, str(SCRIPTS / name), *args], cwd)


@pytest.fixture(scope="session")
def run_command():
    """Run a command in a folder with the offline assets; fails the test when the command fails."""
    return _run_command


@pytest.fixture(scope="session")
def run_script():
    """Run ``scripts/<name>`` with this interpreter in a folder; fails the test when the script fails."""
    return _run_script
