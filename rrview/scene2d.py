"""The 2D scene of a view: images and 2D shapes as vispy visuals, without Qt.

A :class:`Scene2D` draws the entities of one 2D :class:`~rrview.spaces.SpaceView` (an
image space under a pinhole, or a root holding 2D data) on a vispy ``SceneCanvas``: RGB,
gray, depth (coloured by distance), segmentation (coloured by the annotation context),
encoded JPEG/PNG and image-like tensors, rectangles, points (with keypoint skeletons)
and line strips, moved by the rigid transforms logged inside the space
(:func:`plane_matrix`). Each entity gets its visuals once; moving the time only sets new
data on them, and rows that did not change are not uploaded again, so scrubbing stays fast.

This module also holds the helpers that turn a model :class:`~rrview.model.Row` into
numpy arrays (positions, colours, labels, images); the 3D scene uses them too.
"""

from __future__ import annotations

import dataclasses
import io
import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from vispy import scene
from vispy.visuals.filters import Alpha
from vispy.visuals.text.text import FontManager
from vispy.visuals.transforms import MatrixTransform, NullTransform

from . import colormaps as cm
from . import strokes
from .keypoints import keypoint_classes, keypoint_colors, keypoint_labels, skeleton_segments
from .layer import Layer
from .model import Row, ViewerModel, numpy_of
from .picking import PICK_RADIUS_PX, Pick, best_pick, project, segment_distances
from .spaces import SpaceView, is_image_shape, world_from_entity

__all__ = [
    "Scene2D",
    "BACKGROUND",
    "IMAGE_KINDS",
    "MAX_LABELS",
    "ImageData",
    "vectors",
    "colors_of",
    "floats_of",
    "uints_of",
    "strings_of",
    "strips_of",
    "tensor_of",
    "decode_encoded",
    "image_data",
    "instance_colors",
    "instance_labels",
    "skeleton_of",
    "plane_matrix",
    "broadcast",
    "font_manager_for",
    "make_text",
]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]
Mat4 = npt.NDArray[np.float64]

BACKGROUND = (0.09, 0.09, 0.1, 1.0)
IMAGE_KINDS = ("image", "encoded_image", "depth_image", "segmentation_image", "tensor")
"""Kinds drawn as images; a ``tensor`` only when its shape is image-like (``spaces.is_image_shape``)."""
MAX_LABELS = 50
"""Labels are drawn only for entities with fewer instances than this (text is costly)."""

# Default 2D draw order by kind (higher is on top); a row's draw_order overrides it.
DEFAULT_DRAW_ORDER = {
    "depth_image": -20.0,
    "image": -10.0,
    "encoded_image": -10.0,
    "segmentation_image": 0.0,
    "rects2d": 10.0,
    "line_strips2d": 20.0,
    "points2d": 30.0,
}
POINT_SIZE_PX = 5.0
LINE_WIDTH_PX = strokes.DEFAULT_WIDTH_PX
SEGMENTATION_OVERLAY_ALPHA = 0.5


_FONT_MANAGERS: weakref.WeakKeyDictionary[Any, FontManager] = weakref.WeakKeyDictionary()


def font_manager_for(canvas: Any) -> FontManager:
    """One font manager per canvas: every text visual of a canvas shares its glyph atlas.

    vispy gives each text visual its own manager by default, which renders every glyph
    again for every label (about 15 ms a glyph on a software renderer).
    """
    fm = _FONT_MANAGERS.get(canvas)
    if fm is None:
        fm = _FONT_MANAGERS[canvas] = FontManager(method="cpu")
    return fm


def make_text(canvas: Any, **kwargs: Any) -> Any:
    """A vispy Text visual using the canvas's shared font manager."""
    return scene.visuals.Text(font_manager=font_manager_for(canvas), **kwargs)


# --- row decoding ------------------------------------------------------------------------
def _list_values(row: Row, component: str) -> pa.Array | None:
    value = row.array(component)
    if value is None:
        return None
    values = value.values
    return values if values is not None else None


def _flat(values: pa.Array) -> pa.Array:
    """The child values of a fixed-size list array, without the compute kernel of ``flatten``.

    ``flatten`` costs ~15 us a call, which adds up over 10,000 boxes a frame.
    """
    if pa.types.is_fixed_size_list(values.type) and not values.null_count:
        size = values.type.list_size
        return values.values.slice(values.offset * size, len(values) * size)
    return values.flatten()


def vectors(row: Row, component: str, dims: int) -> F32 | None:
    """A batched (or mono list) component of fixed-size vectors as an (N, dims) float32 array."""
    values = _list_values(row, component)
    if values is None:
        return None
    flat = numpy_of(_flat(values), np.nan)
    return np.asarray(flat, dtype=np.float32).reshape(-1, dims)


def colors_of(row: Row, component: str = "colors") -> U8 | None:
    """RGBA colours as an (N, 4) uint8 array."""
    values = _list_values(row, component)
    if values is None:
        return None
    flat = numpy_of(_flat(values))
    return np.asarray(flat, dtype=np.uint8).reshape(-1, 4)


def floats_of(row: Row, component: str) -> F32 | None:
    values = _list_values(row, component)
    if values is None:
        return None
    return np.asarray(numpy_of(values, np.nan), dtype=np.float32)


def uints_of(row: Row, component: str) -> npt.NDArray[np.int64] | None:
    values = _list_values(row, component)
    if values is None:
        return None
    return np.asarray(numpy_of(values, 0), dtype=np.int64)


def strings_of(row: Row, component: str) -> list[str | None] | None:
    values = _list_values(row, component)
    if values is None:
        return None
    out: list[str | None] = values.to_pylist()
    return out


def strips_of(row: Row, component: str, dims: int) -> list[F32]:
    """A ``strips2d``/``strips3d`` value: a list of (M, dims) vertex arrays."""
    values = _list_values(row, component)
    if values is None or len(values) == 0:
        return []
    offsets = numpy_of(values.offsets).astype(np.int64)
    child = values.values.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
    pts = np.asarray(numpy_of(_flat(child), np.nan), dtype=np.float32).reshape(-1, dims)
    offsets = offsets - offsets[0]
    return [pts[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)]


def broadcast(values: npt.NDArray[Any] | None, n: int) -> npt.NDArray[Any] | None:
    """Per-instance values for ``n`` instances: one value is repeated; a short list is padded with its last."""
    if values is None or len(values) == 0:
        return None
    if len(values) == n:
        return values
    if len(values) > n:
        return values[:n]
    return np.concatenate([values, np.repeat(values[-1:], n - len(values), axis=0)])


def tensor_of(row: Row) -> npt.NDArray[Any] | None:
    """The row's ``tensor`` component as a numpy array (a read-only view of the Arrow buffer)."""
    value = row.array("tensor")
    if value is None:
        return None
    shape = [int(x) for x in value["shape"].as_py()]
    dtype = np.dtype(value["dtype"].as_py()).newbyteorder("<")
    buf = value["data"].as_buffer()
    return np.frombuffer(buf, dtype=dtype, count=int(np.prod(shape))).reshape(shape)


def decode_encoded(row: Row) -> npt.NDArray[np.uint8] | None:
    """Decode an ``encoded_image`` row (JPEG or PNG) with Pillow.

    Raises ``ImportError`` when Pillow is not installed.
    """
    from PIL import Image as PILImage

    value = row.array("encoded_image")
    if value is None:
        return None
    with PILImage.open(io.BytesIO(value.as_buffer().to_pybytes())) as im:
        if im.mode in ("L", "RGB", "RGBA"):
            return np.asarray(im)
        return np.asarray(im.convert("RGBA" if "A" in im.getbands() else "RGB"))


@dataclass
class ImageData:
    """One image row, decoded: the raw values (for probing) and the colours drawn."""

    entity: str
    kind: str
    raw: npt.NDArray[Any]
    rgba: U8
    meter: float | None = None
    context: cm.AnnotationContext | None = None
    draw_order: float | None = None

    @property
    def width(self) -> int:
        return int(self.raw.shape[1])

    @property
    def height(self) -> int:
        return int(self.raw.shape[0])


def default_meter(raw: npt.NDArray[Any]) -> float:
    """Depth units per metre when the row has none: millimetres for integers, metres for floats."""
    return 1000.0 if raw.dtype.kind in "ui" else 1.0


def image_data(model: ViewerModel, entity: str, kind: str, row: Row, timeline: str | None, t: int | None) -> ImageData:
    """Decode and colour an image row of any image kind.

    Raises ``ImportError`` for an encoded image when Pillow is missing, ``ValueError``
    for a tensor that is not an image.
    """
    draw_order = row.get("draw_order")
    if kind == "encoded_image":
        raw = decode_encoded(row)
        if raw is None:
            raise ValueError(f"{entity}: the row has no encoded_image")
        return ImageData(entity, kind, raw, cm.image_to_rgba(raw), draw_order=draw_order)
    raw = tensor_of(row)
    if raw is None or not is_image_shape(raw.shape):
        shape = "none" if raw is None else "x".join(str(d) for d in raw.shape) or "scalar"
        raise ValueError(f"the tensor is not an image (shape {shape}, expected HxW, HxWx1, HxWx3 or HxWx4)")
    if raw.ndim == 3 and kind not in ("image", "tensor"):
        raw = raw[..., 0]
    if raw.dtype == np.bool_:
        # A mask: black and white (the raw values, True and False, are kept for probing).
        mask = raw.view(np.uint8) * np.uint8(255)
        return ImageData(entity, kind, raw, cm.image_to_rgba(mask), draw_order=draw_order)
    if kind == "depth_image":
        meter = row.get("meter") or default_meter(raw)
        depth = raw.astype(np.float32) / np.float32(meter)
        return ImageData(entity, kind, raw, cm.depth_to_rgba(depth), meter=float(meter), draw_order=draw_order)
    if kind == "segmentation_image":
        ctx = cm.annotation_context_for(model, entity, timeline, t)
        return ImageData(entity, kind, raw, ctx.lut()[raw.astype(np.intp)], context=ctx, draw_order=draw_order)
    return ImageData(entity, kind, raw, cm.image_to_rgba(raw), draw_order=draw_order)


def instance_colors(
    model: ViewerModel, entity: str, row: Row, n: int, timeline: str | None, t: int | None
) -> npt.NDArray[np.float32]:
    """(N, 4) float colours in 0-1: the row's colours, else its keypoint or class colours, else the entity's colour."""
    rgba = broadcast(colors_of(row), n)
    if rgba is None:
        ids = broadcast(uints_of(row, "class_ids"), n)
        kps = broadcast(uints_of(row, "keypoint_ids"), n)
        classes = keypoint_classes(ids, kps, n) if kps is not None else ids
        ctx = cm.annotation_context_for(model, entity, timeline, t) if classes is not None else None
        if ctx is not None and classes is not None and kps is not None and ctx.keypoint_colors:
            rgba = keypoint_colors(ctx, classes, kps)
        elif ctx is not None and classes is not None and (ids is not None or 0 in ctx.colors):
            rgba = cm.class_colors(ctx, classes)
        else:
            rgba = np.tile(np.asarray(cm.entity_color(entity), np.uint8), (n, 1))
    return np.asarray(rgba, dtype=np.float32) / np.float32(255.0)


def instance_labels(
    model: ViewerModel, entity: str, row: Row, n: int, timeline: str | None, t: int | None
) -> list[str] | None:
    """Label per instance: the row's labels, else the keypoint or class labels of the annotation context."""
    labels = strings_of(row, "labels")
    if labels:
        if len(labels) < n:
            labels = labels + [labels[-1]] * (n - len(labels))
        return [s or "" for s in labels[:n]]
    ids = broadcast(uints_of(row, "class_ids"), n)
    kps = broadcast(uints_of(row, "keypoint_ids"), n)
    classes = keypoint_classes(ids, kps, n) if kps is not None else ids
    if classes is None:
        return None
    ctx = cm.annotation_context_for(model, entity, timeline, t)
    if kps is not None and ctx.keypoint_labels:
        out = keypoint_labels(ctx, classes, kps)
    else:
        out = [ctx.label(int(i)) or "" for i in classes]
    return out if any(out) else None


def skeleton_of(
    model: ViewerModel, entity: str, row: Row, positions: npt.NDArray[Any], timeline: str | None, t: int | None
) -> tuple[F32, F32]:
    """The keypoint skeleton of a row of points (:mod:`rrview.keypoints`): end points and 0-1 colours."""
    kps = uints_of(row, "keypoint_ids")
    dims = positions.shape[1] if positions.ndim == 2 else 2
    if kps is None or not len(positions):
        return np.zeros((0, dims), np.float32), np.zeros((0, 4), np.float32)
    n = len(positions)
    ctx = cm.annotation_context_for(model, entity, timeline, t)
    ends, colors = skeleton_segments(ctx, positions, broadcast(uints_of(row, "class_ids"), n), broadcast(kps, n))
    return ends, np.asarray(colors, np.float32) / np.float32(255.0)


# --- layers --------------------------------------------------------------------------------
def _overlay(visual: Any) -> None:
    """2D visuals all sit at z=0: they are drawn by ``order``, blended, without depth test."""
    visual.set_gl_state("translucent", depth_test=False)


def plane_matrix(m: Mat4) -> tuple[Mat4, bool]:
    """The part of a 3D rigid transform that acts in a 2D space, and whether that is all of it.

    Rigid transforms logged below an image space's root (``log_rigid3``: e.g. a crop's
    offset in pixels) move 2D data in the image plane: x/y translation and rotation about
    z. A rotation that tilts the data out of the plane is drawn as its orthographic
    projection onto the plane, and a z translation (depth) is ignored; the second value
    is False then.
    """
    out = np.eye(4)
    out[:2, :2] = m[:2, :2]
    out[:2, 3] = m[:2, 3]
    in_plane = bool(np.allclose(m[2, :3], [0.0, 0.0, 1.0], atol=1e-6) and np.allclose(m[:2, 2], 0.0, atol=1e-6))
    return out, in_plane


def _apply2(m: Mat4 | None, pts: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    p = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
    if m is None:
        return p
    out: npt.NDArray[np.float64] = p @ m[:2, :2].T + m[:2, 3]
    return out


class _Layer2D(Layer):
    """The visuals of one entity of a 2D view, by role (``image``, ``points``, ``rects``, ``lines``, ``labels``)."""

    owner: Scene2D

    def __init__(self, owner: Scene2D, entity: str, kind: str) -> None:
        super().__init__(owner, entity, kind)
        self.draw_order = DEFAULT_DRAW_ORDER.get(kind, 0.0)
        self.extent: tuple[float, float, float, float] | None = None  # xmin, ymin, xmax, ymax (own coordinates)
        self.matrix: Mat4 | None = None  # the 2D transform to the view's coordinates (None: identity)
        self.segs: F32 | None = None  # drawn segment end points (own coordinates), for picking

    def _new(self, role: str, visual: Any) -> Any:
        visual.name = f"{self.entity}#{role}"
        _overlay(visual)
        if self.matrix is not None:
            visual.transform = MatrixTransform(self.matrix.T)
        visual.parent = self.owner.viewbox.scene
        visual.visible = False
        self.visuals[role] = visual
        return visual

    def set_matrix(self, m: Mat4 | None) -> None:
        """Place the entity's visuals in the view (see :func:`plane_matrix`); None: where they are logged."""
        same = self.matrix is None if m is None else self.matrix is not None and np.array_equal(m, self.matrix)
        if same:
            return
        self.matrix = None if m is None else m.copy()
        for v in self.visuals.values():
            v.transform = MatrixTransform(m.T) if m is not None else NullTransform()

    def view_extent(self) -> tuple[float, float, float, float] | None:
        """The extent in the view's coordinates (through the layer's transform)."""
        if self.extent is None or self.matrix is None:
            return self.extent
        x0, y0, x1, y1 = self.extent
        c = _apply2(self.matrix, np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]))
        return float(c[:, 0].min()), float(c[:, 1].min()), float(c[:, 0].max()), float(c[:, 1].max())

    def set_order(self, rank: int, labels_rank: int) -> None:
        for role, v in self.visuals.items():
            if role == "labels":
                v.order = labels_rank
            elif role.startswith("skeleton"):
                v.order = rank - 0.5  # under the keypoints they join
            else:
                v.order = rank

    def set_rows(self, rows: list[Row], timeline: str | None, t: int | None) -> None:
        ctx = cm.annotation_context_for(self.owner.model, self.entity, timeline, t)
        key = (tuple(r.row_id for r in rows), id(ctx))
        if key == self.key:
            return
        self.key = key
        for row in rows:
            if row.get("draw_order") is not None:
                self.draw_order = float(row.get("draw_order"))
        self.draw(rows, timeline, t)

    def draw(self, rows: list[Row], timeline: str | None, t: int | None) -> None:
        raise NotImplementedError

    def set_labels(self, pos: F32 | None, labels: Sequence[str] | None) -> None:
        """Text at instance positions, only for few instances (text visuals are costly)."""
        if pos is None or not labels or not any(labels) or len(labels) >= MAX_LABELS:
            self._set("labels", False)
            return
        text = self.visuals.get("labels")
        if text is None:
            text = self._new(
                "labels",
                make_text(self.owner.canvas, color="white", font_size=7, anchor_x="left", anchor_y="bottom"),
            )
        text.text = list(labels)
        text.pos = np.asarray(pos, dtype=np.float32)
        self._set("labels", True)

    def set_lines(
        self,
        role: str,
        segs: list[F32],
        cols: list[npt.NDArray[np.float32]],
        widths: list[F32] | None = None,
        *,
        extent: bool = True,
    ) -> F32 | None:
        """The entity's segments as Lines, one per stroke width (:mod:`rrview.strokes`); returns the end points.

        ``widths`` holds the width of each segment in image pixels (NaN: the default). With
        ``extent``, the layer's extent is that of the segments (None when there are none).
        """
        pos = np.concatenate(segs).astype(np.float32) if segs else None
        if extent:
            self.extent = None
            self.segs = pos
        groups: list[tuple[float, npt.NDArray[np.intp]]] = []
        if pos is not None:
            w = np.concatenate(widths) if widths else np.full(len(pos) // 2, np.nan, np.float32)
            groups = strokes.width_groups(w)
            col = np.concatenate(cols)
            if extent:
                lo, hi = pos.min(axis=0), pos.max(axis=0)
                self.extent = (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
        self._draw_width_groups(role, pos, col if pos is not None else None, groups)
        return pos

    def pick(self, tr: Any, click: F64, pixels_per_unit: float) -> list[Pick]:
        """What of this layer is under ``click`` (canvas pixels); ``tr`` maps view coordinates to the canvas."""
        if self.segs is None or not len(self.segs):
            return []
        xy, _ = project(tr, _apply2(self.matrix, self.segs))
        d = segment_distances(xy[0::2], xy[1::2], click)
        i = int(np.argmin(d))
        return [Pick(self.entity, self.instance_of_segment(i), float(d[i]), 0.0)]

    def instance_of_segment(self, i: int) -> int | None:
        return None


class _ImageLayer(_Layer2D):
    def __init__(self, owner: Scene2D, entity: str, kind: str) -> None:
        super().__init__(owner, entity, kind)
        self.data: ImageData | None = None
        self.alpha = Alpha(1.0)

    def set_rows(self, rows: list[Row], timeline: str | None, t: int | None) -> None:
        # Images draw their latest row only; a segmentation image also depends on its context.
        row = rows[-1] if rows else None
        ctx = cm.annotation_context_for(self.owner.model, self.entity, timeline, t) if row is not None else None
        key = (None if row is None else row.row_id, id(ctx) if self.kind == "segmentation_image" else None)
        if key == self.key:
            return
        self.key = key
        self.data = None
        if row is not None:
            try:
                self.data = image_data(self.owner.model, self.entity, self.kind, row, timeline, t)
            except ImportError:
                self.owner.note(f"{self.entity}: encoded images need Pillow (pip install pillow); not drawn")
            except (ValueError, OSError) as e:
                self.owner.note(f"{self.entity}: {e}")
        if self.data is None:
            self.extent = None
            self._set("image", False)
            return
        if self.data.draw_order is not None:
            self.draw_order = float(self.data.draw_order)
        image = self.visuals.get("image")
        if image is None:
            image = self._new("image", scene.visuals.Image(self.data.rgba, clim=(0, 255)))
            image.attach(self.alpha)
        else:
            image.set_data(self.data.rgba)
        self.extent = (0.0, 0.0, float(self.data.width), float(self.data.height))
        self._set("image", True)

    def local(self, u: float, v: float) -> tuple[float, float]:
        """View coordinates (u, v) in the image's own pixels (through the inverse of its transform)."""
        if self.matrix is None:
            return u, v
        p = np.linalg.solve(self.matrix, np.array([u, v, 0.0, 1.0]))
        return float(p[0]), float(p[1])

    def probe(self, u: float, v: float) -> dict[str, Any] | None:
        d = self.data
        if d is None or not self.shown:
            return None
        x, y = (math.floor(c) for c in self.local(u, v))
        if not (0 <= x < d.width and 0 <= y < d.height):
            return None
        raw = d.raw[y, x]
        value: Any = raw.tolist() if isinstance(raw, np.ndarray) else raw.item()
        out: dict[str, Any] = {"entity": self.entity, "kind": self.kind, "u": x, "v": y, "value": value}
        if d.kind == "depth_image":
            assert d.meter is not None
            out["meter"] = d.meter
            out["depth_m"] = float(value) / d.meter
        elif d.kind == "segmentation_image":
            assert d.context is not None
            out["class_id"] = int(value)
            out["label"] = d.context.label(int(value))
            out["color"] = list(d.context.color(int(value)))
        return out

    def pick(self, tr: Any, click: F64, pixels_per_unit: float) -> list[Pick]:
        if self.data is None:
            return []
        inv = tr.imap(np.asarray(click, dtype=np.float64))
        hit = self.probe(float(inv[0]), float(inv[1]))
        return [Pick(self.entity, None, 0.0, 0.0, surface=True)] if hit is not None else []


class _PointsLayer2D(_Layer2D):
    def __init__(self, owner: Scene2D, entity: str, kind: str) -> None:
        super().__init__(owner, entity, kind)
        self.drawn: tuple[F32, npt.NDArray[Any], bool] | None = None  # positions, diameters, scaled

    def draw(self, rows: list[Row], timeline: str | None, t: int | None) -> None:
        model = self.owner.model
        pos, col, size, labels, scaled = [], [], [], [], False
        bones, bone_cols = [], []
        for row in rows:
            p = vectors(row, "positions2d", 2)
            if p is None or not len(p):
                continue
            n = len(p)
            pos.append(p)
            col.append(instance_colors(model, self.entity, row, n, timeline, t))
            radii = broadcast(floats_of(row, "radii"), n)
            scaled = scaled or radii is not None
            size.append(2.0 * radii if radii is not None else np.full(n, np.nan, np.float32))
            labels.extend(instance_labels(model, self.entity, row, n, timeline, t) or [""] * n)
            ends, colors = skeleton_of(model, self.entity, row, p, timeline, t)
            if len(ends):
                bones.append(ends)
                bone_cols.append(colors)
        self.set_lines("skeleton", bones, bone_cols, extent=False)
        if not pos:
            self.extent = self.drawn = None
            self._set("points", False)
            self.set_labels(None, None)
            return
        markers = self.visuals.get("points")
        if markers is None:
            markers = self._new("points", scene.visuals.Markers())
        p = np.concatenate(pos)
        s = np.concatenate(size)
        # One scaling per visual: with radii, sizes are in image pixels (they zoom with the image).
        markers.scaling = "visual" if scaled else "fixed"
        s = np.where(np.isnan(s), 1.0 if scaled else POINT_SIZE_PX, s)
        markers.set_data(p, size=s, face_color=np.concatenate(col), edge_width=0, symbol="disc")
        self.drawn = (p, s, scaled)
        self.extent = (float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max()))
        self._set("points", True)
        self.set_labels(p + np.float32(3.0), labels)

    def pick(self, tr: Any, click: F64, pixels_per_unit: float) -> list[Pick]:
        if self.drawn is None:
            return []
        p, size, scaled = self.drawn
        xy, _ = project(tr, _apply2(self.matrix, p))
        d = np.linalg.norm(xy - click[None, :], axis=1)
        r = 0.5 * size * (pixels_per_unit if scaled else 1.0)
        gap = np.where(np.isfinite(d), np.maximum(d - r, 0.0), np.inf)
        i = int(np.argmin(gap))  # on a tie the first: vispy draws later points on top, but ties are rare
        return [Pick(self.entity, i, float(gap[i]), 0.0)]


class _RectsLayer(_Layer2D):
    def draw(self, rows: list[Row], timeline: str | None, t: int | None) -> None:
        model = self.owner.model
        segs, cols, anchors, labels, widths = [], [], [], [], []
        for row in rows:
            r = vectors(row, "rects", 4)
            if r is None or not len(r):
                continue
            n = len(r)
            x0, y0 = r[:, 0], r[:, 1]
            x1, y1 = x0 + r[:, 2], y0 + r[:, 3]
            # The 4 edges of each rectangle as segment end points: top, right, bottom, left.
            ends = [(x0, y0), (x1, y0), (x1, y0), (x1, y1), (x1, y1), (x0, y1), (x0, y1), (x0, y0)]
            segs.append(np.stack([np.stack(e, 1) for e in ends], axis=1).reshape(-1, 2))
            cols.append(np.repeat(instance_colors(model, self.entity, row, n, timeline, t), 8, axis=0))
            widths.append(strokes.segment_widths(broadcast(floats_of(row, "stroke_widths"), n), np.full(n, 4)))
            anchors.append(np.stack([x0, y0 - 2.0], 1))
            labels.extend(instance_labels(model, self.entity, row, n, timeline, t) or [""] * n)
        self.set_lines("rects", segs, cols, widths)
        self.set_labels(np.concatenate(anchors) if anchors else None, labels)

    def instance_of_segment(self, i: int) -> int | None:
        return i // 4

    def pick(self, tr: Any, click: F64, pixels_per_unit: float) -> list[Pick]:
        out = super().pick(tr, click, pixels_per_unit)
        if self.segs is None:
            return out
        # Inside a rectangle picks it too (a surface): the smallest one holding the click.
        corners = self.segs.reshape(-1, 8, 2)[:, [0, 2, 4, 6]]  # the 4 corners of each rectangle
        inv = tr.imap(np.asarray(click, dtype=np.float64))
        u, v = float(inv[0]), float(inv[1])
        if self.matrix is not None:
            u, v = (float(c) for c in np.linalg.solve(self.matrix, np.array([u, v, 0.0, 1.0]))[:2])
        lo, hi = corners.min(axis=1), corners.max(axis=1)
        inside = np.nonzero((lo[:, 0] <= u) & (u <= hi[:, 0]) & (lo[:, 1] <= v) & (v <= hi[:, 1]))[0]
        if len(inside):
            area = np.prod(hi[inside] - lo[inside], axis=1)
            out.append(Pick(self.entity, int(inside[int(np.argmin(area))]), 0.0, 0.0, surface=True))
        return out


class _StripsLayer2D(_Layer2D):
    def __init__(self, owner: Scene2D, entity: str, kind: str) -> None:
        super().__init__(owner, entity, kind)
        self.segment_strip: npt.NDArray[np.intp] = np.zeros(0, np.intp)  # the strip of each drawn segment

    def draw(self, rows: list[Row], timeline: str | None, t: int | None) -> None:
        model = self.owner.model
        segs, cols, anchors, labels, widths, owners = [], [], [], [], [], []
        first = 0
        for row in rows:
            strips = strips_of(row, "strips2d", 2)
            if not strips:
                continue
            n = len(strips)
            colors = instance_colors(model, self.entity, row, n, timeline, t)
            names = instance_labels(model, self.entity, row, n, timeline, t)
            per_strip = strokes.segment_widths(broadcast(floats_of(row, "stroke_widths"), n), np.ones(n))
            for i, s in enumerate(strips):
                if len(s) < 2:
                    continue
                segs.append(np.repeat(s, 2, axis=0)[1:-1])  # a strip's consecutive vertices as segments
                cols.append(np.tile(colors[i], (2 * (len(s) - 1), 1)))
                widths.append(np.full(len(s) - 1, per_strip[i], np.float32))
                owners.append(np.full(len(s) - 1, first + i, np.intp))
                anchors.append(s[0])
                labels.append(names[i] if names else "")
            first += n
        self.segment_strip = np.concatenate(owners) if owners else np.zeros(0, np.intp)
        self.set_lines("lines", segs, cols, widths)
        self.set_labels(np.asarray(anchors, np.float32) if anchors else None, labels)

    def instance_of_segment(self, i: int) -> int | None:
        return int(self.segment_strip[i]) if i < len(self.segment_strip) else None


_LAYERS: dict[str, type[_Layer2D]] = {
    "image": _ImageLayer,
    "encoded_image": _ImageLayer,
    "depth_image": _ImageLayer,
    "segmentation_image": _ImageLayer,
    "tensor": _ImageLayer,
    "points2d": _PointsLayer2D,
    "rects2d": _RectsLayer,
    "line_strips2d": _StripsLayer2D,
}


def _rows_at(
    model: ViewerModel, entity: str, kind: str, timeline: str | None, t: int | None, history: int | None
) -> list[Row]:
    """The rows to draw: the latest at ``t``, or every row of the last ``history`` units (images: latest only)."""
    if history and timeline is not None and t is not None and kind not in IMAGE_KINDS:
        rows = model.history(entity, kind, timeline, t - history, t)
        if rows:
            return rows
    row = model.latest(entity, kind, timeline, t)
    return [row] if row is not None else []


class Scene2D:
    """A 2D view (an image space or a 2D root) drawn with vispy.

    Parameters
    ----------
    model
        The opened recording.
    view
        The 2D view of the layout (its ``entities`` are drawn).
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
        self.viewbox.camera = scene.PanZoomCamera(aspect=1)
        self.viewbox.camera.flip = (False, True, False)  # image convention: y grows downwards
        self.notes: list[str] = []
        self.timeline: str | None = None
        self.time: int | None = None
        self._layers: dict[str, _Layer2D] = {}
        self._fitted = False
        self.pixels_per_unit: float | None = None
        """Screen pixels per image pixel now (stroke widths in image pixels: :mod:`rrview.strokes`)."""
        strokes.watch_view(self.viewbox, self._on_view_change)

    # --- drawing ---------------------------------------------------------------------------
    def note(self, text: str) -> None:
        """Record something that could not be drawn (shown by the UI, once)."""
        if text not in self.notes:
            self.notes.append(text)

    def update(self, timeline: str | None, t: int | None, *, history: int | None = None) -> None:
        """Draw the state at ``t`` on ``timeline`` (with ``history``: also rows in ``[t - history, t]``)."""
        self.timeline, self.time = timeline, t
        wanted = set(self.view.entities)
        for entity in [e for e in self._layers if e not in wanted]:
            self._drop(entity)
        for entity in self.view.entities:
            node = self.model.nodes.get(entity)
            kind = node.data_kind if node is not None else None
            if node is None or kind not in _LAYERS:
                continue  # an unknown kind: nothing to draw
            layer = self._layers.get(entity)
            if layer is None or layer.kind != kind:
                if layer is not None:
                    self._drop(entity)
                layer = self._layers[entity] = _LAYERS[kind](self, entity, kind)
            if not node.is_visible():
                layer.show(False)
                continue
            layer.set_matrix(self._plane(entity, timeline, t))
            layer.set_rows(_rows_at(self.model, entity, kind, timeline, t, history), timeline, t)
            layer.show(True)
        self._restack()
        if not self._fitted and self.extent() is not None:
            self.reset_camera()
        self._on_view_change()
        self.canvas.update()

    def _plane(self, entity: str, timeline: str | None, t: int | None) -> Mat4 | None:
        """The entity's 2D transform in the view (:func:`plane_matrix`), None when it has none."""
        m = world_from_entity(self.model, entity, timeline, t)
        if np.array_equal(m, np.eye(4)):
            return None
        plane, in_plane = plane_matrix(m)
        if not in_plane:
            self.note(
                f"{entity}: its transform leaves the image plane (a rotation about x or y); "
                "drawn as its projection onto the plane"
            )
        return plane

    def _on_view_change(self, event: Any = None) -> None:
        """The zoom changed (or new data): convert stroke widths to pixels again."""
        tr = self.viewbox.scene.node_transform(self.viewbox)
        a, b = (np.asarray(tr.map(np.asarray(p, np.float64)), np.float64) for p in ((0.0, 0.0), (1.0, 0.0)))
        ppu = float(np.linalg.norm(b[:2] / b[3] - a[:2] / a[3]))
        if not np.isfinite(ppu) or ppu <= 0 or ppu == self.pixels_per_unit:
            return
        self.pixels_per_unit = ppu
        for lay in self._layers.values():
            if lay.widths:
                lay.rescale(ppu)

    def _stack(self) -> list[_Layer2D]:
        """The shown layers from bottom to top: by draw order, ties by the view's entity order."""
        index = {e: i for i, e in enumerate(self.view.entities)}
        return sorted(
            (lay for lay in self._layers.values() if lay.shown),
            key=lambda lay: (lay.draw_order, index.get(lay.entity, 0)),
        )

    def _restack(self) -> None:
        """Order layers by draw order (ties: the view's entity order); labels on top of everything.

        A segmentation image drawn over another image is half transparent, so both show.
        """
        layers = self._stack()
        below_image = False
        for rank, lay in enumerate(layers):
            lay.set_order(rank + 1, len(layers) + 1)
            if isinstance(lay, _ImageLayer):
                if lay.kind == "segmentation_image":
                    lay.alpha.alpha = SEGMENTATION_OVERLAY_ALPHA if below_image else 1.0
                below_image = below_image or lay.data is not None

    def _drop(self, entity: str) -> None:
        for v in self._layers.pop(entity).visuals.values():
            v.parent = None

    # --- queries ---------------------------------------------------------------------------
    def visuals_for(self, entity: str) -> list[Any]:
        """The visuals drawn for an entity now (hidden or empty ones left out).

        Visual names are ``"ENTITY#ROLE"`` with roles ``image``, ``points``, ``skeleton``
        (keypoint connections), ``rects``, ``lines`` and ``labels``; lines of several stroke
        widths get one visual per width (``rects``, ``rects:1``...). Positions are the
        entity's own coordinates (image pixels); an entity under a transform has it as its
        visuals' ``transform``.
        """
        layer = self._layers.get(entity)
        return [v for v in layer.visuals.values() if v.visible] if layer is not None else []

    def pick(self, canvas_xy: tuple[float, float]) -> Pick | None:
        """What is drawn under a canvas position (e.g. a click): the entity and the instance if known.

        Points and lines within a few pixels win (the topmost by draw order), then the inside
        of a rectangle, then the topmost image under the position (see :mod:`rrview.picking`).
        """
        tr = self.viewbox.scene.node_transform(self.canvas.scene)
        click = np.asarray(canvas_xy, dtype=np.float64).reshape(2)
        ppu = self.pixels_per_unit or 1.0
        candidates: list[Pick] = []
        for rank, lay in enumerate(self._stack()):
            # Depth: the topmost layer is the nearest the viewer.
            candidates.extend(dataclasses.replace(p, depth=-float(rank)) for p in lay.pick(tr, click, ppu))
        return best_pick(candidates, PICK_RADIUS_PX)

    def screen_position(self, entity: str, local: npt.ArrayLike) -> F64:
        """Canvas pixel positions (N, 2) of points given in an entity's own coordinates."""
        layer = self._layers.get(entity)
        pts = _apply2(layer.matrix if layer is not None else None, np.asarray(local, dtype=np.float64))
        return project(self.viewbox.scene.node_transform(self.canvas.scene), pts)[0]

    def extent(self) -> tuple[float, float, float, float] | None:
        """(xmin, ymin, xmax, ymax) of the image area: the images, else the pinhole resolution, else the data."""
        images = [e for lay in self._layers.values() if isinstance(lay, _ImageLayer) and (e := lay.view_extent())]
        if images:
            return (
                min(0.0, *(e[0] for e in images)),
                min(0.0, *(e[1] for e in images)),
                max(e[2] for e in images),
                max(e[3] for e in images),
            )
        root = self.model.nodes.get(self.view.root)
        if root is not None and "pinhole" in root.chunks:
            row = self.model.latest(self.view.root, "pinhole", self.timeline, self.time)
            if row is not None:
                w, h = row.get("resolution")
                return (0.0, 0.0, float(w), float(h))
        data = [e for lay in self._layers.values() if lay.shown and (e := lay.view_extent())]
        if not data:
            return None
        return (min(e[0] for e in data), min(e[1] for e in data), max(e[2] for e in data), max(e[3] for e in data))

    def reset_camera(self) -> None:
        """Fit the image (or the data) in the view."""
        ext = self.extent()
        if ext is None:
            return
        x0, y0, x1, y1 = ext
        if x1 <= x0:
            x0, x1 = x0 - 1.0, x1 + 1.0
        if y1 <= y0:
            y0, y1 = y0 - 1.0, y1 + 1.0
        self.viewbox.camera.set_range(x=(x0, x1), y=(y0, y1), margin=0.0)
        self._fitted = True

    def pixel_at(self, canvas_xy: tuple[float, float]) -> tuple[float, float] | None:
        """Image coordinates (u, v) under a canvas position, or None outside the image area."""
        tr = self.canvas.scene.node_transform(self.viewbox.scene)
        u, v = (float(c) for c in tr.map(np.asarray(canvas_xy, dtype=np.float64))[:2])
        ext = self.extent()
        if ext is None or not (ext[0] <= u <= ext[2] and ext[1] <= v <= ext[3]):
            return None
        return u, v

    def probe(self, u: float, v: float) -> dict[str, Any]:
        """What is under image pixel (u, v): the topmost image's value (``{}`` if none).

        Keys: ``entity``, ``kind``, ``u``/``v`` (the pixel), ``value`` (the raw value, a list for
        colour pixels), ``depth_m`` and ``meter`` for depth images, ``class_id``, ``label`` and
        ``color`` for segmentation images, and ``layers`` (the same for every image under it,
        topmost first).
        """
        index = {e: i for i, e in enumerate(self.view.entities)}
        images = sorted(
            (lay for lay in self._layers.values() if isinstance(lay, _ImageLayer)),
            key=lambda lay: (lay.draw_order, index.get(lay.entity, 0)),
            reverse=True,
        )
        hits = [h for h in (lay.probe(u, v) for lay in images) if h is not None]
        if not hits:
            return {}
        out = dict(hits[0])
        out["layers"] = hits
        return out

    def close(self) -> None:
        self.canvas.close()
