"""The 3D scene of a view: points, boxes, lines, arrows, meshes and cameras as vispy visuals.

A :class:`Scene3D` draws the entities of one 3D :class:`~rrview.spaces.SpaceView` on a
vispy ``SceneCanvas`` (no Qt here: the window embeds ``canvas.native``). Each entity's
data is drawn in its own coordinates, and the rigid transforms logged down the tree
(:func:`~rrview.spaces.world_from_entity`) are set as the visuals' transform, so a moving
robot does not re-upload its point cloud. Visuals are made once per entity; moving the
time sets new data on them and skips rows that did not change.

Points with keypoint ids are joined by their annotation context's skeleton; lines are
drawn with their logged stroke widths (:mod:`rrview.strokes`); :meth:`Scene3D.pick`
tells what is under a mouse position (:mod:`rrview.picking`).
"""

from __future__ import annotations

import functools
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from vispy import scene
from vispy.visuals.transforms import MatrixTransform

from . import colormaps as cm
from . import strokes
from .cloud import Cloud
from .gltf import load_gltf
from .layer import Layer
from .model import Row, ViewerModel, numpy_of
from .picking import PICK_RADIUS_PX, Pick, best_pick, project, segment_distances, triangle_hits
from .scene2d import (
    BACKGROUND,
    IMAGE_KINDS,
    MAX_LABELS,
    broadcast,
    colors_of,
    floats_of,
    image_data,
    instance_colors,
    instance_labels,
    make_text,
    skeleton_of,
    strips_of,
    vectors,
)
from .spaces import SpaceView, camera_at, world_from_entity

__all__ = ["Scene3D", "FRUSTUM_FRACTION", "parse_obj", "box_corners", "box_edges", "quats_to_matrices", "up_axis"]

DEPTH_RATIO = 1e4
"""Far over near clipping distance of the 3D cameras (vispy's ``depth_value``; its default
1e6 costs ~20 bits of depth precision, so a line a few centimetres above a floor mesh a few
metres away was hidden in patches by the mesh). With 1e4 the near plane is 1% of the
camera's distance from what it looks at."""

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
Mat4 = npt.NDArray[np.float64]
_Segments = tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any], list[str] | None, F32]
"""Segment end points (2K, 3), their colours (2K, 4), label anchors, labels, and the width of each segment (K,)."""
_NO_SEGMENTS: _Segments = (np.zeros((0, 3)), np.zeros((0, 4)), np.zeros((0, 3)), None, np.zeros(0, np.float32))

POINT_SIZE_PX = 4.0
DENSE_POINTS = 10_000
"""Clouds of this many points or more are drawn with a thinner anti-aliased rim (DENSE_ANTIALIAS px)."""
DENSE_ANTIALIAS = 0.25
BATCH_LINE_ENTITIES = 64
"""A view with this many box, strip or arrow entities draws them all as one Line (see _LineBatch)."""
MAX_BATCH_LABELS = 1000
"""Labels drawn by a batch at most (one Text visual); more are left out."""
LINE_WIDTH_PX = strokes.DEFAULT_WIDTH_PX
FRUSTUM_FRACTION = 0.15
"""Frustum depth as a fraction of the scene's size (its bounding box diagonal)."""
FRUSTUM_COLOR = (0.85, 0.85, 0.85, 1.0)
RAY_COLOR = (1.0, 0.85, 0.2, 1.0)
MAX_CAMERA_TEXTURE = 512
"""Camera images drawn in a frustum are subsampled to at most this many pixels a side."""

# The 8 corners of a unit box (signs of the half sizes) and its 12 edges as corner pairs.
_BOX_SIGNS = np.array(
    [[-1, -1, -1], [1, -1, -1], [1, 1, -1], [-1, 1, -1], [-1, -1, 1], [1, -1, 1], [1, 1, 1], [-1, 1, 1]],
    dtype=np.float64,
)
_BOX_EDGES = np.array(
    [[0, 1], [1, 2], [2, 3], [3, 0], [4, 5], [5, 6], [6, 7], [7, 4], [0, 4], [1, 5], [2, 6], [3, 7]], dtype=np.intp
)


# --- geometry helpers --------------------------------------------------------------------
def quats_to_matrices(q: npt.ArrayLike) -> F64:
    """(N, 3, 3) rotation matrices of (N, 4) quaternions (x, y, z, w), normalised first."""
    a = np.asarray(q, dtype=np.float64).reshape(-1, 4)
    n = np.einsum("ij,ij->i", a, a)
    s = np.where(n > 0, 2.0 / np.where(n > 0, n, 1.0), 0.0)
    x, y, z, w = a.T
    return np.stack(
        [
            np.stack([1 - s * (y * y + z * z), s * (x * y - z * w), s * (x * z + y * w)], -1),
            np.stack([s * (x * y + z * w), 1 - s * (x * x + z * z), s * (y * z - x * w)], -1),
            np.stack([s * (x * z - y * w), s * (y * z + x * w), 1 - s * (x * x + y * y)], -1),
        ],
        axis=1,
    )


def box_corners(half_sizes: npt.ArrayLike, centers: npt.ArrayLike | None, rotations: npt.ArrayLike | None) -> F64:
    """(N, 8, 3) corners of oriented boxes: ``center + R @ (signs * half_size)``."""
    hs = np.asarray(half_sizes, dtype=np.float64).reshape(-1, 3)
    local = _BOX_SIGNS[None, :, :] * hs[:, None, :]
    if rotations is not None:
        local = np.einsum("nij,nkj->nki", quats_to_matrices(rotations), local)
    if centers is not None:
        local = local + np.asarray(centers, dtype=np.float64).reshape(-1, 3)[:, None, :]
    return local


def box_edges(corners: F64) -> F64:
    """(N * 24, 3) segment end points of the 12 edges of each box of :func:`box_corners`."""
    return corners[:, _BOX_EDGES.reshape(-1), :].reshape(-1, 3)


def up_axis(xyz: str | None) -> str:
    """vispy's camera ``up`` ("+z", "-y", ...) from view coordinates like ``"RFU"``; default "+z"."""
    if xyz:
        for i, letter in enumerate(xyz.upper()):
            if letter in "UD":
                return ("+" if letter == "U" else "-") + "xyz"[i]
    return "+z"


def parse_obj(data: bytes) -> tuple[F32, npt.NDArray[np.uint32], F32 | None]:
    """A minimal Wavefront OBJ reader: ``v`` (with optional r g b) and ``f`` lines.

    Faces may use ``v``, ``v/vt``, ``v//vn`` or ``v/vt/vn`` and negative (relative)
    indices; polygons are split into triangle fans. Other lines are ignored.

    Returns vertices (N, 3), triangles (M, 3) and vertex colours (N, 4) in 0-1 or None.
    """
    verts: list[list[float]] = []
    colors: list[list[float]] = []
    faces: list[list[int]] = []
    for line in data.decode("utf-8", errors="replace").splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "v" and len(parts) >= 4:
            verts.append([float(x) for x in parts[1:4]])
            if len(parts) >= 7:
                colors.append([float(x) for x in parts[4:7]] + [1.0])
        elif parts[0] == "f" and len(parts) >= 4:
            idx = []
            for tok in parts[1:]:
                i = int(tok.split("/")[0])
                idx.append(i - 1 if i > 0 else len(verts) + i)
            faces.extend([idx[0], idx[k], idx[k + 1]] for k in range(1, len(idx) - 1))
    v = np.asarray(verts, dtype=np.float32).reshape(-1, 3)
    f = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    if f.size and (f.min() < 0 or f.max() >= len(v)):
        raise ValueError(f"OBJ face index out of range (vertices: {len(v)})")
    c = np.asarray(colors, dtype=np.float32) if len(colors) == len(verts) and colors else None
    return v, f.astype(np.uint32), c


def _apply(m: Mat4 | None, pts: npt.NDArray[Any]) -> npt.NDArray[Any]:
    if m is None or not len(pts):
        return pts
    return (pts @ m[:3, :3].T + m[:3, 3]).astype(np.float32)


def _linear_to_srgb(c: npt.ArrayLike) -> F64:
    x = np.clip(np.asarray(c, dtype=np.float64), 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)


_CORNER_PICK = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], dtype=bool)
"""Which corners of a box take the high value on each axis, in the order of :func:`_box_points`."""


def _box_points(lo: F64, hi: F64) -> F64:
    """The 8 corners of an axis-aligned box."""
    return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])


def _bounds(pts: npt.NDArray[Any]) -> tuple[F64, F64] | None:
    p = np.asarray(pts).reshape(-1, 3)
    if len(p):
        # Fast path (every frame of a 100k-point cloud): no float64 copy, no mask, unless not finite.
        lo, hi = p.min(axis=0).astype(np.float64), p.max(axis=0).astype(np.float64)
        if np.isfinite(lo).all() and np.isfinite(hi).all():
            return lo, hi
    p = np.asarray(p, dtype=np.float64)
    p = p[np.isfinite(p).all(axis=1)]
    if not len(p):
        return None
    return p.min(axis=0), p.max(axis=0)


# --- layers --------------------------------------------------------------------------------
class _Layer3D(Layer):
    """The visuals of one entity of a 3D view, sharing the entity's transform."""

    max_rows: int | None = None  # None: every history row is drawn; 1: the latest only
    owner: Scene3D

    def __init__(self, owner: Scene3D, entity: str, kind: str) -> None:
        super().__init__(owner, entity, kind)
        self.matrix = np.eye(4)
        self._local_bounds: tuple[F64, F64] | None = None
        self._bounds_of: npt.NDArray[Any] | None = None  # points whose bounds are not computed yet

    def _new(self, role: str, visual: Any) -> Any:
        visual.name = f"{self.entity}#{role}"
        visual.transform = MatrixTransform(self.matrix.T)
        visual.parent = self.owner.viewbox.scene
        visual.visible = False
        self.visuals[role] = visual
        return visual

    def set_matrix(self, m: Mat4) -> None:
        if np.array_equal(m, self.matrix):
            return
        self.matrix = m.copy()
        for v in self.visuals.values():
            v.transform.matrix = m.T

    @property
    def local_bounds(self) -> tuple[F64, F64] | None:
        """The bounding box of the drawn data in the entity's coordinates (computed on first use)."""
        if self._bounds_of is not None:
            self._local_bounds, self._bounds_of = _bounds(self._bounds_of), None
        return self._local_bounds

    @local_bounds.setter
    def local_bounds(self, value: tuple[F64, F64] | None) -> None:
        self._local_bounds, self._bounds_of = value, None

    def bound(self, pts: npt.NDArray[Any]) -> None:
        """Set the bounds of ``pts`` lazily: moving the time need not scan a big cloud when no one asks."""
        self._local_bounds, self._bounds_of = None, pts

    def world_bounds(self) -> tuple[F64, F64] | None:
        if self.local_bounds is None or not self.shown:
            return None
        return _bounds(_apply(self.matrix, _box_points(*self.local_bounds)))

    def set_rows(self, rows: list[Row], rel: list[Mat4 | None], timeline: str | None, t: int | None) -> None:
        """Draw ``rows``; ``rel[i]`` moves row i's data into the layer's frame (history rows at other times)."""
        ctx = cm.annotation_context_for(self.owner.model, self.entity, timeline, t)
        key = (
            tuple(r.row_id for r in rows),
            tuple(None if m is None else m.tobytes() for m in rel),
            id(ctx),
        )
        if key == self.key:
            return
        self.key = key
        self.draw(rows, rel, timeline, t)

    def draw(self, rows: list[Row], rel: list[Mat4 | None], timeline: str | None, t: int | None) -> None:
        raise NotImplementedError

    def set_labels(self, pos: F32 | None, labels: list[str] | None) -> None:
        """Text at instance positions, only for few instances (text visuals are costly)."""
        if pos is None or not labels or not any(labels) or len(labels) >= MAX_LABELS:
            self._set("labels", False)
            return
        text = self.visuals.get("labels")
        if text is None:
            text = self._new("labels", make_text(self.owner.canvas, color="white", font_size=7, anchor_x="left"))
        text.text = labels
        text.pos = np.asarray(pos, dtype=np.float32)
        self._set("labels", True)

    def set_stroked(self, role: str, pos: F32 | None, cols: npt.NDArray[Any] | None, widths: F32 | None) -> None:
        """Segments drawn as one Line per stroke width (:mod:`rrview.strokes`): roles ``role``, ``role:1``..."""
        groups = strokes.width_groups(widths) if pos is not None and len(pos) and widths is not None else []
        self._draw_width_groups(role, pos, cols, groups)

    def pick(self, tr: Any, click: F64, focal: float | None) -> list[Pick]:
        """What of this layer is under ``click`` (canvas pixels); ``tr`` maps view space to the canvas."""
        return []


class _PointsLayer(_Layer3D):
    def __init__(self, owner: Scene3D, entity: str, kind: str) -> None:
        super().__init__(owner, entity, kind)
        # What was drawn, for picking: positions (entity coordinates) and sizes (diameters, in
        # pixels when not scaled, else in space units).
        self.drawn: tuple[F32, npt.NDArray[Any], bool] | None = None

    def draw(self, rows: list[Row], rel: list[Mat4 | None], timeline: str | None, t: int | None) -> None:
        model = self.owner.model
        pos, col, size, names, scaled = [], [], [], [], False
        bones, bone_cols = [], []
        for row, m in zip(rows, rel, strict=True):
            p = vectors(row, "positions3d", 3)
            if p is None or not len(p):
                continue
            n = len(p)
            pos.append(_apply(m, p))
            col.append(instance_colors(model, self.entity, row, n, timeline, t))
            radii = broadcast(floats_of(row, "radii"), n)
            scaled = scaled or radii is not None
            size.append(2.0 * radii if radii is not None else np.full(n, np.nan, np.float32))
            names.append((n, instance_labels(model, self.entity, row, n, timeline, t)))
            ends, colors = skeleton_of(model, self.entity, row, p, timeline, t)
            if len(ends):
                bones.append(_apply(m, ends))
                bone_cols.append(colors)
        # Labels only when some row has them (a list of 100,000 empty strings per frame costs).
        labels = [x for n, ls in names for x in (ls or [""] * n)] if any(ls for _, ls in names) else None
        if bones:
            ends = np.concatenate(bones).astype(np.float32)
            self.set_stroked("skeleton", ends, np.concatenate(bone_cols), np.full(len(ends) // 2, np.nan, np.float32))
        else:
            self.set_stroked("skeleton", None, None, None)
        if not pos:
            self.local_bounds = self.drawn = None
            self._set("points", False)
            self.set_labels(None, None)
            return
        p = pos[0] if len(pos) == 1 else np.concatenate(pos)
        c = col[0] if len(col) == 1 else np.concatenate(col)
        dense = len(p) >= DENSE_POINTS
        if dense and not scaled:
            # One size on screen for all: the light cloud visual (half the cost of Markers per frame).
            cloud = self._visual("points", Cloud)
            cloud.set_data(p, c, POINT_SIZE_PX)
            self.drawn = (p, np.full(len(p), POINT_SIZE_PX, np.float32), False)
        else:
            markers = self._visual("points", scene.visuals.Markers)
            s = size[0] if len(size) == 1 else np.concatenate(size)
            # Radii are in the space's units: scale markers with the visual's transform. Without
            # radii, points keep a fixed size on screen.
            markers.scaling = "visual" if scaled else "fixed"
            s = np.where(np.isnan(s), 0.02 if scaled else POINT_SIZE_PX, s)
            # A dense cloud gets a thin anti-aliased rim: vispy's markers add 6 px of rim to each
            # point's sprite, which on a software renderer costs more than the points themselves.
            antialias = DENSE_ANTIALIAS if dense else 1.0
            if markers.antialias != antialias:
                markers.antialias = antialias
            markers.set_data(p, size=s, face_color=c, edge_width=0, symbol="disc")
            self.drawn = (p, s, scaled)
        self.bound(p)
        self._set("points", True)
        self.set_labels(p, labels)

    def _visual(self, role: str, kind: Any) -> Any:
        """The role's visual, made anew when it is of another kind (a cloud that grew dense)."""
        v = self.visuals.get(role)
        if v is not None and not isinstance(v, kind):
            v.parent = None
            del self.visuals[role]
            v = None
        return v if v is not None else self._new(role, kind())

    def pick(self, tr: Any, click: F64, focal: float | None) -> list[Pick]:
        if self.drawn is None or not self.shown:
            return []
        p, size, scaled = self.drawn
        xy, w = project(tr, _apply(self.matrix, p))
        d = np.linalg.norm(xy - click[None, :], axis=1)
        d = np.where(np.isfinite(d), d, np.inf)
        # Radii in space units shrink on screen with the distance (focal length in pixels / depth).
        scale = (focal or 0.0) / np.where(w > 0, w, np.inf) if scaled else 1.0
        r = 0.5 * size * scale
        gap = np.maximum(d - r, 0.0)
        near = np.nonzero(gap <= PICK_RADIUS_PX)[0]
        if not len(near):
            return []
        # Of the points within reach, the nearest the click; on a tie (discs under the click), the front one.
        i = int(near[np.lexsort((w[near], np.round(gap[near], 3)))[0]])
        return [Pick(self.entity, i, float(gap[i]), float(w[i]))]


class _LinesLayer(_Layer3D):
    """Boxes, line strips and arrows: Lines of segments per entity (plus labels), or a part of a batch."""

    role = "lines"

    def __init__(self, owner: Scene3D, entity: str, kind: str, batch: _LineBatch | None = None) -> None:
        super().__init__(owner, entity, kind)
        self.batch = batch
        # Batched: what to draw (end points, colours, label anchors, labels, segment widths).
        self.data: tuple[F32, npt.NDArray[np.float32], F32, list[str], F32] | None = None
        self.segs: F32 | None = None  # the drawn segment end points, in the entity's coordinates (for picking)

    def show(self, visible: bool) -> None:
        if self.batch is not None and visible != self.shown:
            self.batch.dirty = True
        super().show(visible)

    def set_matrix(self, m: Mat4) -> None:
        if self.batch is not None and not np.array_equal(m, self.matrix):
            self.batch.dirty = True
        super().set_matrix(m)

    def segments(self, row: Row, timeline: str | None, t: int | None) -> _Segments:
        """Segment end points (2K, 3), their colours (2K, 4), label anchors (N, 3), labels and widths (K,)."""
        raise NotImplementedError

    def draw(self, rows: list[Row], rel: list[Mat4 | None], timeline: str | None, t: int | None) -> None:
        segs, cols, anchors, labels, widths = [], [], [], [], []
        for row, m in zip(rows, rel, strict=True):
            s, c, a, names, w = self.segments(row, timeline, t)
            if not len(s):
                continue
            segs.append(_apply(m, s.astype(np.float32)))
            cols.append(c)
            anchors.append(_apply(m, a.astype(np.float32)))
            labels.extend(names or [""] * len(a))
            widths.append(w)
        if not segs:
            self.local_bounds = self.data = self.segs = None
            if self.batch is not None:
                self.batch.dirty = True
                return
            self.set_stroked(self.role, None, None, None)
            self.set_labels(None, None)
            return
        pos = np.concatenate(segs).astype(np.float32)
        col = np.concatenate(cols).astype(np.float32)
        width = np.concatenate(widths).astype(np.float32)
        self.segs = pos
        self.local_bounds = _bounds(pos)
        if self.batch is not None:
            self.batch.dirty = True
            self.data = (pos, col, np.concatenate(anchors), labels, width)
            return
        self.set_stroked(self.role, pos, col, width)
        self.set_labels(np.concatenate(anchors), labels)


def _pick_lines(layers: list[_LinesLayer], tr: Any, click: F64) -> list[Pick]:
    """Picks among the segments of many line layers, projected together.

    A view may hold 10,000 box entities: one projection for all of them, not one each.
    Every entity with a segment within reach is a candidate, with its nearest segment.
    """
    parts, owners = [], []
    for i, lay in enumerate(layers):
        if lay.segs is not None and lay.shown and len(lay.segs):
            parts.append(_apply(None if np.array_equal(lay.matrix, np.eye(4)) else lay.matrix, lay.segs))
            owners.append(np.full(len(lay.segs) // 2, i, np.intp))
    if not parts:
        return []
    xy, w = project(tr, np.concatenate(parts))
    d = segment_distances(xy[0::2], xy[1::2], click)
    owner = np.concatenate(owners)
    depth = np.minimum(w[0::2], w[1::2])
    best: dict[int, int] = {}
    for k in np.nonzero(d <= PICK_RADIUS_PX)[0].tolist():
        j = best.get(int(owner[k]))
        if j is None or d[k] < d[j]:
            best[int(owner[k])] = k
    return [Pick(layers[i].entity, None, float(d[k]), float(depth[k])) for i, k in best.items()]


def _widths(row: Row, component: str, n: int, per: int | npt.NDArray[np.intp]) -> F32:
    """The row's per-instance widths (``stroke_widths``, ``width_scales``) for each of its segments.

    ``per`` is the number of segments of each instance (one number for all, or one each).
    """
    values = floats_of(row, component)
    if values is None and isinstance(per, int):
        return np.full(n * per, np.nan, np.float32)  # the usual case, kept cheap: 10,000 boxes a frame
    return strokes.segment_widths(broadcast(values, n), np.full(n, per) if isinstance(per, int) else per)


class _BoxesLayer(_LinesLayer):
    role = "boxes"

    def segments(self, row: Row, timeline: str | None, t: int | None) -> _Segments:
        hs = vectors(row, "half_sizes", 3)
        if hs is None or not len(hs):
            return _NO_SEGMENTS
        n = len(hs)
        centers = broadcast(vectors(row, "centers", 3), n)
        rotations = broadcast(vectors(row, "rotations", 4), n)
        corners = box_corners(hs, centers, rotations)
        colors = instance_colors(self.owner.model, self.entity, row, n, timeline, t)
        anchors = corners[:, 7, :]  # a top corner, so the label sits on the box
        return (
            box_edges(corners),
            np.repeat(colors, 24, axis=0),
            anchors,
            instance_labels(self.owner.model, self.entity, row, n, timeline, t),
            _widths(row, "stroke_widths", n, 12),
        )


class _StripsLayer(_LinesLayer):
    role = "lines"

    def segments(self, row: Row, timeline: str | None, t: int | None) -> _Segments:
        strips = strips_of(row, "strips3d", 3)
        if not strips:
            return _NO_SEGMENTS
        n = len(strips)
        colors = instance_colors(self.owner.model, self.entity, row, n, timeline, t)
        names = instance_labels(self.owner.model, self.entity, row, n, timeline, t)
        per_strip = _widths(row, "stroke_widths", n, 1)
        segs, cols, anchors, labels, widths = [], [], [], [], []
        for i, s in enumerate(strips):
            if len(s) < 2:
                continue
            segs.append(np.repeat(s, 2, axis=0)[1:-1])  # a strip's consecutive vertices as segments
            cols.append(np.tile(colors[i], (2 * (len(s) - 1), 1)))
            anchors.append(s[0])
            labels.append(names[i] if names else "")
            widths.append(np.full(len(s) - 1, per_strip[i], np.float32))
        if not segs:
            return _NO_SEGMENTS
        return np.concatenate(segs), np.concatenate(cols), np.asarray(anchors), labels, np.concatenate(widths)


class _ArrowsLayer(_LinesLayer):
    role = "arrows"

    def segments(self, row: Row, timeline: str | None, t: int | None) -> _Segments:
        vec = vectors(row, "vectors", 3)
        if vec is None or not len(vec):
            return _NO_SEGMENTS
        n = len(vec)
        origins = broadcast(vectors(row, "origins", 3), n)
        o = np.zeros((n, 3)) if origins is None else origins.astype(np.float64)
        v = vec.astype(np.float64)
        tip = o + v
        length = np.linalg.norm(v, axis=1)
        d = v / np.where(length > 0, length, 1.0)[:, None]
        # Two unit vectors across the arrow, for a head of 4 short lines back from the tip.
        helper = np.where(np.abs(d[:, 2:3]) < 0.9, [[0.0, 0.0, 1.0]], [[1.0, 0.0, 0.0]])
        a = np.cross(d, helper)
        a /= np.maximum(np.linalg.norm(a, axis=1), 1e-12)[:, None]
        b = np.cross(d, a)
        head = (0.2 * length)[:, None]
        base = tip - d * head
        ends = [base + a * head * 0.4, base - a * head * 0.4, base + b * head * 0.4, base - b * head * 0.4]
        parts = [o, tip] + [x for e in ends for x in (tip, e)]
        segs = np.stack(parts, axis=1).reshape(-1, 3)  # per arrow: shaft, then 4 head lines
        colors = np.repeat(instance_colors(self.owner.model, self.entity, row, n, timeline, t), 10, axis=0)
        # width_scales is the shaft's width; the head's lines are drawn as wide.
        widths = _widths(row, "width_scales", n, 5)
        return segs, colors, tip, instance_labels(self.owner.model, self.entity, row, n, timeline, t), widths


class _MeshLayer(_Layer3D):
    max_rows = 1

    def __init__(self, owner: Scene3D, entity: str, kind: str) -> None:
        super().__init__(owner, entity, kind)
        self.drawn: tuple[F32, npt.NDArray[np.uint32]] | None = None  # vertices and triangles, for picking

    def mesh(self, row: Row) -> tuple[F32, npt.NDArray[np.uint32], F32 | None, tuple[float, ...] | None] | None:
        """Vertices, triangles, vertex colours (0-1) and a base colour of a row, or None."""
        v = vectors(row, "vertex_positions", 3)
        if v is None or not len(v):
            return None
        idx = row.array("triangle_indices")
        if idx is not None:
            faces = np.asarray(numpy_of(idx.values), dtype=np.uint32).reshape(-1, 3)
        else:
            faces = np.arange(len(v) // 3 * 3, dtype=np.uint32).reshape(-1, 3)
        vc = colors_of(row, "vertex_colors")
        vcol = None if vc is None else broadcast(vc, len(v)).astype(np.float32) / np.float32(255.0)  # type: ignore[union-attr]
        albedo = row.get("albedo_factor")
        base = None
        if albedo is not None:
            rgb = _linear_to_srgb(albedo[:3])
            base = (float(rgb[0]), float(rgb[1]), float(rgb[2]), float(albedo[3]))
        return v, faces, vcol, base

    def draw(self, rows: list[Row], rel: list[Mat4 | None], timeline: str | None, t: int | None) -> None:
        got = self.mesh(rows[-1]) if rows else None
        if got is None or not len(got[1]):
            self.local_bounds = self.drawn = None
            self._set("mesh", False)
            return
        v, faces, vcol, base = got
        v = _apply(rel[-1], v)
        mesh = self.visuals.get("mesh")
        if mesh is None:
            mesh = self._new("mesh", scene.visuals.Mesh(shading="smooth"))
        color = base if base is not None else tuple(x / 255.0 for x in cm.entity_color(self.entity))
        mesh.set_data(vertices=v, faces=faces, vertex_colors=vcol, color=color)
        self.local_bounds = _bounds(v)
        self.drawn = (v, faces)
        self._set("mesh", True)

    def pick(self, tr: Any, click: F64, focal: float | None) -> list[Pick]:
        if self.drawn is None or not self.shown:
            return []
        v, faces = self.drawn
        xy, w = project(tr, _apply(self.matrix, v))
        hit, depth = triangle_hits(xy, w, faces, click)
        if not len(hit):
            return []
        j = int(np.argmin(depth))
        return [Pick(self.entity, None, 0.0, float(depth[j]), surface=True)]


class _MeshFileLayer(_MeshLayer):
    def mesh(self, row: Row) -> tuple[F32, npt.NDArray[np.uint32], F32 | None, tuple[float, ...] | None] | None:
        fmt = (row.get("mesh_format") or "").lower()
        blob = row.array("mesh_blob")
        if blob is None:
            return None
        data = blob.as_buffer().to_pybytes()
        try:
            if fmt == "obj":
                v, f, c = parse_obj(data)
            elif fmt in ("glb", "gltf"):
                v, f, c = load_gltf(data, fmt)
            else:
                self.owner.note(f"{self.entity}: unknown mesh format {fmt!r}; not drawn")
                return None
        except (ValueError, UnicodeError) as e:
            self.owner.note(f"{self.entity}: cannot read the {fmt.upper()} mesh: {e}")
            return None
        tr = row.get("mesh_transform")
        if tr is not None:
            m = np.eye(4)
            m[:3, :] = np.asarray(tr, dtype=np.float64).reshape(3, 4)
            v = _apply(m, v)
        return v, f, c, None


_LINE_KINDS: dict[str, type[_LinesLayer]] = {
    "boxes3d": _BoxesLayer,
    "line_strips3d": _StripsLayer,
    "arrows3d": _ArrowsLayer,
}

_LAYERS: dict[str, type[_Layer3D]] = {
    "points3d": _PointsLayer,
    "boxes3d": _BoxesLayer,
    "line_strips3d": _StripsLayer,
    "arrows3d": _ArrowsLayer,
    "mesh3d": _MeshLayer,
    "mesh_file": _MeshFileLayer,
}


class _LineBatch:
    """The boxes, strips and arrows of many entities of a view as Line visuals (one per stroke width) and one Text.

    A vispy visual per entity costs ~10 ms to build and ~4 ms to draw on a software
    renderer: a view of 10,000 boxes would take minutes to show. In a batch each layer
    keeps its segments in its own coordinates; the batch moves them into view space and
    uploads them together, once per update in which any of them changed.
    """

    def __init__(self, owner: Scene3D) -> None:
        self.owner = owner
        self.lines: list[Any] = []
        self.widths: list[float] = []
        self._line(0)
        self.text: Any = None
        self.dirty = True

    def _line(self, i: int) -> Any:
        """The batch's i-th Line (made on first use): ``#batch:lines``, ``#batch:lines:1``..."""
        while len(self.lines) <= i:
            line = scene.visuals.Line(method="gl", connect="segments", width=LINE_WIDTH_PX)
            line.name = "#" + strokes.group_role("batch:lines", len(self.lines))
            line.parent = self.owner.viewbox.scene
            line.visible = False
            self.lines.append(line)
            self.widths.append(float("nan"))
        return self.lines[i]

    def rebuild(self, layers: list[_LinesLayer]) -> None:
        if not self.dirty:
            return
        self.dirty = False
        segs: list[npt.NDArray[Any]] = []
        cols: list[npt.NDArray[Any]] = []
        widths: list[npt.NDArray[Any]] = []
        anchors: list[npt.NDArray[Any]] = []
        labels: list[str] = []
        eye = np.eye(4)
        for lay in layers:
            if lay.data is None or not lay.shown:
                continue
            pos, col, anc, names, width = lay.data
            m = None if np.array_equal(lay.matrix, eye) else lay.matrix
            segs.append(_apply(m, pos))
            cols.append(col)
            widths.append(width)
            if any(names):
                anchors.append(_apply(m, anc))
                labels.extend(names)
        groups = strokes.width_groups(np.concatenate(widths)) if segs else []
        if groups:
            pos, col = np.concatenate(segs), np.concatenate(cols)
            ppu = self.owner.pixels_per_unit
            for i, (w, idx) in enumerate(groups):
                v = (2 * idx[:, None] + np.arange(2)).reshape(-1) if len(groups) > 1 else slice(None)
                line = self._line(i)
                line.set_data(pos=pos[v], color=col[v], connect="segments", width=strokes.width_px(w, ppu))
                line.visible = True
                self.widths[i] = w
        for line in self.lines[len(groups) :]:
            line.visible = False
        show_text = 0 < len(labels) <= MAX_BATCH_LABELS
        if show_text:
            if self.text is None:
                self.text = make_text(self.owner.canvas, color="white", font_size=7, anchor_x="left")
                self.text.name = "#batch:labels"
                self.text.parent = self.owner.viewbox.scene
            self.text.text = labels
            self.text.pos = np.concatenate(anchors).astype(np.float32)
        if self.text is not None:
            self.text.visible = show_text

    def rescale(self, pixels_per_unit: float | None) -> None:
        strokes.rescale(((ln, w) for ln, w in zip(self.lines, self.widths, strict=True) if ln.visible), pixels_per_unit)

    def visuals(self) -> list[Any]:
        return [v for v in (*self.lines, self.text) if v is not None and v.visible]

    def remove(self) -> None:
        for v in (*self.lines, self.text):
            if v is not None:
                v.parent = None


class _CameraLayer:
    """A pinhole camera: its frustum and its latest image in the far plane."""

    def __init__(self, owner: Scene3D, entity: str) -> None:
        self.owner = owner
        self.entity = entity
        self.frustum = scene.visuals.Line(method="gl", connect="segments", width=1.5, color=FRUSTUM_COLOR)
        self.frustum.name = f"{entity}#frustum"
        self.frustum.parent = owner.viewbox.scene
        self.image: Any = None
        self.image_key: tuple[Any, ...] | None = None
        self.corners: F64 | None = None
        self.center: F64 | None = None
        self.segments: F32 | None = None  # the frustum's segment end points in view space (for picking)
        self._texture_size = (1, 1)

    def visuals(self) -> list[Any]:
        return [v for v in (self.frustum, self.image) if v is not None and v.visible]

    def pick(self, tr: Any, click: F64) -> list[Pick]:
        """The frustum's lines under ``click`` pick the camera entity."""
        if self.segments is None or not self.frustum.visible:
            return []
        xy, w = project(tr, self.segments)
        d = segment_distances(xy[0::2], xy[1::2], click)
        i = int(np.argmin(d))
        return [Pick(self.entity, None, float(d[i]), float(min(w[2 * i], w[2 * i + 1])))]

    def hide(self) -> None:
        self.segments = None
        self.frustum.visible = False
        if self.image is not None:
            self.image.visible = False

    def image_entity(self) -> tuple[str, str] | None:
        """The camera's image: at the pinhole entity or below it (same image space), by preference of kind."""
        node = self.owner.model.nodes.get(self.entity)
        if node is None:
            return None
        found: dict[str, str] = {}
        stack = [node]
        while stack:
            n = stack.pop()
            kind = n.data_kind
            if kind in IMAGE_KINDS and kind not in found and n.is_visible():
                found[kind] = n.path
            stack.extend(c for c in n.children.values() if "pinhole" not in c.chunks)
        for kind in IMAGE_KINDS:
            if kind in found:
                return found[kind], kind
        return None

    def update(self, timeline: str | None, t: int | None, depth: float) -> None:
        node = self.owner.model.nodes.get(self.entity)
        cam = camera_at(self.owner.model, self.entity, timeline, t) if node is not None else None
        if node is None or cam is None or not node.is_visible():
            self.hide()
            self.corners = self.center = None
            return
        corners = cam.frustum(depth)
        center = cam.world_from_camera[:3, 3]
        self.corners, self.center = corners, center
        far = corners[[0, 1, 1, 2, 2, 3, 3, 0]]
        rays = np.stack([np.repeat(center[None], 4, axis=0), corners], axis=1).reshape(-1, 3)
        self.segments = np.concatenate([rays, far]).astype(np.float32)
        self.frustum.set_data(pos=self.segments, connect="segments")
        self.frustum.visible = True
        self._update_image(timeline, t, corners)

    def _update_image(self, timeline: str | None, t: int | None, corners: F64) -> None:
        found = self.image_entity()
        row = self.owner.model.latest(found[0], found[1], timeline, t) if found is not None else None
        if found is None or row is None:
            if self.image is not None:
                self.image.visible = False
            return
        key = (found[0], row.row_id)
        if key != self.image_key:
            self.image_key = key
            try:
                data = image_data(self.owner.model, found[0], found[1], row, timeline, t)
            except ImportError:
                self.owner.note(f"{found[0]}: encoded images need Pillow (pip install pillow); not drawn")
                data = None
            except (ValueError, OSError) as e:
                self.owner.note(f"{found[0]}: {e}")
                data = None
            if data is None:
                self.image_key = None
                if self.image is not None:
                    self.image.visible = False
                return
            step = max(1, int(np.ceil(max(data.width, data.height) / MAX_CAMERA_TEXTURE)))
            rgba = np.ascontiguousarray(data.rgba[::step, ::step])
            if self.image is None:
                self.image = scene.visuals.Image(rgba, method="subdivide", clim=(0, 255))
                self.image.name = f"{self.entity}#image"
                self.image.transform = MatrixTransform()
                self.image.parent = self.owner.viewbox.scene
            else:
                self.image.set_data(rgba)
            self._texture_size = (rgba.shape[1], rgba.shape[0])
        # The image's pixel (x, y) goes to c0 + x * ex + y * ey: the quad spans the far plane.
        tw, th = self._texture_size
        c0, c1, _, c3 = corners
        m = np.eye(4)
        m[:3, 0] = (c1 - c0) / tw
        m[:3, 1] = (c3 - c0) / th
        n = np.cross(m[:3, 0], m[:3, 1])
        m[:3, 2] = n / max(float(np.linalg.norm(n)), 1e-12)
        m[:3, 3] = c0
        self.image.transform.matrix = m.T
        self.image.visible = True


def _fly_camera(app: Any) -> Any:
    """A FlyCamera whose key-repeat timer runs on ``app`` (the canvas's application).

    vispy's FlyCamera makes its timer on vispy's default application; for a canvas on
    another one (the off-screen EGL application) that would start a second GUI toolkit,
    which aborts the process when there is no display.
    """
    from vispy.scene.cameras import fly

    timer = fly.Timer
    fly.Timer = functools.partial(timer, app=app)
    try:
        return fly.FlyCamera(fov=60.0)
    finally:
        fly.Timer = timer


class Scene3D:
    """A 3D view drawn with vispy.

    Parameters
    ----------
    model
        The opened recording.
    view
        The 3D view of the layout: its ``entities`` are drawn, its ``cameras`` as frustums.
    size
        Canvas size in pixels when the scene makes its own canvas.
    canvas
        A canvas to draw in (its central widget gets the view box); default: a new one.
    show
        Show the new canvas in a window.
    parent
        The vispy widget to put the view box in (default: the canvas's central widget), e.g. a
        grid cell when several views share one canvas.
    """

    def __init__(
        self,
        model: ViewerModel,
        view: SpaceView,
        *,
        size: tuple[int, int] = (640, 480),
        canvas: scene.SceneCanvas | None = None,
        show: bool = False,
        parent: Any = None,
    ) -> None:
        self.model = model
        self.view = view
        self.canvas = canvas if canvas is not None else scene.SceneCanvas(size=size, show=show, bgcolor=BACKGROUND)
        self.viewbox = (parent if parent is not None else self.canvas.central_widget).add_view()
        self.camera_mode: Literal["turntable", "fly"] = "turntable"
        self.up = self._up(None, None)
        self._use_camera(scene.TurntableCamera(up=self.up, fov=45.0, elevation=30.0, azimuth=30.0))
        self.notes: list[str] = []
        self.timeline: str | None = None
        self.time: int | None = None
        self.frustum_depth = 1.0
        self._layers: dict[str, _Layer3D] = {}
        self._cameras: dict[str, _CameraLayer] = {}
        self._batch: _LineBatch | None = None
        self._fitted = False
        self.axes = scene.visuals.Line(
            pos=np.array([[0, 0, 0], [1, 0, 0], [0, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 1]], np.float32),
            color=np.array([[1, 0, 0, 1]] * 2 + [[0, 1, 0, 1]] * 2 + [[0, 0.4, 1, 1]] * 2, np.float32),
            connect="segments",
            method="gl",
            width=2.0,
            parent=self.viewbox.scene,
        )
        self.axes.name = "#axes"
        self.ray = scene.visuals.Line(method="gl", width=2.0, color=RAY_COLOR, parent=self.viewbox.scene)
        self.ray.name = "#ray"
        self.ray.visible = False
        self.pixels_per_unit: float | None = None
        """Screen pixels per space unit where the camera looks (stroke widths: :mod:`rrview.strokes`)."""
        strokes.watch_view(self.viewbox, self._on_view_change)

    def note(self, text: str) -> None:
        """Record something that could not be drawn (shown by the UI, once)."""
        if text not in self.notes:
            self.notes.append(text)

    def _up(self, timeline: str | None, t: int | None) -> str:
        root = self.model.nodes.get(self.view.root)
        if root is None:
            return "+z"
        for kind in ("view_coordinates", "rigid3"):
            if kind in root.chunks:
                row = self.model.latest(root.path, kind, timeline, t)
                if row is not None and row.get("view_coordinates"):
                    return up_axis(row.get("view_coordinates"))
        return "+z"

    # --- drawing ---------------------------------------------------------------------------
    def update(self, timeline: str | None, t: int | None, *, history: int | None = None) -> None:
        """Draw the state at ``t`` on ``timeline`` (with ``history``: also rows in ``[t - history, t]``)."""
        self.timeline, self.time = timeline, t
        wanted = set(self.view.entities)
        for entity in [e for e in self._layers if e not in wanted]:
            self._drop(entity)
        kinds = {e: n.data_kind for e in self.view.entities if (n := self.model.nodes.get(e)) is not None}
        batched = sum(1 for k in kinds.values() if k in _LINE_KINDS) >= BATCH_LINE_ENTITIES
        for entity in self.view.entities:
            node = self.model.nodes.get(entity)
            kind = kinds.get(entity)
            if node is None or kind not in _LAYERS:
                continue  # an unknown kind: nothing to draw
            layer = self._layers.get(entity)
            if layer is None or layer.kind != kind or (kind in _LINE_KINDS and self._batched(layer) != batched):
                if layer is not None:
                    self._drop(entity)
                layer = self._layers[entity] = self._make_layer(entity, kind, batched)
            if not node.is_visible():
                layer.show(False)
                continue
            matrix = world_from_entity(self.model, entity, timeline, t)
            rows, rel = self._rows(layer, matrix, timeline, t, history)
            layer.set_rows(rows, rel, timeline, t)
            layer.set_matrix(matrix)
            layer.show(True)
        if self._batch is not None:
            self._batch.rebuild([lay for lay in self._layers.values() if isinstance(lay, _LinesLayer)])
        up = self._up(timeline, t)
        if up != self.up:
            self.up = up
            if self.camera_mode == "turntable":
                self.viewbox.camera.up = up
        self._update_cameras(timeline, t)
        if not self._fitted and self.bounds() is not None:
            self.reset_camera()
        self._on_view_change()
        self.canvas.update()

    @staticmethod
    def _batched(layer: _Layer3D) -> bool:
        return isinstance(layer, _LinesLayer) and layer.batch is not None

    def _make_layer(self, entity: str, kind: str, batched: bool) -> _Layer3D:
        if batched and kind in _LINE_KINDS:
            if self._batch is None:
                self._batch = _LineBatch(self)
            return _LINE_KINDS[kind](self, entity, kind, self._batch)
        return _LAYERS[kind](self, entity, kind)

    def _drop(self, entity: str) -> None:
        layer = self._layers.pop(entity)
        for v in layer.visuals.values():
            v.parent = None
        if isinstance(layer, _LinesLayer) and layer.batch is not None:
            layer.batch.dirty = True

    def _rows(
        self, layer: _Layer3D, matrix: Mat4, timeline: str | None, t: int | None, history: int | None
    ) -> tuple[list[Row], list[Mat4 | None]]:
        entity, kind = layer.entity, layer.kind
        if history and timeline is not None and t is not None and layer.max_rows is None:
            rows = self.model.history(entity, kind, timeline, t - history, t)
            if rows:
                # Each row where the entity was at the row's time, in the frame of the entity now.
                inv = np.linalg.inv(matrix)
                rel: list[Mat4 | None] = []
                for r in rows:
                    m = inv @ world_from_entity(self.model, entity, timeline, r.time if r.time is not None else t)
                    rel.append(None if np.allclose(m, np.eye(4)) else m)
                return rows, rel
        row = self.model.latest(entity, kind, timeline, t)
        return ([row], [None]) if row is not None else ([], [])

    def _world_boxes(self) -> tuple[F64, F64]:
        """(N, 3) low and high corners of each shown entity's world bounding box.

        Computed for all entities at once: a view of 10,000 boxes asks for them at every fit.
        """
        los, his, mats = [], [], []
        for lay in self._layers.values():
            b = lay.local_bounds if lay.shown else None
            if b is not None:
                los.append(b[0])
                his.append(b[1])
                mats.append(lay.matrix)
        if not los:
            return np.zeros((0, 3)), np.zeros((0, 3))
        lo, hi, m = np.array(los, np.float64), np.array(his, np.float64), np.array(mats, np.float64)
        corners = np.where(_CORNER_PICK[None], hi[:, None, :], lo[:, None, :])  # (N, 8, 3)
        world = np.einsum("nij,nkj->nki", m[:, :3, :3], corners) + m[:, None, :3, 3]
        return world.min(axis=1), world.max(axis=1)

    def data_bounds(self) -> tuple[F64, F64] | None:
        """World bounding box of the drawn entity data (cameras excluded)."""
        lo, hi = self._world_boxes()
        if not len(lo):
            return None
        return lo.min(axis=0), hi.max(axis=0)

    def bounds(self) -> tuple[F64, F64] | None:
        """World bounding box of everything drawn, frustums included."""
        pts = [np.stack(b) for b in [self.data_bounds()] if b is not None]
        for cam in self._cameras.values():
            if cam.corners is not None and cam.center is not None:
                pts.append(np.vstack([cam.corners, cam.center[None]]))
        return _bounds(np.vstack(pts)) if pts else None

    def _update_cameras(self, timeline: str | None, t: int | None) -> None:
        wanted = set(self.view.cameras)
        for entity in [e for e in self._cameras if e not in wanted]:
            cam = self._cameras.pop(entity)
            for v in (cam.frustum, cam.image):
                if v is not None:
                    v.parent = None
        if not self.view.cameras:
            return
        # The frustum depth follows the scene's size: the data plus the camera centres.
        pts = [np.stack(b) for b in [self.data_bounds()] if b is not None]
        for entity in self.view.cameras:
            pinhole = camera_at(self.model, entity, timeline, t)
            if pinhole is not None:
                pts.append(pinhole.world_from_camera[:3, 3][None])
        b = _bounds(np.vstack(pts)) if pts else None
        size = float(np.linalg.norm(b[1] - b[0])) if b is not None else 0.0
        self.frustum_depth = FRUSTUM_FRACTION * size if size > 1e-9 else 1.0
        for entity in self.view.cameras:
            layer = self._cameras.get(entity)
            if layer is None:
                layer = self._cameras[entity] = _CameraLayer(self, entity)
            layer.update(timeline, t, self.frustum_depth)

    # --- camera and interaction ------------------------------------------------------------
    def reset_camera(self) -> None:
        """Fit everything drawn in the view; the axes are resized to a tenth of the scene."""
        b = self.bounds()
        lo, hi = (np.array([-1.0, -1.0, -1.0]), np.array([1.0, 1.0, 1.0])) if b is None else b
        span = hi - lo
        size = float(np.linalg.norm(span))
        pad = np.maximum(span * 0.02, 1e-3 if size == 0 else size * 0.005)
        lo, hi = lo - pad, hi + pad
        cam = self.viewbox.camera
        cam.set_range(x=(lo[0], hi[0]), y=(lo[1], hi[1]), z=(lo[2], hi[2]), margin=0.0)
        if self.camera_mode == "turntable":
            cam.elevation, cam.azimuth = 30.0, 30.0
            self._fit_turntable(self._outline() if b is not None else _box_points(lo, hi))
        length = 0.1 * size if size > 0 else 1.0
        self.axes.set_data(
            pos=np.array([[0, 0, 0], [1, 0, 0], [0, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 1]], np.float32) * length
        )
        self._fitted = True

    def _measure_scale(self) -> tuple[float, float] | None:
        """(pixels per unit, focal length in pixels) at the centre of the drawn data, from the view transform now.

        The focal length f gives the on-screen size of a thing of size s at depth w: s * f / w.
        """
        b = self.bounds()
        if b is None:
            return None
        pivot = (b[0] + b[1]) / 2.0
        step = max(float(np.linalg.norm(b[1] - b[0])) * 1e-3, 1e-6)
        xy, w = project(self.viewbox.scene.node_transform(self.viewbox), np.vstack([pivot, pivot + np.eye(3) * step]))
        if w[0] <= 0 or not np.isfinite(xy).all():
            return None
        ppu = float(np.linalg.norm(xy[1:] - xy[0], axis=1).max()) / step
        if not np.isfinite(ppu) or ppu <= 0:
            return None
        return ppu, ppu * float(w[0])

    def _view_scale(self) -> float | None:
        """Pixels per space unit at the point the camera looks at (the turntable's centre).

        A turntable shows ``scale_factor`` units across the smaller side of the view at its
        centre. It is read from the camera, not from the scene's transform: cameras send
        their change events before they finish updating that transform. The fly camera
        has no such centre: the data's centre is measured through the transform then.
        """
        cam = self.viewbox.camera
        w, h = (float(x) for x in self.viewbox.size)
        sf = getattr(cam, "scale_factor", None)
        if self.camera_mode == "turntable" and sf and min(w, h) > 0:
            return min(w, h) / float(sf)
        got = self._measure_scale()
        return got[0] if got is not None else None

    def _on_view_change(self, event: Any = None) -> None:
        """The camera moved (or new data): convert stroke widths to pixels again when the scale changed."""
        ppu = self._view_scale()
        old = self.pixels_per_unit
        if ppu == old or (ppu is not None and old is not None and abs(ppu - old) <= 0.01 * old):
            return
        self.pixels_per_unit = ppu
        for lay in self._layers.values():
            if lay.widths:
                lay.rescale(ppu)
        if self._batch is not None:
            self._batch.rescale(ppu)

    def _outline(self) -> F64:
        """Points outlining what is drawn: each entity's box corners, the frustums and camera centres."""
        lo, hi = self._world_boxes()
        pts = [np.where(_CORNER_PICK[None], hi[:, None, :], lo[:, None, :]).reshape(-1, 3)] if len(lo) else []
        for cam in self._cameras.values():
            if cam.corners is not None and cam.center is not None:
                pts.append(np.vstack([cam.corners, cam.center[None]]))
        return np.vstack(pts) if pts else np.zeros((0, 3))

    def _fit_turntable(self, pts: F64, fill: float = 0.9) -> None:
        """Zoom so ``pts`` fill ``fill`` of the view from the current angle.

        ``set_range`` fits the bounding sphere for any rotation, which leaves a lot of empty
        space. Projecting the outline and rescaling (the camera distance follows the scale
        factor, so a few rounds settle the perspective) fits what is drawn as it is seen.
        """
        cam = self.viewbox.camera
        w, h = (float(x) for x in self.viewbox.size)
        if w <= 0 or h <= 0 or not len(pts) or float(np.ptp(pts, axis=0).max()) < 1e-9:
            return  # nothing to fit, or a single point: keep set_range's view around it
        floor = cam.scale_factor * 0.05  # never zoom in so far that the projection degenerates
        for _ in range(4):
            p = np.asarray(self.viewbox.scene.node_transform(self.viewbox).map(pts))
            if (p[:, 3] <= 0).any():
                cam.scale_factor *= 2.0  # a point behind the camera: step back first
                continue
            xy = p[:, :2] / p[:, 3:4]
            need = max(float(np.abs(xy[:, 0] - w / 2).max()) / (w / 2), float(np.abs(xy[:, 1] - h / 2).max()) / (h / 2))
            if not np.isfinite(need) or need <= 0:
                return
            cam.scale_factor = max(cam.scale_factor * need / fill, floor)

    def _use_camera(self, camera: Any) -> None:
        camera.depth_value = DEPTH_RATIO
        self.viewbox.camera = camera

    def set_camera_mode(self, mode: Literal["turntable", "fly"]) -> None:
        """Orbit around the scene ("turntable") or move through it ("fly": WASD keys and mouse)."""
        if mode == self.camera_mode:
            return
        if mode == "turntable":
            self._use_camera(scene.TurntableCamera(up=self.up, fov=45.0))
        elif mode == "fly":
            self._use_camera(_fly_camera(self.canvas.app))
        else:
            raise ValueError(f"camera mode {mode!r}: expected 'turntable' or 'fly'")
        self.camera_mode = mode
        self.reset_camera()

    def show_ray(self, origin: npt.ArrayLike, direction: npt.ArrayLike) -> None:
        """Draw a ray (e.g. through a hovered image pixel) from ``origin`` along ``direction``, in view space."""
        o = np.asarray(origin, dtype=np.float64).reshape(3)
        d = np.asarray(direction, dtype=np.float64).reshape(3)
        d = d / max(float(np.linalg.norm(d)), 1e-12)
        b = self.bounds()
        length = max(2.0 * float(np.linalg.norm(b[1] - b[0])), 1.0) if b is not None else 10.0
        self.ray.set_data(pos=np.array([o, o + d * length], np.float32))
        self.ray.visible = True
        self.canvas.update()

    def clear_ray(self) -> None:
        self.ray.visible = False
        self.canvas.update()

    # --- queries ---------------------------------------------------------------------------
    def pick(self, canvas_xy: tuple[float, float]) -> Pick | None:
        """What is drawn under a canvas position (e.g. a click): the entity and, for points, the instance.

        Drawn data is projected with the view's transform (no GL picking: see
        :mod:`rrview.picking`): points and lines within a few pixels win, then the nearest
        mesh under the position; a frustum picks its camera entity.
        """
        tr = self.viewbox.scene.node_transform(self.canvas.scene)
        click = np.asarray(canvas_xy, dtype=np.float64).reshape(2)
        got = self._measure_scale()
        focal = got[1] if got is not None else None
        candidates: list[Pick] = []
        lines: list[_LinesLayer] = []
        for lay in self._layers.values():
            if isinstance(lay, _LinesLayer):
                lines.append(lay)
            elif lay.shown:
                candidates.extend(lay.pick(tr, click, focal))
        candidates.extend(_pick_lines(lines, tr, click))
        for cam in self._cameras.values():
            candidates.extend(cam.pick(tr, click))
        return best_pick(candidates)

    def screen_position(self, entity: str, local: npt.ArrayLike) -> F64:
        """Canvas pixel positions (N, 2) of points given in an entity's coordinates (NaN behind the viewer)."""
        layer = self._layers.get(entity)
        m = layer.matrix if layer is not None else world_from_entity(self.model, entity, self.timeline, self.time)
        pts = _apply(m, np.asarray(local, dtype=np.float64).reshape(-1, 3))
        return project(self.viewbox.scene.node_transform(self.canvas.scene), pts)[0]

    def visuals_for(self, entity: str) -> list[Any]:
        """The visuals drawn for an entity (or a camera) now; hidden and empty ones left out.

        Visual names are ``"ENTITY#ROLE"`` with roles ``points``, ``skeleton`` (keypoint
        connections), ``boxes``, ``lines``, ``arrows``, ``mesh``, ``labels``, ``frustum`` and
        ``image``. Lines of several stroke widths get one visual per width: ``boxes``,
        ``boxes:1``... (:mod:`rrview.strokes`). Entity data is in the entity's coordinates:
        ``visual.transform.map(p)`` gives view-space positions. In a view of many box, strip
        or arrow entities (``BATCH_LINE_ENTITIES``) they share visuals in view space,
        ``#batch:lines`` (``#batch:lines:1``... for other widths, and ``#batch:labels``),
        listed for each of them.
        """
        out: list[Any] = []
        layer = self._layers.get(entity)
        if layer is not None:
            out.extend(v for v in layer.visuals.values() if v.visible)
            if isinstance(layer, _LinesLayer) and layer.batch is not None and layer.shown and layer.data is not None:
                out.extend(layer.batch.visuals())  # shared with the other entities of the batch
        cam = self._cameras.get(entity)
        if cam is not None:
            out.extend(cam.visuals())
        return out

    def close(self) -> None:
        self.canvas.close()
