"""``--distributed``: which GPU and seed each process of a ``torchrun`` launch trains with.

``torchrun`` starts one process per GPU and tells each its place through environment variables. rsl_rl's runners
read them too: with ``WORLD_SIZE`` > 1 a runner insists on the device ``cuda:<LOCAL_RANK>`` and starts NCCL. With
``--distributed`` every route of ``scripts/train.py`` therefore gives each process ``cuda:<LOCAL_RANK>`` for the
simulation and the agent and offsets the seed by the process's rank, as IsaacLab's own ``train.py`` does: IsaacLab
2.3's adds the local rank, IsaacLab 3's the global rank (which also differs between nodes).

Torch-free: IsaacLab 2.3's route must not import torch before Isaac Sim starts; callers pass the GPU count.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

WORLD_SIZE_VARIABLE = "WORLD_SIZE"
"""Environment variable of the number of processes ``torchrun`` started (all nodes)."""

RANK_VARIABLE = "RANK"
"""Environment variable of a process's global rank, in ``[0, WORLD_SIZE)``."""

LOCAL_RANK_VARIABLE = "LOCAL_RANK"
"""Environment variable of a process's rank on its node, which selects its GPU."""

DISTRIBUTED_HELP = (
    "Train on several GPUs, one process per GPU started by torchrun: each process takes cuda:<LOCAL_RANK> for the"
    " simulation and the agent, and the seed plus its rank."
)
"""Help of the ``--distributed`` flag, the same on every route."""


@dataclass(frozen=True)
class ProcessRank:
    """The place of this process in a ``torchrun`` launch; a plain run is rank 0 of 1."""

    global_rank: int = 0
    """Rank among all processes."""

    local_rank: int = 0
    """Rank among the processes of this node; it selects the GPU."""

    world_size: int = 1
    """Number of processes."""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ProcessRank:
        """Read the rank and world size that ``torchrun`` sets (absent: a single process).

        Args:
            environ: Environment variables; None reads ``os.environ``.
        """
        environ = os.environ if environ is None else environ
        return cls(
            global_rank=int(environ.get(RANK_VARIABLE, "0")),
            local_rank=int(environ.get(LOCAL_RANK_VARIABLE, "0")),
            world_size=int(environ.get(WORLD_SIZE_VARIABLE, "1")),
        )

    @property
    def device(self) -> str:
        """The GPU of this process, the one rsl_rl's runner expects: ``cuda:<local rank>``."""
        return f"cuda:{self.local_rank}"

    @property
    def is_main(self) -> bool:
        """Whether this process writes the run's files (rsl_rl logs from global rank 0 only)."""
        return self.global_rank == 0

    def seed(self, base_seed: int, offset_by: Literal["global", "local"] = "global") -> int:
        """Return this process's seed: the base seed plus its global rank (IsaacLab 3) or local rank (IsaacLab 2.3)."""
        return base_seed + (self.global_rank if offset_by == "global" else self.local_rank)


def add_distributed_argument(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Add the ``--distributed`` flag, named as in IsaacLab's own train scripts."""
    parser.add_argument("--distributed", action="store_true", help=DISTRIBUTED_HELP)


def launch_problem(distributed: bool, device: str | None, rank: ProcessRank, visible_gpus: int | None) -> str | None:
    """Return why a launch cannot train as asked, or None.

    Args:
        distributed: Whether ``--distributed`` was given.
        device: The ``--device`` the user gave, or None.
        rank: This process's place in the launch.
        visible_gpus: Number of CUDA devices torch sees, or None when the caller cannot tell yet.

    Returns:
        A one-line message for the user, or None when the launch is consistent.
    """
    if not distributed:
        if rank.world_size > 1:
            return (
                f"{WORLD_SIZE_VARIABLE}={rank.world_size}: this process was started by torchrun, but --distributed is"
                f" missing. Add --distributed so that each process trains on cuda:<{LOCAL_RANK_VARIABLE}>."
            )
        return None
    if device is not None and "cpu" in device:
        return f"--distributed trains one process per GPU; --device {device} is not a GPU. Leave --device out."
    if visible_gpus is not None and rank.local_rank >= visible_gpus:
        return (
            f"--distributed: the process with {LOCAL_RANK_VARIABLE}={rank.local_rank} trains on {rank.device}, but"
            f" torch sees {visible_gpus} CUDA device(s). Start at most that many processes per node with torchrun."
        )
    return None
