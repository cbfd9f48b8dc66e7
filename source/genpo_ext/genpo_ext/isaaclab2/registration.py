"""Registration of the GenPO agent config on every IsaacLab 2.3 task that has a stock rsl_rl config.

:func:`register_genpo_cfg_entry_points` adds the key :data:`GENPO_CFG_ENTRY_POINT` to the gym spec of every such
task, so that IsaacLab 2.3's config loading (``load_cfg_from_registry``, ``hydra_task_config``) finds a GenPO config
under it. Call it after ``import isaaclab_tasks``, which registers the tasks and needs a running simulator.
IsaacLab itself is not modified, and importing this module imports no IsaacLab module.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable

import gymnasium as gym

STOCK_CFG_ENTRY_POINT = "rsl_rl_cfg_entry_point"
"""Gym spec key of a task's stock rsl_rl PPO config."""

GENPO_CFG_ENTRY_POINT = "rsl_rl_genpo_cfg_entry_point"
"""Gym spec key of a task's GenPO config."""


def make_genpo_cfg_entry_point(task_id: str, stock_entry_point: object) -> Callable[[], object]:
    """Return the entry point that builds the GenPO config of a task from its stock config on demand.

    Args:
        task_id: Registered IsaacLab 2.3 task id.
        stock_entry_point: The task's stock rsl_rl config entry point (see :func:`load_stock_cfg`).
    """

    def genpo_cfg_entry_point() -> object:
        """Load the task's stock rsl_rl config and derive its GenPO config."""
        # IsaacLab's config modules may only be imported once the simulator runs: import them on demand
        from .agent_cfgs import derive_genpo_runner_cfg

        return derive_genpo_runner_cfg(load_stock_cfg(stock_entry_point), task_id)

    genpo_cfg_entry_point.__qualname__ = f"genpo_cfg_entry_point[{task_id}]"
    return genpo_cfg_entry_point


def load_stock_cfg(entry_point: object) -> object:
    """Instantiate a stock rsl_rl config entry point as IsaacLab 2.3 does: ``"module:Class"``, a class or a callable
    returning the config, or a config instance (copied).

    Raises:
        ValueError: If a string entry point is not of the form ``"module:Class"``.
    """
    if isinstance(entry_point, str):
        module_name, separator, attribute = entry_point.partition(":")
        if not separator:
            raise ValueError(f"rsl_rl config entry point '{entry_point}' is not of the form 'module:Class'.")
        entry_point = getattr(importlib.import_module(module_name), attribute)
    return entry_point() if callable(entry_point) else copy.deepcopy(entry_point)


def register_genpo_cfg_entry_points() -> list[str]:
    """Add the GenPO key to every registered task with a stock rsl_rl config that lacks one.

    Returns:
        Ids of the tasks that carry the GenPO key, sorted.
    """
    task_ids = []
    for task_id, spec in gym.registry.items():
        stock_entry_point = spec.kwargs.get(STOCK_CFG_ENTRY_POINT)
        if stock_entry_point is None:
            continue
        spec.kwargs.setdefault(GENPO_CFG_ENTRY_POINT, make_genpo_cfg_entry_point(task_id, stock_entry_point))
        task_ids.append(task_id)
    return sorted(task_ids)
