"""IsaacLab 3 integration of GenPO.

* :mod:`.rl_cfg`: config classes that select GenPO in an rsl_rl agent config (:class:`RslRlGenPOActorCfg`,
  :class:`RslRlGenPOAlgorithmCfg`).
* :mod:`.paper_hyperparameters`: the paper's hyperparameter table, the single source of truth.
* :mod:`.agent_cfgs`: derivation of a task's GenPO config from its stock PPO config.
* :mod:`.agent_keys`: the agent key each ``--algo`` selects (``rsl_rl_<GenPO preset>_cfg_entry_point``, or stock).
* :mod:`.registration`: the ``isaaclab.tasks`` entry point that adds the GenPO agent keys to every task.
* :mod:`.task_aliases`: IsaacLab 2 task ids.
* :mod:`.offline_assets`: the asset root for machines that cannot reach the asset server.
* :mod:`.train`, :mod:`.play`, :mod:`.list_envs`: the backends of the scripts.

This package imports no IsaacLab module at import time: the asset root must be chosen before IsaacLab's task
configs are imported (see :mod:`.offline_assets`). Import the config classes from :mod:`.rl_cfg`.
"""
