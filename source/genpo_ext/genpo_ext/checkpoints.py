"""Finding the checkpoint to resume or play, and skipping checkpoints whose save was cut short.

rsl_rl's runners write ``model_<iteration>.pt`` with ``torch.save`` straight into the run folder, so a kill or a full
disk during a save leaves a truncated file that ``torch.load`` fails on with an unhelpful error (``OSError: [Errno
22] Invalid argument`` or a ``PytorchStreamReader`` error). This module recognises such files before they are loaded:
without an explicit choice the newest *intact* checkpoint is taken and every newer broken one is named in a warning;
an explicitly chosen broken checkpoint is a :class:`CheckpointError` that names it.

How a checkpoint is checked (:func:`checkpoint_problem`): ``torch.save`` writes a zip archive (the default since
PyTorch 1.6) whose central directory comes last, so a save cut short at any byte leaves no readable directory; and
each record carries a CRC-32 (unless ``torch.utils.serialization.config.save.compute_crc32`` turned it off, which
writes 0), which catches damaged bytes that ``torch.load`` itself accepts silently. The check reads the file once and
neither unpickles it nor allocates tensors. Loading it with ``torch.load`` instead would detect truncation too, but it
costs a full deserialization per candidate, misses damaged tensor data, and with ``weights_only=True`` can reject an
intact checkpoint for an unlisted type.

Imports neither torch nor IsaacLab, so every train, play and evaluation path can use it, IsaacLab 2.3's before
Isaac Sim starts.
"""

from __future__ import annotations

import os
import re
import sys
import zipfile
from collections.abc import Callable, Iterable

CHECKPOINT_PATTERN = r"model_\d+\.pt$"
"""Regex of the checkpoint file names rsl_rl's runners save, matched from the start of the name."""

PICKLE_RECORD = "data.pkl"
"""Name of the record holding the pickled object in every ``torch.save`` archive (inside one top-level folder)."""

UNRECORDED_CRC = 0
"""CRC-32 that ``torch.save`` writes when it computes none (``compute_crc32=False``); such records are not checked."""

READ_CHUNK_BYTES = 1 << 20
"""Bytes read at a time while checking a record's CRC-32."""

WARNING_PREFIX = "[WARNING] genpo_ext: "
"""Start of the warning line that names a broken checkpoint which was skipped."""


class CheckpointError(ValueError):
    """No usable checkpoint: none matches, the chosen one is broken, or every candidate is broken."""


def checkpoint_problem(path: str | os.PathLike) -> str | None:
    """Return why a file is not an intact ``torch.save`` checkpoint, or None when it is intact.

    Args:
        path: The checkpoint file.

    Returns:
        A short reason (e.g. ``"truncated: File is not a zip file"``), or None.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            records = archive.infolist()
            if not any(os.path.basename(record.filename) == PICKLE_RECORD for record in records):
                return f"not a torch.save archive: no {PICKLE_RECORD} record"
            for record in records:
                if record.CRC != UNRECORDED_CRC:
                    _read_record(archive, record)
    except zipfile.BadZipFile as error:
        return f"truncated or not a torch.save archive: {error}"
    except (OSError, EOFError) as error:
        return f"unreadable: {error}"
    return None


def _read_record(archive: zipfile.ZipFile, record: zipfile.ZipInfo) -> None:
    """Read one record to its end, which makes ``zipfile`` compare its CRC-32 (``BadZipFile`` on a mismatch)."""
    with archive.open(record) as stream:
        while stream.read(READ_CHUNK_BYTES):
            pass


def iteration_order(name: str) -> list:
    """Sort key that orders checkpoint names by their numbers: ``model_9.pt`` before ``model_10.pt``."""
    return [(0, int(token), "") if token.isdigit() else (1, 0, token) for token in re.split(r"(\d+)", name)]


def warn(message: str) -> None:
    """Print one warning line to stderr."""
    print(f"{WARNING_PREFIX}{message}", file=sys.stderr)


def select_checkpoint(
    candidates: Iterable[str | os.PathLike], *, explicit: bool, on_skip: Callable[[str], None] = warn
) -> str:
    """Return the newest candidate checkpoint, or, unless it was chosen explicitly, the newest intact one.

    Args:
        candidates: Checkpoint files, in any order; the newest is the last by :func:`iteration_order` of the name.
        explicit: Whether the user chose the checkpoint (``--checkpoint``): then the newest candidate must be intact.
            Otherwise newer broken candidates are skipped, each reported through ``on_skip``.
        on_skip: Receives one message per skipped broken checkpoint, naming it and why it is broken.

    Returns:
        The path of the selected checkpoint.

    Raises:
        CheckpointError: If there is no candidate, the explicitly chosen one is broken, or every candidate is broken.
    """
    paths = sorted((os.fspath(path) for path in candidates), key=lambda path: iteration_order(os.path.basename(path)))
    if not paths:
        raise CheckpointError("No checkpoint to load.")
    if explicit:
        problem = checkpoint_problem(paths[-1])
        if problem is not None:
            raise CheckpointError(
                f"Checkpoint {paths[-1]} is broken ({problem}). Choose another with --checkpoint, or leave"
                " --checkpoint out to take the newest intact checkpoint."
            )
        return paths[-1]
    broken: list[tuple[str, str]] = []
    for path in reversed(paths):
        problem = checkpoint_problem(path)
        if problem is None:
            for broken_path, broken_problem in broken:
                on_skip(f"checkpoint {broken_path} is broken ({broken_problem}); loading {path} instead.")
            return path
        broken.append((path, problem))
    names = ", ".join(os.path.basename(path) for path, _ in broken)
    raise CheckpointError(
        f"No intact checkpoint in {os.path.dirname(paths[-1])}: {names} are broken (newest: {broken[0][1]})."
    )


def latest_run_dir(experiment_dir: str | os.PathLike, run_regex: str | None = None) -> str:
    """Return the latest run folder of an experiment, as IsaacLab's ``get_checkpoint_path`` selects it.

    Args:
        experiment_dir: Folder holding the run folders.
        run_regex: Regex matched from the start of the run folder names (``--load_run``); None matches every run.

    Returns:
        The matching run folder whose name sorts last (run folders start with their timestamp).

    Raises:
        CheckpointError: If the regex is invalid or no run folder matches.
    """
    pattern = compile_flag_regex("--load_run", run_regex or ".*")
    runs = []
    if os.path.isdir(experiment_dir):
        with os.scandir(experiment_dir) as entries:
            runs = sorted(entry.path for entry in entries if entry.is_dir() and pattern.match(entry.name))
    if not runs:
        raise CheckpointError(f"No run folder matching '{pattern.pattern}' in {os.path.abspath(experiment_dir)}.")
    return runs[-1]


def resolve_checkpoint(
    run_dir: str | os.PathLike | None, checkpoint: str | None = None, *, on_skip: Callable[[str], None] = warn
) -> str:
    """Return the checkpoint to load from a run: the one chosen with ``checkpoint``, else the newest intact one.

    This is the one call the train, play and evaluation scripts make once they know the run folder.

    Args:
        run_dir: The run folder; may be None when ``checkpoint`` is the path of an existing file.
        checkpoint: What the user chose with ``--checkpoint``: None (the newest intact ``model_<iteration>.pt``;
            newer broken ones are skipped with a warning through ``on_skip``), the path of an existing file, or a
            regex matched from the start of the file names in ``run_dir`` (its newest match). A chosen checkpoint
            must be intact.
        on_skip: Receives one message per skipped broken checkpoint.

    Returns:
        The absolute path of the checkpoint.

    Raises:
        CheckpointError: If no file matches, the chosen checkpoint is broken, or every checkpoint is broken.
    """
    if checkpoint is not None and os.path.isfile(checkpoint):
        return os.path.abspath(select_checkpoint([checkpoint], explicit=True))
    pattern = compile_flag_regex("--checkpoint", checkpoint or CHECKPOINT_PATTERN)
    if run_dir is None:
        raise CheckpointError(f"--checkpoint '{checkpoint}' is not a file, and no run folder was given to search.")
    run_dir = os.path.abspath(run_dir)
    if not os.path.isdir(run_dir):
        raise CheckpointError(f"Run folder {run_dir} does not exist.")
    with os.scandir(run_dir) as entries:
        candidates = [entry.path for entry in entries if entry.is_file() and pattern.match(entry.name)]
    if not candidates:
        raise CheckpointError(
            f"No checkpoint matching '{pattern.pattern}' in {run_dir}. Pick a file with --checkpoint or another run"
            " with --load_run."
        )
    return select_checkpoint(candidates, explicit=checkpoint is not None, on_skip=on_skip)


def find_run_checkpoint(
    experiment_dir: str | os.PathLike | None,
    load_run: str | None = None,
    checkpoint: str | None = None,
    run_dir: str | os.PathLike | None = None,
    *,
    on_skip: Callable[[str], None] = warn,
) -> str:
    """Return the checkpoint that IsaacLab-style flags select (``--log_dir``, ``--load_run``, ``--checkpoint``).

    Args:
        experiment_dir: Folder holding the experiment's run folders; needed only when neither ``run_dir`` nor a
            checkpoint file is given.
        load_run: Regex of the run folder (``--load_run``), see :func:`latest_run_dir`; None: the latest run.
        checkpoint: ``--checkpoint``, see :func:`resolve_checkpoint`.
        run_dir: The run folder itself (``--log_dir``), which wins over ``experiment_dir`` and ``load_run``.
        on_skip: Receives one message per skipped broken checkpoint.

    Returns:
        The absolute path of the checkpoint.

    Raises:
        CheckpointError: If no run folder or checkpoint matches, or the selected one is broken (see
            :func:`resolve_checkpoint`).
    """
    if run_dir is None and not (checkpoint is not None and os.path.isfile(checkpoint)):
        run_dir = latest_run_dir(experiment_dir, load_run)
    return resolve_checkpoint(run_dir, checkpoint, on_skip=on_skip)


def compile_flag_regex(flag: str, regex: str) -> re.Pattern:
    """Return the compiled regex given with a flag.

    Raises:
        CheckpointError: If ``regex`` is not a valid regex.
    """
    try:
        return re.compile(regex)
    except re.error as error:
        raise CheckpointError(f"{flag} '{regex}' is not a valid regex: {error}.") from None
