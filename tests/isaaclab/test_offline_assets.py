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


def test_visualization_markers_are_not_required(tmp_path):
    from isaaclab.markers import VisualizationMarkersCfg
    from isaaclab.sim import UsdFileCfg

    # the velocity command's arrow is a debug marker that only a visualizer loads
    arrow = VisualizationMarkersCfg(
        prim_path="/Visuals/Command", markers={"arrow": UsdFileCfg(usd_path=str(tmp_path / "arrow_x.usd"))}
    )
    check_assets_exist({"marker": arrow, "robot": UsdFileCfg(usd_path=str(CARTPOLE))})


def test_a_missing_actuator_network_fails_fast(tmp_path):
    from isaaclab_assets.robots.anymal import ANYDRIVE_3_LSTM_ACTUATOR_CFG

    missing = tmp_path / "anydrive_3_lstm_jit.pt"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        check_assets_exist({"legs": ANYDRIVE_3_LSTM_ACTUATOR_CFG.replace(network_file=str(missing))})


LOCOMOTION_TASKS = [
    "Isaac-Velocity-Flat-H1",
    "Isaac-Velocity-Rough-H1",
    "IsaacContrib-Velocity-Flat-AnymalC",
    "IsaacContrib-Velocity-Rough-AnymalC",
]
"""The locomotion tasks the offline assets cover."""


@pytest.mark.parametrize("task", LOCOMOTION_TASKS)
def test_the_locomotion_tasks_find_every_asset_they_load_offline(task):
    if offline_assets.configure_asset_root() is None:
        pytest.skip("IsaacLab uses the asset server in this session")
    import genpo_ext.isaaclab.registration  # noqa: F401
    from isaaclab_tasks.utils.parse_cfg import load_cfg_from_registry

    check_assets_exist(load_cfg_from_registry(task, "env_cfg_entry_point"))


def test_a_task_whose_default_physics_needs_isaac_sim_gets_its_kitless_preset(capsys):
    if offline_assets.configure_asset_root() is None:
        pytest.skip("IsaacLab uses the asset server in this session")
    import genpo_ext.isaaclab.registration  # noqa: F401
    from genpo_ext.isaaclab.launch import with_kitless_physics

    overrides = ["env.episode_length_s=1.0"]
    capsys.readouterr()
    assert with_kitless_physics("IsaacContrib-Velocity-Flat-AnymalC", overrides) == [
        *overrides,
        "env.sim.physics=newton_mjwarp",
    ]
    (line,) = [line for line in capsys.readouterr().out.splitlines() if "genpo_ext" in line]
    assert "Isaac Sim is not installed" in line and "env.sim.physics=newton_mjwarp" in line
    # a task that runs kit-less by default, and the user's own choice, are left alone
    assert with_kitless_physics("Isaac-Velocity-Flat-H1", overrides) == overrides
    chosen = ["env.sim.physics=newton_kamino"]
    assert with_kitless_physics("IsaacContrib-Velocity-Flat-AnymalC", chosen) == chosen
    assert "genpo_ext" not in capsys.readouterr().out
