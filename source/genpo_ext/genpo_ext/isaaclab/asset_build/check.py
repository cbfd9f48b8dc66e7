"""Check the shipped robots against their descriptions (see :mod:`genpo_ext.isaaclab.robot_check`).

With the source repositories (``--repository`` or a clone from GitHub, as for the build) each shipped USD is
compared with newton's import of its description, and ``--write`` records the descriptions' summaries in the asset
root. With ``--recorded`` the comparison uses those records instead, for machines without the sources.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from ..offline_assets import OFFLINE_ASSET_ROOT
from ..robot_assets import ROBOTS, RobotAsset
from ..robot_check import (
    RobotSummary,
    differences,
    largest_position_error,
    read_references,
    summarize_description,
    summarize_usd,
    write_references,
)
from . import sources
from .build import DEFAULT_CACHE, parse_repositories


def build_parser() -> argparse.ArgumentParser:
    """Build the command-line parser."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--asset_root", type=Path, default=OFFLINE_ASSET_ROOT, help="Asset root to check.")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--repository",
        action="append",
        default=[],
        metavar="OWNER/NAME=GIT_DIR",
        help="Use a local clone or mirror of a source repository instead of cloning it from GitHub.",
    )
    source.add_argument("--recorded", action="store_true", help="Compare with the recorded summaries instead.")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="Folder for clones made by the check.")
    parser.add_argument("--write", action="store_true", help="Record the descriptions' summaries in the asset root.")
    return parser


def description_summaries(
    asset_root: Path, given: dict[str, Path], cache: Path
) -> dict[str, tuple[RobotAsset, RobotSummary]]:
    """Return each robot's description summary, read from its source repository at the pinned commit."""
    summaries = {}
    with tempfile.TemporaryDirectory(prefix="genpo_assets_check_") as work:
        for robot in ROBOTS:
            repository = sources.git_dir(robot.repository, given.get(robot.repository), cache)
            sources.extract(repository, robot.commit, robot.source_folder, Path(work))
            bodies = list(summarize_usd(asset_root / robot.target).body_positions)
            summaries[robot.name] = (robot, summarize_description(robot, Path(work, robot.description), bodies))
    return summaries


def main(argv: list[str] | None = None) -> None:
    """Compare every shipped robot with its description; exit with status 1 when one differs."""
    args = build_parser().parse_args(argv)
    if args.recorded:
        references = read_references(args.asset_root)
    else:
        summaries = description_summaries(args.asset_root, parse_repositories(args.repository), args.cache)
        references = {name: summary for name, (_, summary) in summaries.items()}
        if args.write:
            print(f"[INFO] genpo_ext: recorded the descriptions in {write_references(args.asset_root, summaries)}")
    failed = False
    for robot in ROBOTS:
        shipped, reference = summarize_usd(args.asset_root / robot.target), references[robot.name]
        problems = differences(shipped, reference)
        failed |= bool(problems)
        print(
            f"[check] {robot.name}: {len(shipped.body_positions)} bodies, {len(shipped.joints)} joints,"
            f" {shipped.total_mass:.3f} kg (description {reference.total_mass:.3f} kg), forward kinematics within"
            f" {largest_position_error(shipped, reference):.1e} m: {'DIFFERS' if problems else 'agrees'}"
        )
        for problem in problems:
            print(f"  - {problem}")
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
