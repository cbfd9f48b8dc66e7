"""Derivation of a task's GenPO agent config from its stock rsl_rl PPO config."""

from __future__ import annotations

import copy
import dataclasses

from isaaclab_rl.rsl_rl import (
    RslRlMLPModelCfg,
    RslRlOnPolicyRunnerCfg,
    RslRlPpoActorCriticCfg,
    RslRlPpoAlgorithmCfg,
)
from isaaclab_rl.rsl_rl.utils import is_missing
from isaaclab_tasks.utils import PresetCfg

from genpo_ext.presets import GENPO, GenPOPreset, apply_to_cfg, genpo_preset

from .paper_hyperparameters import (
    PAPER_SHARED_HYPERPARAMETERS,
    PaperTaskHyperparameters,
    paper_actor_settings,
    paper_algorithm_settings,
    paper_hyperparameters_for,
)
from .rl_cfg import RslRlGenPOActorCfg, RslRlGenPOAlgorithmCfg

STOCK_RUNNER_CLASS_NAME = "OnPolicyRunner"
"""The only stock runner GenPO plugs into."""

STOCK_ALGORITHM_CLASS_NAME = "PPO"
"""The only stock algorithm a GenPO config can be derived from."""


class UnsupportedAgentCfgError(ValueError):
    """Raised when a task's stock rsl_rl config cannot be turned into a GenPO config."""


def derive_genpo_agent_cfg(
    stock_cfg: RslRlOnPolicyRunnerCfg | PresetCfg, task_id: str, preset_name: str = GENPO
) -> RslRlOnPolicyRunnerCfg | PresetCfg:
    """Return the GenPO agent config of a task, derived from its stock rsl_rl PPO config.

    Rollout length, network sizes, observation groups, iterations and every other runner setting stay the stock
    ones; the actor becomes the GenPO flow actor, the algorithm becomes GenPO and the experiment name gets the
    ``_<preset_name>`` suffix (``_genpo`` for the paper's GenPO). The paper's tasks additionally get the paper's
    hyperparameters, and the GenPO preset's changes (:mod:`genpo_ext.presets`) come last. A preset family
    (IsaacLab's :class:`PresetCfg`) is derived member by member.

    Args:
        stock_cfg: The task's stock rsl_rl config, left unchanged.
        task_id: IsaacLab 3 id of the task, used to look up the paper's hyperparameters.
        preset_name: Name of the GenPO preset (not an IsaacLab preset); ``genpo`` is the paper's configuration.

    Returns:
        A new config of the same type.

    Raises:
        UnsupportedAgentCfgError: If the stock actor is not a plain MLP or the stock algorithm is not plain PPO.
        ValueError: If ``preset_name`` is unknown, naming the valid GenPO presets.
    """
    if isinstance(stock_cfg, PresetCfg):
        genpo_family = copy.deepcopy(stock_cfg)
        for field in dataclasses.fields(genpo_family):
            member = derive_genpo_runner_cfg(getattr(stock_cfg, field.name), task_id, preset_name)
            setattr(genpo_family, field.name, member)
        return genpo_family
    return derive_genpo_runner_cfg(stock_cfg, task_id, preset_name)


def derive_genpo_runner_cfg(
    stock_cfg: RslRlOnPolicyRunnerCfg, task_id: str, preset_name: str = GENPO
) -> RslRlOnPolicyRunnerCfg:
    """Return the GenPO runner config derived from one stock PPO runner config (see :func:`derive_genpo_agent_cfg`).

    Args:
        stock_cfg: The stock runner config, left unchanged.
        task_id: IsaacLab 3 id of the task.
        preset_name: Name of the GenPO preset.

    Returns:
        A copy of the stock config with the GenPO actor and algorithm.

    Raises:
        UnsupportedAgentCfgError: If the stock config cannot be turned into a GenPO config.
        ValueError: If ``preset_name`` is unknown.
    """
    preset = genpo_preset(preset_name)
    _check_supported(stock_cfg, task_id)
    hidden_dims, obs_normalization = _stock_actor_layout(stock_cfg)
    # a plain deep copy: ``cfg.copy()`` re-runs ``__post_init__``, which some stock configs cannot run twice
    genpo_cfg = copy.deepcopy(stock_cfg)
    genpo_cfg.actor = RslRlGenPOActorCfg(
        hidden_dims=copy.deepcopy(hidden_dims), obs_normalization=obs_normalization, action_clip=stock_cfg.clip_actions
    )
    genpo_cfg.algorithm = RslRlGenPOAlgorithmCfg(**_ppo_settings(stock_cfg.algorithm))
    genpo_cfg.experiment_name = _genpo_experiment_name(genpo_cfg.experiment_name, preset)
    paper = paper_hyperparameters_for(task_id)
    if paper is not None:
        _apply_paper_hyperparameters(genpo_cfg, paper)
    apply_to_cfg(genpo_cfg.actor, preset.actor, "actor")
    apply_to_cfg(genpo_cfg.algorithm, preset.algorithm, "algorithm")
    return genpo_cfg


def _check_supported(stock_cfg: RslRlOnPolicyRunnerCfg, task_id: str) -> None:
    """Raise unless the stock config uses the plain on-policy runner, an MLP actor and plain PPO."""
    problems = []
    if getattr(stock_cfg, "class_name", None) != STOCK_RUNNER_CLASS_NAME:
        problems.append(f"runner '{getattr(stock_cfg, 'class_name', None)}' (GenPO needs '{STOCK_RUNNER_CLASS_NAME}')")
    actor = getattr(stock_cfg, "actor", None)
    if not is_missing(actor) and type(actor) is not RslRlMLPModelCfg:
        problems.append(f"actor '{type(actor).__name__}' (GenPO's flow actor replaces plain MLP actors only)")
    if is_missing(actor) and type(getattr(stock_cfg, "policy", None)) is not RslRlPpoActorCriticCfg:
        problems.append(f"legacy policy '{type(getattr(stock_cfg, 'policy', None)).__name__}' (needs an MLP actor)")
    algorithm = stock_cfg.algorithm
    if type(algorithm) is not RslRlPpoAlgorithmCfg or algorithm.class_name != STOCK_ALGORITHM_CLASS_NAME:
        problems.append(f"algorithm '{algorithm.class_name}' (GenPO extends plain '{STOCK_ALGORITHM_CLASS_NAME}')")
    elif algorithm.symmetry_cfg is not None:
        problems.append("symmetry augmentation (it would mirror GenPO's doubled latent actions)")
    if problems:
        raise UnsupportedAgentCfgError(f"Task '{task_id}' has no GenPO config: its stock rsl_rl config uses {'; '.join(problems)}.")


def _stock_actor_layout(stock_cfg: RslRlOnPolicyRunnerCfg) -> tuple[list[int], bool]:
    """Return the stock actor's hidden sizes and observation normalization, from ``actor`` or legacy ``policy``."""
    if not is_missing(stock_cfg.actor):
        return stock_cfg.actor.hidden_dims, stock_cfg.actor.obs_normalization
    # legacy configs describe both networks in ``policy``; IsaacLab still infers the critic from it
    return stock_cfg.policy.actor_hidden_dims, stock_cfg.policy.actor_obs_normalization


def _genpo_experiment_name(experiment_name: str | PresetCfg, preset: GenPOPreset) -> str | PresetCfg:
    """Return the experiment name with the suffix ``_<GenPO preset>``, so that PPO and every GenPO preset log to
    separate folders; of a per-preset name (IsaacLab's :class:`PresetCfg`), every alternative gets the suffix."""
    if isinstance(experiment_name, PresetCfg):
        for field in dataclasses.fields(experiment_name):
            setattr(experiment_name, field.name, _genpo_experiment_name(getattr(experiment_name, field.name), preset))
        return experiment_name
    return f"{experiment_name}_{preset.name}"


def _ppo_settings(algorithm: RslRlPpoAlgorithmCfg) -> dict:
    """Return every PPO setting of a stock algorithm config except its class name."""
    return {
        field.name: copy.deepcopy(getattr(algorithm, field.name))
        for field in dataclasses.fields(RslRlPpoAlgorithmCfg)
        if field.name != "class_name" and hasattr(algorithm, field.name)
    }


def _apply_paper_hyperparameters(cfg: RslRlOnPolicyRunnerCfg, paper: PaperTaskHyperparameters) -> None:
    """Overwrite a derived GenPO config with the paper's shared and per-task hyperparameters."""
    apply_to_cfg(cfg.actor, paper_actor_settings(paper), "actor")
    cfg.critic.hidden_dims = list(paper.hidden_dims)
    cfg.critic.activation = PAPER_SHARED_HYPERPARAMETERS.activation
    apply_to_cfg(cfg.algorithm, paper_algorithm_settings(paper), "algorithm")
