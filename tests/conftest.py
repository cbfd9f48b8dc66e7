"""Test selection by the installed rsl_rl generation.

The default environment (``.venv``: rsl_rl 5, IsaacLab 3) runs every test folder but :data:`RSL_RL3_TESTS`. The
rsl_rl 3 environment (``.venv-rsl3``, made by ``scripts/setup_rsl_rl3.sh``) runs :data:`RSL_RL3_TESTS` and the tests
of generation-independent code in :data:`SHARED_TESTS`. Plain ``python -m pytest`` in either environment selects its
part. Tests marked ``cuda`` are skipped where torch sees no CUDA device; ``-m cuda`` selects them.
"""

from __future__ import annotations

import pathlib

import pytest

from genpo_ext.versions import rsl_rl_generation

TESTS_ROOT = pathlib.Path(__file__).parent
"""The folder of this file: every test path below is relative to it."""

RSL_RL3_TESTS = ("rsl_rl3", "isaaclab2")
"""Test folders that need rsl_rl 3 (and, for ``isaaclab2``, IsaacLab 2.3's sources in the environment)."""

SHARED_TESTS = (
    "core/test_coupled_flow.py",
    "core/test_bounded_exploration.py",
    "core/test_activations.py",
    "core/test_precision.py",
    "core/test_presets.py",
    "core/test_checkpoints.py",
    "core/test_distributed_launch.py",
)
"""Tests of the flow, its bounded exploration, its activation, its matmul precision, the GenPO presets, checkpoint selection and the
``--distributed`` ranks, which both rsl_rl generations share: the rsl_rl 3 environment runs them too."""


def pytest_collection_modifyitems(config, items: list[pytest.Item]) -> None:
    """Skip the tests marked ``cuda`` when torch sees no CUDA device."""
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="no CUDA device")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


def pytest_ignore_collect(collection_path: pathlib.Path, config) -> bool | None:
    """Ignore the tests that belong to the other rsl_rl generation's environment."""
    try:
        relative = collection_path.relative_to(TESTS_ROOT).as_posix()
    except ValueError:
        return None
    if relative == ".":
        return None
    if rsl_rl_generation() == 3:
        wanted = RSL_RL3_TESTS + SHARED_TESTS
        # keep wanted files and folders, what lies inside them, and the folders on the way to a wanted file
        inside_or_on_the_way = any(
            relative == path or relative.startswith(f"{path}/") or path.startswith(f"{relative}/") for path in wanted
        )
        return None if inside_or_on_the_way else True
    return True if relative.split("/")[0] in RSL_RL3_TESTS else None
