"""List the IsaacLab tasks that carry the GenPO agent configs (``--agent rsl_rl_genpo_cfg_entry_point``, the paper's
GenPO, or ``--agent rsl_rl_genpo_recommended_cfg_entry_point``, the recommended one; see ``genpo_ext/presets.py``).

Examples:
    python scripts/list_envs.py
    python scripts/list_envs.py --paper      # only the tasks of the GenPO paper, with their hyperparameters
    python scripts/list_envs.py --check      # also derive every config and report the tasks GenPO cannot run
"""

from __future__ import annotations

import sys

from genpo_ext.isaaclab.list_envs import main

if __name__ == "__main__":
    main(sys.argv[1:])
