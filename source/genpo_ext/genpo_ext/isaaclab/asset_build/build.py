"""Build the offline locomotion assets: the robots of :mod:`..robot_assets` from their public descriptions.

Runs in the asset build's own environment (``scripts/build_assets.sh`` creates it), which has the importers of
``isaacsim-asset-isolated`` and reaches IsaacLab through the project's environment. For each robot it reads the
description at the pinned commit, converts it with IsaacLab's converter, restructures the result into IsaacLab's
prim, body and joint names and writes it where IsaacLab's robot config expects it; files shipped unchanged (the
ANYdrive network) are copied, and each source repository's licence file is placed beside them.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
from pathlib import Path

from ..offline_assets import OFFLINE_ASSET_ROOT
from ..robot_assets import COPIED_FILES, REPOSITORY_LICENSE_FILE, ROBOTS, license_notice
from . import sources
from .convert import convert_description
from .restructure import restructure

DEFAULT_CACHE = OFFLINE_ASSET_ROOT.parent / "assets_cache"
"""Folder for clones of the source repositories made by the build (ignored by git)."""


def build_parser() -> argparse.ArgumentParser:
    """Build the command-line parser."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--asset_root", type=Path, default=OFFLINE_ASSET_ROOT, help="Asset root to write into.")
    parser.add_argument(
        "--repository",
        action="append",
        default=[],
        metavar="OWNER/NAME=GIT_DIR",
        help="Use a local clone or mirror of a source repository instead of cloning it from GitHub.",
    )
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="Folder for clones made by the build.")
    return parser


def parse_repositories(values: list[str]) -> dict[str, Path]:
    """Return the ``OWNER/NAME=GIT_DIR`` pairs of ``--repository`` as a mapping."""
    pairs = [value.split("=", maxsplit=1) for value in values]
    if any(len(pair) != 2 for pair in pairs):
        raise SystemExit("[ERROR] genpo_ext: --repository takes OWNER/NAME=GIT_DIR")
    return {name: Path(path) for name, path in pairs}


def main(argv: list[str] | None = None) -> None:
    """Build every robot and copy every shipped file into the asset root."""
    args = build_parser().parse_args(argv)
    given = parse_repositories(args.repository)
    repositories = {robot.repository for robot in ROBOTS} | {copied.repository for copied in COPIED_FILES}
    git_dirs = {name: sources.git_dir(name, given.get(name), args.cache) for name in sorted(repositories)}
    with tempfile.TemporaryDirectory(prefix="genpo_assets_") as work:
        for robot in ROBOTS:
            checkout = Path(work, "sources", robot.repository)
            missing = sources.extract(git_dirs[robot.repository], robot.commit, robot.source_folder, checkout)
            check_unused(missing, checkout / robot.description)
            converted = convert_description(robot, checkout / robot.description, Path(work, "converted", robot.name))
            target = args.asset_root / robot.target
            restructure(robot, converted, target)
            print(f"[INFO] genpo_ext: built {target} ({target.stat().st_size / 1e3:.0f} kB, sha256 {_sha256(target)})")
    for copied in COPIED_FILES:
        target = args.asset_root / copied.target
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(sources.read_file(git_dirs[copied.repository], copied.commit, copied.path))
        print(f"[INFO] genpo_ext: copied {target} (sha256 {_sha256(target)})")
    for repository in sorted(repositories):
        commit = next(item.commit for item in (*ROBOTS, *COPIED_FILES) if item.repository == repository)
        target = args.asset_root / license_notice(repository)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(sources.read_file(git_dirs[repository], commit, REPOSITORY_LICENSE_FILE))


def check_unused(missing: list[str], description: Path) -> None:
    """Accept files a source repository lacks (a mirror may leave out its largest) only if the description does not
    name them.

    Raises:
        SourceError: If the description names a missing file.
    """
    text = description.read_text()
    needed = [path for path in missing if Path(path).name in text]
    if needed:
        raise sources.SourceError(f"{description.name} needs files the source repository lacks: {needed}")
    if missing:
        print(f"[INFO] genpo_ext: the source lacks {missing}, which {description.name} does not use")


def _sha256(path: Path) -> str:
    """Return the SHA-256 digest of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


if __name__ == "__main__":
    main()
