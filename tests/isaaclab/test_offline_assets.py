"""Offline assets: the shipped files, the placed Ant, and the fail-fast check of missing files."""

from __future__ import annotations

import pytest
from pxr import Usd

from genpo_ext.isaaclab import offline_assets
from genpo_ext.isaaclab.offline_assets import OFFLINE_ASSET_ROOT, check_assets_exist, place_newton_ant

CARTPOLE = OFFLINE_ASSET_ROOT / "Isaac/IsaacLab/Robots/Classic/Cartpole/cartpole.usd"
GROUND_PLANE = OFFLINE_ASSET_ROOT / offline_assets.ASSET_SERVER_PROBE_FILE
ANT_JOINTS = {"front_left_leg", "front_left_foot", "front_right_leg", "front_right_foot"}


def joint_names(stage: Usd.Stage) -> set[str]:
    return {prim.GetName() for prim in stage.Traverse() if "Joint" in prim.GetTypeName()}


def test_cartpole_has_isaaclabs_joint_names():
    assert {"slider_to_cart", "cart_to_pole"} <= joint_names(Usd.Stage.Open(str(CARTPOLE)))


def test_ground_plane_has_the_collider_the_spawner_needs():
    stage = Usd.Stage.Open(str(GROUND_PLANE))
    assert any(prim.GetTypeName() == "Plane" for prim in stage.Traverse())


def test_the_real_ant_is_placed_where_isaaclab_expects_it(tmp_path):
    ant = place_newton_ant(tmp_path)
    assert ant == tmp_path / offline_assets.ISAACLAB_ANT_FILE
    assert ANT_JOINTS <= joint_names(Usd.Stage.Open(str(ant)))


def test_missing_assets_fail_fast_naming_the_file(tmp_path):
    from isaaclab.sim import GroundPlaneCfg, UsdFileCfg

    missing = tmp_path / "Isaac/Robots/Unitree/H1/h1.usd"
    cfg = {"robot": UsdFileCfg(usd_path=str(missing)), "ground": GroundPlaneCfg(usd_path=str(GROUND_PLANE))}
    with pytest.raises(FileNotFoundError, match="ISAACSIM_ASSET_ROOT") as error:
        check_assets_exist(cfg)
    assert str(missing) in str(error.value) and str(GROUND_PLANE) not in str(error.value)


def test_remote_and_present_assets_pass(tmp_path):
    from isaaclab.sim import UsdFileCfg

    # fails with FileNotFoundError if a remote URL or a present local file were reported as missing
    check_assets_exist([UsdFileCfg(usd_path="https://example.invalid/robot.usd"), UsdFileCfg(usd_path=str(CARTPOLE))])
