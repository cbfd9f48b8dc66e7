"""Registration of the GenPO agent configs on every IsaacLab task that has a stock rsl_rl config.

Importing this module (the ``isaaclab.tasks`` entry point of this package, which the ``isaaclab`` CLI loads before
resolving tasks) adds one key per GenPO preset (:data:`~.agent_keys.GENPO_CFG_ENTRY_POINTS`:
``rsl_rl_genpo_cfg_entry_point``, ``rsl_rl_genpo_recommended_cfg_entry_point``) to the gym spec of every such task,
so that::

    isaaclab train --task Isaac-Cartpole-Direct --rl_library rsl_rl --agent rsl_rl_genpo_cfg_entry_point

trains GenPO without any script of this package. IsaacLab itself is not modified.
"""

from __future__ import annotations

from collections.abc import Callable

from . import offline_assets

# the asset root must be chosen before IsaacLab's task configs read it at import time
offline_assets.configure_asset_root()

import gymnasium as gym  # noqa: E402
import isaaclab_tasks  # noqa: E402, F401
from isaaclab_tasks.utils.parse_cfg import load_cfg_from_registry  # noqa: E402

from .agent_cfgs import derive_genpo_agent_cfg  # noqa: E402
from .agent_keys import GENPO_CFG_ENTRY_POINTS, STOCK_CFG_ENTRY_POINT  # noqa: E402


def make_genpo_cfg_entry_point(task_id: str, preset_name: str) -> Callable[[], object]:
    """Return the entry point that builds a GenPO config of a task from its stock config on demand.

    Args:
        task_id: Registered IsaacLab task id.
        preset_name: Name of the GenPO preset the config applies (:mod:`genpo_ext.presets`).
    """

    def genpo_cfg_entry_point() -> object:
        """Load the task's stock rsl_rl config and derive its GenPO config."""
        return derive_genpo_agent_cfg(load_cfg_from_registry(task_id, STOCK_CFG_ENTRY_POINT), task_id, preset_name)

    genpo_cfg_entry_point.__qualname__ = f"{preset_name}_cfg_entry_point[{task_id}]"
    return genpo_cfg_entry_point


def register_genpo_cfg_entry_points() -> list[str]:
    """Add the key of every GenPO preset to every registered task with a stock rsl_rl config, where it is missing.

    Returns:
        Ids of the tasks that carry the GenPO keys, sorted.
    """
    task_ids = []
    for task_id, spec in gym.registry.items():
        if STOCK_CFG_ENTRY_POINT not in spec.kwargs:
            continue
        for preset_name, key in GENPO_CFG_ENTRY_POINTS.items():
            spec.kwargs.setdefault(key, make_genpo_cfg_entry_point(task_id, preset_name))
        task_ids.append(task_id)
    return sorted(task_ids)


GENPO_TASK_IDS: list[str] = register_genpo_cfg_entry_points()
"""Ids of the tasks that carry the GenPO keys after this module was imported."""
