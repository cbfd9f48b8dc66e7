"""Multi-seed comparisons of GenPO and stock PPO: specs, sweeps through ``scripts/train.py``, log reading, plots
and tables."""
