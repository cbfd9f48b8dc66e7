"""Compact copies of a sweep's finished runs, kept where a repository can hold them, so that a sweep spans machines.

A sweep of many long runs (the H1 comparison: about eight hours on two cores) outlives the machine that started it,
and a run folder holds what no repository wants: every checkpoint and the training output. A spec's ``archive_dir``
keeps, per finished and fully evaluated run, only what its report and a later evaluation read: the finished-run
record, the configs, the training logs (TensorBoard event files), the evaluation records and the newest checkpoint.
Before a sweep schedules anything, each run that its log folder lacks but its archive holds is restored into the log
folder, where it counts as finished and evaluated; every checkpoint but the newest is gone then, and their deployed
returns stay in the evaluation records.
"""

from __future__ import annotations

import filecmp
import pathlib
import shutil

from genpo_ext.evaluation.records import EVAL_FILE, checkpoint_iteration, list_checkpoints
from genpo_ext.evaluation.run_folder import AGENT_CFG_FILE, RUN_MANIFEST_FILE
from genpo_ext.experiments.sweep import ATTEMPTS_FILE, STATUS_FILE

RECORD_FILES = (STATUS_FILE, ATTEMPTS_FILE, EVAL_FILE, RUN_MANIFEST_FILE)
"""Files of a run folder's top level that an archive keeps when they exist."""

PARAMS_FOLDER = AGENT_CFG_FILE.parent
"""Folder of the configs a run was trained with (every file in it is kept)."""

EVENT_FILE_PATTERN = "events.out.tfevents.*"
"""TensorBoard event files: the training curves, time per iteration and final scalars of the report."""


def archived_files(run_dir: pathlib.Path) -> list[pathlib.Path]:
    """Return the files of a run folder that its archive keeps, relative to the folder.

    The records of :data:`RECORD_FILES`, every file under :data:`PARAMS_FOLDER`, the event files of the folder's top
    level and its newest checkpoint.
    """
    names = [pathlib.Path(name) for name in RECORD_FILES if (run_dir / name).is_file()]
    params = run_dir / PARAMS_FOLDER
    if params.is_dir():
        names += sorted(path.relative_to(run_dir) for path in params.rglob("*") if path.is_file())
    names += sorted(path.relative_to(run_dir) for path in run_dir.glob(EVENT_FILE_PATTERN) if path.is_file())
    checkpoints = list_checkpoints(run_dir)
    if checkpoints:
        names.append(max(checkpoints, key=checkpoint_iteration).relative_to(run_dir))
    return names


def archive_run(run_dir: pathlib.Path, archive_run_dir: pathlib.Path) -> list[pathlib.Path]:
    """Make ``archive_run_dir`` the compact copy of a finished run folder (:func:`archived_files`).

    Files that changed are replaced, files the run folder no longer gives (an older newest checkpoint) are removed,
    identical files are left alone, so archiving again after nothing changed writes nothing.

    Args:
        run_dir: A run folder whose run finished (it holds its finished-run record).
        archive_run_dir: The run's folder in the archive.

    Returns:
        The files written, relative to the archive's run folder.

    Raises:
        ValueError: If the run has not finished.
    """
    if not (run_dir / STATUS_FILE).is_file():
        raise ValueError(f"{run_dir} holds no {STATUS_FILE}: only a finished run is archived.")
    wanted = archived_files(run_dir)
    written = []
    for name in wanted:
        source, target = run_dir / name, archive_run_dir / name
        if target.is_file() and filecmp.cmp(source, target, shallow=False):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(source, partial)
        partial.replace(target)  # a copy cut short never looks like an archived file
        written.append(name)
    kept = {archive_run_dir / name for name in wanted}
    for path in sorted(archive_run_dir.rglob("*")):
        if path.is_file() and path not in kept:
            path.unlink()
    return written


def restore_run(archive_run_dir: pathlib.Path, run_dir: pathlib.Path) -> bool:
    """Copy an archived run into its run folder when the folder holds no finished run.

    A folder with an unfinished attempt in it (checkpoints of a run cut short) is replaced by the archived run: the
    archive holds that run finished. A folder with a finished run is left alone, whatever the archive holds.

    Args:
        archive_run_dir: The run's folder in the archive.
        run_dir: The run folder of the sweep's log folder.

    Returns:
        Whether the run was restored.
    """
    if not (archive_run_dir / STATUS_FILE).is_file() or (run_dir / STATUS_FILE).is_file():
        return False
    if run_dir.exists():
        shutil.rmtree(run_dir)
    partial = run_dir.with_name(run_dir.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    shutil.copytree(archive_run_dir, partial)
    partial.replace(run_dir)  # the run folder appears whole or not at all
    return True
