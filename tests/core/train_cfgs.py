"""rsl_rl train configs (plain dicts) used by the core tests."""

from __future__ import annotations

import copy


def genpo_train_cfg(hidden_dims: list[int] | None = None, **algorithm_overrides) -> dict:
    """A small GenPO train config naming the extension's classes by their class-name strings."""
    hidden_dims = hidden_dims or [64, 64]
    cfg = {
        "num_steps_per_env": 16,
        "save_interval": 1000,
        "obs_groups": {"actor": ["policy"], "critic": ["policy"]},
        "actor": {
            "class_name": "genpo_ext.models:GenPOActor",
            "hidden_dims": hidden_dims,
            "activation": "mish",
            "num_flow_steps": 5,
            "mixing_coef": 0.9,
            "time_embed_dim": 16,
            "time_hidden_dims": [32, 32],
        },
        "critic": {"class_name": "MLPModel", "hidden_dims": hidden_dims, "activation": "elu"},
        "algorithm": {
            "class_name": "genpo_ext.algorithms:GenPO",
            "num_learning_epochs": 5,
            "num_mini_batches": 4,
            "learning_rate": 1e-3,
            "entropy_coef": 0.0,
            "desired_kl": 0.01,
            "schedule": "adaptive",
            "compression_coef": 0.01,
        },
    }
    cfg["algorithm"].update(algorithm_overrides)
    return cfg


def ppo_train_cfg(hidden_dims: list[int] | None = None) -> dict:
    """The stock PPO counterpart of :func:`genpo_train_cfg`: Gaussian MLP actor, same network and rollout."""
    cfg = copy.deepcopy(genpo_train_cfg(hidden_dims))
    cfg["actor"] = {
        "class_name": "MLPModel",
        "hidden_dims": cfg["actor"]["hidden_dims"],
        "activation": "elu",
        "distribution_cfg": {"class_name": "GaussianDistribution", "init_std": 1.0},
    }
    cfg["algorithm"] = {
        key: value for key, value in cfg["algorithm"].items() if key not in ("compression_coef",)
    } | {"class_name": "PPO"}
    return cfg
