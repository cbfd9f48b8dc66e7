"""The gymnasium backend under rsl_rl 3: the table's agents translated to rsl_rl 3 configs, and ``scripts/train.py``
training GenPO and stock PPO on a MuJoCo task with the stock rsl_rl 3 runner."""

from __future__ import annotations

import argparse
import pathlib
import pytest
import re
import subprocess
import sys
import torch
import yaml
from checkpoint_files import resave_as_saved_on_gpu, truncate

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


def train(
    tmp_path: pathlib.Path, algo: str, *overrides: str, cwd: pathlib.Path | None = None
) -> subprocess.CompletedProcess:
    """Run two tiny iterations of HalfCheetah-v5 training into ``tmp_path`` with ``scripts/train.py`` (in the folder
    ``cwd``, by default ``tmp_path``); ``overrides`` may hold flags too."""
    command = [sys.executable, str(TRAIN_SCRIPT), "--task", "HalfCheetah-v5", "--algo", algo, "--num_envs", "4"]
    command += ["--max_iterations", "2", "--seed", "3", "--device", "cpu", "--log_dir", str(tmp_path)]
    command += ["agent.num_steps_per_env=8", "env.num_workers=0", *overrides]
    tmp_path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(command, capture_output=True, text=True, timeout=SCRIPT_TIMEOUT_S, cwd=cwd or tmp_path)


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


@pytest.mark.parametrize("algo", ["genpo", "ppo"])
def test_evaluate_script_runs_the_deployed_and_the_sampled_rsl_rl3_policy(tmp_path: pathlib.Path, algo: str) -> None:
    """scripts/evaluate.py rebuilds an rsl_rl 3 run's agent from its folder and records both policy modes, the
    deterministic one the same in two calls."""
    run_dir = tmp_path / "run"
    assert train(run_dir, algo, "env.make_kwargs.max_episode_steps=5", cwd=tmp_path).returncode == 0
    evaluate = [sys.executable, str(REPO_ROOT / "scripts" / "evaluate.py"), "--run_dir", str(run_dir), "--episodes", "3"]
    deterministic_rows = []
    for extra in ([], ["--stochastic"], []):
        result = subprocess.run([*evaluate, *extra], capture_output=True, text=True, timeout=SCRIPT_TIMEOUT_S)
        assert result.returncode == 0, result.stderr[-3000:]
        rows = [row.split(",") for row in (run_dir / "eval.csv").read_text().splitlines()[1:]]
        deterministic_rows.append(next(row for row in rows if row[2] == "deterministic"))
    assert [row[:5] for row in rows] == [
        ["model_1.pt", "1", "deterministic", "3", "10000"],
        ["model_1.pt", "1", "stochastic", "3", "10000"],
    ]
    assert deterministic_rows[0] == deterministic_rows[2]


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


class ProcessGroupStarted(Exception):
    """Raised where rsl_rl 3's runner, having accepted its device for the process's rank, starts NCCL."""


@pytest.mark.parametrize("rank", [0, 1])
def test_distributed_gives_each_rank_its_gpu_and_seed(tmp_path: pathlib.Path, monkeypatch, rank: int) -> None:
    """Under ``torchrun``, ``--distributed`` hands the envs and rsl_rl 3's own runner ``cuda:<LOCAL_RANK>`` and the
    seed plus the rank; the runner accepts the device for its rank and starts NCCL (stopped there: no GPU here)."""
    from genpo_ext.gymnasium_backend import train as backend

    for name, value in {"WORLD_SIZE": "2", "RANK": str(rank), "LOCAL_RANK": str(rank)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    envs = []

    class RecordedEnv:
        """Stands in for the gymnasium envs, which would put their tensors on a GPU this machine lacks."""

        action_clip = None
        """The envs' symmetric action clip (none)."""

        def __init__(self, **kwargs):
            envs.append(kwargs)

        def close(self):
            pass

    def start_process_group(backend, rank, world_size, **kwargs):
        raise ProcessGroupStarted(backend, rank, world_size)

    monkeypatch.setattr(backend, "GymnasiumVecEnv", RecordedEnv)
    monkeypatch.setattr(torch.distributed, "init_process_group", start_process_group)
    args = argparse.Namespace(
        task="HalfCheetah-v5", algo="genpo", num_envs=4, max_iterations=1, seed=3, device=None, distributed=True,
        log_dir=str(tmp_path / "run"), logger=None, resume=False, load_run=None, checkpoint=None,
    )  # fmt: skip
    with pytest.raises(ProcessGroupStarted) as started:
        backend.main(args, [])
    assert started.value.args == ("nccl", rank, 2)
    assert (envs[0]["device"], envs[0]["seed"]) == (f"cuda:{rank}", 3 + rank)


def test_resume_skips_a_checkpoint_cut_short_and_loads_one_saved_on_a_gpu(tmp_path: pathlib.Path) -> None:
    """``--resume`` takes the newest intact checkpoint, naming the broken newer one, and loads it onto the run's
    device although it was saved on a GPU."""
    run_dir = tmp_path / "logs" / "rsl_rl" / "HalfCheetah-v5_genpo" / "2024-01-01_seed3"
    run_dir.mkdir(parents=True)
    assert train(run_dir, "genpo").returncode == 0
    truncate(run_dir / "model_1.pt")
    resave_as_saved_on_gpu(run_dir / "model_0.pt")
    resumed = train(run_dir.parent / "resumed", "genpo", "--resume", "--load_run", "2024.*", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"[WARNING] genpo_ext: checkpoint {run_dir / 'model_1.pt'} is broken (truncated" in resumed.stderr
    assert f"Resuming from {run_dir / 'model_0.pt'}" in resumed.stdout


@pytest.mark.parametrize("algo", ["genpo", "ppo"])
def test_a_resumed_run_continues_with_the_uninterrupted_runs_models(tmp_path: pathlib.Path, algo: str) -> None:
    """Resumed in its own folder from its first checkpoint, a run trains its second iteration again and ends with the
    uninterrupted run's models, optimizer and adaptive learning rate, bit for bit (rsl_rl 3's own load leaves the
    learning rate the algorithm adapts at its initial value)."""
    run_dir = tmp_path / "run"
    assert train(run_dir, algo).returncode == 0
    uninterrupted = torch.load(run_dir / "model_1.pt", weights_only=False)
    (run_dir / "model_1.pt").unlink()
    resume = ["--resume", "--checkpoint", str(run_dir / "model_0.pt"), "--max_iterations", "1"]
    resumed_run = train(run_dir, algo, *resume)
    assert resumed_run.returncode == 0, resumed_run.stderr[-3000:]
    resumed = torch.load(run_dir / "model_1.pt", weights_only=False)
    for name, tensor in uninterrupted["model_state_dict"].items():
        assert torch.equal(resumed["model_state_dict"][name], tensor), name
    assert resumed["optimizer_state_dict"]["param_groups"] == uninterrupted["optimizer_state_dict"]["param_groups"]
