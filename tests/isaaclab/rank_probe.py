"""Run ``scripts/train.py`` on an IsaacLab 3 task as one ``torchrun`` process would, on a machine without GPUs, and
print what IsaacLab's own rsl_rl train entry handed the simulation and rsl_rl's runner.

Usage: ``python rank_probe.py <scripts/train.py arguments>`` with ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK`` set.

Everything up to rsl_rl's runner is the real code path (our command line, IsaacLab's task config, launcher, rank and
seed handling, rsl_rl's runner and its check that the device is ``cuda:<LOCAL_RANK>``). Four stand-ins replace what
needs GPUs, as IsaacLab's own tests of its distributed device resolution do: torch reports two GPUs, selecting one is
a no-op, the environment is a recorder (it would allocate on the GPU), and NCCL's start ends the run. The last
stdout line is a JSON object: ``sim`` and ``agent`` (device and seed each) and ``process_group`` (backend, rank,
world size), or ``error``.
"""

from __future__ import annotations

import importlib.util
import json
import pathlib
import sys

import torch

SCRIPTS = pathlib.Path(__file__).resolve().parents[2] / "scripts"
"""The repository's scripts folder."""

VISIBLE_GPUS = 2
"""GPUs torch reports in the probe."""


class ProcessGroupStarted(Exception):
    """Raised where rsl_rl's runner, having accepted its device for the process's rank, starts NCCL."""


def load_train_script():
    """Import ``scripts/train.py`` as a module."""
    spec = importlib.util.spec_from_file_location("train_script", SCRIPTS / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def install_stand_ins(record: dict) -> None:
    """Replace what needs GPUs with recorders (see the module docstring)."""
    import isaaclab.app.sim_launcher as sim_launcher
    from isaaclab_rl.entrypoints.backends import train_rsl_rl

    class RecordedEnv:
        """Stands in for the IsaacLab environment."""

        def close(self) -> None:
            pass

    def create_env(task, env_cfg, args_cli, **kwargs):
        record["sim"] = {"device": env_cfg.sim.device, "seed": env_cfg.seed}
        return RecordedEnv()

    real_create_runner = train_rsl_rl.create_rsl_rl_runner

    def create_runner(env, agent_cfg, log_dir=None):
        record["agent"] = {"device": agent_cfg.device, "seed": agent_cfg.seed}
        return real_create_runner(env, agent_cfg, log_dir=log_dir)

    def start_process_group(backend, rank, world_size, **kwargs):
        record["process_group"] = {"backend": backend, "rank": rank, "world_size": world_size}
        raise ProcessGroupStarted

    torch.cuda.device_count = lambda: VISIBLE_GPUS
    sim_launcher.set_cuda_device = lambda device: None
    train_rsl_rl.create_isaaclab_env = create_env
    train_rsl_rl.RslRlVecEnvWrapper = lambda env, clip_actions=None: env
    train_rsl_rl.create_rsl_rl_runner = create_runner
    torch.distributed.init_process_group = start_process_group


def main(argv: list[str]) -> None:
    """Run the train script with the stand-ins and print the record."""
    record: dict = {}
    train_script = load_train_script()
    install_stand_ins(record)
    try:
        train_script.main(argv)
    except ProcessGroupStarted:
        pass
    except SystemExit as error:
        record["error"] = str(error)
    print(json.dumps(record))


if __name__ == "__main__":
    main(sys.argv[1:])
