"""Train a GenPO or stock PPO agent with rsl_rl on an IsaacLab task or a gymnasium task.

Examples:
    python scripts/train.py --task Isaac-Cartpole-Direct --algo genpo --device cpu
    python scripts/train.py --task HalfCheetah-v5 --algo ppo --seed 2
    python scripts/train.py --task HalfCheetah-v5 --algo genpo_recommended
    python scripts/train.py --task HalfCheetah-v5 --logger wandb agent.wandb_project=genpo
    python scripts/train.py --task Isaac-Ant-v0 --algo genpo agent.algorithm.learning_rate=5e-4
    torchrun --nproc_per_node 2 scripts/train.py --task Isaac-Ant --distributed --log_dir logs/rsl_rl/ant_2gpu
    ./isaaclab.sh -p scripts/train.py --task Isaac-Velocity-Rough-H1-v0 --algo genpo

In an IsaacLab 2.3 installation (Isaac Sim 5.1, rsl_rl 3) IsaacLab tasks go to the IsaacLab 2.3 backend, which starts
Isaac Sim with IsaacLab's ``AppLauncher`` and takes its flags (``--headless``, ``--device``, ...):
    ./isaaclab.sh -p scripts/train.py --task Isaac-Ant-v0 --algo genpo --headless

Tokens of the form ``env.a.b=value`` / ``agent.a.b=value`` override fields of the environment / agent config.
"""

from __future__ import annotations

import argparse
import sys

from genpo_ext.distributed import add_distributed_argument
from genpo_ext.presets import ALGORITHMS, DEFAULT_ALGORITHM, algorithm_help

LOGGERS = ("tensorboard", "wandb")
"""Log writers selectable with ``--logger``: rsl_rl's TensorBoard writer, or its W&B writer (which also writes
TensorBoard event files)."""


def build_parser() -> argparse.ArgumentParser:
    """Build the command-line parser shared by every training backend."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", required=True, help="IsaacLab task id (IsaacLab 2 ids accepted) or gymnasium id.")
    parser.add_argument("--algo", choices=ALGORITHMS, default=DEFAULT_ALGORITHM, help=algorithm_help())
    parser.add_argument("--num_envs", type=int, default=None, help="Number of parallel environments.")
    parser.add_argument("--max_iterations", type=int, default=None, help="Number of learning iterations.")
    parser.add_argument("--seed", type=int, default=None, help="Random seed of the environment and the agent.")
    parser.add_argument("--device", default=None, help="Device for simulation and agent, e.g. 'cpu' or 'cuda:0'.")
    add_distributed_argument(parser)
    parser.add_argument("--log_dir", default=None, help="Exact folder for this run's logs and checkpoints.")
    parser.add_argument(
        "--logger",
        choices=LOGGERS,
        default=None,
        help="Log writer: tensorboard or wandb (W&B project: agent.wandb_project=...). Default: the agent config's.",
    )
    parser.add_argument("--resume", action="store_true", help="Resume training from a checkpoint.")
    parser.add_argument("--load_run", default=None, help="Run folder (regex) to resume from; default: the latest.")
    parser.add_argument("--checkpoint", default=None, help="Checkpoint file (regex) to resume from; default: latest.")
    isaaclab = parser.add_argument_group("IsaacLab tasks")
    isaaclab.add_argument(
        "--viz", default="none", help="IsaacLab visualizers as CSV, e.g. 'newton' or 'kit' (default: none, headless)."
    )
    isaaclab.add_argument("--video", action="store_true", help="Record videos during training (needs a renderer).")
    return parser


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    """Parse known flags and return them with the remaining ``env.*``/``agent.*`` override tokens."""
    parser = build_parser()
    args, overrides = parser.parse_known_args(argv)
    invalid = [token for token in overrides if not token.startswith(("env.", "agent."))]
    if invalid:
        parser.error(f"unrecognized arguments {invalid}: overrides must look like 'env.a.b=value' or 'agent.a.b=value'")
    return args, overrides


def task_of(argv: list[str]) -> str | None:
    """Return the ``--task`` value of a command line, or None when it has none."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--task", default=None)
    return parser.parse_known_args(argv)[0].task


def main(argv: list[str] | None = None) -> None:
    """Dispatch to the gymnasium, IsaacLab 3 or IsaacLab 2.3 backend depending on the task id and installation."""
    argv = sys.argv[1:] if argv is None else argv
    from genpo_ext.gymnasium_backend import is_gymnasium_task
    from genpo_ext.versions import isaaclab_generation

    task = task_of(argv)
    if isaaclab_generation() == 2 and not (task and is_gymnasium_task(task)):
        # IsaacLab 2.3 parses its own flags (AppLauncher's) and starts Isaac Sim before anything else
        from genpo_ext.isaaclab2.train import main as isaaclab2_main

        isaaclab2_main(argv)
        return
    args, overrides = parse_args(argv)
    if is_gymnasium_task(args.task):
        from genpo_ext.gymnasium_backend.train import main as train_main
    else:
        from genpo_ext.isaaclab.train import main as train_main
    train_main(args, overrides)


if __name__ == "__main__":
    main(sys.argv[1:])
