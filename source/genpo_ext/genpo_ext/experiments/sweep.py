"""One run of a sweep: train a (variant, seed) through ``scripts/train.py`` into its run folder, and the records
that say what happened to it.

A run that finished earlier with the same configuration is skipped. An attempt that was cut off (its training process
killed) is continued by the next attempt from the run's newest intact checkpoint, as long as the configuration is the
same: the gymnasium backend continues exactly (its checkpoints hold the whole training state), IsaacLab's train entry
continues from the checkpoint's models, optimizer and iteration. Anything else starts the run afresh.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable

from genpo_ext.checkpoints import CheckpointError, select_checkpoint
from genpo_ext.evaluation.records import checkpoint_iteration, list_checkpoints
from genpo_ext.experiments.scheduler import Interrupted
from genpo_ext.experiments.spec import CompareSpec, Variant
from genpo_ext.gymnasium_backend import is_gymnasium_task
from genpo_ext.presets import GENPO, GENPO_PRESETS, preset_changes

STATUS_FILE = "compare_status.json"
"""Written into a run folder when its training ended with exit status 0: marks the run finished, with its command,
its preset changes, its training wall time and its attempts."""
ATTEMPTS_FILE = "compare_attempts.json"
"""Written into a run folder when an attempt to train it starts and again when it ends: the run's command and preset
changes, and each attempt's host, start and end time, the checkpoint it continued from and its exit status. An attempt
whose worker or node died has the exit status None and, as its end, the last time its training wrote its log."""
TRAIN_LOG_FILE = "train.log"
"""Captured stdout and stderr of the training processes, inside the run folder (each attempt appends)."""
FAILURE_TAIL_CHARS = 2000
"""Characters of a crashed run's output echoed in the report."""
SECONDS_PER_MINUTE = 60.0

FINISHED, SKIPPED, FAILED = "finished", "skipped", "failed"
"""What happened to a run: trained to its end now, finished earlier with the same configuration, or failed."""


class RunInterrupted(Interrupted):
    """The training process of a run was killed; the next attempt continues from its newest intact checkpoint."""


@dataclasses.dataclass
class RunOutcome:
    """What happened to one run of a sweep."""

    variant: str
    seed: int
    status: str
    """:data:`FINISHED`, :data:`SKIPPED` or :data:`FAILED`."""
    wall_time_s: float
    """Seconds its training processes ran, over all attempts (recorded when it finished)."""
    message: str = ""
    """For failures: exit status and the tail of the run's output, or why it could not run."""


def train_command(spec: CompareSpec, variant: Variant, seed: int, train_script: pathlib.Path) -> list[str]:
    """Return the ``scripts/train.py`` command line of one run."""
    command = [sys.executable, str(train_script), "--task", spec.task, "--algo", variant.algo, "--seed", str(seed)]
    command += ["--num_envs", str(spec.num_envs), "--max_iterations", str(spec.iterations)]
    command += ["--log_dir", str(spec.run_dir(variant, seed))]
    if spec.device is not None:
        command += ["--device", spec.device]
    command += [f"agent.num_steps_per_env={spec.num_steps_per_env}", *spec.overrides, *variant.overrides]
    return command


def algo_changes(algo: str) -> list[str]:
    """Return what ``--algo`` changes on top of the task's config: a GenPO preset's changes, none for PPO.

    A preset's changes can differ between versions of genpo_ext under the same ``--algo`` name, so a run records them
    next to its command.
    """
    return preset_changes(GENPO_PRESETS[algo]) if algo in GENPO_PRESETS else []


def trained_configuration(command: list[str], changes: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Return what a ``scripts/train.py`` command trains, however it is spelled.

    A GenPO preset's name is resolved into the paper's GenPO (``--algo genpo``) plus its key changes as ``agent.``
    overrides, the same keys a spec overrides (``agent.actor.noise_std_type=log``); a later override of a key wins.
    The interpreter, the path of ``scripts/train.py`` and ``--log_dir`` are left out: the run folder holds the record,
    so a checkout elsewhere (another worktree, another machine) and a moved run folder recognize their runs.

    Args:
        command: The command line, interpreter and script first, then ``--option value`` pairs and overrides.
        changes: The key changes of the command's ``--algo`` (:func:`algo_changes`).

    Returns:
        The options by name, and the config overrides by key.
    """
    options, overrides = {}, {}
    for change in changes:
        key, _, value = change.partition("=")
        overrides[f"agent.{key}"] = value
    arguments = iter(command[2:])
    for argument in arguments:
        if argument.startswith("--"):
            options[argument] = next(arguments, "")
        else:
            key, _, value = argument.partition("=")
            overrides[key] = value
    options.pop("--log_dir", None)
    if options.get("--algo") in GENPO_PRESETS:
        options["--algo"] = GENPO
    return options, overrides


def is_same_run(status: dict, command: list[str], changes: list[str]) -> bool:
    """Whether a finished run's record trained what this command and preset changes train.

    Compares :func:`trained_configuration`, so a run is not trained again when its spec only spells the same
    configuration differently (a preset's name or its key changes as overrides). Records written before presets were
    recorded count as runs with no preset changes.
    """
    recorded = trained_configuration(status["command"], status.get("preset_changes", []))
    return recorded == trained_configuration(command, changes)


def read_status(run_dir: pathlib.Path) -> dict | None:
    """Return the finished-run record of ``run_dir``, or None if the run has not finished."""
    path = run_dir / STATUS_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def read_attempts(run_dir: pathlib.Path) -> dict | None:
    """Return the attempts record of ``run_dir``, or None if no attempt of this tool ever started there."""
    path = run_dir / ATTEMPTS_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def finished_earlier(spec: CompareSpec, variant: Variant, seed: int, train_script: pathlib.Path) -> RunOutcome | None:
    """Return the outcome of a run that finished earlier with the configuration the spec gives it, else None."""
    status = read_status(spec.run_dir(variant, seed))
    command = train_command(spec, variant, seed, train_script)
    if status is None or not is_same_run(status, command, algo_changes(variant.algo)):
        return None
    return RunOutcome(variant.label, seed, SKIPPED, status["wall_time_s"])


def continues_after_checkpoint(task: str) -> bool:
    """Whether a run of ``task`` resumed from the checkpoint of iteration k trains iteration k + 1 next.

    The gymnasium backend does (its checkpoints hold the whole training state); IsaacLab's train entry runs
    iteration k again, as rsl_rl's runner does after loading a checkpoint.
    """
    return is_gymnasium_task(task)


def resume_command(command: list[str], checkpoint: pathlib.Path, iterations: int) -> list[str]:
    """Return the command that continues a run from ``checkpoint`` for ``iterations`` more iterations."""
    options = list(command[2:])
    options[options.index("--max_iterations") + 1] = str(iterations)
    return [*command[:2], "--resume", "--checkpoint", str(checkpoint), *options]


def newest_intact_checkpoint(run_dir: pathlib.Path, report: Callable[[str], None]) -> pathlib.Path | None:
    """Return the run's newest checkpoint whose save was not cut short (reporting the broken ones), or None."""
    try:
        return pathlib.Path(select_checkpoint(list_checkpoints(run_dir), explicit=False, on_skip=report))
    except CheckpointError:
        return None


def start_attempt(
    run_dir: pathlib.Path, command: list[str], changes: list[str], report: Callable[[str], None]
) -> tuple[dict, pathlib.Path | None]:
    """Prepare the run folder for an attempt; return the attempts record and the checkpoint to continue from.

    An earlier attempt of the same configuration with an intact checkpoint is continued; otherwise the folder is
    emptied (an unfinished or changed run's event files must not mix with this run's).
    """
    record = read_attempts(run_dir)
    if record is not None and is_same_run(record, command, changes):
        checkpoint = newest_intact_checkpoint(run_dir, report)
        for lost in [attempt for attempt in record["attempts"] if attempt["end"] is None]:
            # its worker died before it could record its end: the log's last write is the closest one
            log = run_dir / TRAIN_LOG_FILE
            lost["end"] = max(lost["start"], log.stat().st_mtime) if log.is_file() else lost["start"]
        if checkpoint is not None:
            return record, checkpoint
    if read_status(run_dir) is not None:
        report("configuration or preset changed since the finished run, training again")
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    return {"command": command, "preset_changes": changes, "attempts": []}, None


def training_time(record: dict) -> float:
    """Return the seconds the recorded attempts trained."""
    return sum(attempt["end"] - attempt["start"] for attempt in record["attempts"])


def run_training(command: list[str], run_dir: pathlib.Path, claim_fd: int | None) -> int:
    """Run one training process, appending its output to the run's log; return its exit status.

    Args:
        command: The ``scripts/train.py`` command line.
        run_dir: The run folder.
        claim_fd: File descriptor of the run's claim, which the training process inherits and holds while it lives.
    """
    with open(run_dir / TRAIN_LOG_FILE, "a") as log:
        log.write(" ".join(command) + "\n")
        log.flush()
        fds = () if claim_fd is None else (claim_fd,)
        return subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, pass_fds=fds).returncode


def train_run(
    spec: CompareSpec,
    variant: Variant,
    seed: int,
    train_script: pathlib.Path,
    report: Callable[[str], None],
    claim_fd: int | None = None,
) -> RunOutcome:
    """Train one run to its end, continuing an attempt that was cut off, unless it finished earlier.

    Args:
        spec: The sweep.
        variant: The run's algorithm configuration.
        seed: The run's seed.
        train_script: Path of ``scripts/train.py``.
        report: Receives one line per step (training, continuing, killed) for the progress lines.
        claim_fd: File descriptor of the run's claim (:mod:`genpo_ext.experiments.run_claim`), passed on to the
            training process.

    Raises:
        RunInterrupted: If the training process was killed by a signal; calling again continues the run.
    """
    run_dir = spec.run_dir(variant, seed)
    command = train_command(spec, variant, seed, train_script)
    changes = algo_changes(variant.algo)
    outcome = finished_earlier(spec, variant, seed, train_script)
    if outcome is not None:
        return outcome
    record, checkpoint = start_attempt(run_dir, command, changes, report)
    attempt = {"host": socket.gethostname(), "start": time.time(), "end": None, "exit_status": None}
    attempt["continued_from"] = None if checkpoint is None else checkpoint.name
    record["attempts"].append(attempt)
    records = run_dir / ATTEMPTS_FILE
    records.write_text(json.dumps(record, indent=2))
    returncode = 0
    # the checkpoint of the last iteration is the end of training: only the status record was lost
    if checkpoint is None or checkpoint_iteration(checkpoint) < spec.iterations - 1:
        log = run_dir / TRAIN_LOG_FILE
        if checkpoint is None:
            report(f"training, output in {log}")
            run_command = command
        else:
            report(f"continuing from {checkpoint.name} (attempt {len(record['attempts'])}), output in {log}")
            next_iteration = checkpoint_iteration(checkpoint) + (1 if continues_after_checkpoint(spec.task) else 0)
            run_command = resume_command(command, checkpoint, spec.iterations - next_iteration)
        returncode = run_training(run_command, run_dir, claim_fd)
    attempt.update(end=time.time(), exit_status=returncode)
    records.write_text(json.dumps(record, indent=2))
    if returncode == 0:
        status = {"command": command, "preset_changes": changes, "wall_time_s": training_time(record)}
        (run_dir / STATUS_FILE).write_text(json.dumps({**status, "attempts": record["attempts"]}, indent=2))
        return RunOutcome(variant.label, seed, FINISHED, training_time(record))
    minutes = (attempt["end"] - attempt["start"]) / SECONDS_PER_MINUTE
    if returncode < 0:
        report(f"its training process was killed by signal {-returncode} after {minutes:.1f} min")
        raise RunInterrupted(f"training process killed by signal {-returncode} in attempt {len(record['attempts'])}")
    tail = (run_dir / TRAIN_LOG_FILE).read_text()[-FAILURE_TAIL_CHARS:]
    message = f"exit code {returncode}; last output:\n{tail}"
    return RunOutcome(variant.label, seed, FAILED, training_time(record), message)
