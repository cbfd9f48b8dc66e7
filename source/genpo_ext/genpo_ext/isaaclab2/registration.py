"""Registration of the GenPO agent configs on every IsaacLab 2.3 task that has a stock rsl_rl config.

:func:`register_genpo_cfg_entry_points` adds one key per GenPO preset (as in IsaacLab 3:
:data:`genpo_ext.isaaclab.agent_keys.GENPO_CFG_ENTRY_POINTS`) to the gym spec of every such task, so that IsaacLab
2.3's config loading (``load_cfg_from_registry``, ``hydra_task_config``) finds a GenPO config under it. Call it after
``import isaaclab_tasks``, which registers the tasks and needs a running simulator. IsaacLab itself is not modified,
and importing this module imports no IsaacLab module.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable

import gymnasium as gym

from genpo_ext.isaaclab.agent_keys import GENPO_CFG_ENTRY_POINTS, STOCK_CFG_ENTRY_POINT


def make_genpo_cfg_entry_point(task_id: str, stock_entry_point: object, preset_name: str) -> Callable[[], object]:
    """Return the entry point that builds a GenPO config of a task from its stock config on demand.

    Args:
        task_id: Registered IsaacLab 2.3 task id.
        stock_entry_point: The task's stock rsl_rl config entry point (see :func:`load_stock_cfg`).
        preset_name: Name of the GenPO preset the config applies (:mod:`genpo_ext.presets`).
    """

    def genpo_cfg_entry_point() -> object:
        """Load the task's stock rsl_rl config and derive its GenPO config."""
        # IsaacLab's config modules may only be imported once the simulator runs: import them on demand
        from .agent_cfgs import derive_genpo_runner_cfg

        return derive_genpo_runner_cfg(load_stock_cfg(stock_entry_point), task_id, preset_name)

    genpo_cfg_entry_point.__qualname__ = f"{preset_name}_cfg_entry_point[{task_id}]"
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
    """Add the key of every GenPO preset to every registered task with a stock rsl_rl config, where it is missing.

    Returns:
        Ids of the tasks that carry the GenPO keys, sorted.
    """
    task_ids = []
    for task_id, spec in gym.registry.items():
        stock_entry_point = spec.kwargs.get(STOCK_CFG_ENTRY_POINT)
        if stock_entry_point is None:
            continue
        for preset_name, key in GENPO_CFG_ENTRY_POINTS.items():
            spec.kwargs.setdefault(key, make_genpo_cfg_entry_point(task_id, stock_entry_point, preset_name))
        task_ids.append(task_id)
    return sorted(task_ids)
