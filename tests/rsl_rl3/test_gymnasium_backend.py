"""The gymnasium backend under rsl_rl 3: the table's agents translated to rsl_rl 3 configs, and ``scripts/train.py``
training GenPO and stock PPO on a MuJoCo task with the stock rsl_rl 3 runner."""

from __future__ import annotations

import pathlib
import pytest
import re
import subprocess
import sys
import yaml

from genpo_ext.gymnasium_backend.config import AGENTS_TABLE, deep_merge, load_task_cfg, to_rsl_rl3_agent_cfg
from genpo_ext.presets import GENPO_PRESETS

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
TRAIN_SCRIPT = REPO_ROOT / "scripts" / "train.py"
SCRIPT_TIMEOUT_S = 300
"""Upper bound of one two-iteration training run."""


def test_table_agents_become_rsl_rl3_policies_with_the_same_networks() -> None:
    _, ppo = load_task_cfg("Ant-v5", "ppo")
    _, genpo = load_task_cfg("Ant-v5", "genpo")
    assert ppo["policy"]["class_name"] == "ActorCritic" and ppo["algorithm"]["class_name"] == "PPO"
    assert ppo["policy"]["init_noise_std"] == 0.5, "the task's Gaussian init std carries over"
    assert genpo["policy"]["class_name"] == "GenPOActorCritic" and genpo["algorithm"]["class_name"] == "GenPO"
    assert genpo["policy"]["activation"] == "mish" and genpo["policy"]["critic_activation"] == "elu"
    assert genpo["policy"]["num_flow_steps"] == 5 and "distribution_cfg" not in genpo["policy"]
    for key in ("actor_hidden_dims", "critic_hidden_dims", "actor_obs_normalization", "critic_obs_normalization"):
        assert genpo["policy"][key] == ppo["policy"][key]
    assert genpo["obs_groups"] == ppo["obs_groups"] == {"policy": ["policy"], "critic": ["policy"]}
    assert genpo["num_steps_per_env"] == ppo["num_steps_per_env"]


@pytest.mark.parametrize("task", ["HalfCheetah-v5", "Ant-v5"])
def test_genpo_recommended_translates_to_the_genpo_policy_with_the_presets_changes(task: str) -> None:
    preset = GENPO_PRESETS["genpo_recommended"]
    _, genpo = load_task_cfg(task, "genpo")
    _, recommended = load_task_cfg(task, "genpo_recommended")
    # the preset's actor keys are flow keys, which rsl_rl 3's GenPOActorCritic takes under the same names
    assert recommended["policy"] == {**genpo["policy"], **preset.actor}
    assert recommended["algorithm"] == {**genpo["algorithm"], **preset.algorithm}
    assert recommended != genpo, "the preset must change the paper's config"
    assert {k: v for k, v in recommended.items() if k not in ("policy", "algorithm")} == {
        k: v for k, v in genpo.items() if k not in ("policy", "algorithm")
    }
    table = yaml.safe_load(AGENTS_TABLE.read_text())
    paper = deep_merge(deep_merge(table["defaults"], table["tasks"].get(task, {})), table["genpo"])
    assert genpo == to_rsl_rl3_agent_cfg(paper["agent"]), "genpo stays the table's paper config"


def test_untranslatable_agents_fail_with_a_reason() -> None:
    rsl_rl5_cfg = {
        "obs_groups": {"actor": ["policy"], "critic": ["policy"]},
        "actor": {"class_name": "MLPModel", "hidden_dims": [8], "activation": "elu"},
        "critic": {"class_name": "MLPModel", "hidden_dims": [8], "activation": "tanh"},
        "algorithm": {"class_name": "PPO"},
    }
    with pytest.raises(ValueError, match="one activation"):
        to_rsl_rl3_agent_cfg(rsl_rl5_cfg)
    rsl_rl5_cfg["actor"]["class_name"] = "RNNModel"
    with pytest.raises(ValueError, match="no rsl_rl 3 counterpart"):
        to_rsl_rl3_agent_cfg(rsl_rl5_cfg)


def train(tmp_path: pathlib.Path, algo: str, *overrides: str) -> subprocess.CompletedProcess:
    """Run two tiny iterations of HalfCheetah-v5 training into ``tmp_path`` with ``scripts/train.py``."""
    command = [sys.executable, str(TRAIN_SCRIPT), "--task", "HalfCheetah-v5", "--algo", algo, "--num_envs", "4"]
    command += ["--max_iterations", "2", "--seed", "3", "--device", "cpu", "--log_dir", str(tmp_path)]
    command += ["agent.num_steps_per_env=8", "env.num_workers=0", *overrides]
    return subprocess.run(command, capture_output=True, text=True, timeout=SCRIPT_TIMEOUT_S, cwd=tmp_path)


@pytest.mark.parametrize("algo", ["genpo", "genpo_recommended", "ppo"])
def test_train_script_trains_with_the_stock_rsl_rl3_runner(tmp_path: pathlib.Path, algo: str) -> None:
    result = train(tmp_path, algo, "agent.algorithm.learning_rate=5e-4")
    assert result.returncode == 0, result.stderr[-3000:]
    assert list(tmp_path.glob("events.out.tfevents.*")) and (tmp_path / "model_1.pt").is_file()
    agent_cfg = yaml.safe_load((tmp_path / "params" / "agent.yaml").read_text())
    expected = ("ActorCritic", "PPO") if algo == "ppo" else ("GenPOActorCritic", "GenPO")
    assert (agent_cfg["policy"]["class_name"], agent_cfg["algorithm"]["class_name"]) == expected
    assert agent_cfg["algorithm"]["learning_rate"] == 5e-4
    if algo in GENPO_PRESETS:
        assert GENPO_PRESETS[algo].actor.items() <= agent_cfg["policy"].items()
        assert GENPO_PRESETS[algo].algorithm.items() <= agent_cfg["algorithm"].items()


@pytest.mark.parametrize(
    "override,message",
    [
        (
            "agent.policy.mixing_cof=0.9",
            "Unknown key 'agent.policy.mixing_cof' for GenPOActorCritic. Valid: .*mixing_coef",
        ),
        ("agent.algorithm.compression_cof=1", "Unknown key 'agent.algorithm.compression_cof' for GenPO. Valid: .*clip"),
        ("agent.algorithm.compression_loss=l1", r"Invalid agent config: Unknown compression_loss 'l1'"),
    ],
)
def test_config_mistakes_end_in_one_error_line(tmp_path: pathlib.Path, override: str, message: str) -> None:
    result = train(tmp_path, "genpo", override)
    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert re.match(rf"\[ERROR\] genpo_ext: {message}", last_line), last_line
