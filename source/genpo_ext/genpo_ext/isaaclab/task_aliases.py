"""Resolution of IsaacLab 2 task ids to their IsaacLab 3 successors."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from .paper_hyperparameters import PAPER_TASKS

ISAACLAB2_VERSION_SUFFIX = "-v0"
"""Version suffix every IsaacLab 2 task id carries and IsaacLab 3 task ids dropped."""

RENAMED_TASKS: dict[str, str] = {
    **{row.paper_task_id: row.isaaclab_task_id for row in PAPER_TASKS if row.isaaclab_task_id is not None},
    "Isaac-Velocity-Rough-Anymal-D-v0": "Isaac-Velocity-Rough-AnymalD",
    "Isaac-Velocity-Flat-Unitree-Go2-v0": "Isaac-Velocity-Flat-UnitreeGo2",
    "Isaac-Velocity-Flat-Anymal-C-v0": "IsaacContrib-Velocity-Flat-AnymalC",
    "Isaac-Velocity-Rough-Anymal-C-v0": "IsaacContrib-Velocity-Rough-AnymalC",
    "Isaac-Velocity-Flat-Anymal-C-Direct-v0": "IsaacContrib-Velocity-Flat-AnymalC-Direct",
    "Isaac-Velocity-Rough-Anymal-C-Direct-v0": "IsaacContrib-Velocity-Rough-AnymalC-Direct",
    "Isaac-Velocity-Flat-Anymal-B-v0": "IsaacContrib-Velocity-Flat-AnymalB",
    "Isaac-Velocity-Rough-Anymal-B-v0": "IsaacContrib-Velocity-Rough-AnymalB",
    "Isaac-Velocity-Flat-Unitree-A1-v0": "IsaacContrib-Velocity-Flat-UnitreeA1",
    "Isaac-Velocity-Rough-Unitree-A1-v0": "IsaacContrib-Velocity-Rough-UnitreeA1",
    "Isaac-Velocity-Flat-Unitree-Go1-v0": "IsaacContrib-Velocity-Flat-UnitreeGo1",
    "Isaac-Velocity-Rough-Unitree-Go1-v0": "IsaacContrib-Velocity-Rough-UnitreeGo1",
    "Isaac-Velocity-Flat-Spot-v0": "IsaacContrib-Velocity-Flat-Spot",
    "Isaac-Repose-Cube-Allegro-v0": "Isaac-Reorient-Cube-Allegro",
    "Isaac-Repose-Cube-Allegro-Direct-v0": "Isaac-Reorient-Cube-Allegro-Direct",
    "Isaac-Repose-Cube-Shadow-OpenAI-FF-Direct-v0": "IsaacContrib-Reorient-Cube-Shadow-OpenAI-FF-Direct",
    "Isaac-Repose-Cube-Shadow-OpenAI-LSTM-Direct-v0": "IsaacContrib-Reorient-Cube-Shadow-OpenAI-LSTM-Direct",
}
"""IsaacLab 2 task ids whose IsaacLab 3 id is not the IsaacLab 2 id without its ``-v0`` suffix."""

REMOVED_TASKS: dict[str, str] = {
    row.paper_task_id: "it is a task of the GenPO paper that IsaacLab 3.0 no longer ships"
    for row in PAPER_TASKS
    if row.isaaclab_task_id is None
}
"""IsaacLab 2 task ids known to have no IsaacLab 3 successor, with the reason."""

MAX_CLOSE_MATCHES = 5
"""Number of close matches an unknown-task error lists."""

CLOSE_MATCH_CUTOFF = 0.5
"""Similarity ratio in [0, 1] above which a registered id counts as a close match."""


class UnknownTaskError(ValueError):
    """Raised for a task id that is neither registered nor an alias of a registered task."""


def resolve_task_id(task_id: str, registered_ids: Iterable[str]) -> str:
    """Return the registered IsaacLab 3 id of a task given by its IsaacLab 3 or IsaacLab 2 id.

    A registered id is returned unchanged; an IsaacLab 2 id, with or without its ``-v0`` suffix, is looked up in
    :data:`RENAMED_TASKS` and otherwise stripped of the suffix.

    Args:
        task_id: Task id as typed by the user.
        registered_ids: Ids of all registered tasks.

    Returns:
        The registered task id.

    Raises:
        UnknownTaskError: If the task exists neither in IsaacLab 3 nor as an alias; the message lists close matches.
    """
    registered = set(registered_ids)
    if task_id in registered:
        return task_id
    versioned = task_id if task_id.endswith(ISAACLAB2_VERSION_SUFFIX) else task_id + ISAACLAB2_VERSION_SUFFIX
    candidate = RENAMED_TASKS.get(versioned, task_id.removesuffix(ISAACLAB2_VERSION_SUFFIX))
    if candidate in registered:
        return candidate
    reason = REMOVED_TASKS.get(task_id, "no registered task has this id or is its IsaacLab 3 successor")
    matches = difflib.get_close_matches(candidate, sorted(registered), n=MAX_CLOSE_MATCHES, cutoff=CLOSE_MATCH_CUTOFF)
    hint = f" Close matches: {', '.join(matches)}." if matches else ""
    raise UnknownTaskError(
        f"Task '{task_id}' is neither an IsaacLab 3 nor a gymnasium task: {reason}.{hint}"
        " List the available tasks with 'python scripts/list_envs.py'."
    )
