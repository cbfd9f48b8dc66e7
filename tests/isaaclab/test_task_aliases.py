"""IsaacLab 2 task ids resolve to their IsaacLab 3 successors; unknown ids fail with close matches."""

from __future__ import annotations

import gymnasium as gym
import pytest

from genpo_ext.isaaclab import offline_assets

offline_assets.configure_asset_root()

import genpo_ext.isaaclab.registration  # noqa: E402, F401
from genpo_ext.isaaclab.task_aliases import RENAMED_TASKS, UnknownTaskError, resolve_task_id  # noqa: E402

REGISTERED = list(gym.registry.keys())


@pytest.mark.parametrize(
    ("isaaclab2_id", "isaaclab3_id"),
    [
        ("Isaac-Velocity-Rough-H1-v0", "Isaac-Velocity-Rough-H1"),
        ("Isaac-Velocity-Flat-Anymal-D-v0", "Isaac-Velocity-Flat-AnymalD"),
        ("Isaac-Repose-Cube-Shadow-Direct-v0", "Isaac-Reorient-Cube-Shadow-Direct"),
        ("Isaac-Lift-Cube-Franka-v0", "Isaac-Lift-Franka"),
        ("Isaac-Velocity-Rough-Unitree-Go2-v0", "Isaac-Velocity-Rough-UnitreeGo2"),
        ("Isaac-Cartpole-Direct-v0", "Isaac-Cartpole-Direct"),
        ("Isaac-Ant-v0", "Isaac-Ant"),
        ("Isaac-Cartpole-Direct", "Isaac-Cartpole-Direct"),
        ("Isaac-Velocity-Flat-Anymal-C-v0", "IsaacContrib-Velocity-Flat-AnymalC"),
        ("Isaac-Velocity-Rough-Anymal-C", "IsaacContrib-Velocity-Rough-AnymalC"),
    ],
)
def test_isaaclab2_ids_resolve(isaaclab2_id, isaaclab3_id):
    assert resolve_task_id(isaaclab2_id, REGISTERED) == isaaclab3_id


def test_every_alias_names_a_registered_task():
    assert set(RENAMED_TASKS.values()) <= set(REGISTERED)


def test_the_papers_quadcopter_fails_with_a_reason_and_close_matches():
    with pytest.raises(UnknownTaskError, match="no longer ships") as error:
        resolve_task_id("Isaac-Quadcopter-Direct-v0", REGISTERED)
    assert "Close matches:" in str(error.value)


def test_a_typo_lists_the_intended_task():
    with pytest.raises(UnknownTaskError, match="Isaac-Cartpole-Direct"):
        resolve_task_id("Isaac-Cartpol-Direct", REGISTERED)
