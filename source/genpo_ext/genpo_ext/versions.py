"""Which rsl_rl and IsaacLab generations are installed: the two seams genpo_ext plugs into.

Cheap to import and to call: it reads package metadata and import specs, never imports torch, rsl_rl or IsaacLab.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re

RSL_RL_DISTRIBUTION = "rsl-rl-lib"
"""The distribution name of rsl_rl on the package index."""

SUPPORTED_RSL_RL_RANGES: dict[int, tuple[tuple[int, ...], tuple[int, ...]]] = {
    3: ((3, 0, 1), (3, 2)),
    5: ((5, 5, 1), (5, 6)),
}
"""Per rsl_rl generation genpo_ext plugs into, the supported ``[lowest, above)`` release range: 3.0.1-3.1.x (one
``ActorCritic`` policy, resolved by ``eval`` in the runner; IsaacLab 2.3) and 5.5.x (separate actor and critic
models; IsaacLab 3). The releases between have other seams."""

RELEASE_PATTERN = re.compile(r"\d+(\.\d+)*")
"""The numeric release at the start of a version string (PEP 440)."""

ISAACLAB3_ENTRYPOINTS_MODULE = "isaaclab_rl.entrypoints"
"""Module of IsaacLab 3's train/play command line, which IsaacLab 2 does not have."""


class UnsupportedRslRlError(ImportError):
    """Raised when the installed rsl_rl is missing or outside the releases genpo_ext supports."""


def installed_rsl_rl_version() -> str | None:
    """Return the installed rsl_rl version string, or None when rsl_rl is not installed."""
    try:
        return importlib.metadata.version(RSL_RL_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None


def rsl_rl_generation() -> int | None:
    """Return the generation (3 or 5) of the installed rsl_rl, or None when it is missing or unsupported."""
    version = installed_rsl_rl_version()
    if version is None:
        return None
    release = _release(version)
    for generation, (lowest, above) in SUPPORTED_RSL_RL_RANGES.items():
        if lowest <= release < above:
            return generation
    return None


def require_rsl_rl_generation() -> int:
    """Return the generation of the installed rsl_rl.

    Raises:
        UnsupportedRslRlError: If rsl_rl is missing or its version is outside :data:`SUPPORTED_RSL_RL_RANGES`,
            naming the installed version and the supported ranges.
    """
    generation = rsl_rl_generation()
    if generation is None:
        supported = ", ".join(
            f"{_dotted(lowest)} <= version < {_dotted(above)}" for lowest, above in SUPPORTED_RSL_RL_RANGES.values()
        )
        raise UnsupportedRslRlError(
            f"genpo_ext supports {RSL_RL_DISTRIBUTION} {supported} (IsaacLab 2.3 and IsaacLab 3); installed: "
            f"{installed_rsl_rl_version() or 'none'}."
        )
    return generation


def isaaclab_generation() -> int | None:
    """Return the installed IsaacLab generation (2 or 3), or None when IsaacLab is not installed.

    IsaacLab 3 ships its train/play command line as ``isaaclab_rl.entrypoints``; IsaacLab 2 does not. Only the
    light ``isaaclab_rl`` package itself may be imported to find out, never the simulator. A folder that merely
    happens to be called ``isaaclab`` on the import path (a namespace package) is not IsaacLab.
    """
    if not _is_regular_package("isaaclab"):
        return None
    if not _is_regular_package("isaaclab_rl"):
        return 2
    return 3 if importlib.util.find_spec(ISAACLAB3_ENTRYPOINTS_MODULE) is not None else 2


def _is_regular_package(name: str) -> bool:
    """Whether a top-level module or package with an ``__init__`` (not a namespace package) is importable."""
    spec = importlib.util.find_spec(name)
    return spec is not None and spec.origin is not None


def _release(version: str) -> tuple[int, ...]:
    """The numeric release of a version string: ``"3.0.1"`` -> ``(3, 0, 1)``, ``"5.5.1.dev0"`` -> ``(5, 5, 1)``."""
    return tuple(int(number) for number in RELEASE_PATTERN.match(version).group(0).split("."))


def _dotted(release: tuple[int, ...]) -> str:
    """Format a release tuple as a version string."""
    return ".".join(map(str, release))
