"""Compare a shipped robot USD with the description it was built from, through newton's own importers.

Both files are imported by newton (``add_mjcf`` / ``add_urdf`` for the description, ``add_usd`` for the shipped
file) and summarised the same way:

* the movable joints, by IsaacLab's names, with their limits;
* the mass and centre of mass of each rigid group (a body with the links fixed to it: the build merges fixed links
  as IsaacLab's own USDs do, so single links of the description may be parts of one body of the USD);
* the positions of every body of the USD, relative to the root body, in a few joint configurations drawn within
  the limits (forward kinematics).

The description's summary is recorded in the asset root's ``robots.json`` when the assets are built, so that the
shipped files can be checked where the descriptions are not at hand (CI).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from .robot_assets import REFERENCE_FILE, RobotAsset

NUM_RANDOM_CONFIGURATIONS = 4
"""Joint configurations drawn within the limits for the forward kinematics comparison (the zero one comes first)."""

CONFIGURATION_SEED = 0
"""Seed of the drawn joint configurations; both files see the same configuration, keyed by joint name."""

IDENTITY_POSE = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)
"""Pose of the floating base in the compared configurations: at the origin, unrotated (x y z, quaternion x y z w)."""

UNBOUNDED_LIMIT = np.pi
"""Half range drawn for a joint without finite limits."""

MASS_RTOL = 1e-5
"""Relative tolerance on masses (USD stores them in single precision)."""

POSITION_ATOL = 1e-5
"""Tolerance in metres on body positions and centres of mass."""

LIMIT_ATOL = 1e-5
"""Tolerance in radians on joint limits."""


@dataclasses.dataclass
class RobotSummary:
    """What the comparison checks of one robot file.

    Attributes:
        joints: Movable joint name -> (lower, upper) limit in radians.
        group_masses: Rigid group (named by its moving body) -> mass in kg.
        group_coms: Rigid group -> centre of mass relative to the root body in the zero configuration, in metres.
        body_positions: Body name -> its position relative to the root body in each configuration, in metres.
    """

    joints: dict[str, list[float]]
    group_masses: dict[str, float]
    group_coms: dict[str, list[float]]
    body_positions: dict[str, list[list[float]]]

    @property
    def total_mass(self) -> float:
        """The robot's mass in kg."""
        return float(sum(self.group_masses.values()))


def summarize_description(robot: RobotAsset, description: Path, bodies: list[str]) -> RobotSummary:
    """Summarise a robot's MJCF or URDF as newton imports it, at the positions of ``bodies``.

    Collision shapes add no mass: the descriptions' inertial elements are the masses.
    """
    import newton

    builder = newton.ModelBuilder()
    builder.default_shape_cfg.density = 0.0
    if robot.is_mjcf:
        builder.add_mjcf(str(description))
    else:
        builder.add_urdf(str(description), floating=True)
    return _summarize(builder, robot.joint_suffix, bodies)


def summarize_usd(usd: Path) -> RobotSummary:
    """Summarise a shipped USD as newton imports it (every one of its bodies is compared)."""
    import newton

    builder = newton.ModelBuilder()
    builder.default_shape_cfg.density = 0.0
    builder.add_usd(str(usd))
    return _summarize(builder, "", bodies=None)


def differences(shipped: RobotSummary, reference: RobotSummary) -> list[str]:
    """Return every way the shipped robot differs from the reference beyond the tolerances (empty: they agree)."""
    problems = []
    if set(shipped.joints) != set(reference.joints):
        problems.append(f"movable joints differ: {sorted(set(shipped.joints) ^ set(reference.joints))}")
    for name in set(shipped.joints) & set(reference.joints):
        if not np.allclose(shipped.joints[name], reference.joints[name], atol=LIMIT_ATOL):
            problems.append(f"joint {name}: limits {shipped.joints[name]} against {reference.joints[name]}")
    if set(shipped.group_masses) != set(reference.group_masses):
        problems.append(f"rigid groups differ: {sorted(set(shipped.group_masses) ^ set(reference.group_masses))}")
    for name in set(shipped.group_masses) & set(reference.group_masses):
        if not np.isclose(shipped.group_masses[name], reference.group_masses[name], rtol=MASS_RTOL, atol=0.0):
            problems.append(f"{name}: mass {shipped.group_masses[name]} against {reference.group_masses[name]}")
        if not np.allclose(shipped.group_coms[name], reference.group_coms[name], atol=POSITION_ATOL):
            problems.append(f"{name}: centre of mass {shipped.group_coms[name]} against {reference.group_coms[name]}")
    for name, positions in shipped.body_positions.items():
        if name not in reference.body_positions:
            problems.append(f"body {name} is not in the description")
        elif not np.allclose(positions, reference.body_positions[name], atol=POSITION_ATOL):
            error = np.abs(np.subtract(positions, reference.body_positions[name])).max()
            problems.append(f"body {name}: forward kinematics differ by up to {error:.2e} m")
    return problems


def largest_position_error(shipped: RobotSummary, reference: RobotSummary) -> float:
    """Return the largest difference in metres between the bodies' positions of both summaries."""
    return max(
        float(np.abs(np.subtract(positions, reference.body_positions[name])).max())
        for name, positions in shipped.body_positions.items()
    )


def read_references(asset_root: Path) -> dict[str, RobotSummary]:
    """Return the descriptions' summaries recorded in ``asset_root``, by robot name."""
    records = json.loads((asset_root / REFERENCE_FILE).read_text())
    return {name: RobotSummary(**record["summary"]) for name, record in records.items()}


def write_references(asset_root: Path, summaries: dict[str, tuple[RobotAsset, RobotSummary]]) -> Path:
    """Record the descriptions' summaries, with where each description comes from, in ``asset_root``."""
    records = {
        robot.name: {
            "repository": robot.repository,
            "commit": robot.commit,
            "description": robot.description,
            "total_mass": summary.total_mass,
            "summary": dataclasses.asdict(summary),
        }
        for robot, summary in summaries.values()
    }
    path = asset_root / REFERENCE_FILE
    path.write_text(json.dumps(records, indent=1, sort_keys=True) + "\n")
    return path


def _summarize(builder, joint_suffix: str, bodies: list[str] | None) -> RobotSummary:
    """Summarise a newton model builder holding one floating-base robot.

    Args:
        builder: The builder after the import.
        joint_suffix: Suffix removed from joint names to give IsaacLab's names.
        bodies: Bodies whose positions are recorded; None records every body.
    """
    body_names = [_leaf(label) for label in builder.body_label]
    joint_names = [_leaf(label).removesuffix(joint_suffix) for label in builder.joint_label]
    model = builder.finalize(device="cpu")
    joints = _movable_joints(model, joint_names)
    poses = [_forward_kinematics(model, joint_names, configuration) for configuration in _configurations(joints)]
    recorded = body_names if bodies is None else bodies
    body_positions = {name: [pose[body_names.index(name), :3].tolist() for pose in poses] for name in recorded}
    group_masses, group_coms = _rigid_groups(model, body_names, zero_pose=poses[0])
    return RobotSummary(joints=joints, group_masses=group_masses, group_coms=group_coms, body_positions=body_positions)


def _movable_joints(model, joint_names: list[str]) -> dict[str, list[float]]:
    """Return the revolute and prismatic joints of a model with their (lower, upper) limits."""
    import newton

    joint_type, qd_start = model.joint_type.numpy(), model.joint_qd_start.numpy()
    lower, upper = model.joint_limit_lower.numpy(), model.joint_limit_upper.numpy()
    movable_types = (newton.JointType.REVOLUTE, newton.JointType.PRISMATIC)
    return {
        joint_names[joint]: [float(lower[qd_start[joint]]), float(upper[qd_start[joint]])]
        for joint in range(model.joint_count)
        if joint_type[joint] in movable_types
    }


def _forward_kinematics(model, joint_names: list[str], configuration: dict[str, float]) -> np.ndarray:
    """Return every body's pose (position, quaternion x y z w) with the root body at the origin."""
    import newton
    import warp as wp

    q_start, joint_type = model.joint_q_start.numpy(), model.joint_type.numpy()
    joint_q = model.joint_q.numpy().copy()
    for joint in range(model.joint_count):
        if joint_type[joint] == newton.JointType.FREE:
            joint_q[q_start[joint] : q_start[joint] + 7] = IDENTITY_POSE
    for name, value in configuration.items():
        joint_q[q_start[joint_names.index(name)]] = value
    state = model.state()
    newton.eval_fk(model, wp.array(joint_q, dtype=float, device="cpu"), model.joint_qd, state)
    return state.body_q.numpy()


def _rigid_groups(model, body_names: list[str], zero_pose: np.ndarray) -> tuple[dict, dict]:
    """Return the mass and centre of mass of each rigid group (a body with the bodies fixed to it), keyed by the
    group's moving body; massless groups (frames without inertia) are left out."""
    import newton

    joint_type, joint_parent = model.joint_type.numpy(), model.joint_parent.numpy()
    joint_child = model.joint_child.numpy()
    fixed_parent = {
        int(joint_child[joint]): int(joint_parent[joint])
        for joint in range(model.joint_count)
        if joint_type[joint] == newton.JointType.FIXED and joint_parent[joint] >= 0
    }
    masses, coms = model.body_mass.numpy(), model.body_com.numpy()
    group_masses, group_moments = {}, {}
    for body in range(model.body_count):
        group = body
        while group in fixed_parent:
            group = fixed_parent[group]
        key = body_names[group]
        group_masses[key] = group_masses.get(key, 0.0) + float(masses[body])
        moment = float(masses[body]) * _transform_point(zero_pose[body], coms[body])
        group_moments[key] = group_moments.get(key, 0.0) + moment
    group_masses = {key: mass for key, mass in group_masses.items() if mass > 0}
    return group_masses, {key: (group_moments[key] / mass).tolist() for key, mass in group_masses.items()}


def _configurations(joints: dict[str, list[float]]) -> list[dict[str, float]]:
    """Return the zero configuration and :data:`NUM_RANDOM_CONFIGURATIONS` drawn within the limits, by joint name."""
    rng = np.random.default_rng(CONFIGURATION_SEED)
    names = sorted(joints)
    bounds = np.array([joints[name] for name in names], dtype=float).reshape(-1, 2)
    bounds = np.where(np.isfinite(bounds), bounds, [-UNBOUNDED_LIMIT, UNBOUNDED_LIMIT])
    drawn = [rng.uniform(bounds[:, 0], bounds[:, 1]) for _ in range(NUM_RANDOM_CONFIGURATIONS)]
    return [dict.fromkeys(names, 0.0)] + [dict(zip(names, values.tolist())) for values in drawn]


def _transform_point(pose: np.ndarray, point: np.ndarray) -> np.ndarray:
    """Apply a newton pose (position, quaternion x y z w) to a point."""
    position, (x, y, z, w) = pose[:3], pose[3:]
    vector = np.array([x, y, z])
    return position + point + 2.0 * np.cross(vector, np.cross(vector, point) + w * point)


def _leaf(label: str) -> str:
    """Return the last component of a newton label (a prim path or an importer's nested name)."""
    return label.rstrip("/").rsplit("/", maxsplit=1)[-1]
