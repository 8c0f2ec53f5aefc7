"""The 2D scene of a view: images and 2D shapes as vispy visuals, without Qt.

A :class:`Scene2D` draws the entities of one 2D :class:`~rrview.spaces.SpaceView` (an
image space under a pinhole, or a root holding 2D data) on a vispy ``SceneCanvas``: RGB,
gray, depth (coloured by distance), segmentation (coloured by the annotation context)
and encoded JPEG/PNG images, rectangles, points and line strips. Each entity gets its
visuals once; moving the time only sets new data on them, and rows that did not change
are not uploaded again, so scrubbing stays fast.

This module also holds the helpers that turn a model :class:`~rrview.model.Row` into
numpy arrays (positions, colours, labels, images); the 3D scene uses them too.
"""

from __future__ import annotations

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

from . import colormaps as cm
from .model import Row, ViewerModel, numpy_of
from .spaces import SpaceView

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
    "broadcast",
    "font_manager_for",
    "make_text",
]

F32 = npt.NDArray[np.float32]
U8 = npt.NDArray[np.uint8]

BACKGROUND = (0.09, 0.09, 0.1, 1.0)
IMAGE_KINDS = ("image", "encoded_image", "depth_image", "segmentation_image")
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
LINE_WIDTH_PX = 2.0
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
    if raw is None or raw.ndim not in (2, 3) or (raw.ndim == 3 and raw.shape[2] not in (1, 3, 4)):
        raise ValueError(f"{entity}: the tensor is not an image (shape {None if raw is None else raw.shape})")
    if raw.ndim == 3 and kind != "image":
        raw = raw[..., 0]
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
    """(N, 4) float colours in 0-1: the row's colours, else its class colours, else the entity's colour."""
    rgba = broadcast(colors_of(row), n)
    if rgba is None:
        ids = broadcast(uints_of(row, "class_ids"), n)
        if ids is not None:
            rgba = cm.class_colors(cm.annotation_context_for(model, entity, timeline, t), ids)
        else:
            rgba = np.tile(np.asarray(cm.entity_color(entity), np.uint8), (n, 1))
    return np.asarray(rgba, dtype=np.float32) / np.float32(255.0)


def instance_labels(
    model: ViewerModel, entity: str, row: Row, n: int, timeline: str | None, t: int | None
) -> list[str] | None:
    """Label per instance: the row's labels, else the class labels of the annotation context."""
    labels = strings_of(row, "labels")
    if labels:
        if len(labels) < n:
            labels = labels + [labels[-1]] * (n - len(labels))
        return [s or "" for s in labels[:n]]
    ids = broadcast(uints_of(row, "class_ids"), n)
    if ids is None:
        return None
    ctx = cm.annotation_context_for(model, entity, timeline, t)
    out = [ctx.label(int(i)) or "" for i in ids]
    return out if any(out) else None


# --- layers --------------------------------------------------------------------------------
def _overlay(visual: Any) -> None:
    """2D visuals all sit at z=0: they are drawn by ``order``, blended, without depth test."""
    visual.set_gl_state("translucent", depth_test=False)


class _Layer2D:
    """The visuals of one entity of a 2D view, by role (``image``, ``points``, ``rects``, ``lines``, ``labels``)."""

    def __init__(self, owner: Scene2D, entity: str, kind: str) -> None:
        self.owner = owner
        self.entity = entity
        self.kind = kind
        self.key: tuple[Any, ...] | None = None
        self.visuals: dict[str, Any] = {}
        self.empty: set[str] = set()
        self.shown = False
        self.draw_order = DEFAULT_DRAW_ORDER.get(kind, 0.0)
        self.extent: tuple[float, float, float, float] | None = None  # xmin, ymin, xmax, ymax

    def _new(self, role: str, visual: Any) -> Any:
        visual.name = f"{self.entity}#{role}"
        _overlay(visual)
        visual.parent = self.owner.viewbox.scene
        visual.visible = False
        self.visuals[role] = visual
        return visual

    def _set(self, role: str, has_data: bool) -> None:
        if has_data:
            self.empty.discard(role)
        else:
            self.empty.add(role)
        v = self.visuals.get(role)
        if v is not None:
            v.visible = self.shown and has_data

    def show(self, visible: bool) -> None:
        self.shown = visible
        for role, v in self.visuals.items():
            v.visible = visible and role not in self.empty

    def set_order(self, rank: int, labels_rank: int) -> None:
        for role, v in self.visuals.items():
            v.order = labels_rank if role == "labels" else rank

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

    def set_lines(self, role: str, segs: list[F32], cols: list[npt.NDArray[np.float32]]) -> F32 | None:
        """One Line of segments for the whole entity; returns the end points (None when empty)."""
        if not segs:
            self.extent = None
            self._set(role, False)
            return None
        line = self.visuals.get(role)
        if line is None:
            line = self._new(role, scene.visuals.Line(method="gl", connect="segments", width=LINE_WIDTH_PX))
        pos = np.concatenate(segs).astype(np.float32)
        line.set_data(pos=pos, color=np.concatenate(cols), connect="segments", width=LINE_WIDTH_PX)
        self.extent = (float(pos[:, 0].min()), float(pos[:, 1].min()), float(pos[:, 0].max()), float(pos[:, 1].max()))
        self._set(role, True)
        return pos


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

    def probe(self, u: float, v: float) -> dict[str, Any] | None:
        d = self.data
        if d is None or not self.shown:
            return None
        x, y = math.floor(u), math.floor(v)
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


class _PointsLayer2D(_Layer2D):
    def draw(self, rows: list[Row], timeline: str | None, t: int | None) -> None:
        model = self.owner.model
        pos, col, size, labels, scaled = [], [], [], [], False
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
        if not pos:
            self.extent = None
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
        self.extent = (float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max()))
        self._set("points", True)
        self.set_labels(p + np.float32(3.0), labels)


class _RectsLayer(_Layer2D):
    def draw(self, rows: list[Row], timeline: str | None, t: int | None) -> None:
        model = self.owner.model
        segs, cols, anchors, labels = [], [], [], []
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
            anchors.append(np.stack([x0, y0 - 2.0], 1))
            labels.extend(instance_labels(model, self.entity, row, n, timeline, t) or [""] * n)
        self.set_lines("rects", segs, cols)
        self.set_labels(np.concatenate(anchors) if anchors else None, labels)


class _StripsLayer2D(_Layer2D):
    def draw(self, rows: list[Row], timeline: str | None, t: int | None) -> None:
        model = self.owner.model
        segs, cols, anchors, labels = [], [], [], []
        for row in rows:
            strips = strips_of(row, "strips2d", 2)
            if not strips:
                continue
            colors = instance_colors(model, self.entity, row, len(strips), timeline, t)
            names = instance_labels(model, self.entity, row, len(strips), timeline, t)
            for i, s in enumerate(strips):
                if len(s) < 2:
                    continue
                segs.append(np.repeat(s, 2, axis=0)[1:-1])  # a strip's consecutive vertices as segments
                cols.append(np.tile(colors[i], (2 * (len(s) - 1), 1)))
                anchors.append(s[0])
                labels.append(names[i] if names else "")
        self.set_lines("lines", segs, cols)
        self.set_labels(np.asarray(anchors, np.float32) if anchors else None, labels)


_LAYERS: dict[str, type[_Layer2D]] = {
    "image": _ImageLayer,
    "encoded_image": _ImageLayer,
    "depth_image": _ImageLayer,
    "segmentation_image": _ImageLayer,
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
            layer.set_rows(_rows_at(self.model, entity, kind, timeline, t, history), timeline, t)
            layer.show(True)
        self._restack()
        if not self._fitted and self.extent() is not None:
            self.reset_camera()
        self.canvas.update()

    def _restack(self) -> None:
        """Order layers by draw order (ties: the view's entity order); labels on top of everything.

        A segmentation image drawn over another image is half transparent, so both show.
        """
        index = {e: i for i, e in enumerate(self.view.entities)}
        layers = sorted(
            (lay for lay in self._layers.values() if lay.shown), key=lambda lay: (lay.draw_order, index[lay.entity])
        )
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

        Visual names are ``"ENTITY#ROLE"`` with roles ``image``, ``points``, ``rects``,
        ``lines`` and ``labels``; positions are image pixels.
        """
        layer = self._layers.get(entity)
        return [v for v in layer.visuals.values() if v.visible] if layer is not None else []

    def extent(self) -> tuple[float, float, float, float] | None:
        """(xmin, ymin, xmax, ymax) of the image area: the images, else the pinhole resolution, else the data."""
        images = [lay.extent for lay in self._layers.values() if isinstance(lay, _ImageLayer) and lay.extent]
        if images:
            return (0.0, 0.0, max(e[2] for e in images), max(e[3] for e in images))
        root = self.model.nodes.get(self.view.root)
        if root is not None and "pinhole" in root.chunks:
            row = self.model.latest(self.view.root, "pinhole", self.timeline, self.time)
            if row is not None:
                w, h = row.get("resolution")
                return (0.0, 0.0, float(w), float(h))
        data = [lay.extent for lay in self._layers.values() if lay.extent and lay.shown]
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
