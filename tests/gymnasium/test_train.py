"""``scripts/train.py`` on a gymnasium task, run as a subprocess like users and compare.py run it, and how it ends
on a config mistake."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
import torch
import yaml
from checkpoint_files import resave_as_saved_on_gpu, truncate

from genpo_ext.checkpoints import CheckpointError
from genpo_ext.gymnasium_backend import train as backend
from genpo_ext.gymnasium_backend.errors import ConfigError
from genpo_ext.gymnasium_backend.train import find_checkpoint
from genpo_ext.gymnasium_backend.train import main as backend_main
from genpo_ext.presets import GENPO_PRESETS

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
TRAIN_SCRIPT = REPO_ROOT / "scripts" / "train.py"
ERROR_PREFIX = "[ERROR] genpo_ext: "
"""Start of the one line that ends a run on a configuration mistake."""

WARNING_PREFIX = "[WARNING] genpo_ext: "
"""Start of the line that names a broken checkpoint that was skipped."""

EXPERIMENT = pathlib.Path("logs", "rsl_rl", "HalfCheetah-v5_genpo")
"""Experiment folder of the GenPO runs below, relative to the folder they run in."""

TORCHRUN_RANKS = [{"WORLD_SIZE": "2", "RANK": str(rank), "LOCAL_RANK": str(rank)} for rank in range(2)]
"""What ``torchrun --nproc_per_node 2`` sets in each of its two processes."""

BASE_SEED = 3
"""Seed given on the command line of the runs below."""


def train(
    tmp_path: pathlib.Path, *extra: str, env: dict[str, str] | None = None, cwd: pathlib.Path | None = None
) -> subprocess.CompletedProcess:
    """Run two tiny iterations of HalfCheetah-v5 training into ``tmp_path`` (in the environment ``env``, in the
    folder ``cwd``, by default ``tmp_path``)."""
    command = [sys.executable, str(TRAIN_SCRIPT), "--task", "HalfCheetah-v5", "--num_envs", "4", "--max_iterations", "2"]
    command += ["--seed", str(BASE_SEED), "--device", "cpu", "--log_dir", str(tmp_path)]
    command += ["agent.num_steps_per_env=8", *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=cwd or tmp_path, env=env)


def error_line(result: subprocess.CompletedProcess) -> str:
    """Return the one ``[ERROR]`` line that a run ended with, after checking that it failed without a traceback."""
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith(ERROR_PREFIX)]
    assert len(errors) == 1 and result.stderr.rstrip().endswith(errors[0]), result.stderr[-3000:]
    return errors[0]


@pytest.mark.parametrize("algo", ["ppo", "genpo", "genpo_recommended"])
def test_train_writes_events_checkpoints_and_params(tmp_path, algo):
    """Training logs tensorboard events, saves checkpoints and records the resolved config with the overrides."""
    result = train(tmp_path, "--algo", algo, "env.num_workers=0", "agent.algorithm.learning_rate=5e-4")
    assert result.returncode == 0, result.stderr[-3000:]
    assert list(tmp_path.glob("events.out.tfevents.*"))
    assert (tmp_path / "model_1.pt").is_file()
    agent_cfg = yaml.safe_load((tmp_path / "params" / "agent.yaml").read_text())
    env_cfg = yaml.safe_load((tmp_path / "params" / "env.yaml").read_text())
    assert agent_cfg["algorithm"]["learning_rate"] == 5e-4
    assert agent_cfg["seed"] == 3 and env_cfg["num_envs"] == 4
    expected_class = "PPO" if algo == "ppo" else "genpo_ext.algorithms:GenPO"
    assert agent_cfg["algorithm"]["class_name"] == expected_class
    if algo in GENPO_PRESETS:
        preset = GENPO_PRESETS[algo]
        assert preset.actor.items() <= agent_cfg["actor"].items()
        assert preset.algorithm.items() <= agent_cfg["algorithm"].items()


def test_unknown_algo_names_the_choices(tmp_path):
    """A misspelt ``--algo`` stops the run before training, naming every choice."""
    result = train(tmp_path, "--algo", "genpo_recomended")
    assert result.returncode == 2
    # Python versions differ in quoting the choices
    message = result.stderr.replace("'", "")
    assert "invalid choice: genpo_recomended (choose from genpo, genpo_recommended, ppo)" in message


def test_bad_override_fails_with_a_message(tmp_path):
    """A typo in an override stops the run before training, naming the problem."""
    result = train(tmp_path, "--algo", "ppo", "agent.algorithmm.learning_rate=1")
    assert "'agent.algorithmm' is not a section. Valid: obs_groups, actor, critic, algorithm." in error_line(result)


def test_misspelt_agent_key_names_the_valid_keys(tmp_path):
    """A key that the actor's class does not take ends the run naming the key and the class's valid keys."""
    line = error_line(train(tmp_path, "agent.actor.mixing_cof=0.5"))
    message = "Unknown key 'agent.actor.mixing_cof' for genpo_ext.models:GenPOActor. Valid: "
    assert line.startswith(f"{ERROR_PREFIX}{message}")
    assert "mixing_coef" in line.partition(" Valid: ")[2].rstrip(".").split(", ")


def test_invalid_value_reports_the_librarys_message(tmp_path):
    """A value the model rejects (a mixing coefficient outside (0, 1]) ends the run with the model's message."""
    line = error_line(train(tmp_path, "agent.actor.mixing_coef=1.5"))
    assert line.startswith(f"{ERROR_PREFIX}Invalid agent config: ") and "1.5" in line


def test_resume_without_a_run_names_the_folder_searched(tmp_path):
    """``--resume`` with nothing to resume from names the experiment folder and how to pick a run."""
    line = error_line(train(tmp_path, "--resume"))
    experiment_dir = tmp_path.resolve() / "logs" / "rsl_rl" / "HalfCheetah-v5_genpo"
    assert f"--resume: no run folder in {experiment_dir} to resume from." in line
    assert "--load_run" in line and "None" not in line


def test_find_checkpoint_lists_runs_and_how_to_pick_a_checkpoint(tmp_path):
    """A ``--load_run`` that matches nothing lists the latest runs; a run without checkpoints says how to pick one;
    otherwise the latest checkpoint of the latest matching run is found."""
    for run in ("2024-01-01_seed1", "2024-01-02_seed1", "2024-01-03_seed2"):
        (tmp_path / run).mkdir()
    torch.save({"iter": 10}, tmp_path / "2024-01-02_seed1" / "model_10.pt")
    torch.save({"iter": 9}, tmp_path / "2024-01-02_seed1" / "model_9.pt")
    with pytest.raises(ConfigError, match="--load_run '2025.*' matches no run folder in .* Latest runs: 2024-01-01"):
        find_checkpoint(tmp_path, "2025.*", None)
    with pytest.raises(ConfigError, match=r"No checkpoint matching .* in .*2024-01-03_seed2\. Pick a file with"):
        find_checkpoint(tmp_path, None, None)
    with pytest.raises(CheckpointError, match="--load_run '\\[' is not a valid regex"):
        find_checkpoint(tmp_path, "[", None)
    assert find_checkpoint(tmp_path, ".*seed1", None) == tmp_path / "2024-01-02_seed1" / "model_10.pt"


def train_args(log_dir: pathlib.Path, **flags) -> argparse.Namespace:
    """The flags ``scripts/train.py`` parses for a short GenPO run on HalfCheetah-v5, updated by ``flags``."""
    defaults = dict(
        task="HalfCheetah-v5", algo="genpo", num_envs=4, max_iterations=1, seed=BASE_SEED, device="cpu",
        distributed=False, log_dir=str(log_dir), logger=None, resume=False, load_run=None, checkpoint=None,
    )  # fmt: skip
    return argparse.Namespace(**{**defaults, **flags})


def test_config_mistake_closes_the_env_workers(tmp_path, monkeypatch):
    """A mistake found while building the runner, after the env workers started, still closes them."""
    monkeypatch.chdir(tmp_path)
    args = train_args(tmp_path, seed=1)
    overrides = ["env.num_workers=2", "agent.torch_threads=null", "agent.actor.mixing_coef=1.5"]
    children_before = set(multiprocessing.active_children())
    with pytest.raises(SystemExit, match="Invalid agent config"):
        backend_main(args, overrides)
    assert set(multiprocessing.active_children()) <= children_before


def test_wandb_logger_writes_an_offline_run_into_the_log_dir(tmp_path):
    """``--logger wandb`` works out of the box: rsl_rl's W&B writer logs the run, offline, into the run's log dir,
    to a project named after the experiment."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("WANDB_")} | {"WANDB_MODE": "offline"}
    result = train(tmp_path, "--algo", "ppo", "env.num_workers=0", "--logger", "wandb", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    (run_dir,) = (tmp_path / "wandb").glob("offline-run-*")
    (run_log,) = run_dir.glob("run-*.wandb")
    # the run log is a sequence of uncompressed protobuf records: the run's project, config and history keys
    records = run_log.read_bytes()
    for text in ("HalfCheetah-v5_ppo", "env_cfg", "train_cfg", "Loss/learning_rate"):
        assert text.encode() in records, text
    assert (run_dir / "files" / "model_1.pt").is_file()
    assert yaml.safe_load((tmp_path / "params" / "agent.yaml").read_text())["wandb_project"] == "HalfCheetah-v5_ppo"


class RankAccepted(Exception):
    """Raised where rsl_rl's runner, having accepted its device for the process's rank, starts NCCL."""


@pytest.mark.parametrize("environment", TORCHRUN_RANKS, ids=["rank0", "rank1"])
def test_distributed_gives_each_rank_its_gpu_and_seed(tmp_path, monkeypatch, environment):
    """Under ``torchrun``, ``--distributed`` hands the envs and rsl_rl's own runner ``cuda:<LOCAL_RANK>`` and the
    seed plus the rank: the runner accepts the device for its rank and goes on to start NCCL (stopped there, as this
    machine has no GPU). Only rank 0 writes the run's files."""
    for name, value in environment.items():
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

    def start_nccl(backend, rank, world_size):
        raise RankAccepted(backend, rank, world_size)

    monkeypatch.setattr(backend, "GymnasiumVecEnv", RecordedEnv)
    monkeypatch.setattr(torch.distributed, "init_process_group", start_nccl)
    rank = int(environment["RANK"])
    with pytest.raises(RankAccepted) as accepted:
        backend_main(train_args(tmp_path / "run", device=None, distributed=True), [])
    assert accepted.value.args == ("nccl", rank, 2)
    assert envs == [{**envs[0], "device": f"cuda:{rank}", "seed": BASE_SEED + rank}]
    assert (tmp_path / "run" / "params").is_dir() == (rank == 0)


@pytest.mark.parametrize(
    ("flags", "environment", "message"),
    [
        ({"distributed": True, "device": "cpu"}, TORCHRUN_RANKS[1], "--distributed trains one process per GPU; --device cpu is not a GPU."),
        ({"distributed": True, "device": None}, TORCHRUN_RANKS[1], "LOCAL_RANK=1 trains on cuda:1, but torch sees 0 CUDA"),
        ({}, TORCHRUN_RANKS[1], "WORLD_SIZE=2: this process was started by torchrun, but --distributed is missing."),
    ],
    ids=["cpu", "no_gpu", "torchrun_without_distributed"],
)  # fmt: skip
def test_distributed_launch_mistakes_are_one_error_line(tmp_path, monkeypatch, flags, environment, message):
    """A ``--distributed`` launch that cannot work ends before any env starts, saying why."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    with pytest.raises(SystemExit, match=f"^{re.escape(ERROR_PREFIX)}") as error:
        backend_main(train_args(tmp_path, **flags), [])
    assert message in str(error.value)


@pytest.mark.parametrize(("flags", "message"), [
    (["--num_envs", "0"], "--num_envs must be at least 1, got 0."),
    (["--task", "CartPole-v1"], "Task 'CartPole-v1' has the action space Discrete(2); GenPO and rsl_rl's PPO need continuous actions, a 1-D Box. Valid: continuous-control tasks, e.g. HalfCheetah-v5,"),
], ids=["no_envs", "discrete_actions"])  # fmt: skip
def test_user_mistakes_are_one_error_line_naming_what_is_valid(tmp_path, flags, message):
    """Mistakes a new user makes end in one ``[ERROR]`` line that names what is valid (the task flag given last
    wins over the HalfCheetah default of the helper)."""
    assert message in error_line(train(tmp_path, *flags))


def test_fewer_envs_than_workers_train(tmp_path):
    """A single env trains: it gets one worker process instead of the table's two."""
    result = train(tmp_path, "--num_envs", "1", "--max_iterations", "1")
    assert result.returncode == 0, result.stderr[-3000:]
    assert yaml.safe_load((tmp_path / "params" / "env.yaml").read_text())["num_workers"] == 1


FINISHED_RUN_OVERRIDES = ("env.num_workers=0", "env.make_kwargs.max_episode_steps=5")
"""Overrides of the finished run below: envs in the training process, five-step episodes."""


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> pathlib.Path:
    """A folder holding one finished two-iteration GenPO run in its experiment folder (checkpoints model_0 and
    model_1; five-step episodes, so that both iterations log a training return); tests copy it before changing
    it."""
    root = tmp_path_factory.mktemp("finished")
    result = train(root / EXPERIMENT / "2024-01-01_00-00-00_seed3", *FINISHED_RUN_OVERRIDES, cwd=root)
    assert result.returncode == 0, result.stderr[-3000:]
    return root


def resume(folder: pathlib.Path, *extra: str) -> subprocess.CompletedProcess:
    """Resume the copied finished run in ``folder`` for two iterations into a new run folder."""
    flags = ["--resume", "--load_run", "2024.*", *extra]
    return train(folder / EXPERIMENT / "resumed", "env.num_workers=0", *flags, cwd=folder)


def test_resume_loads_a_checkpoint_saved_on_a_gpu_onto_the_runs_device(finished_run, tmp_path):
    """A checkpoint saved on a GPU resumes on this CPU machine: it is loaded onto the run's device."""
    shutil.copytree(finished_run, tmp_path, dirs_exist_ok=True)
    run_dir = tmp_path / EXPERIMENT / "2024-01-01_00-00-00_seed3"
    resave_as_saved_on_gpu(run_dir / "model_1.pt")
    result = resume(tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Resuming from {run_dir / 'model_1.pt'}" in result.stdout
    assert (tmp_path / EXPERIMENT / "resumed" / "model_3.pt").is_file(), "the iteration count continues"


def test_resume_falls_back_to_the_newest_intact_checkpoint_naming_the_broken_one(finished_run, tmp_path):
    """A checkpoint cut short during its save is skipped with a warning that names it."""
    shutil.copytree(finished_run, tmp_path, dirs_exist_ok=True)
    run_dir = tmp_path / EXPERIMENT / "2024-01-01_00-00-00_seed3"
    truncate(run_dir / "model_1.pt")
    result = resume(tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    (warning,) = [line for line in result.stderr.splitlines() if line.startswith(WARNING_PREFIX)]
    assert f"checkpoint {run_dir / 'model_1.pt'} is broken (truncated" in warning
    assert f"Resuming from {run_dir / 'model_0.pt'}" in result.stdout
    resumed = sorted(path.name for path in (tmp_path / EXPERIMENT / "resumed").glob("*.pt"))
    assert resumed == ["model_2.pt"], "iterations 1 and 2 follow the checkpoint of iteration 0"


def test_a_run_resumed_in_its_folder_continues_exactly_as_the_uninterrupted_run(finished_run, tmp_path):
    """Resumed from its first checkpoint (a checkpoint file given with ``--checkpoint``), a run trains its second
    iteration again into its own folder and ends with the uninterrupted run's models and training return, bit for
    bit: the checkpoint holds the random streams, the envs and the logger's episode statistics too."""
    shutil.copytree(finished_run, tmp_path, dirs_exist_ok=True)
    run_dir = tmp_path / EXPERIMENT / "2024-01-01_00-00-00_seed3"
    uninterrupted = torch.load(run_dir / "model_1.pt", weights_only=False)
    (run_dir / "model_1.pt").unlink()
    checkpoint = str(run_dir / "model_0.pt")
    result = train(run_dir, *FINISHED_RUN_OVERRIDES, "--resume", "--checkpoint", checkpoint, "--max_iterations", "1")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Continuing with iteration 1" in result.stdout
    assert WARNING_PREFIX not in result.stderr, "every part of the training state is restored"
    resumed = torch.load(run_dir / "model_1.pt", weights_only=False)
    assert resumed["iter"] == uninterrupted["iter"] == 1
    for models in ("actor_state_dict", "critic_state_dict", "optimizer_state_dict"):
        assert_equal_state(resumed[models], uninterrupted[models], models)
    assert final_training_return(run_dir) == final_training_return(finished_run / EXPERIMENT / run_dir.name)


def assert_equal_state(got, expected, where: str) -> None:
    """Assert that two nested state dicts hold the same keys and bit-identical tensors and values."""
    if isinstance(expected, dict):
        assert got.keys() == expected.keys(), where
        for key in expected:
            assert_equal_state(got[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, torch.Tensor):
        assert torch.equal(got, expected), where
    else:
        assert got == expected, where


def final_training_return(run_dir: pathlib.Path) -> float:
    """Return the training return a run logged last (the value of its last iteration)."""
    from genpo_ext.experiments.logs import read_run_log

    log = read_run_log(run_dir)
    assert log.return_iterations[-1] == log.iterations[-1], "the last iteration logged a return"
    return float(log.returns[-1])


def test_resume_from_a_chosen_broken_checkpoint_is_one_error_line(finished_run, tmp_path):
    """A broken checkpoint chosen with ``--checkpoint`` ends the run with one ``[ERROR]`` line naming it."""
    shutil.copytree(finished_run, tmp_path, dirs_exist_ok=True)
    broken = truncate(tmp_path / EXPERIMENT / "2024-01-01_00-00-00_seed3" / "model_1.pt")
    line = error_line(resume(tmp_path, "--checkpoint", r"model_1\.pt"))
    assert line.startswith(f"{ERROR_PREFIX}Checkpoint {broken} is broken (truncated")


def test_every_checkpoint_broken_is_a_checkpoint_error(tmp_path):
    """When every checkpoint of the run is broken, nothing is resumed."""
    run_dir = tmp_path / "2024-01-01_seed1"
    run_dir.mkdir()
    (run_dir / "model_0.pt").write_bytes(b"PK")
    with pytest.raises(CheckpointError, match="No intact checkpoint in .*: model_0.pt are broken"):
        find_checkpoint(tmp_path, None, None)
