"""The IsaacLab 2.3 train/play command lines against IsaacLab 2.3.2's ``AppLauncher`` (read from its source, since
it cannot be imported without Isaac Sim), and task id resolution."""

from __future__ import annotations

import ast
import pytest
import subprocess
import sys
from isaaclab2_sources import ISAACLAB2_SOURCES

from genpo_ext.isaaclab2 import play, train
from genpo_ext.isaaclab2.launch import UnknownTaskError, resolve_task_id

APP_LAUNCHER_SOURCE = ISAACLAB2_SOURCES / "isaaclab" / "isaaclab" / "app" / "app_launcher.py"
"""IsaacLab 2.3.2's ``AppLauncher``."""

HEAVY_PACKAGES = ("torch", "rsl_rl", "isaaclab", "isaaclab_rl", "isaaclab_tasks")
"""Packages that must not load before ``AppLauncher`` has started Isaac Sim."""

RESERVED_NAME_TABLES = ("_APPLAUNCHER_CFG_INFO", "_SIM_APP_CFG_TYPES")
"""``AppLauncher`` tables of argument names it adds itself or passes to Isaac Sim's ``SimulationApp``; a script's own
argument of one of these names is refused (or retyped) at start-up."""


def app_launcher_reserved_names() -> set[str]:
    """Option strings ``AppLauncher.add_app_launcher_args`` adds, and the names of :data:`RESERVED_NAME_TABLES`."""
    tree = ast.parse(APP_LAUNCHER_SOURCE.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "add_argument":
            names |= {arg.value.lstrip("-") for arg in node.args if isinstance(arg, ast.Constant)}
        targets = [node.target] if isinstance(node, ast.AnnAssign) else getattr(node, "targets", [])
        if any(getattr(target, "id", None) in RESERVED_NAME_TABLES for target in targets):
            names |= {key.value for key in node.value.keys if isinstance(key, ast.Constant)}
    return names


@pytest.mark.parametrize("module", [train, play], ids=["train", "play"])
def test_command_line_leaves_app_launcher_its_arguments(isaaclab2_task_ids: list[str], module) -> None:
    reserved = app_launcher_reserved_names()
    assert {"headless", "device", "enable_cameras", "width", "renderer"} <= reserved, "the source must be parsed"
    ours = {action.dest for action in module.build_parser()._actions if action.dest != "help"}
    assert ours and not ours & reserved
    args = module.build_parser().parse_args(["--task", "Isaac-Ant-v0"])
    assert args.algo == "genpo"
    assert module.build_parser().parse_args(["--task", "Isaac-Ant-v0", "--algo", "genpo_recommended"]).algo


@pytest.mark.parametrize("module", [train, play], ids=["train", "play"])
def test_unknown_algo_names_the_choices(isaaclab2_task_ids: list[str], module, capsys) -> None:
    with pytest.raises(SystemExit):
        module.build_parser().parse_args(["--task", "Isaac-Ant-v0", "--algo", "genpo_best"])
    assert "choose from genpo, genpo_recommended, ppo" in capsys.readouterr().err.replace("'", "")


def test_task_ids_resolve_or_list_close_matches(isaaclab2_task_ids: list[str]) -> None:
    assert resolve_task_id("Isaac-Ant-v0", isaaclab2_task_ids) == "Isaac-Ant-v0"
    with pytest.raises(UnknownTaskError, match="Close matches: Isaac-Ant-v0"):
        resolve_task_id("Isaac-Ant", isaaclab2_task_ids)
    with pytest.raises(UnknownTaskError, match="not an IsaacLab 2.3 task"):
        resolve_task_id("HalfCheetah-v5x", ["Isaac-Ant-v0"])


def test_backends_import_nothing_before_the_simulator_starts() -> None:
    # a fresh interpreter without the opened IsaacLab sources, as the scripts start
    code = (
        "import sys, genpo_ext.isaaclab2.train, genpo_ext.isaaclab2.play; "
        f"print(sorted({{name.split('.')[0] for name in sys.modules}} & set({HEAVY_PACKAGES!r})))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "[]"
