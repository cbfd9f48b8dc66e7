"""The shipped locomotion robots: they agree with the public descriptions they were built from, have IsaacLab's
structure and names, sit where IsaacLab's configs look, and carry their licences; the source check can fail.

No simulation: newton imports the shipped USDs (forward kinematics on the CPU), pxr reads their structure.
"""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from pxr import Usd, UsdPhysics

from genpo_ext.isaaclab import offline_assets

offline_assets.configure_asset_root()

from genpo_ext.isaaclab.offline_assets import OFFLINE_ASSET_ROOT  # noqa: E402
from genpo_ext.isaaclab.robot_assets import (  # noqa: E402
    ANYMAL_C,
    COPIED_FILES,
    H1,
    REFERENCE_FILE,
    ROBOTS,
    license_notice,
)
from genpo_ext.isaaclab.robot_check import differences, read_references, summarize_usd  # noqa: E402

REFERENCES = read_references(OFFLINE_ASSET_ROOT)
EXPECTED_MASS_KG = {H1.name: 51.650, ANYMAL_C.name: 52.135}
"""Masses of the descriptions as newton imports them (sums of their inertial elements)."""

MASS_ATOL_KG = 1e-3
"""Tolerance of :data:`EXPECTED_MASS_KG`."""

TASK_BODIES = {
    H1.name: ["pelvis", "torso_link", "left_ankle_link", "right_ankle_link"],
    ANYMAL_C.name: ["base", *(f"{leg}_{part}" for leg in ("LF", "LH", "RF", "RH") for part in ("THIGH", "FOOT"))],
}
"""Bodies the velocity tasks address by name (contact sensor, rewards, terminations, height scanner, events)."""


def robot_cfg(robot):
    """Return IsaacLab's articulation config of a shipped robot."""
    from isaaclab_assets.robots.anymal import ANYMAL_C_CFG
    from isaaclab_assets.robots.unitree import H1_MINIMAL_CFG

    return {H1.name: H1_MINIMAL_CFG, ANYMAL_C.name: ANYMAL_C_CFG}[robot.name]


@pytest.mark.parametrize("robot", ROBOTS, ids=lambda robot: robot.name)
def test_the_shipped_robot_agrees_with_its_description(robot):
    shipped = summarize_usd(OFFLINE_ASSET_ROOT / robot.target)
    assert differences(shipped, REFERENCES[robot.name]) == []
    assert shipped.total_mass == pytest.approx(EXPECTED_MASS_KG[robot.name], abs=MASS_ATOL_KG)


def test_the_source_check_finds_a_changed_mass_a_moved_body_and_a_missing_joint():
    reference = REFERENCES[H1.name]
    changed = dataclasses.replace(
        reference,
        joints={name: limits for name, limits in reference.joints.items() if name != "left_knee"},
        group_masses={**reference.group_masses, "torso_link": reference.group_masses["torso_link"] * 1.01},
        body_positions={
            **reference.body_positions,
            "left_ankle_link": [[x + 1e-3, y, z] for x, y, z in reference.body_positions["left_ankle_link"]],
        },
    )
    problems = differences(changed, reference)
    assert len(problems) == 3
    assert any("left_knee" in problem for problem in problems)
    assert any("torso_link: mass" in problem for problem in problems)
    assert any("left_ankle_link: forward kinematics" in problem for problem in problems)


@pytest.mark.parametrize("robot", ROBOTS, ids=lambda robot: robot.name)
def test_the_robot_is_where_isaaclabs_config_loads_it(robot):
    if offline_assets.local_asset_root() is None:
        pytest.skip("IsaacLab uses the asset server in this session")
    assert robot_cfg(robot).spawn.usd_path == str(OFFLINE_ASSET_ROOT / robot.target)


@pytest.mark.parametrize("robot", ROBOTS, ids=lambda robot: robot.name)
def test_bodies_are_children_of_the_robot_prim_and_joints_have_isaaclabs_names(robot):
    stage = Usd.Stage.Open(str(OFFLINE_ASSET_ROOT / robot.target))
    robot_prim = stage.GetDefaultPrim()
    bodies = [prim for prim in stage.Traverse() if prim.HasAPI(UsdPhysics.RigidBodyAPI)]
    assert all(body.GetParent() == robot_prim for body in bodies)
    assert set(TASK_BODIES[robot.name]) <= {body.GetName() for body in bodies}
    movable = [prim.GetName() for prim in stage.Traverse() if prim.IsA(UsdPhysics.RevoluteJoint)]
    patterns = [pattern for actuator in robot_cfg(robot).actuators.values() for pattern in actuator.joint_names_expr]
    # every movable joint is driven by exactly one of IsaacLab's actuator groups
    assert all(sum(bool(re.fullmatch(pattern, joint)) for pattern in patterns) == 1 for joint in movable)
    assert len(movable) == len(REFERENCES[robot.name].joints)


def test_each_shipped_file_carries_its_repositorys_licence_and_source():
    repositories = {robot.repository for robot in ROBOTS} | {copied.repository for copied in COPIED_FILES}
    for repository in repositories:
        assert "Redistribution and use" in (OFFLINE_ASSET_ROOT / license_notice(repository)).read_text()
    records = json.loads((OFFLINE_ASSET_ROOT / REFERENCE_FILE).read_text())
    assert {name: (record["repository"], record["commit"]) for name, record in records.items()} == {
        robot.name: (robot.repository, robot.commit) for robot in ROBOTS
    }
    for copied in COPIED_FILES:
        assert (OFFLINE_ASSET_ROOT / copied.target).is_file()


def test_the_actuator_network_is_the_lstm_isaaclab_runs():
    import torch

    (network_file,) = [OFFLINE_ASSET_ROOT / copied.target for copied in COPIED_FILES]
    network = torch.jit.load(str(network_file))
    # the state layout IsaacLab's ActuatorNetLSTM derives from the weights: (layers, joints, hidden size)
    num_layers = len(network.lstm.state_dict()) // 4
    hidden_size = network.lstm.state_dict()["weight_hh_l0"].shape[1]
    num_joints = 3
    state = torch.zeros(num_layers, num_joints, hidden_size), torch.zeros(num_layers, num_joints, hidden_size)
    torques, _ = network(torch.zeros(num_joints, 1, 2), state)
    assert torques.shape == (num_joints,) and torch.isfinite(torques).all()
