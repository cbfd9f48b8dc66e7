"""Derivation of a task's GenPO agent config from its stock IsaacLab 2.3 rsl_rl PPO config."""

from __future__ import annotations

import copy
import dataclasses

from isaaclab_rl.rsl_rl import RslRlOnPolicyRunnerCfg, RslRlPpoActorCriticCfg, RslRlPpoAlgorithmCfg

from genpo_ext.isaaclab.paper_hyperparameters import (
    PAPER_SHARED_HYPERPARAMETERS,
    PAPER_TASKS,
    PaperTaskHyperparameters,
    paper_actor_settings,
    paper_algorithm_settings,
)
from genpo_ext.presets import GENPO, GenPOPreset, apply_to_cfg, genpo_preset

from .rl_cfg import RslRlGenPOActorCriticCfg, RslRlGenPOAlgorithmCfg

RSL_RL3_ACTOR_FIELDS = {"hidden_dims": "actor_hidden_dims", "obs_normalization": "actor_obs_normalization"}
"""Field of :class:`RslRlGenPOActorCriticCfg` for each GenPO preset actor key that it names differently (it
describes actor and critic in one policy config); every other actor key names its field."""

STOCK_RUNNER_CLASS_NAME = "OnPolicyRunner"
"""The only stock runner GenPO plugs into."""

STOCK_ALGORITHM_CLASS_NAME = "PPO"
"""The only stock algorithm a GenPO config can be derived from."""

PLAY_SUFFIX = "-Play"
"""Infix of IsaacLab's play variants of a task (``Isaac-X-Play-v0``), which share the training task's agent config."""


class UnsupportedAgentCfgError(ValueError):
    """Raised when a task's stock rsl_rl config cannot be turned into a GenPO config."""


def derive_genpo_runner_cfg(
    stock_cfg: RslRlOnPolicyRunnerCfg, task_id: str, preset_name: str = GENPO
) -> RslRlOnPolicyRunnerCfg:
    """Return the GenPO agent config of an IsaacLab 2.3 task, derived from its stock rsl_rl PPO config.

    Rollout length, network sizes, observation normalization and groups, iterations and every other runner setting
    stay the stock ones; the policy becomes the GenPO actor-critic (the flow with the paper's defaults, the stock
    critic and its activation), the algorithm becomes GenPO with the stock PPO settings, and the experiment name
    gets the ``_<preset_name>`` suffix (``_genpo`` for the paper's GenPO). The paper's tasks (and their ``-Play``
    variants) additionally get the paper's hyperparameters, and the GenPO preset's changes
    (:mod:`genpo_ext.presets`) come last.

    Args:
        stock_cfg: The task's stock rsl_rl config, left unchanged.
        task_id: IsaacLab 2.3 id of the task (``-v0``), used to look up the paper's hyperparameters.
        preset_name: Name of the GenPO preset; ``genpo`` is the paper's configuration.

    Returns:
        A copy of the stock config with the GenPO policy and algorithm.

    Raises:
        UnsupportedAgentCfgError: If the stock config does not use the on-policy runner, a plain MLP actor-critic and
            plain PPO without symmetry augmentation.
        ValueError: If ``preset_name`` is unknown, naming the valid GenPO presets.
    """
    preset = genpo_preset(preset_name)
    _check_supported(stock_cfg, task_id)
    stock_policy = stock_cfg.policy
    # a plain deep copy: ``cfg.copy()`` re-runs ``__post_init__``, which some stock configs cannot run twice
    genpo_cfg = copy.deepcopy(stock_cfg)
    genpo_cfg.policy = RslRlGenPOActorCriticCfg(
        actor_obs_normalization=_obs_normalization(stock_cfg, "actor"),
        critic_obs_normalization=_obs_normalization(stock_cfg, "critic"),
        actor_hidden_dims=copy.deepcopy(stock_policy.actor_hidden_dims),
        critic_hidden_dims=copy.deepcopy(stock_policy.critic_hidden_dims),
        critic_activation=stock_policy.activation,
        action_clip=stock_cfg.clip_actions,
    )
    genpo_cfg.algorithm = RslRlGenPOAlgorithmCfg(**_ppo_settings(stock_cfg.algorithm))
    genpo_cfg.experiment_name = f"{stock_cfg.experiment_name}_{preset.name}"
    paper = paper_hyperparameters_for(task_id)
    if paper is not None:
        _apply_paper_hyperparameters(genpo_cfg, paper)
    apply_genpo_preset(genpo_cfg, preset)
    return genpo_cfg


def apply_genpo_preset(cfg: RslRlOnPolicyRunnerCfg, preset: GenPOPreset) -> None:
    """Apply a GenPO preset's actor keys to the policy config (:data:`RSL_RL3_ACTOR_FIELDS` renames) and its
    algorithm keys to the algorithm config of a derived GenPO config, in place.

    Raises:
        ValueError: If a preset key names no field of the config, naming the valid fields.
    """
    apply_to_cfg(cfg.policy, preset.actor, "actor", renamed=RSL_RL3_ACTOR_FIELDS)
    apply_to_cfg(cfg.algorithm, preset.algorithm, "algorithm")


def paper_hyperparameters_for(task_id: str) -> PaperTaskHyperparameters | None:
    """Return the paper's row for an IsaacLab 2.3 task id or its ``-Play`` variant, or None for other tasks."""
    training_task_id = task_id.replace(PLAY_SUFFIX, "")
    return next((row for row in PAPER_TASKS if row.paper_task_id == training_task_id), None)


def _check_supported(stock_cfg: RslRlOnPolicyRunnerCfg, task_id: str) -> None:
    """Raise unless the stock config uses the on-policy runner, a plain MLP actor-critic and plain PPO."""
    problems = []
    if getattr(stock_cfg, "class_name", None) != STOCK_RUNNER_CLASS_NAME:
        problems.append(f"runner '{getattr(stock_cfg, 'class_name', None)}' (GenPO needs '{STOCK_RUNNER_CLASS_NAME}')")
    policy = getattr(stock_cfg, "policy", None)
    if type(policy) is not RslRlPpoActorCriticCfg:
        problems.append(f"policy '{type(policy).__name__}' (GenPO's flow replaces plain MLP actor-critics only)")
    algorithm = getattr(stock_cfg, "algorithm", None)
    if type(algorithm) is not RslRlPpoAlgorithmCfg or algorithm.class_name != STOCK_ALGORITHM_CLASS_NAME:
        problems.append(f"algorithm '{getattr(algorithm, 'class_name', None)}' (GenPO extends plain PPO)")
    elif algorithm.symmetry_cfg is not None:
        problems.append("symmetry augmentation (it would mirror GenPO's doubled latent actions)")
    if problems:
        raise UnsupportedAgentCfgError(
            f"Task '{task_id}' has no GenPO config: its stock rsl_rl config uses {'; '.join(problems)}."
        )


def _obs_normalization(stock_cfg: RslRlOnPolicyRunnerCfg, network: str) -> bool:
    """The stock observation normalization of the actor or critic, resolving the deprecated runner-level
    ``empirical_normalization`` as rsl_rl 3's runner does."""
    value = getattr(stock_cfg.policy, f"{network}_obs_normalization")
    if value is not dataclasses.MISSING:
        return value
    return bool(getattr(stock_cfg, "empirical_normalization", None))


def _ppo_settings(algorithm: RslRlPpoAlgorithmCfg) -> dict:
    """Return every PPO setting of a stock algorithm config except its class name."""
    return {
        field.name: copy.deepcopy(getattr(algorithm, field.name))
        for field in dataclasses.fields(RslRlPpoAlgorithmCfg)
        if field.name != "class_name"
    }


def _apply_paper_hyperparameters(cfg: RslRlOnPolicyRunnerCfg, paper: PaperTaskHyperparameters) -> None:
    """Overwrite a derived GenPO config with the paper's shared and per-task hyperparameters."""
    apply_to_cfg(cfg.policy, paper_actor_settings(paper), "actor", renamed=RSL_RL3_ACTOR_FIELDS)
    cfg.policy.critic_hidden_dims = list(paper.hidden_dims)
    cfg.policy.critic_activation = PAPER_SHARED_HYPERPARAMETERS.activation
    apply_to_cfg(cfg.algorithm, paper_algorithm_settings(paper), "algorithm")
