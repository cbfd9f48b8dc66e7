"""rsl_rl 3 train configs (plain dicts) used by the rsl_rl 3 tests: class names as rsl_rl 3's runner resolves them."""

from __future__ import annotations

import copy


def genpo_train_cfg(hidden_dims: list[int] | None = None, policy: dict | None = None, **algorithm_overrides) -> dict:
    """A small GenPO train config naming ``GenPOActorCritic`` and ``GenPO``, which ``import genpo_ext`` registers.

    Args:
        hidden_dims: Hidden sizes of the velocity network and the critic.
        policy: Extra policy keys (e.g. the latent noise type).
        **algorithm_overrides: Algorithm keys to set.
    """
    hidden_dims = hidden_dims or [64, 64]
    cfg = {
        "num_steps_per_env": 16,
        "save_interval": 1000,
        "obs_groups": {"policy": ["policy"], "critic": ["policy"]},
        "policy": {
            "class_name": "GenPOActorCritic",
            "actor_hidden_dims": hidden_dims,
            "critic_hidden_dims": hidden_dims,
            "activation": "mish",
            "critic_activation": "elu",
            "num_flow_steps": 5,
            "mixing_coef": 0.9,
            "time_embed_dim": 16,
            "time_hidden_dims": [32, 32],
            **(policy or {}),
        },
        "algorithm": {
            "class_name": "GenPO",
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
    """The stock PPO counterpart of :func:`genpo_train_cfg`: rsl_rl 3's Gaussian ``ActorCritic``, same networks."""
    cfg = copy.deepcopy(genpo_train_cfg(hidden_dims))
    cfg["policy"] = {
        "class_name": "ActorCritic",
        "actor_hidden_dims": cfg["policy"]["actor_hidden_dims"],
        "critic_hidden_dims": cfg["policy"]["critic_hidden_dims"],
        "activation": "elu",
        "init_noise_std": 1.0,
    }
    cfg["algorithm"] = {key: value for key, value in cfg["algorithm"].items() if key != "compression_coef"}
    cfg["algorithm"]["class_name"] = "PPO"
    return cfg
