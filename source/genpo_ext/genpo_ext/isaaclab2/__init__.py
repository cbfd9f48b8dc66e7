"""IsaacLab 2.3 integration of GenPO (Isaac Sim 5.1, rsl_rl 3).

* :mod:`.rl_cfg`: config classes beside IsaacLab 2.3's ``RslRlPpoActorCriticCfg``: :class:`RslRlGenPOActorCriticCfg`
  and :class:`RslRlGenPOAlgorithmCfg`.
* :mod:`.agent_cfgs`: derivation of a task's GenPO config from its stock PPO config (the paper's hyperparameters on
  the paper's tasks, from :mod:`genpo_ext.isaaclab.paper_hyperparameters`).
* :mod:`.registration`: adds the GenPO agent keys (``rsl_rl_genpo_cfg_entry_point``,
  ``rsl_rl_genpo_recommended_cfg_entry_point``) to every registered task with a stock rsl_rl config.
* :mod:`.train`, :mod:`.play`: the IsaacLab 2.3 backends of ``scripts/train.py`` and ``scripts/play.py``, which start
  Isaac Sim with IsaacLab's ``AppLauncher`` first.

Nothing here imports IsaacLab 3 code, and this package imports no IsaacLab module at import time: IsaacLab 2.3's
tasks may only be imported once the simulator runs.
"""
