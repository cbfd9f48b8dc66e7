"""The locomotion robots shipped for offline runs: where each comes from and where IsaacLab expects it.

The robots are built by ``scripts/build_assets.sh`` from the manufacturers' public descriptions (not NVIDIA's USDs)
with IsaacLab's own converters, then restructured to the prim, body and joint names of IsaacLab's task configs. This
module is the single table the build, the source check and the tests read; it imports neither IsaacLab nor USD.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

NEWTON_ASSETS_REPOSITORY = "newton-physics/newton-assets"
"""GitHub repository (``owner/name``) of the robot descriptions (Unitree H1, ANYmal-C)."""

NEWTON_ASSETS_COMMIT = "a015ca3fd883f60293e1c87f67917b2f54a9a5c9"
"""Commit of :data:`NEWTON_ASSETS_REPOSITORY` the shipped robots were built from."""

LEGGED_GYM_REPOSITORY = "leggedrobotics/legged_gym"
"""GitHub repository (``owner/name``) of the ANYdrive actuator network."""

LEGGED_GYM_COMMIT = "8fa29acc6fd1910c3d9659eef6310bdd301cde0a"
"""Commit of :data:`LEGGED_GYM_REPOSITORY` the shipped actuator network was copied from."""

LICENSE_FOLDER = Path("LICENSES")
"""Folder below the asset root holding the licence file of every repository a shipped file comes from."""

REPOSITORY_LICENSE_FILE = "LICENSE"
"""Path of the licence file inside each source repository."""

REFERENCE_FILE = Path("robots.json")
"""File below the asset root recording what the source descriptions say about each robot (see
:mod:`genpo_ext.isaaclab.robot_check`)."""


@dataclasses.dataclass(frozen=True)
class RobotAsset:
    """One robot built from a public description into IsaacLab's asset layout.

    Attributes:
        name: Short name; also the name of the USD's root prim.
        repository: GitHub repository (``owner/name``) holding the description.
        commit: Commit of the repository the shipped file was built from.
        description: Path of the MJCF or URDF file inside the repository.
        source_folder: Folder of the repository the description needs (the file and its meshes).
        target: Where IsaacLab's robot config expects the USD, relative to the asset root.
        joint_suffix: Suffix the description's joint names carry and IsaacLab's do not ("" keeps the names).
        kept_fixed_links: Links attached by a fixed joint that IsaacLab's task configs address as bodies; every other
            fixed link is merged into its parent, as IsaacLab's own robot USDs do.
    """

    name: str
    repository: str
    commit: str
    description: str
    source_folder: str
    target: Path
    joint_suffix: str
    kept_fixed_links: tuple[str, ...]

    @property
    def is_mjcf(self) -> bool:
        """Whether the description is MJCF (else URDF)."""
        return self.description.endswith(".xml")


@dataclasses.dataclass(frozen=True)
class CopiedAsset:
    """A file shipped as it is in its source repository.

    Attributes:
        repository: GitHub repository (``owner/name``) holding the file.
        commit: Commit of the repository the shipped file was copied from.
        path: Path of the file inside the repository.
        target: Where IsaacLab's config expects the file, relative to the asset root.
    """

    repository: str
    commit: str
    path: str
    target: Path


H1 = RobotAsset(
    name="h1",
    repository=NEWTON_ASSETS_REPOSITORY,
    commit=NEWTON_ASSETS_COMMIT,
    description="h1_description/mjcf/h1.xml",
    source_folder="h1_description",
    target=Path("Isaac/IsaacLab/Robots/Unitree/H1/h1_minimal.usd"),
    joint_suffix="_joint",
    kept_fixed_links=(),
)
"""Unitree H1 from its MJCF: collision meshes (as convex hulls) around the torso and limbs, so that a fallen
robot touches the ground with its torso as IsaacLab's termination expects (the URDF has only a small box there)."""

ANYMAL_C = RobotAsset(
    name="anymal_c",
    repository=NEWTON_ASSETS_REPOSITORY,
    commit=NEWTON_ASSETS_COMMIT,
    description="anymal_c_simple_description/urdf/anymal.urdf",
    source_folder="anymal_c_simple_description",
    target=Path("Isaac/IsaacLab/Robots/ANYbotics/ANYmal-C/anymal_c.usd"),
    joint_suffix="",
    kept_fixed_links=("LF_FOOT", "LH_FOOT", "RF_FOOT", "RH_FOOT"),
)
"""ANYmal-C from its simple URDF (primitive collision shapes); the feet stay bodies for the air-time reward."""

ANYDRIVE_NETWORK = CopiedAsset(
    repository=LEGGED_GYM_REPOSITORY,
    commit=LEGGED_GYM_COMMIT,
    path="resources/actuator_nets/anydrive_v3_lstm.pt",
    target=Path("Isaac/IsaacLab/ActuatorNets/ANYbotics/anydrive_3_lstm_jit.pt"),
)
"""The ANYdrive 3 LSTM actuator network (TorchScript) that IsaacLab's ANYmal configs load."""

ROBOTS: tuple[RobotAsset, ...] = (H1, ANYMAL_C)
"""Every robot the build converts."""

COPIED_FILES: tuple[CopiedAsset, ...] = (ANYDRIVE_NETWORK,)
"""Every file the build copies unchanged."""


def license_notice(repository: str) -> Path:
    """Return where the licence file of a source repository is shipped, relative to the asset root."""
    return LICENSE_FOLDER / f"{repository.split('/')[1]}_{REPOSITORY_LICENSE_FILE}.txt"
