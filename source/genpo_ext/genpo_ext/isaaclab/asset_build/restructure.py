"""Rewrite an importer's USD into the structure IsaacLab's task configs address.

The importers nest each body under its parent body and put physics behind a ``Physics`` variant set; IsaacLab's
velocity tasks match bodies with ``{ENV_REGEX_NS}/Robot/[^/]*`` and mount sensors on named bodies, so every body
must be a direct child of the robot prim. The rewrite reads the composed stage (physics variant selected) and
writes one flat layer:

* every rigid body as a direct child of the robot prim, posed relative to the root body;
* each body's colliders below it; a collision mesh becomes its convex hull (what the simulators collide with
  anyway), which keeps the file small; visual geometry and materials are left out (runs are headless);
* each joint below its child body, renamed to IsaacLab's joint names.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pxr import Gf, Sdf, Usd, UsdGeom, UsdPhysics

from ..robot_assets import RobotAsset

SKIPPED_ATTRIBUTE_PREFIXES = ("xformOp", "primvars:", "normals", "extentsHint")
"""Attributes not copied: transforms are re-authored; display data and normals belong to visual geometry."""

SKIPPED_RELATIONSHIP_PREFIXES = ("material:binding", "proxyPrim", "physics:simulationOwner", "isaac:")
"""Relationships not copied: materials are left out; the others point outside the robot or nowhere."""

SKIPPED_SCHEMAS = ("MaterialBindingAPI",)
"""API schemas not copied, together with the relationships they define."""

UNIT_SCALE_TOLERANCE = 1e-6
"""Largest deviation from 1 of a scale factor that counts as no scale."""


def restructure(robot: RobotAsset, converted: Path, target: Path) -> None:
    """Write ``converted`` (the importer's USD) to ``target`` in IsaacLab's structure.

    Args:
        robot: The robot; its name becomes the root prim's name, its joint suffix is removed.
        converted: The USD the converter wrote.
        target: The USD file to write (binary for a ``.usd`` name).
    """
    source = Usd.Stage.Open(str(converted))
    prims = list(Usd.PrimRange(source.GetDefaultPrim(), Usd.TraverseInstanceProxies()))
    bodies = [prim for prim in prims if prim.HasAPI(UsdPhysics.RigidBodyAPI)]
    joints = [prim for prim in prims if prim.IsA(UsdPhysics.Joint)]
    cache = UsdGeom.XformCache()
    root_from_world = cache.GetLocalToWorldTransform(_root_body(bodies, joints)).GetInverse()

    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, UsdGeom.LinearUnits.meters)
    UsdPhysics.SetStageKilogramsPerUnit(stage, UsdPhysics.MassUnits.kilograms)
    robot_prim = UsdGeom.Xform.Define(stage, Sdf.Path.absoluteRootPath.AppendChild(robot.name)).GetPrim()
    stage.SetDefaultPrim(robot_prim)

    body_paths = {body.GetPath(): robot_prim.GetPath().AppendChild(body.GetName()) for body in bodies}
    # USD matrices act on row vectors, so a child's pose in a frame is child_to_world * frame_from_world
    for body in bodies:
        body_to_world = cache.GetLocalToWorldTransform(body)
        copy = _copy_prim(body, stage, body_paths[body.GetPath()], body_paths)
        _set_pose(copy, body_to_world * root_from_world)
        for collider in _colliders(body):
            collider_to_body = cache.GetLocalToWorldTransform(collider) * body_to_world.GetInverse()
            path = _unique_child(stage, copy.GetPath(), collider.GetName())
            collider_copy = _copy_prim(collider, stage, path, body_paths)
            if collider.IsA(UsdGeom.Mesh):
                _write_convex_hull(UsdGeom.Mesh(collider), UsdGeom.Mesh(collider_copy), collider_to_body)
            else:
                _set_pose(collider_copy, collider_to_body)
    for joint in joints:
        child = UsdPhysics.Joint(joint).GetBody1Rel().GetTargets()[0]
        name = joint.GetName().removesuffix(robot.joint_suffix)
        _copy_prim(joint, stage, body_paths[child].AppendChild(name), body_paths)
    target.parent.mkdir(parents=True, exist_ok=True)
    stage.GetRootLayer().Export(str(target))


def _root_body(bodies: list[Usd.Prim], joints: list[Usd.Prim]) -> Usd.Prim:
    """Return the body no joint moves (the floating base)."""
    children = {target for joint in joints for target in UsdPhysics.Joint(joint).GetBody1Rel().GetTargets()}
    (root,) = [body for body in bodies if body.GetPath() not in children]
    return root


def _colliders(body: Usd.Prim) -> list[Usd.Prim]:
    """Return the collision geometry of a body, without descending into the bodies nested below it."""
    colliders = []
    prims = iter(Usd.PrimRange(body, Usd.TraverseInstanceProxies()))
    next(prims)
    for prim in prims:
        if prim.HasAPI(UsdPhysics.RigidBodyAPI):
            prims.PruneChildren()
        elif prim.HasAPI(UsdPhysics.CollisionAPI) and prim.IsA(UsdGeom.Gprim):
            colliders.append(prim)
    return colliders


def _copy_prim(prim: Usd.Prim, stage: Usd.Stage, path: Sdf.Path, path_map: dict[Sdf.Path, Sdf.Path]) -> Usd.Prim:
    """Define ``path`` with the type, API schemas, attribute values and relationships of ``prim`` as composed.

    Relationship targets are mapped through ``path_map``; relationships to prims outside it are dropped.
    """
    copy = stage.DefinePrim(path, prim.GetTypeName())
    schemas = prim.GetMetadata("apiSchemas")
    if schemas is not None:
        kept = [schema for schema in schemas.ApplyOperations([]) if schema not in SKIPPED_SCHEMAS]
        copy.SetMetadata("apiSchemas", Sdf.TokenListOp.CreateExplicit(kept))
    for attribute in prim.GetAttributes():
        if attribute.HasAuthoredValue() and not attribute.GetName().startswith(SKIPPED_ATTRIBUTE_PREFIXES):
            created = copy.CreateAttribute(
                attribute.GetName(), attribute.GetTypeName(), attribute.IsCustom(), attribute.GetVariability()
            )
            created.Set(attribute.Get())
    for relationship in prim.GetRelationships():
        targets = relationship.GetTargets()
        if relationship.GetName().startswith(SKIPPED_RELATIONSHIP_PREFIXES) or not targets:
            continue
        if all(target in path_map for target in targets):
            copy.CreateRelationship(relationship.GetName()).SetTargets([path_map[target] for target in targets])
    return copy


def _set_pose(prim: Usd.Prim, matrix: Gf.Matrix4d) -> None:
    """Author a transform without shear on ``prim``: translation, orientation and, when not 1, scale (the
    converters size box colliders by scaling a unit cube)."""
    xformable = UsdGeom.Xformable(prim)
    xformable.ClearXformOpOrder()
    scale = Gf.Vec3d(*(Gf.Vec3d(*matrix.GetRow3(axis)).GetLength() for axis in range(3)))
    xformable.AddTranslateOp(UsdGeom.XformOp.PrecisionDouble).Set(matrix.ExtractTranslation())
    rotation = matrix.RemoveScaleShear().ExtractRotationQuat().GetNormalized()
    xformable.AddOrientOp(UsdGeom.XformOp.PrecisionFloat).Set(Gf.Quatf(rotation))
    if any(abs(value - 1.0) > UNIT_SCALE_TOLERANCE for value in scale):
        xformable.AddScaleOp(UsdGeom.XformOp.PrecisionFloat).Set(Gf.Vec3f(scale))


def _write_convex_hull(source: UsdGeom.Mesh, target: UsdGeom.Mesh, mesh_to_body: Gf.Matrix4d) -> None:
    """Replace the target mesh by the convex hull of the source mesh, expressed in the body's frame.

    Faces are oriented outward; the mesh keeps its ``physics:approximation`` (convex hull).
    """
    from scipy.spatial import ConvexHull

    points = np.array([mesh_to_body.Transform(Gf.Vec3d(*point)) for point in source.GetPointsAttr().Get()])
    hull = ConvexHull(points)
    faces = hull.simplices.copy()
    # a face points outward when its right-hand normal agrees with the hull plane's outward normal
    normals = np.cross(points[faces[:, 1]] - points[faces[:, 0]], points[faces[:, 2]] - points[faces[:, 0]])
    inward = np.einsum("ij,ij->i", normals, hull.equations[:, :3]) < 0
    faces[inward] = faces[inward][:, ::-1]
    used, indices = np.unique(faces, return_inverse=True)
    hull_points = points[used]
    target.CreatePointsAttr([Gf.Vec3f(*point) for point in hull_points])
    target.CreateFaceVertexCountsAttr([3] * len(faces))
    target.CreateFaceVertexIndicesAttr([int(index) for index in indices.reshape(-1)])
    target.CreateExtentAttr([Gf.Vec3f(*hull_points.min(axis=0)), Gf.Vec3f(*hull_points.max(axis=0))])
    _set_pose(target.GetPrim(), Gf.Matrix4d(1.0))


def _unique_child(stage: Usd.Stage, parent: Sdf.Path, name: str) -> Sdf.Path:
    """Return ``parent/name``, or ``parent/name_<n>`` when that prim exists."""
    path, index = parent.AppendChild(name), 1
    while stage.GetPrimAtPath(path):
        path, index = parent.AppendChild(f"{name}_{index}"), index + 1
    return path
