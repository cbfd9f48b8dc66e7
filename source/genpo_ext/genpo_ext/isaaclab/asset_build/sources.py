"""The public repositories the robots are built from, checked out at the commits :mod:`..robot_assets` pins.

A repository comes from a git directory the user names (a clone, a bare mirror) or is cloned from GitHub into a
cache folder. Files are read from the pinned commit with git itself, so a working tree's local changes never reach
a build.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

GITHUB_URL = "https://github.com/{repository}.git"
"""Clone address of a public GitHub repository."""


class SourceError(RuntimeError):
    """Raised when a source repository or one of its files cannot be read."""


def git_dir(repository: str, given: Path | None, cache: Path) -> Path:
    """Return a git directory holding ``repository``: ``given`` when set, else a clone in ``cache``.

    Args:
        repository: GitHub repository, ``owner/name``.
        given: A clone or bare mirror of the repository, or None to clone it.
        cache: Folder for clones made here.

    Raises:
        SourceError: If ``given`` is no git directory or the clone fails.
    """
    if given is not None:
        return _resolve_git_dir(given)
    clone = cache / repository.replace("/", "+")
    if not clone.is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        _git("clone", "--bare", "--filter=blob:none", GITHUB_URL.format(repository=repository), str(clone))
    return _resolve_git_dir(clone)


def extract(repository_git_dir: Path, commit: str, folder: str, destination: Path) -> list[str]:
    """Write the files below ``folder`` at ``commit`` into ``destination`` (keeping their repository paths).

    Args:
        repository_git_dir: Git directory of the repository.
        commit: Commit to read.
        folder: Path inside the repository (a folder or one file).
        destination: Folder to write into.

    Returns:
        The repository paths that could not be read (a mirror may lack its largest files); the caller decides
        whether the build needs them.
    """
    listing = _git("--git-dir", str(repository_git_dir), "ls-tree", "-r", commit, "--", folder)
    unreadable = []
    for line in listing.splitlines():
        meta, path = line.split("\t", maxsplit=1)
        blob = meta.split()[2]
        target = destination / path
        target.parent.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            ["git", "--git-dir", str(repository_git_dir), "cat-file", "blob", blob], capture_output=True, check=False
        )
        if result.returncode != 0:
            unreadable.append(path)
            continue
        target.write_bytes(result.stdout)
    if not listing:
        raise SourceError(f"{folder} does not exist at commit {commit} of {repository_git_dir}")
    return unreadable


def read_file(repository_git_dir: Path, commit: str, path: str) -> bytes:
    """Return the content of one file at ``commit``.

    Raises:
        SourceError: If the file cannot be read.
    """
    result = subprocess.run(
        ["git", "--git-dir", str(repository_git_dir), "show", f"{commit}:{path}"], capture_output=True, check=False
    )
    if result.returncode != 0:
        raise SourceError(f"cannot read {path} at {commit} of {repository_git_dir}: {result.stderr.decode().strip()}")
    return result.stdout


def _resolve_git_dir(path: Path) -> Path:
    """Return the git directory of a clone or bare repository at ``path``."""
    try:
        found = _git("-C", str(path), "rev-parse", "--absolute-git-dir").strip()
    except SourceError as error:
        raise SourceError(f"{path} is not a git repository: {error}") from None
    return Path(found)


def _git(*args: str) -> str:
    """Run git and return its output.

    Raises:
        SourceError: If git fails.
    """
    result = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SourceError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout
