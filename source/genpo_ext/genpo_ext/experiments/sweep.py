"""Run every (variant, seed) of a spec through ``scripts/train.py``, one at a time, skipping finished runs."""

from __future__ import annotations

import dataclasses
import json
import pathlib
import shutil
import subprocess
import sys
import time
from collections.abc import Callable

from genpo_ext.experiments.spec import CompareSpec, Variant
from genpo_ext.presets import GENPO, GENPO_PRESETS, preset_changes

STATUS_FILE = "compare_status.json"
"""Written into a run folder when its training process exits with code 0: marks the run finished."""
TRAIN_LOG_FILE = "train.log"
"""Captured stdout and stderr of the training process, inside the run folder."""
FAILURE_TAIL_CHARS = 2000
"""Characters of a crashed run's output echoed in the report."""


@dataclasses.dataclass
class RunOutcome:
    """What happened to one run of a sweep."""

    variant: str
    seed: int
    status: str
    """``finished`` (trained now), ``skipped`` (finished earlier with the same configuration) or ``failed``."""
    wall_time_s: float
    """Seconds the training process ran (recorded when it finished)."""
    message: str = ""
    """For failures: exit code and the tail of the run's output."""


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


def run_one(command: list[str], run_dir: pathlib.Path) -> tuple[int, float]:
    """Train into a fresh ``run_dir``, logging the output there; return the exit code and the wall time."""
    if run_dir.exists():
        shutil.rmtree(run_dir)  # an unfinished earlier attempt: its event files must not mix with this run's
    run_dir.mkdir(parents=True)
    start = time.monotonic()
    with open(run_dir / TRAIN_LOG_FILE, "w") as log:
        log.write(" ".join(command) + "\n")
        log.flush()
        returncode = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT).returncode
    return returncode, time.monotonic() - start


AfterRun = Callable[[Variant, int, pathlib.Path], None]
"""Called with the variant, the seed and the run folder of each run that is finished (trained now or earlier)."""


def run_sweep(
    spec: CompareSpec,
    train_script: pathlib.Path,
    labels: list[str] | None = None,
    seeds: list[int] | None = None,
    after_run: AfterRun | None = None,
) -> list[RunOutcome]:
    """Run every (variant, seed) not finished yet; a crash is reported and the sweep goes on.

    A run counts as finished when its folder holds a status record that trained the same configuration
    (:func:`is_same_run`); a run whose configuration changed (e.g. a new budget, a new recommended configuration) is
    trained again.

    Args:
        spec: The sweep.
        train_script: Path of ``scripts/train.py``.
        labels: Train only these variants (default: all); the others are left as they are.
        seeds: Train only these seeds (default: the spec's).
        after_run: Called after each finished run, e.g. to evaluate it before the next run trains.
    """
    variants = [variant for variant in spec.variants if labels is None or variant.label in labels]
    # Seed-major order: an interrupted sweep leaves every variant with the same seeds done.
    runs = [(variant, seed) for seed in spec.seeds if seeds is None or seed in seeds for variant in variants]
    outcomes = []
    for index, (variant, seed) in enumerate(runs, start=1):
        run_dir = spec.run_dir(variant, seed)
        command = train_command(spec, variant, seed, train_script)
        changes = algo_changes(variant.algo)
        prefix = f"[compare] {spec.name} ({index}/{len(runs)}) {variant.label} seed {seed}:"
        status = read_status(run_dir)
        if status is not None and is_same_run(status, command, changes):
            print(f"{prefix} finished earlier, skipped", flush=True)
            outcomes.append(RunOutcome(variant.label, seed, "skipped", status["wall_time_s"]))
            if after_run is not None:
                after_run(variant, seed, run_dir)
            continue
        if status is not None:
            print(f"{prefix} configuration or preset changed since the finished run, training again", flush=True)
        print(f"{prefix} training, output in {run_dir / TRAIN_LOG_FILE}", flush=True)
        returncode, wall_time = run_one(command, run_dir)
        if returncode == 0:
            record = {"command": command, "preset_changes": changes, "wall_time_s": wall_time}
            (run_dir / STATUS_FILE).write_text(json.dumps(record, indent=2))
            print(f"{prefix} finished in {wall_time / 60:.1f} min", flush=True)
            outcomes.append(RunOutcome(variant.label, seed, "finished", wall_time))
            if after_run is not None:
                after_run(variant, seed, run_dir)
        else:
            tail = (run_dir / TRAIN_LOG_FILE).read_text()[-FAILURE_TAIL_CHARS:]
            message = f"exit code {returncode}; last output:\n{tail}"
            print(f"{prefix} FAILED after {wall_time / 60:.1f} min ({message})", flush=True)
            outcomes.append(RunOutcome(variant.label, seed, "failed", wall_time, message))
    return outcomes
