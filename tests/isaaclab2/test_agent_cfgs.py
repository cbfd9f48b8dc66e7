"""The GenPO key on IsaacLab 2.3.2's tasks and the derived GenPO configs, from IsaacLab's own config sources."""

from __future__ import annotations

import copy
import pytest
import torch
from tensordict import TensorDict

import gymnasium as gym

from genpo_ext.isaaclab.agent_keys import GENPO_CFG_ENTRY_POINT, GENPO_CFG_ENTRY_POINTS, STOCK_CFG_ENTRY_POINT
from genpo_ext.isaaclab.paper_hyperparameters import PAPER_SHARED_HYPERPARAMETERS, PAPER_TASKS
from genpo_ext.isaaclab2.agent_cfgs import UnsupportedAgentCfgError
from genpo_ext.isaaclab2.registration import load_stock_cfg
from genpo_ext.models import GenPOActorCritic
from genpo_ext.presets import GENPO_PRESETS, GenPOPreset

STOCK_RSL_RL_TASKS_IN_ISAACLAB_2_3_2 = 96
"""Tasks of IsaacLab 2.3.2 with a stock rsl_rl config (counted in its sources; all of them carry the GenPO key)."""

RECURRENT_POLICY_TASK_MARKER = "GearAssembly"
"""IsaacLab 2.3.2's only rsl_rl tasks whose stock policy is recurrent, which GenPO's flow cannot replace."""


def stock_and_genpo_cfg(task_id: str, agent_key: str = GENPO_CFG_ENTRY_POINT):
    """The stock and a GenPO agent config of a task, as IsaacLab 2.3's config loading would build them."""
    kwargs = gym.spec(task_id).kwargs
    return load_stock_cfg(kwargs[STOCK_CFG_ENTRY_POINT]), kwargs[agent_key]()


def rsl_rl_tasks() -> list[str]:
    """Registered tasks with a stock rsl_rl config."""
    return sorted(task_id for task_id, spec in gym.registry.items() if STOCK_CFG_ENTRY_POINT in spec.kwargs)


def test_every_stock_rsl_rl_task_carries_the_genpo_key(isaaclab2_task_ids: list[str]) -> None:
    tasks = rsl_rl_tasks()
    assert len(tasks) == STOCK_RSL_RL_TASKS_IN_ISAACLAB_2_3_2
    assert all(task.endswith("-v0") for task in tasks)
    genpo_keys = set(GENPO_CFG_ENTRY_POINTS.values())
    assert genpo_keys == {"rsl_rl_genpo_cfg_entry_point", "rsl_rl_genpo_recommended_cfg_entry_point"}
    assert all(genpo_keys <= set(gym.spec(task).kwargs) for task in tasks)


def test_every_derived_config_builds_a_genpo_policy_or_names_why_not(isaaclab2_task_ids: list[str]) -> None:
    obs = TensorDict({"policy": torch.zeros(2, 5)}, batch_size=[2])
    unsupported = {}
    for task in rsl_rl_tasks():
        try:
            stock, genpo = stock_and_genpo_cfg(task)
        except UnsupportedAgentCfgError as error:
            unsupported[task] = str(error)
            continue
        train_cfg = genpo.to_dict()
        policy_cfg = {key: value for key, value in train_cfg["policy"].items() if key != "class_name"}
        # the config's keys are exactly the policy's arguments (a stale or misspelt key raises a TypeError)
        policy = GenPOActorCritic(obs, {"policy": ["policy"], "critic": ["policy"]}, 3, **policy_cfg)
        assert train_cfg["policy"]["class_name"] == "GenPOActorCritic"
        assert train_cfg["algorithm"]["class_name"] == "GenPO"
        assert policy.critic[0].in_features == 5
        assert genpo.experiment_name == f"{stock.experiment_name}_genpo"
        assert (genpo.num_steps_per_env, genpo.max_iterations) == (stock.num_steps_per_env, stock.max_iterations)
    assert unsupported and all(RECURRENT_POLICY_TASK_MARKER in task for task in unsupported)
    assert all("RslRlPpoActorCriticRecurrentCfg" in message for message in unsupported.values())


@pytest.mark.parametrize("row", PAPER_TASKS, ids=lambda row: row.paper_task_id)
def test_paper_tasks_get_the_papers_hyperparameters(isaaclab2_task_ids: list[str], row) -> None:
    assert row.paper_task_id in isaaclab2_task_ids
    stock, genpo = stock_and_genpo_cfg(row.paper_task_id)
    policy, algorithm = genpo.policy, genpo.algorithm
    assert policy.actor_hidden_dims == policy.critic_hidden_dims == list(row.hidden_dims)
    assert policy.activation == policy.critic_activation == PAPER_SHARED_HYPERPARAMETERS.activation
    assert (policy.time_embed_dim, policy.time_hidden_dims) == (row.time_embed_dim, list(row.time_hidden_dims))
    assert (policy.num_flow_steps, policy.mixing_coef) == (5, PAPER_SHARED_HYPERPARAMETERS.mixing_coef)
    assert (algorithm.learning_rate, algorithm.gamma, algorithm.entropy_coef) == (
        row.learning_rate,
        row.gamma,
        row.entropy_coef,
    )
    assert (algorithm.lam, algorithm.desired_kl, algorithm.compression_coef) == (0.95, 0.01, 0.01)
    assert genpo.num_steps_per_env == stock.num_steps_per_env


def test_play_variants_share_their_training_tasks_genpo_config(isaaclab2_task_ids: list[str]) -> None:
    _, train = stock_and_genpo_cfg("Isaac-Velocity-Flat-Anymal-D-v0")
    _, play = stock_and_genpo_cfg("Isaac-Velocity-Flat-Anymal-D-Play-v0")
    assert play.to_dict() == train.to_dict()


def test_other_tasks_keep_the_stock_networks_and_ppo_settings(isaaclab2_task_ids: list[str]) -> None:
    stock, genpo = stock_and_genpo_cfg("Isaac-Cartpole-Direct-v0")
    pristine = copy.deepcopy(stock.to_dict())
    assert genpo.policy.actor_hidden_dims == stock.policy.actor_hidden_dims
    assert genpo.policy.critic_hidden_dims == stock.policy.critic_hidden_dims
    assert genpo.policy.critic_activation == stock.policy.activation
    assert genpo.policy.activation == "mish" and genpo.policy.noise_std_type == "fixed"
    stock_algorithm = {key: value for key, value in stock.algorithm.to_dict().items() if key != "class_name"}
    genpo_algorithm = genpo.algorithm.to_dict()
    assert all(genpo_algorithm[key] == value for key, value in stock_algorithm.items())
    assert stock.to_dict() == pristine, "deriving must leave the stock config unchanged"


def test_genpo_is_the_paper_derivation(isaaclab2_task_ids: list[str]) -> None:
    """``genpo`` is the stock config with the GenPO policy and algorithm at the config classes' paper defaults."""
    from genpo_ext.isaaclab2.rl_cfg import RslRlGenPOActorCriticCfg, RslRlGenPOAlgorithmCfg

    stock, genpo = stock_and_genpo_cfg("Isaac-Cartpole-Direct-v0")
    expected = copy.deepcopy(stock)
    expected.policy = RslRlGenPOActorCriticCfg(
        actor_obs_normalization=stock.policy.actor_obs_normalization,
        critic_obs_normalization=stock.policy.critic_obs_normalization,
        actor_hidden_dims=stock.policy.actor_hidden_dims,
        critic_hidden_dims=stock.policy.critic_hidden_dims,
        critic_activation=stock.policy.activation,
    )
    stock_algorithm = {key: value for key, value in stock.algorithm.to_dict().items() if key != "class_name"}
    expected.algorithm = RslRlGenPOAlgorithmCfg(**stock_algorithm)
    expected.experiment_name = f"{stock.experiment_name}_genpo"
    assert genpo.to_dict() == expected.to_dict()


def test_genpo_recommended_is_genpo_with_the_presets_changes(isaaclab2_task_ids: list[str]) -> None:
    preset = GENPO_PRESETS["genpo_recommended"]
    recommended_key = GENPO_CFG_ENTRY_POINTS["genpo_recommended"]
    checked = 0
    for task in rsl_rl_tasks():
        try:
            _, genpo = stock_and_genpo_cfg(task)
        except UnsupportedAgentCfgError:
            continue
        _, recommended = stock_and_genpo_cfg(task, recommended_key)
        expected, actual = genpo.to_dict(), recommended.to_dict()
        expected["policy"].update(preset.actor)
        expected["algorithm"].update(preset.algorithm)
        expected["experiment_name"] = f"{genpo.experiment_name.removesuffix('_genpo')}_genpo_recommended"
        assert actual == expected, task
        assert actual != genpo.to_dict(), "the preset must change the paper's config"
        checked += 1
    assert checked > 0
    # the recommended config builds rsl_rl 3's GenPO policy
    policy_cfg = {key: value for key, value in actual["policy"].items() if key != "class_name"}
    obs = TensorDict({"policy": torch.zeros(2, 5)}, batch_size=[2])
    GenPOActorCritic(obs, {"policy": ["policy"], "critic": ["policy"]}, 3, **policy_cfg)


def test_presets_apply_actor_keys_to_the_policys_renamed_fields(isaaclab2_task_ids: list[str]) -> None:
    from genpo_ext.isaaclab2.agent_cfgs import apply_genpo_preset

    _, genpo = stock_and_genpo_cfg("Isaac-Cartpole-Direct-v0")
    preset = GenPOPreset("test", "a test preset", actor={"hidden_dims": [4], "obs_normalization": True}, algorithm={})
    apply_genpo_preset(genpo, preset)
    assert (genpo.policy.actor_hidden_dims, genpo.policy.actor_obs_normalization) == ([4], True)
    assert genpo.policy.critic_hidden_dims != [4]
    with pytest.raises(ValueError, match="'algorithm.compression_cof' is not a field of RslRlGenPOAlgorithmCfg"):
        apply_genpo_preset(genpo, GenPOPreset("test", "a typo", actor={}, algorithm={"compression_cof": 0.0}))


def test_unsupported_stock_configs_are_refused_with_the_reason(isaaclab2_task_ids: list[str]) -> None:
    from genpo_ext.isaaclab2.agent_cfgs import derive_genpo_runner_cfg
    from isaaclab_rl.rsl_rl import RslRlSymmetryCfg

    stock = load_stock_cfg(gym.spec("Isaac-Cartpole-Direct-v0").kwargs[STOCK_CFG_ENTRY_POINT])
    stock.algorithm.symmetry_cfg = RslRlSymmetryCfg(use_data_augmentation=True, data_augmentation_func=print)
    with pytest.raises(UnsupportedAgentCfgError, match="symmetry augmentation"):
        derive_genpo_runner_cfg(stock, "Isaac-Cartpole-Direct-v0")
