"""Fixtures of the IsaacLab 2.3 tests: IsaacLab 2.3.2's config modules and tasks, opened without Isaac Sim."""

from __future__ import annotations

import pathlib
import pytest
import sys
import torch

sys.path.insert(0, str(pathlib.Path(__file__).parent))
sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "core"))
sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "rsl_rl3"))

from isaaclab2_sources import open_isaaclab2_sources  # noqa: E402

# before the test modules import genpo_ext.isaaclab2, which imports IsaacLab 2.3's config modules
ISAACLAB2_TASK_IDS = open_isaaclab2_sources()
"""Ids of the tasks IsaacLab 2.3.2's sources registered."""

CPU_THREADS = 1
"""Torch threads per test process: small networks run fastest single-threaded, above all on a shared machine."""


@pytest.fixture(autouse=True)
def _seed_and_threads() -> None:
    """Seed torch before every test so that failures reproduce, and run single-threaded."""
    torch.set_num_threads(CPU_THREADS)
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def isaaclab2_task_ids() -> list[str]:
    """IsaacLab 2.3.2's task ids, after adding the GenPO key to those with a stock rsl_rl config."""
    from genpo_ext.isaaclab2.registration import register_genpo_cfg_entry_points

    register_genpo_cfg_entry_points()
    return ISAACLAB2_TASK_IDS
