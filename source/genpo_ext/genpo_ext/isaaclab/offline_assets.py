"""Offline IsaacLab assets: the small assets the CPU default tasks need, used when the asset server is unreachable.

IsaacLab reads its asset root from ``ISAACSIM_ASSET_ROOT`` (a folder with the ``Isaac/...`` layout of the asset
server) once, when :mod:`isaaclab.utils.assets` is first imported. :func:`configure_asset_root` therefore runs
before any IsaacLab task config is imported. It leaves a root chosen by the user alone, probes the asset server
otherwise, and points ``ISAACSIM_ASSET_ROOT`` at this repository's ``assets`` folder when the server cannot be
reached or when ``GENPO_OFFLINE_ASSETS=1`` requests it. The folder ships a ground plane and a cartpole authored with
IsaacLab's prim and joint names; the real Ant is copied from the ``newton`` wheel to where IsaacLab expects it.
No stand-in robot is ever substituted: :func:`check_assets_exist` names every asset of a task that is missing.
"""

from __future__ import annotations

import dataclasses
import filecmp
import importlib.util
import os
import re
import shutil
import sys
import urllib.error
import urllib.request
from functools import cache
from pathlib import Path

ASSET_ROOT_ENV_VAR = "ISAACSIM_ASSET_ROOT"
"""IsaacLab's variable that replaces the asset server by a folder with the same layout."""

ASSET_REGION_ENV_VAR = "ISAACSIM_ASSET_REGION_PROFILE"
"""IsaacLab's variable that selects a regional asset server; a user who sets it has chosen a server."""

OFFLINE_ASSETS_ENV_VAR = "GENPO_OFFLINE_ASSETS"
"""``1``: always use the offline assets; ``0``: never; unset: use them when the asset server is unreachable."""

OFFLINE_ASSET_ROOT = Path(__file__).resolve().parents[4] / "assets"
"""The repository's offline asset root, laid out like the asset server."""

ASSET_SERVER_PROBE_FILE = "Isaac/IsaacLab/Environments/Grid/default_ground_plane_checker_v1/default_ground_plane.usda"
"""Asset whose availability decides whether the asset server is reachable (every default task loads it)."""

ASSET_SERVER_PROBE_TIMEOUT_S = 3.0
"""Seconds to wait for the asset server before falling back to the offline assets."""

KIT_ASSET_ROOT_PATTERN = re.compile(r'\s*persistent\.isaac\.asset_root\.default\s*=\s*"([^"]*)"')
"""Setting of IsaacLab's kit experience file that holds the default asset server root."""

NEWTON_ANT_FILE = Path("examples", "assets", "ant.usda")
"""The real Ant shipped by the ``newton`` wheel, relative to the package; its names match IsaacLab's ``ANT_CFG``."""

ISAACLAB_ANT_FILE = Path("Isaac", "Robots", "IsaacSim", "Ant", "ant_instanceable.usd")
"""Where IsaacLab's ``ANT_CFG`` expects the Ant below the asset root."""

ASSET_PATH_FIELDS = ("usd_path", "asset_path", "network_file")
"""Config fields that name a file the simulation must load (``network_file``: an actuator network)."""


def configure_asset_root() -> str | None:
    """Point IsaacLab at the offline assets when requested or when the asset server is unreachable.

    Call this before IsaacLab task configs are imported; later calls change nothing.

    Returns:
        The asset root IsaacLab will use when it is a local folder, else None (the asset server).
    """
    if os.environ.get(ASSET_ROOT_ENV_VAR) or os.environ.get(ASSET_REGION_ENV_VAR):
        return local_asset_root()
    request = os.environ.get(OFFLINE_ASSETS_ENV_VAR)
    if request == "0" or (request != "1" and asset_server_reachable()):
        return None
    if "isaaclab.utils.assets" in sys.modules:
        print(
            f"[WARNING] genpo_ext: IsaacLab's asset root was fixed before the offline assets could be selected; set"
            f" {ASSET_ROOT_ENV_VAR}={OFFLINE_ASSET_ROOT} before starting to use them."
        )
        return None
    place_newton_ant(OFFLINE_ASSET_ROOT)
    os.environ[ASSET_ROOT_ENV_VAR] = str(OFFLINE_ASSET_ROOT)
    reason = "requested" if request == "1" else "the asset server is unreachable"
    print(f"[INFO] genpo_ext: using the offline IsaacLab assets in {OFFLINE_ASSET_ROOT} ({reason}).")
    return str(OFFLINE_ASSET_ROOT)


def local_asset_root() -> str | None:
    """Return the asset root IsaacLab uses when it is a local folder, else None (an asset server)."""
    root = os.environ.get(ASSET_ROOT_ENV_VAR)
    return root if root and os.path.isdir(root) else None


@cache
def asset_server_reachable() -> bool:
    """Return whether IsaacLab's default asset server answers within :data:`ASSET_SERVER_PROBE_TIMEOUT_S`."""
    server_root = default_asset_server_root()
    if not server_root.startswith(("http://", "https://")):
        return bool(server_root) and os.path.isdir(server_root)
    request = urllib.request.Request(f"{server_root}/{ASSET_SERVER_PROBE_FILE}", method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=ASSET_SERVER_PROBE_TIMEOUT_S):
            return True
    except urllib.error.HTTPError:
        # the server answered, so it is reachable even if it refused this request
        return True
    except (urllib.error.URLError, OSError):
        return False


def default_asset_server_root() -> str:
    """Return the asset server root configured in IsaacLab's kit experience file, without importing IsaacLab's
    asset module (whose import fixes the asset root for the whole process)."""
    from isaaclab.paths import ISAACLAB_ROOT

    kit_file = Path(ISAACLAB_ROOT, "apps", "isaaclab.python.kit")
    for line in reversed(kit_file.read_text(encoding="utf-8").splitlines()):
        match = KIT_ASSET_ROOT_PATTERN.match(line)
        if match:
            return match.group(1)
    return ""


def place_newton_ant(asset_root: Path) -> Path:
    """Copy the real Ant of the ``newton`` wheel to where IsaacLab's ``ANT_CFG`` expects it below ``asset_root``.

    Args:
        asset_root: Folder laid out like the asset server.

    Returns:
        The path of the placed Ant.
    """
    source = Path(importlib.util.find_spec("newton").submodule_search_locations[0], NEWTON_ANT_FILE)
    target = asset_root / ISAACLAB_ANT_FILE
    if not target.is_file() or not filecmp.cmp(source, target, shallow=False):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return target


def check_assets_exist(cfg: object) -> None:
    """Fail fast when a config names local asset files that do not exist.

    Remote paths (the asset server) are left to IsaacLab.

    Args:
        cfg: An environment config (any nesting of config classes, dicts and sequences).

    Raises:
        FileNotFoundError: Naming every missing file and how to provide it.
    """
    from isaaclab.markers import VisualizationMarkersCfg

    # debug markers (e.g. the velocity command's arrow) are loaded only when a visualizer shows them
    paths = _asset_paths(cfg, set(), skipped=(VisualizationMarkersCfg,))
    missing = sorted({path for path in paths if _is_local(path) and not os.path.exists(path)})
    if not missing:
        return
    asset_root = os.environ.get(ASSET_ROOT_ENV_VAR, "<asset root>")
    listing = "\n".join(f"  - {path}" for path in missing)
    raise FileNotFoundError(
        f"This task needs asset files that are missing:\n{listing}\n"
        f"The asset root is {ASSET_ROOT_ENV_VAR}={asset_root}. Provide the files there with the asset server's"
        f" layout, point {ASSET_ROOT_ENV_VAR} at a folder that has them, or run where the asset server is reachable"
        f" (with {OFFLINE_ASSETS_ENV_VAR} unset or 0). The offline assets cover Isaac-Cartpole-Direct,"
        " Isaac-Cartpole, the Ant tasks and the H1 and ANYmal-C velocity tasks."
    )


def _asset_paths(node: object, visited: set[int], skipped: tuple[type, ...] = ()) -> list[str]:
    """Collect the values of :data:`ASSET_PATH_FIELDS` anywhere in a config tree, except below ``skipped`` types."""
    if id(node) in visited or isinstance(node, skipped):
        return []
    visited.add(id(node))
    if isinstance(node, dict):
        children = list(node.values())
    elif isinstance(node, (list, tuple)):
        children = list(node)
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        children = list(vars(node).values())
        paths = [getattr(node, name) for name in ASSET_PATH_FIELDS if isinstance(getattr(node, name, None), str)]
        return paths + [path for child in children for path in _asset_paths(child, visited, skipped)]
    else:
        return []
    return [path for child in children for path in _asset_paths(child, visited, skipped)]


def _is_local(path: str) -> bool:
    """Return whether a path names a local file rather than a URL."""
    return "://" not in path
