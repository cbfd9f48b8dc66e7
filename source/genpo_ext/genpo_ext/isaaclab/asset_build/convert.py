"""Conversion of a robot description to USD with IsaacLab's own converters (``isaaclab.sim.converters``).

Kit-less, the converters import the importers from the ``isaacsim-asset-isolated`` package, which lives in the asset
build's own environment (see ``scripts/build_assets.sh``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ..robot_assets import RobotAsset

FIXED_JOINT = "fixed"
"""URDF joint type of a rigid attachment."""

KEPT_FIXED_JOINT_MARKER = "genpo_kept_fixed"
"""Temporary URDF joint type that hides a kept fixed joint from the importer's merge of fixed joints."""

MERGED_URDF_SUFFIX = ".merged.urdf"
"""Suffix of the URDF whose fixed links are merged, written next to the description so that mesh paths resolve."""


def convert_description(robot: RobotAsset, description: Path, output_dir: Path) -> Path:
    """Convert a robot's MJCF or URDF to USD with IsaacLab's converter and return the USD's path.

    Args:
        robot: The robot.
        description: Its MJCF or URDF file.
        output_dir: Folder for the converter's output.
    """
    if robot.is_mjcf:
        from isaaclab.sim.converters import MjcfConverter, MjcfConverterCfg

        cfg = MjcfConverterCfg(asset_path=str(description), usd_dir=str(output_dir), force_usd_conversion=True)
        return Path(MjcfConverter(cfg).usd_path)

    from isaaclab.sim.converters import UrdfConverter, UrdfConverterCfg

    urdf = merge_fixed_links(description, robot.kept_fixed_links)
    cfg = UrdfConverterCfg(
        asset_path=str(urdf),
        usd_dir=str(output_dir),
        fix_base=False,
        merge_fixed_joints=False,
        force_usd_conversion=True,
    )
    return Path(UrdfConverter(cfg).usd_path)


def merge_fixed_links(urdf: Path, kept_links: tuple[str, ...]) -> Path:
    """Write a copy of a URDF whose fixed links are merged into their parents, except ``kept_links``.

    The merge is the URDF importer's own (:func:`isaacsim.asset.importer.urdf.impl.urdf_utils.merge_fixed_joints`);
    the fixed joints of the kept links are hidden from it and restored afterwards.

    Args:
        urdf: The URDF file.
        kept_links: Child links whose fixed joints stay.

    Returns:
        The merged URDF, next to ``urdf``.
    """
    from isaacsim.asset.importer.urdf.impl.urdf_utils import merge_fixed_joints

    marked = urdf.with_suffix(MERGED_URDF_SUFFIX)
    tree = ET.parse(urdf)
    for joint in _fixed_joints_to(tree, kept_links, FIXED_JOINT):
        joint.set("type", KEPT_FIXED_JOINT_MARKER)
    tree.write(marked)
    merge_fixed_joints(str(marked), str(marked))
    tree = ET.parse(marked)
    for joint in _fixed_joints_to(tree, kept_links, KEPT_FIXED_JOINT_MARKER):
        joint.set("type", FIXED_JOINT)
    tree.write(marked)
    return marked


def _fixed_joints_to(tree: ET.ElementTree, links: tuple[str, ...], joint_type: str) -> list[ET.Element]:
    """Return the joints of ``joint_type`` whose child is one of ``links``."""
    return [
        joint
        for joint in tree.getroot().findall("joint")
        if joint.get("type") == joint_type and joint.find("child").get("link") in links
    ]
