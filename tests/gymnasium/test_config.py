"""The per-task config table and the ``env.*``/``agent.*`` overrides."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from genpo_ext.gymnasium_backend import is_gymnasium_task
from genpo_ext.gymnasium_backend.config import AGENTS_TABLE, apply_overrides, deep_merge, load_task_cfg
from genpo_ext.presets import GENPO_PRESETS

TABLE_TASKS = ("HalfCheetah-v5", "Hopper-v5", "Walker2d-v5", "Ant-v5", "Pendulum-v1")
"""The table's tasks and one it does not list."""


def test_is_gymnasium_task():
    """Registered gymnasium ids are recognised; IsaacLab ids and typos are not."""
    assert is_gymnasium_task("HalfCheetah-v5")
    assert is_gymnasium_task("Pendulum-v1")
    assert not is_gymnasium_task("Isaac-Cartpole-Direct")
    assert not is_gymnasium_task("HalfCheetah-v99")


def test_task_check_imports_neither_torch_nor_isaaclab():
    """The dispatch check in ``scripts/train.py`` stays cheap."""
    code = (
        "import sys; from genpo_ext.gymnasium_backend import is_gymnasium_task; is_gymnasium_task('Ant-v5'); "
        "print(sorted({'torch', 'isaaclab', 'rsl_rl'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_deep_merge_updates_nested_keys_and_removes_nulls():
    """Nested dicts merge, scalars replace, ``None`` removes, and the inputs stay untouched."""
    base = {"a": {"b": 1, "c": 2}, "d": 3}
    merged = deep_merge(base, {"a": {"c": 5, "b": None}, "e": 6})
    assert merged == {"a": {"c": 5}, "d": 3, "e": 6}
    assert base == {"a": {"b": 1, "c": 2}, "d": 3}


def test_genpo_and_ppo_share_critic_and_rollout():
    """``genpo`` swaps actor and algorithm only; everything else is identical to the PPO baseline."""
    ppo_env, ppo_agent = load_task_cfg("Ant-v5", "ppo")
    genpo_env, genpo_agent = load_task_cfg("Ant-v5", "genpo")
    assert ppo_env == genpo_env
    assert ppo_agent["algorithm"]["class_name"] == "PPO"
    assert genpo_agent["algorithm"]["class_name"] == "genpo_ext.algorithms:GenPO"
    assert genpo_agent["actor"]["class_name"] == "genpo_ext.models:GenPOActor"
    assert "distribution_cfg" not in genpo_agent["actor"]
    assert genpo_agent["actor"]["hidden_dims"] == ppo_agent["actor"]["hidden_dims"]
    for key in ("critic", "num_steps_per_env", "obs_groups"):
        assert genpo_agent[key] == ppo_agent[key]
    shared = {k: v for k, v in ppo_agent["algorithm"].items() if k != "class_name"}
    assert shared.items() <= genpo_agent["algorithm"].items()


def test_task_entries_override_defaults_and_unknown_tasks_use_defaults():
    """Ant has its own make kwargs; an unlisted continuous-control task gets the defaults."""
    ant_env, _ = load_task_cfg("Ant-v5", "ppo")
    pendulum_env, pendulum_agent = load_task_cfg("Pendulum-v1", "ppo")
    assert ant_env["make_kwargs"] != pendulum_env["make_kwargs"] == {}
    assert pendulum_agent["algorithm"]["class_name"] == "PPO"


def test_unknown_algorithm_names_the_valid_ones():
    """A typo in the algorithm lists the valid choices."""
    with pytest.raises(ValueError, match="Valid: genpo, genpo_recommended, ppo."):
        load_task_cfg("HalfCheetah-v5", "trpo")


@pytest.mark.parametrize("task", TABLE_TASKS)
def test_genpo_stays_the_tables_paper_config(task):
    """``genpo`` is exactly the defaults, the task's entry and the table's ``genpo`` section, nothing else."""
    table = yaml.safe_load(AGENTS_TABLE.read_text())
    expected = deep_merge(deep_merge(table["defaults"], table["tasks"].get(task, {})), table["genpo"])
    assert load_task_cfg(task, "genpo") == (expected["env"], expected["agent"])


@pytest.mark.parametrize("task", TABLE_TASKS)
def test_genpo_recommended_is_genpo_with_the_presets_changes(task):
    """``genpo_recommended`` changes exactly its preset's actor and algorithm keys of the ``genpo`` config."""
    preset = GENPO_PRESETS["genpo_recommended"]
    genpo_env, genpo = load_task_cfg(task, "genpo")
    recommended_env, recommended = load_task_cfg(task, "genpo_recommended")
    assert recommended_env == genpo_env
    assert recommended["actor"] == {**genpo["actor"], **preset.actor}
    assert recommended["algorithm"] == {**genpo["algorithm"], **preset.algorithm}
    assert recommended != genpo, "the preset must change the paper's config"
    unchanged = {key: value for key, value in genpo.items() if key not in ("actor", "algorithm")}
    assert unchanged.items() <= recommended.items()


def test_overrides_parse_values_and_reject_unknown_sections():
    """Values parse as YAML; missing sections and malformed tokens fail loudly."""
    env_cfg, agent_cfg = load_task_cfg("HalfCheetah-v5", "ppo")
    apply_overrides(
        env_cfg,
        agent_cfg,
        ["agent.algorithm.learning_rate=5e-4", "agent.actor.hidden_dims=[64, 64]", "env.make_kwargs.reset_noise_scale=0.2"],
    )
    assert agent_cfg["algorithm"]["learning_rate"] == 5e-4
    assert agent_cfg["actor"]["hidden_dims"] == [64, 64]
    assert env_cfg["make_kwargs"]["reset_noise_scale"] == 0.2
    apply_overrides(env_cfg, agent_cfg, ["agent.actor.distribution_cfg=null"])
    assert "distribution_cfg" not in agent_cfg["actor"]
    with pytest.raises(ValueError, match="not a section"):
        apply_overrides(env_cfg, agent_cfg, ["agent.algorithmm.learning_rate=1"])
    with pytest.raises(ValueError, match="must look like"):
        apply_overrides(env_cfg, agent_cfg, ["agent.algorithm.learning_rate"])
