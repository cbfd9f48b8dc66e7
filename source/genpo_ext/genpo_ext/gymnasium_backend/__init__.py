"""Gymnasium continuous-control tasks (e.g. MuJoCo) as an rsl_rl backend for GenPO and stock PPO.

Only :func:`is_gymnasium_task` lives here so that the dispatch in ``scripts/train.py`` stays cheap: it imports
gymnasium's registry, never torch, rsl_rl or isaaclab.
"""

from __future__ import annotations

ISAACLAB_TASK_PREFIX = "Isaac-"
"""Prefix of IsaacLab task ids, which IsaacLab also registers in gymnasium's registry once its tasks are imported."""


def is_gymnasium_task(task: str) -> bool:
    """Return whether ``task`` is a plain gymnasium id (e.g. ``"HalfCheetah-v5"``), not an IsaacLab task."""
    import gymnasium

    return not task.startswith(ISAACLAB_TASK_PREFIX) and task in gymnasium.registry


__all__ = ["is_gymnasium_task"]
