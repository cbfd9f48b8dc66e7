"""Deployed-policy evaluation of trained runs: complete episodes of a checkpoint's policy on envs seeded apart from
training, recorded per checkpoint in the run folder's ``eval.csv``.

The backend-independent parts live here (no IsaacLab import): running episodes on an rsl_rl ``VecEnv``
(:mod:`.episodes`), loading checkpoints into a stock rsl_rl runner and choosing the deterministic or stochastic policy
(:mod:`.policies`), and the ``eval.csv`` records (:mod:`.records`). The gymnasium and IsaacLab 3 entries build the
envs: ``genpo_ext.gymnasium_backend.evaluate`` and ``genpo_ext.isaaclab.evaluate``.
"""
