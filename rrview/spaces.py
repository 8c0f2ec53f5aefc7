"""Spaces, transforms and the default layout of views.

Each root entity is its own space. Children share their parent's space, moved by the
rigid transforms logged along the path, unless a pinhole (a camera: its children are in
a 2D image space) or an unknown transform cuts them off into a space of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from .model import KINDS_2D, KINDS_3D, EntityNode, ViewerModel

__all__ = [
    "SpaceView",
    "default_layout",
    "is_image_shape",
    "tensor_is_image",
    "space_root",
    "quat_to_matrix",
    "world_from_entity",
    "Camera",
    "camera_at",
    "camera_axes",
]

ViewKind = Literal["3d", "2d", "plot", "text"]
Mat4 = npt.NDArray[np.float64]


@dataclass
class SpaceView:
    """One view of the default layout."""

    kind: ViewKind
    root: str
    entities: list[str] = field(default_factory=list)
    cameras: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.root or '/'} ({self.kind})"


def _cuts(node: EntityNode) -> bool:
    return "pinhole" in node.chunks or "unknown_transform" in node.chunks


def space_root(node: EntityNode) -> EntityNode:
    """The node whose space ``node`` lives in."""
    cur = node
    while cur.parent is not None and cur.parent.parent is not None and not _cuts(cur):
        cur = cur.parent
    return cur


def default_layout(model: ViewerModel) -> list[SpaceView]:
    """One view per space and category of data: 3D, 2D (images), plots (scalars), text logs."""
    views: dict[tuple[ViewKind, str], SpaceView] = {}

    def view(kind: ViewKind, root: str) -> SpaceView:
        key = (kind, root)
        if key not in views:
            views[key] = SpaceView(kind, root)
        return views[key]

    for node in model.root.walk():
        if not node.path:
            continue
        root = space_root(node)
        kind = node.data_kind
        if kind in KINDS_3D:
            view("3d", root.path).entities.append(node.path)
        elif kind in KINDS_2D or (kind == "tensor" and tensor_is_image(model, node)):
            view("2d", root.path).entities.append(node.path)
        elif kind == "scalar":
            view("plot", root.path).entities.append(node.path)
        elif kind == "text_entry":
            view("text", root.path).entities.append(node.path)
        if "pinhole" in node.chunks and node.parent is not None and node.parent.path:
            # A camera: drawn as a frustum in the space its parent lives in.
            view("3d", space_root(node.parent).path).cameras.append(node.path)
    order = {"3d": 0, "2d": 1, "plot": 2, "text": 3}
    return sorted(views.values(), key=lambda v: (order[v.kind], v.root))


def is_image_shape(shape: Sequence[int]) -> bool:
    """Whether a tensor of this shape is drawn as an image: HxW, HxWx1, HxWx3 or HxWx4, not empty."""
    dims = [int(x) for x in shape]
    if len(dims) not in (2, 3) or dims[0] <= 0 or dims[1] <= 0:
        return False
    return len(dims) == 2 or dims[2] in (1, 3, 4)


def tensor_is_image(model: ViewerModel, node: EntityNode) -> bool:
    """Whether the entity's ``tensor`` data is image-like (its latest logged shape): a 2D view shows it.

    Other tensors (feature maps, histograms...) are listed in the tree and the selection
    panel (dtype and shape) and drawn by no view. The shape is read from the last chunk
    of the entity's tensors: one chunk decoded per tensor entity when the layout is made.
    """
    infos = node.chunks.get("tensor")
    if not infos:
        return False
    info = max(infos, key=lambda c: c.row_id_max if c.row_id_max is not None else -1)
    try:
        column = model.store.chunk(info).batch.column("tensor")
        for i in range(len(column) - 1, -1, -1):
            if column[i].is_valid:
                return is_image_shape(column[i]["shape"].as_py() or [])
    except Exception:  # a corrupt or odd chunk: not an image; the views report it when drawing
        return False
    return False


def quat_to_matrix(q: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """3x3 rotation matrix of a quaternion (x, y, z, w); normalised first."""
    x, y, z, w = np.asarray(q, dtype=np.float64)
    n = x * x + y * y + z * z + w * w
    if n == 0:
        return np.eye(3)
    s = 2.0 / n
    return np.array(
        [
            [1 - s * (y * y + z * z), s * (x * y - z * w), s * (x * z + y * w)],
            [s * (x * y + z * w), 1 - s * (x * x + z * z), s * (y * z - x * w)],
            [s * (x * z - y * w), s * (y * z + x * w), 1 - s * (x * x + y * y)],
        ]
    )


def world_from_entity(model: ViewerModel, entity: str, timeline: str | None, t: int | None) -> Mat4:
    """The 4x4 transform from an entity's coordinates to its space root's coordinates.

    Composes the rigid transforms (parent from child) logged on the path below the space
    root, at time ``t``.
    """
    node = model.nodes.get(entity)
    out = np.eye(4)
    if node is None:
        return out
    root = space_root(node)
    chain = []
    cur: EntityNode | None = node
    while cur is not None and cur is not root:
        chain.append(cur)
        cur = cur.parent
    for n in reversed(chain):
        if "rigid3" not in n.chunks:
            continue
        row = model.latest(n.path, "rigid3", timeline, t)
        if row is None:
            continue
        m = np.eye(4)
        m[:3, :3] = quat_to_matrix(row.get("rotation"))
        m[:3, 3] = np.asarray(row.get("translation"), dtype=np.float64)
        out = out @ m
    return out


_AXES = {"R": (0, 1), "L": (0, -1), "D": (1, 1), "U": (1, -1), "F": (2, 1), "B": (2, -1)}


def camera_axes(xyz: str | None) -> npt.NDArray[np.float64]:
    """Matrix taking RDF camera coordinates (right, down, forward) to the camera's own axes.

    ``xyz`` is the camera's view coordinates (default ``RDF``).
    """
    xyz = (xyz or "RDF").upper()
    m = np.zeros((3, 3))
    for axis, letter in enumerate(xyz):
        rdf_index, sign = _AXES[letter]
        m[axis, rdf_index] = sign
    return m


@dataclass(frozen=True)
class Camera:
    """A pinhole camera placed in its parent's space."""

    entity: str
    world_from_camera: Mat4
    image_from_camera: npt.NDArray[np.float64]
    resolution: tuple[float, float]
    xyz: str

    def ray(self, u: float, v: float) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Origin and unit direction, in the parent space, of the ray through pixel (u, v)."""
        d_rdf = np.linalg.solve(self.image_from_camera, np.array([u, v, 1.0]))
        d_cam = camera_axes(self.xyz) @ d_rdf
        d_world = self.world_from_camera[:3, :3] @ d_cam
        origin = self.world_from_camera[:3, 3].copy()
        return origin, d_world / np.linalg.norm(d_world)

    def frustum(self, depth: float) -> npt.NDArray[np.float64]:
        """The 4 far corners of the image at ``depth`` along the view, in the parent space."""
        w, h = self.resolution
        corners = []
        for u, v in ((0, 0), (w, 0), (w, h), (0, h)):
            d_rdf = np.linalg.solve(self.image_from_camera, np.array([u, v, 1.0]))
            d_rdf = d_rdf / d_rdf[2] * depth
            corners.append(self.world_from_camera[:3, :3] @ (camera_axes(self.xyz) @ d_rdf))
        return np.array(corners) + self.world_from_camera[:3, 3]


def camera_at(model: ViewerModel, entity: str, timeline: str | None, t: int | None) -> Camera | None:
    """The pinhole camera logged at ``entity`` at time ``t``, placed in its parent's space."""
    row = model.latest(entity, "pinhole", timeline, t)
    if row is None:
        return None
    node = model.nodes[entity]
    parent = node.parent
    # The camera's pose: rigid transforms down to the pinhole entity, in the parent's space.
    world = world_from_entity(model, parent.path, timeline, t) if parent is not None and parent.path else np.eye(4)
    if "rigid3" in node.chunks:
        own = model.latest(entity, "rigid3", timeline, t)
        if own is not None:
            m = np.eye(4)
            m[:3, :3] = quat_to_matrix(own.get("rotation"))
            m[:3, 3] = np.asarray(own.get("translation"), dtype=np.float64)
            world = world @ m
    xyz = row.get("view_coordinates")
    # View coordinates may also sit on the camera entity or, as in log_rigid3(..., xyz=), on its parent.
    for holder in (node, parent):
        if xyz is not None or holder is None or not holder.path:
            break
        for kind in ("view_coordinates", "rigid3"):
            if kind in holder.chunks:
                vc = model.latest(holder.path, kind, timeline, t)
                if vc is not None and vc.get("view_coordinates"):
                    xyz = vc.get("view_coordinates")
                    break
    k = np.asarray(row.get("image_from_camera"), dtype=np.float64).reshape(3, 3)
    w, h = row.get("resolution")
    return Camera(entity, world, k, (float(w), float(h)), xyz or "RDF")
