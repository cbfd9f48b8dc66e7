"""Registration of the GenPO config on IsaacLab's tasks, the paper's hyperparameters and the runner round trip."""

from __future__ import annotations

import contextlib
import io

import gymnasium as gym
import pytest
import torch
from tensordict import TensorDict

from genpo_ext.isaaclab import offline_assets

offline_assets.configure_asset_root()

from isaaclab.utils import to_dict  # noqa: E402
from isaaclab_rl.rsl_rl import handle_deprecated_rsl_rl_cfg  # noqa: E402
from isaaclab_rl.rsl_rl.utils import is_missing  # noqa: E402
from isaaclab_tasks.utils import PresetCfg  # noqa: E402
from isaaclab_tasks.utils.parse_cfg import load_cfg_from_registry  # noqa: E402
from rsl_rl.runners import OnPolicyRunner  # noqa: E402

from genpo_ext.algorithms import GenPO  # noqa: E402
from genpo_ext.isaaclab.agent_cfgs import UnsupportedAgentCfgError, derive_genpo_agent_cfg  # noqa: E402
from genpo_ext.isaaclab.agent_keys import (  # noqa: E402
    GENPO_CFG_ENTRY_POINT,
    GENPO_CFG_ENTRY_POINTS,
    STOCK_CFG_ENTRY_POINT,
)
from genpo_ext.isaaclab.paper_hyperparameters import PAPER_SHARED_HYPERPARAMETERS, PAPER_TASKS  # noqa: E402
from genpo_ext.isaaclab.registration import GENPO_TASK_IDS  # noqa: E402
from genpo_ext.isaaclab.rl_cfg import RslRlGenPOActorCfg, RslRlGenPOAlgorithmCfg  # noqa: E402
from genpo_ext.models import GenPOActor  # noqa: E402
from genpo_ext.presets import GENPO_PRESETS  # noqa: E402

RSL_RL_VERSION = "5.5.1"
PAPER_ROWS_IN_ISAACLAB3 = [row for row in PAPER_TASKS if row.isaaclab_task_id is not None]
UNSUPPORTED_ACTORS = ("CNN", "RNN", "SharedEncoder", "TaskHeaded")
"""Stock actor types GenPO's MLP flow actor cannot replace."""
RECOMMENDED_CFG_ENTRY_POINT = GENPO_CFG_ENTRY_POINTS["genpo_recommended"]
PRESET_TASKS = ("Isaac-Cartpole-Direct", "Isaac-Ant", "Isaac-Reach-Franka")
"""A plain task, a paper task and a task whose config is an IsaacLab preset family."""


def load_cfg(task_id: str, key: str):
    """Load a registered agent config without IsaacLab's parsing banner."""
    with contextlib.redirect_stdout(io.StringIO()):
        return load_cfg_from_registry(task_id, key)


def runner_cfgs(cfg) -> list:
    """Return the runner configs of a config or of every member of a preset family."""
    if isinstance(cfg, PresetCfg):
        return [getattr(cfg, name) for name in vars(cfg) if not name.startswith("_")]
    return [cfg]


def recommended_experiment_name(genpo_name: str | dict) -> str | dict:
    """Return the ``genpo_recommended`` experiment name(s) of a GenPO experiment name or per-preset name dict."""
    if isinstance(genpo_name, dict):
        return {key: recommended_experiment_name(name) for key, name in genpo_name.items()}
    return f"{genpo_name.removesuffix('_genpo')}_genpo_recommended"


def same_setting(a, b) -> bool:
    """Return whether two config values are equal, counting two unset (MISSING) values as equal."""
    return (is_missing(a) and is_missing(b)) or a == b


class FakeVecEnv:
    """Minimal rsl_rl VecEnv that serves every observation group a config names."""

    num_envs = 2
    num_actions = 3
    device = "cpu"
    max_episode_length = 10

    def __init__(self, obs_groups: dict[str, list[str]]):
        named = {group for sets in obs_groups.values() for group in sets} if not is_missing(obs_groups) else set()
        groups = named or {"policy"}
        self.observations = TensorDict(
            {group: torch.zeros(self.num_envs, 5) for group in groups}, batch_size=[self.num_envs]
        )
        self.episode_length_buf = torch.zeros(self.num_envs, dtype=torch.long)
        self.cfg = {}

    def get_observations(self) -> TensorDict:
        return self.observations

    def step(self, actions):
        return self.observations, torch.zeros(self.num_envs), torch.zeros(self.num_envs), {}


def test_every_stock_rsl_rl_task_carries_the_genpo_key():
    stock_tasks = sorted(task for task, spec in gym.registry.items() if STOCK_CFG_ENTRY_POINT in spec.kwargs)
    assert len(stock_tasks) > 50
    assert GENPO_TASK_IDS == stock_tasks
    assert set(GENPO_CFG_ENTRY_POINTS.values()) == {GENPO_CFG_ENTRY_POINT, "rsl_rl_genpo_recommended_cfg_entry_point"}
    assert all(set(GENPO_CFG_ENTRY_POINTS.values()) <= set(gym.spec(task).kwargs) for task in stock_tasks)


def test_genpo_is_the_paper_derivation():
    """``genpo`` is the stock config with the GenPO actor and algorithm at the config classes' paper defaults."""
    stock = load_cfg("Isaac-Cartpole-Direct", STOCK_CFG_ENTRY_POINT)
    expected = load_cfg("Isaac-Cartpole-Direct", STOCK_CFG_ENTRY_POINT)
    expected.actor = RslRlGenPOActorCfg(
        hidden_dims=stock.actor.hidden_dims, obs_normalization=stock.actor.obs_normalization
    )
    stock_algorithm = {key: value for key, value in to_dict(stock.algorithm).items() if key != "class_name"}
    expected.algorithm = RslRlGenPOAlgorithmCfg(**stock_algorithm)
    expected.experiment_name = f"{stock.experiment_name}_genpo"
    assert to_dict(load_cfg("Isaac-Cartpole-Direct", GENPO_CFG_ENTRY_POINT)) == to_dict(expected)


@pytest.mark.parametrize("task_id", PRESET_TASKS)
def test_genpo_recommended_is_genpo_with_the_presets_changes(task_id):
    preset = GENPO_PRESETS["genpo_recommended"]
    keys = (GENPO_CFG_ENTRY_POINT, RECOMMENDED_CFG_ENTRY_POINT)
    genpo, recommended = (runner_cfgs(load_cfg(task_id, key)) for key in keys)
    for genpo_cfg, recommended_cfg in zip(genpo, recommended, strict=True):
        expected, actual = to_dict(genpo_cfg), to_dict(recommended_cfg)
        expected["actor"].update(preset.actor)
        expected["algorithm"].update(preset.algorithm)
        expected["experiment_name"] = recommended_experiment_name(expected["experiment_name"])
        assert actual == expected
        assert actual != to_dict(genpo_cfg), "the preset must change the paper's config"
        recommended_cfg.device = "cpu"
        with contextlib.redirect_stdout(io.StringIO()):
            runner_cfg = handle_deprecated_rsl_rl_cfg(recommended_cfg, RSL_RL_VERSION)
            runner = OnPolicyRunner(FakeVecEnv(runner_cfg.obs_groups), to_dict(runner_cfg), log_dir=None, device="cpu")
        assert runner.alg.compression_coef == runner_cfg.algorithm.compression_coef
        assert runner.alg.actor.flow.noise.noise_std_type == runner_cfg.actor.noise_std_type


def test_unknown_genpo_preset_names_the_valid_ones():
    stock = load_cfg("Isaac-Cartpole-Direct", STOCK_CFG_ENTRY_POINT)
    with pytest.raises(ValueError, match="Unknown GenPO preset 'genpo_best'. Valid: genpo, genpo_recommended."):
        derive_genpo_agent_cfg(stock, "Isaac-Cartpole-Direct", "genpo_best")


@pytest.mark.parametrize("row", PAPER_ROWS_IN_ISAACLAB3, ids=lambda row: row.isaaclab_task_id)
def test_paper_tasks_carry_the_paper_hyperparameters(row):
    shared = PAPER_SHARED_HYPERPARAMETERS
    stock, genpo = (runner_cfgs(load_cfg(row.isaaclab_task_id, key)) for key in (STOCK_CFG_ENTRY_POINT, GENPO_CFG_ENTRY_POINT))
    for stock_cfg, cfg in zip(stock, genpo, strict=True):
        assert cfg.actor.class_name == "genpo_ext.models:GenPOActor"
        assert cfg.algorithm.class_name == "genpo_ext.algorithms:GenPO"
        assert cfg.actor.hidden_dims == list(row.hidden_dims) == cfg.critic.hidden_dims
        assert cfg.actor.activation == cfg.critic.activation == "mish"
        assert (cfg.actor.num_flow_steps, cfg.actor.mixing_coef) == (5, 0.9)
        assert (cfg.actor.time_embed_dim, cfg.actor.time_hidden_dims) == (32, [256, 256])
        algorithm = cfg.algorithm
        assert (algorithm.learning_rate, algorithm.gamma, algorithm.entropy_coef) == (
            row.learning_rate,
            row.gamma,
            row.entropy_coef,
        )
        assert (algorithm.lam, algorithm.clip_param, algorithm.value_loss_coef) == (0.95, 0.2, 1.0)
        assert (algorithm.max_grad_norm, algorithm.desired_kl, algorithm.compression_coef) == (1.0, 0.01, 0.01)
        assert shared.num_flow_steps == 5 and shared.mixing_coef == 0.9
        # everything the paper does not set stays the stock config's
        assert cfg.experiment_name == f"{stock_cfg.experiment_name}_genpo"
        assert cfg.num_steps_per_env == stock_cfg.num_steps_per_env
        assert cfg.max_iterations == stock_cfg.max_iterations
        assert same_setting(cfg.obs_groups, stock_cfg.obs_groups)
        assert algorithm.num_learning_epochs == stock_cfg.algorithm.num_learning_epochs
        assert algorithm.num_mini_batches == stock_cfg.algorithm.num_mini_batches


def test_latent_noise_settings_survive_isaaclabs_deprecation_handling():
    """IsaacLab 3 deletes the legacy Gaussian noise fields of every model config before it trains, plays or exports;
    the flow actor's fields of the same names must reach the actor."""
    cfg = load_cfg("Isaac-Cartpole-Direct", GENPO_CFG_ENTRY_POINT)
    cfg.actor.noise_std_type, cfg.actor.init_noise_std, cfg.device = "log", 0.5, "cpu"
    with contextlib.redirect_stdout(io.StringIO()):
        cfg = handle_deprecated_rsl_rl_cfg(cfg, RSL_RL_VERSION)
        runner = OnPolicyRunner(FakeVecEnv(cfg.obs_groups), to_dict(cfg), log_dir=None, device="cpu")
    assert (to_dict(cfg)["actor"]["noise_std_type"], to_dict(cfg)["actor"]["init_noise_std"]) == ("log", 0.5)
    assert runner.alg.actor.flow.noise.noise_std_type == "log"


def test_non_paper_task_keeps_the_stock_settings():
    stock = load_cfg("Isaac-Cartpole-Direct", STOCK_CFG_ENTRY_POINT)
    genpo = load_cfg("Isaac-Cartpole-Direct", GENPO_CFG_ENTRY_POINT)
    assert genpo.actor.hidden_dims == stock.actor.hidden_dims
    for setting in ("class_name", "hidden_dims", "activation", "obs_normalization"):
        assert getattr(genpo.critic, setting) == getattr(stock.critic, setting)
    assert genpo.algorithm.learning_rate == stock.algorithm.learning_rate
    assert genpo.algorithm.entropy_coef == stock.algorithm.entropy_coef
    assert genpo.experiment_name == "cartpole_direct_genpo"
    # the stock config is not modified by the derivation
    assert load_cfg("Isaac-Cartpole-Direct", STOCK_CFG_ENTRY_POINT).actor.class_name == "MLPModel"


def test_per_preset_experiment_names_all_get_the_suffix():
    names = load_cfg("Isaac-Reach-Franka", GENPO_CFG_ENTRY_POINT).experiment_name
    assert isinstance(names, PresetCfg)
    assert {names.default, names.hold} == {"reach_franka_genpo", "reach_franka_hold_genpo"}
    names = load_cfg("Isaac-Reach-Franka", RECOMMENDED_CFG_ENTRY_POINT).experiment_name
    assert {names.default, names.hold} == {"reach_franka_genpo_recommended", "reach_franka_hold_genpo_recommended"}


@pytest.mark.parametrize("task_id", GENPO_TASK_IDS)
def test_every_genpo_cfg_round_trips_into_a_runner(task_id):
    try:
        cfg = load_cfg(task_id, GENPO_CFG_ENTRY_POINT)
    except UnsupportedAgentCfgError as error:
        stock_actors = {type(c.actor).__name__ for c in runner_cfgs(load_cfg(task_id, STOCK_CFG_ENTRY_POINT))}
        assert any(kind in actor for kind in UNSUPPORTED_ACTORS for actor in stock_actors), error
        assert task_id in str(error)
        return
    for runner_cfg in runner_cfgs(cfg):
        runner_cfg.device = "cpu"
        with contextlib.redirect_stdout(io.StringIO()):
            runner_cfg = handle_deprecated_rsl_rl_cfg(runner_cfg, RSL_RL_VERSION)
            runner = OnPolicyRunner(FakeVecEnv(runner_cfg.obs_groups), to_dict(runner_cfg), log_dir=None, device="cpu")
        assert isinstance(runner.alg, GenPO)
        assert isinstance(runner.alg.actor, GenPOActor)
        assert runner.alg.compression_coef == runner_cfg.algorithm.compression_coef
