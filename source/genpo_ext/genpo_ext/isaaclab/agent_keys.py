"""Gym spec keys of the agent configs that ``--algo`` selects on an IsaacLab task, the same in IsaacLab 3 and 2.3.

Imports no IsaacLab module, so both IsaacLab backends and their command lines can use it before IsaacLab loads.
"""

from __future__ import annotations

from genpo_ext.presets import GENPO, GENPO_PRESETS, PPO

STOCK_CFG_ENTRY_POINT = "rsl_rl_cfg_entry_point"
"""Gym spec key of a task's stock rsl_rl PPO config."""

GENPO_CFG_ENTRY_POINTS: dict[str, str] = {name: f"rsl_rl_{name}_cfg_entry_point" for name in GENPO_PRESETS}
"""Gym spec key of a task's GenPO config for each GenPO preset (``rsl_rl_<preset>_cfg_entry_point``); pass it to
``--agent``."""

GENPO_CFG_ENTRY_POINT = GENPO_CFG_ENTRY_POINTS[GENPO]
"""Gym spec key of a task's GenPO config with the paper's defaults."""

ALGORITHM_CFG_ENTRY_POINTS: dict[str, str] = {**GENPO_CFG_ENTRY_POINTS, PPO: STOCK_CFG_ENTRY_POINT}
"""Gym spec key of the agent config that each ``--algo`` selects: a GenPO preset, or the stock PPO config."""
