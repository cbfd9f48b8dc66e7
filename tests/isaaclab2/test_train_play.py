"""The IsaacLab 2.3 train and play bodies with rsl_rl 3's own runner, without Isaac Sim: ``--distributed`` under
``torchrun``, resuming and playing checkpoints saved on a GPU, and checkpoints whose save was cut short.

Isaac Sim is not installable here, so three steps that need it are replaced: IsaacLab 2.3's Hydra config loading
(:func:`~genpo_ext.isaaclab2.launch.run_with_task_config`) calls the body with a small environment config and GenPO's
runner config, the environment is the toy ``PointReachEnv`` (or a recorder where it would allocate on a GPU), and
``dump_yaml`` is not called. Everything else, rsl_rl 3's runner and IsaacLab 2.3.2's exporters included, is real.
"""

from __future__ import annotations

import pathlib
import pytest
import re
import torch
from checkpoint_files import resave_as_saved_on_gpu, truncate
from isaaclab2_sources import ISAACLAB2_SOURCES
from test_rl_cfg import make_runner_cfg
from toy_envs import PointReachEnv
from types import SimpleNamespace

from rsl_rl.runners import OnPolicyRunner

from genpo_ext.isaaclab2 import play, train

APP_LAUNCHER_SOURCE = ISAACLAB2_SOURCES / "isaaclab" / "isaaclab" / "app" / "app_launcher.py"
"""IsaacLab 2.3.2's ``AppLauncher``."""

TASK = "Isaac-Ant-v0"
"""A registered IsaacLab 2.3 task id (its config loading is replaced, see the module docstring)."""

APP_LAUNCHER_DEFAULT_DEVICE = "cuda:0"
"""``--device`` when the command line gives none (``AppLauncher``'s default)."""

SEED = 7
"""Seed given on the command line."""

NUM_ENVS = 16
"""Environments of the toy task."""

ERROR_PREFIX = "[ERROR] genpo_ext: "
"""Start of the one line that ends a run on a mistake in its flags."""

WARNING_PREFIX = "[WARNING] genpo_ext: "
"""Start of the line that names a broken checkpoint that was skipped."""


class ProcessGroupStarted(Exception):
    """Raised where rsl_rl's runner, having accepted its device for the process's rank, starts NCCL."""


def env_cfg() -> SimpleNamespace:
    """The fields of an IsaacLab 2.3 environment config that the scripts set."""
    scene, sim = SimpleNamespace(num_envs=4096), SimpleNamespace(device="cuda:0")
    return SimpleNamespace(scene=scene, sim=sim, seed=42, log_dir=None)


def parse(module, *argv: str, device: str = APP_LAUNCHER_DEFAULT_DEVICE):
    """Parse a command line of ``module`` (train or play), with the ``--device`` that ``AppLauncher`` adds."""
    args = module.build_parser().parse_args(["--task", TASK, *argv])
    args.device = device
    return args


@pytest.fixture
def configs(monkeypatch, isaaclab2_task_ids):
    """Replace IsaacLab 2.3's config loading: the body receives a small environment config and GenPO's runner
    config for the toy task; returns both."""
    cfgs = SimpleNamespace(env=env_cfg(), agent=make_runner_cfg())
    def run_with_task_config(task_id, agent_key, overrides, body):
        body(cfgs.env, cfgs.agent)

    for module in (train, play):
        monkeypatch.setattr(module, "run_with_task_config", run_with_task_config)
    monkeypatch.setattr(train, "save_params", lambda log_dir, env_cfg, agent_cfg: None)
    return cfgs


class ToyEnv(PointReachEnv):
    """The toy task with the ``close`` of an IsaacLab environment."""

    def close(self) -> None:
        pass


def toy_env(task_id, env_cfg, agent_cfg, args, log_dir) -> ToyEnv:
    """The toy task on the simulation device, in place of the IsaacLab environment."""
    return ToyEnv(num_envs=NUM_ENVS, device=env_cfg.sim.device)


def test_distributed_flag_reaches_app_launcher(isaaclab2_task_ids) -> None:
    """``--distributed`` is ours to parse and ``AppLauncher`` reads it from the parsed flags (as with IsaacLab's own
    script): it then starts Isaac Sim on the process's GPU."""
    assert parse(train, "--distributed").distributed and not parse(train).distributed
    assert 'launcher_args["distributed"]' in APP_LAUNCHER_SOURCE.read_text()


@pytest.mark.parametrize("rank", [0, 1])
def test_distributed_gives_each_rank_its_gpu_and_seed(configs, monkeypatch, tmp_path, rank) -> None:
    """Under ``torchrun``, ``--distributed`` hands the simulation and rsl_rl 3's runner ``cuda:<LOCAL_RANK>`` and
    the seed plus the local rank (as IsaacLab 2.3's ``train.py``); the runner accepts the device and starts NCCL."""
    for name, value in {"WORLD_SIZE": "2", "RANK": str(rank), "LOCAL_RANK": str(rank)}.items():
        monkeypatch.setenv(name, value)
    simulations = []

    class RecordedEnv:
        """Stands in for the environment, which would allocate on a GPU this machine lacks."""

        def close(self) -> None:
            pass

    def make_env(task_id, env_cfg, agent_cfg, args, log_dir):
        simulations.append({"device": env_cfg.sim.device, "seed": env_cfg.seed})
        return RecordedEnv()

    def start_process_group(backend, rank, world_size, **kwargs):
        raise ProcessGroupStarted(backend, rank, world_size)

    monkeypatch.setattr(train, "make_env", make_env)
    monkeypatch.setattr(torch.distributed, "init_process_group", start_process_group)
    args = parse(train, "--distributed", "--seed", str(SEED), "--log_dir", str(tmp_path / "run"))
    with pytest.raises(ProcessGroupStarted) as started:
        train.train(args, [])
    assert started.value.args == ("nccl", rank, 2)
    assert simulations == [{"device": f"cuda:{rank}", "seed": SEED + rank}]
    assert (configs.agent.device, configs.agent.seed) == (f"cuda:{rank}", SEED + rank)


def test_distributed_on_the_cpu_is_one_error_line(isaaclab2_task_ids, monkeypatch) -> None:
    """The mistake ends the program before Isaac Sim starts."""
    # the command line as parsed with AppLauncher's flags, which cannot be imported without Isaac Sim
    monkeypatch.setattr(train, "parse_args", lambda parser, argv: (parse(train, *argv[2:], device="cpu"), []))
    monkeypatch.setattr(train, "run_with_simulator", lambda args, body: pytest.fail("Isaac Sim must not start"))
    with pytest.raises(SystemExit, match=re.escape(f"{ERROR_PREFIX}--distributed trains one process per GPU")):
        train.main(["--task", TASK, "--distributed"])


@pytest.fixture
def finished_run(tmp_path, monkeypatch, isaaclab2_task_ids) -> pathlib.Path:
    """A two-iteration GenPO run of the toy task (``model_0.pt``, ``model_1.pt``) in its experiment folder below the
    working directory ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    agent_cfg = make_runner_cfg()
    run_dir = tmp_path / "logs" / "rsl_rl" / agent_cfg.experiment_name / "2024-01-01_00-00-00"
    runner = OnPolicyRunner(PointReachEnv(num_envs=NUM_ENVS), agent_cfg.to_dict(), log_dir=str(run_dir), device="cpu")
    runner.learn(num_learning_iterations=agent_cfg.max_iterations)
    assert sorted(path.name for path in run_dir.glob("*.pt")) == ["model_0.pt", "model_1.pt"]
    return run_dir


def test_resume_skips_a_checkpoint_cut_short_and_loads_one_saved_on_a_gpu(configs, finished_run, monkeypatch, capsys):
    truncate(finished_run / "model_1.pt")
    resave_as_saved_on_gpu(finished_run / "model_0.pt")
    monkeypatch.setattr(train, "make_env", toy_env)
    resumed_dir = finished_run.parent / "resumed"
    train.train(parse(train, "--resume", "--max_iterations", "1", "--log_dir", str(resumed_dir), device="cpu"), [])
    output = capsys.readouterr()
    (warning,) = [line for line in output.err.splitlines() if line.startswith(WARNING_PREFIX)]
    assert f"checkpoint {finished_run / 'model_1.pt'} is broken (truncated" in warning
    assert f"resuming from {finished_run / 'model_0.pt'}" in output.out
    assert (resumed_dir / "model_0.pt").is_file()


def test_resume_from_a_chosen_broken_checkpoint_is_one_error_line(configs, finished_run, monkeypatch):
    truncate(finished_run / "model_1.pt")
    monkeypatch.setattr(train, "make_env", lambda *args: pytest.fail("no environment may start"))
    args = parse(train, "--resume", "--checkpoint", r"model_1\.pt", "--log_dir", str(finished_run.parent / "r"))
    message = f"{ERROR_PREFIX}Checkpoint {finished_run / 'model_1.pt'} is broken"
    with pytest.raises(SystemExit, match=re.escape(message)):
        train.train(args, [])


def test_play_skips_a_checkpoint_cut_short_and_loads_one_saved_on_a_gpu(configs, finished_run, monkeypatch, capsys):
    truncate(finished_run / "model_1.pt")
    resave_as_saved_on_gpu(finished_run / "model_0.pt")
    monkeypatch.setattr(play, "make_env", toy_env)
    simulation_app = SimpleNamespace(is_running=lambda: True)
    play.play(parse(play, "--num_steps", "40", device="cpu"), [], simulation_app)
    output = capsys.readouterr()
    (warning,) = [line for line in output.err.splitlines() if line.startswith(WARNING_PREFIX)]
    assert f"checkpoint {finished_run / 'model_1.pt'} is broken (truncated" in warning
    assert f"playing {finished_run / 'model_0.pt'}" in output.out and "mean return" in output.out
    assert (finished_run / "exported" / "policy.pt").is_file() and (finished_run / "exported" / "policy.onnx").is_file()


def test_play_of_a_chosen_broken_checkpoint_is_one_error_line(configs, finished_run, monkeypatch):
    broken = truncate(finished_run / "model_1.pt")
    monkeypatch.setattr(play, "make_env", lambda *args: pytest.fail("no environment may start"))
    args = parse(play, "--checkpoint", str(broken), device="cpu")
    with pytest.raises(SystemExit, match=re.escape(f"{ERROR_PREFIX}Checkpoint {broken} is broken (truncated")):
        play.play(args, [], SimpleNamespace(is_running=lambda: True))
