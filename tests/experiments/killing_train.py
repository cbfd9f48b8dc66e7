"""``scripts/train.py``, except that its first attempt at one run dies while it saves one checkpoint.

The process writes half of the checkpoint's bytes and kills itself with SIGKILL, as a ``kill -9`` during the save
would leave it: the checkpoint cut short, no cleanup, no exit status of its own. Which run and checkpoint, and where
the mark that the kill happened lives (so that later attempts train normally), come from the environment variables
below.
"""

from __future__ import annotations

import os
import pathlib
import runpy
import signal
import sys

from rsl_rl.runners import OnPolicyRunner

TRAIN_SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "train.py"
"""The real training script, run in this process."""

KILL_RUN_VARIABLE = "GENPO_TEST_KILL_RUN"
"""Environment variable naming the run folder (``--log_dir``) whose first attempt dies."""

KILL_CHECKPOINT_VARIABLE = "GENPO_TEST_KILL_CHECKPOINT"
"""Environment variable naming the checkpoint file during whose save it dies (e.g. ``model_2.pt``)."""

KILL_MARK_VARIABLE = "GENPO_TEST_KILL_MARK"
"""Environment variable naming a file that is created when the kill happens; while it exists, nothing dies."""

save = OnPolicyRunner.save


def save_then_die(runner: OnPolicyRunner, path: str, infos: dict | None = None) -> None:
    """Save as rsl_rl does; in the chosen run's first attempt, cut the chosen checkpoint short and die."""
    save(runner, path, infos)
    log_dir = sys.argv[sys.argv.index("--log_dir") + 1]
    mark = pathlib.Path(os.environ[KILL_MARK_VARIABLE])
    chosen = log_dir == os.environ[KILL_RUN_VARIABLE] and pathlib.Path(path).name == os.environ[KILL_CHECKPOINT_VARIABLE]
    if chosen and not mark.exists():
        mark.touch()
        checkpoint = pathlib.Path(path)
        checkpoint.write_bytes(checkpoint.read_bytes()[: checkpoint.stat().st_size // 2])
        os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    OnPolicyRunner.save = save_then_die
    sys.argv[0] = str(TRAIN_SCRIPT)
    runpy.run_path(str(TRAIN_SCRIPT), run_name="__main__")
