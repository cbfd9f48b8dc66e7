"""What a run folder says about its run: the task, the agent config and the checkpoints to evaluate."""

from __future__ import annotations

import json
import pathlib

import yaml

from genpo_ext.checkpoints import CheckpointError, checkpoint_problem, select_checkpoint, warn
from genpo_ext.evaluation.records import checkpoint_iteration, list_checkpoints

AGENT_CFG_FILE = pathlib.Path("params", "agent.yaml")
"""The rsl_rl train config a run was trained with, written by every training path (relative to the run folder)."""

ENV_CFG_FILE = pathlib.Path("params", "env.yaml")
"""The env config of a run; the gymnasium backend records the task id in it."""

RUN_MANIFEST_FILE = "run.json"
"""IsaacLab 3's run manifest, which records the task id."""

COMPARE_STATUS_FILE = "compare_status.json"
"""Record of a run trained by ``scripts/compare.py``, holding its ``scripts/train.py`` command line."""


class RunFolderError(ValueError):
    """A run folder that cannot be evaluated: missing, without checkpoints, or without the files that describe it."""


def check_run_folder(run_dir: pathlib.Path) -> None:
    """Raise a :class:`RunFolderError` unless ``run_dir`` holds an agent config and at least one checkpoint."""
    if not run_dir.is_dir():
        raise RunFolderError(f"run folder {run_dir} does not exist.")
    if not (run_dir / AGENT_CFG_FILE).is_file():
        raise RunFolderError(f"{run_dir} holds no {AGENT_CFG_FILE}: it is not a run folder of scripts/train.py.")
    if not list_checkpoints(run_dir):
        raise RunFolderError(f"{run_dir} holds no checkpoint (model_<iteration>.pt).")


def read_task(run_dir: pathlib.Path) -> str:
    """Return the task id a run was trained on, from the files the training paths leave in the run folder.

    Raises:
        RunFolderError: If no file of the folder names the task.
    """
    env_cfg_path = run_dir / ENV_CFG_FILE
    if env_cfg_path.is_file():
        try:
            task = (load_params_yaml(env_cfg_path) or {}).get("task")
        except yaml.YAMLError:
            task = None  # an IsaacLab env config may hold Python objects; its manifest names the task
        if isinstance(task, str):
            return task
    for name, read in ((RUN_MANIFEST_FILE, lambda data: data.get("task")), (COMPARE_STATUS_FILE, _task_of_command)):
        path = run_dir / name
        if path.is_file():
            task = read(json.loads(path.read_text()))
            if task:
                return task
    raise RunFolderError(f"no file in {run_dir} names the task it was trained on: pass --task.")


def _task_of_command(status: dict) -> str | None:
    """Return the ``--task`` value of a compare status record's command line."""
    command = status.get("command", [])
    return command[command.index("--task") + 1] if "--task" in command[:-1] else None


def load_params_yaml(path: pathlib.Path):
    """Load a config file of a run's ``params`` folder."""
    # IsaacLab writes tuples with their Python tag, which the full loader reads (as it reads plain YAML)
    return yaml.load(path.read_text(), Loader=yaml.FullLoader)


def read_agent_cfg(run_dir: pathlib.Path, device: str) -> dict:
    """Return the run's rsl_rl train config, with the agent moved to ``device``."""
    agent_cfg = load_params_yaml(run_dir / AGENT_CFG_FILE)
    agent_cfg["device"] = device
    return agent_cfg


def select_checkpoints(run_dir: pathlib.Path, checkpoint: str | None, all_checkpoints: bool) -> list[pathlib.Path]:
    """Return the checkpoints to evaluate: every intact one, one named file, or the newest intact one.

    A checkpoint whose save was cut short (:func:`genpo_ext.checkpoints.checkpoint_problem`) is skipped with a warning
    unless it was named; a named broken checkpoint fails when it is loaded.

    Args:
        run_dir: The run folder.
        checkpoint: A checkpoint file name in the run folder or a path to one; None selects the newest intact one.
        all_checkpoints: Select every intact checkpoint of the run, oldest first.

    Raises:
        RunFolderError: If the named checkpoint does not exist, or no checkpoint is intact.
    """
    if checkpoint is not None:
        return [_named_checkpoint(run_dir, checkpoint)]
    checkpoints = list_checkpoints(run_dir)
    if not all_checkpoints:
        try:
            return [pathlib.Path(select_checkpoint(checkpoints, explicit=False))]
        except CheckpointError as error:
            raise RunFolderError(str(error)) from None
    intact = []
    for path in checkpoints:
        problem = checkpoint_problem(path)
        if problem is None:
            intact.append(path)
        else:
            warn(f"checkpoint {path} is broken ({problem}); it is not evaluated.")
    if not intact:
        raise RunFolderError(f"no intact checkpoint in {run_dir}.")
    return intact


def _named_checkpoint(run_dir: pathlib.Path, checkpoint: str) -> pathlib.Path:
    """Return a checkpoint named by its file name in the run folder or by its path.

    Raises:
        RunFolderError: If it does not exist or is not named like an rsl_rl checkpoint.
    """
    path = pathlib.Path(checkpoint)
    path = path if path.is_file() else run_dir / checkpoint
    if not path.is_file():
        names = ", ".join(p.name for p in list_checkpoints(run_dir))
        raise RunFolderError(f"checkpoint '{checkpoint}' is not in {run_dir}. Checkpoints there: {names}.")
    try:
        checkpoint_iteration(path)
    except ValueError as error:
        raise RunFolderError(str(error)) from None
    return path
