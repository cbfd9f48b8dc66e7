"""Gymnasium continuous-control tasks (e.g. MuJoCo) as an rsl_rl backend for GenPO and stock PPO.

Only :func:`is_gymnasium_task` lives here so that the dispatch in ``scripts/train.py`` stays cheap: it imports
gymnasium's registry, never torch, rsl_rl or isaaclab.
"""

from __future__ import annotations


def is_gymnasium_task(task: str) -> bool:
    """Return whether ``task`` is an id registered in gymnasium's registry (e.g. ``"HalfCheetah-v5"``)."""
    import gymnasium

    return task in gymnasium.registry


__all__ = ["is_gymnasium_task"]
