"""Colours of the viewer: the depth colour map, annotation-context colours and default colours.

Everything here works on numpy arrays and returns RGBA ``uint8`` (0-255), so the 2D and
3D scenes (and the headless screenshots) colour data the same way and tests can check
colours exactly.
"""

from __future__ import annotations

import functools
import weakref
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .model import ViewerModel

__all__ = [
    "RGBA",
    "turbo_lut",
    "depth_to_rgba",
    "depth_range",
    "palette_color",
    "palette_colors",
    "entity_color",
    "AnnotationContext",
    "annotation_context_for",
    "class_colors",
    "gray_to_rgba",
    "image_to_rgba",
    "image_clim",
]

RGBA = npt.NDArray[np.uint8]

# Polynomial fit of the Turbo colour map (public domain): smooth, perceptually ordered,
# readable on dark backgrounds. Coefficients from degree 0 to 5 for R, G and B.
_TURBO = np.array(
    [
        [0.13572138, 4.61539260, -42.66032258, 132.13108234, -152.94239396, 59.28637943],
        [0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604],
        [0.10667330, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973],
    ]
)


def turbo_lut(n: int = 256) -> RGBA:
    """An ``n`` x 4 RGBA table of the Turbo colour map, from near (dark blue) to far (dark red)."""
    x = np.linspace(0.0, 1.0, n)
    powers = np.stack([x**k for k in range(6)])  # 6 x n
    rgb = np.clip(_TURBO @ powers, 0.0, 1.0).T
    out = np.empty((n, 4), np.uint8)
    out[:, :3] = np.round(rgb * 255.0)
    out[:, 3] = 255
    return out


_TURBO_LUT = turbo_lut()


def depth_range(depth_m: npt.NDArray[Any]) -> tuple[float, float] | None:
    """The (near, far) range of the valid depths (finite and > 0), or None if there are none."""
    valid = depth_m[np.isfinite(depth_m) & (depth_m > 0)]
    if valid.size == 0:
        return None
    return float(valid.min()), float(valid.max())


def depth_to_rgba(depth_m: npt.NDArray[Any], clim: tuple[float, float] | None = None) -> RGBA:
    """Colour a depth image in metres with the Turbo map; invalid depths (0, NaN, inf) are transparent.

    Parameters
    ----------
    depth_m
        HxW depths in metres.
    clim
        (near, far) mapped to the two ends of the colour map; default: the image's valid range.
    """
    d = np.asarray(depth_m, dtype=np.float32)
    valid = np.isfinite(d) & (d > 0)
    rng = clim if clim is not None else depth_range(d)
    out = np.zeros((*d.shape, 4), np.uint8)
    if rng is None:
        return out
    lo, hi = rng
    span = hi - lo if hi > lo else 1.0
    idx = np.clip((np.where(valid, d, lo) - lo) / span * (len(_TURBO_LUT) - 1), 0, len(_TURBO_LUT) - 1)
    out[:] = _TURBO_LUT[idx.astype(np.intp)]
    out[~valid] = 0
    return out


def palette_colors(ids: npt.ArrayLike) -> RGBA:
    """Distinct, stable colours for integer ids (class ids without a colour, instance keys).

    Hues follow the golden ratio so neighbouring ids differ; saturation and value are
    high enough to read on the dark background.
    """
    i = np.asarray(ids, dtype=np.int64)
    h = (i * 0.618033988749895 + 0.1) % 1.0
    s = np.full(i.shape, 0.75)
    v = 0.75 + 0.2 * ((i * 7 % 3) / 2.0)
    k = (h * 6.0)[..., None] + np.array([5.0, 3.0, 1.0])
    k = k % 6.0
    rgb = v[..., None] - v[..., None] * s[..., None] * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)
    out = np.empty((*i.shape, 4), np.uint8)
    out[..., :3] = np.round(rgb * 255.0)
    out[..., 3] = 255
    return out


@functools.lru_cache(maxsize=4096)
def palette_color(i: int) -> tuple[int, int, int, int]:
    """One palette colour as an (r, g, b, a) tuple; see :func:`palette_colors`."""
    r, g, b, a = (int(x) for x in palette_colors([i])[0])
    return r, g, b, a


@functools.lru_cache(maxsize=65536)  # called per entity per frame: 10,000 boxes, 10,000 colours
def entity_color(entity: str) -> tuple[int, int, int, int]:
    """The default colour of an entity's data: stable across runs (a CRC of the path, not ``hash``)."""
    return palette_color(zlib.crc32(entity.encode()) % 1009)


def _rgba(value: Any) -> tuple[int, int, int, int]:
    r, g, b, a = (int(x) for x in value)
    return r, g, b, a


@dataclass
class AnnotationContext:
    """Class id -> label and colour, and each class's keypoints and skeleton, from an ``annotation_context`` row."""

    entity: str = ""
    labels: dict[int, str] = field(default_factory=dict)
    colors: dict[int, tuple[int, int, int, int]] = field(default_factory=dict)
    keypoint_labels: dict[tuple[int, int], str] = field(default_factory=dict)
    """(class id, keypoint id) -> label."""
    keypoint_colors: dict[tuple[int, int], tuple[int, int, int, int]] = field(default_factory=dict)
    """(class id, keypoint id) -> colour."""
    connections: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    """Class id -> the pairs of keypoint ids joined by a line (the class's skeleton)."""
    _lut: RGBA | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_descriptions(cls, entity: str, descriptions: list[dict[str, Any]] | None) -> AnnotationContext:
        ctx = cls(entity)
        for d in descriptions or []:
            cid = int(d["id"])
            if d.get("label") is not None:
                ctx.labels[cid] = str(d["label"])
            if d.get("color") is not None:
                ctx.colors[cid] = _rgba(d["color"])
            for k in d.get("keypoints") or []:
                key = (cid, int(k["id"]))
                if k.get("label") is not None:
                    ctx.keypoint_labels[key] = str(k["label"])
                if k.get("color") is not None:
                    ctx.keypoint_colors[key] = _rgba(k["color"])
            pairs = [(int(a), int(b)) for a, b in d.get("keypoint_connections") or []]
            if pairs:
                ctx.connections[cid] = pairs
        return ctx

    @property
    def has_keypoints(self) -> bool:
        """Whether any class describes keypoints (labels, colours or connections)."""
        return bool(self.keypoint_labels or self.keypoint_colors or self.connections)

    def color(self, class_id: int) -> tuple[int, int, int, int]:
        """The class's colour: the context's, else the default palette's."""
        c = self.colors.get(int(class_id))
        return c if c is not None else palette_color(int(class_id))

    def label(self, class_id: int) -> str | None:
        return self.labels.get(int(class_id))

    def lut(self) -> RGBA:
        """A 65536 x 4 table (every uint16 class id) for colouring segmentation images at once.

        Class 0 without a colour is transparent (the usual "nothing" class); other ids
        without a colour get the default palette.
        """
        if self._lut is None:
            lut = palette_colors(np.arange(65536))
            lut[0] = 0
            for cid, c in self.colors.items():
                lut[cid] = c
            self._lut = lut
        return self._lut


_EMPTY_CONTEXT = AnnotationContext()
_CONTEXTS: weakref.WeakKeyDictionary[ViewerModel, dict[tuple[str, int], AnnotationContext]] = (
    weakref.WeakKeyDictionary()
)


def annotation_context_for(model: ViewerModel, entity: str, timeline: str | None, t: int | None) -> AnnotationContext:
    """The annotation context that applies to ``entity`` at ``t``: the closest one up the tree.

    Contexts are cached on the model per (context entity, row) so that colouring a
    segmentation image at every frame does not rebuild the lookup table.
    """
    cache = _CONTEXTS.setdefault(model, {})
    node = model.nodes.get(entity)
    while node is not None:
        if "annotation_context" in node.chunks:
            row = model.latest(node.path, "annotation_context", timeline, t)
            if row is not None:
                key = (node.path, row.row_id)
                ctx = cache.get(key)
                if ctx is None:
                    ctx = cache[key] = AnnotationContext.from_descriptions(node.path, row.get("class_descriptions"))
                return ctx
        node = node.parent
    return _EMPTY_CONTEXT


def class_colors(ctx: AnnotationContext, class_ids: npt.NDArray[Any]) -> RGBA:
    """RGBA per class id (context colour, else palette); class 0 here keeps its palette colour."""
    ids = np.asarray(class_ids, dtype=np.int64)
    out = palette_colors(ids)
    for cid, c in ctx.colors.items():
        out[ids == cid] = c
    return out


def image_clim(img: npt.NDArray[Any]) -> tuple[float, float]:
    """A sensible display range for a gray or colour image of any dtype.

    uint8: 0-255. Floats within [0, 1]: 0-1. Anything else (uint16 with 10/12/16-bit data,
    floats in other units): the finite data range.
    """
    if img.dtype == np.uint8:
        return 0.0, 255.0
    finite = img[np.isfinite(img)] if img.dtype.kind == "f" else img.reshape(-1)
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if img.dtype.kind == "f" and lo >= 0.0 and hi <= 1.0:
        return 0.0, 1.0
    if img.dtype.kind in "ui":
        lo = min(lo, 0.0)
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def _to_u8(img: npt.NDArray[Any], clim: tuple[float, float]) -> npt.NDArray[np.uint8]:
    if img.dtype == np.uint8 and clim == (0.0, 255.0):
        return img.astype(np.uint8, copy=False)
    lo, hi = clim
    x: npt.NDArray[np.float32] = (np.nan_to_num(img.astype(np.float32), nan=lo) - lo) * np.float32(255.0 / (hi - lo))
    out: npt.NDArray[np.uint8] = np.clip(x, 0, 255).astype(np.uint8)
    return out


def gray_to_rgba(img: npt.NDArray[Any], clim: tuple[float, float] | None = None) -> RGBA:
    """HxW gray values to opaque RGBA."""
    g = _to_u8(img, clim if clim is not None else image_clim(img))
    out = np.empty((*g.shape, 4), np.uint8)
    out[..., :3] = g[..., None]
    out[..., 3] = 255
    return out


def image_to_rgba(img: npt.NDArray[Any], clim: tuple[float, float] | None = None) -> RGBA:
    """A gray (HxW, HxWx1), RGB or RGBA image of any dtype to RGBA uint8.

    Alpha of an RGBA image is kept (scaled like the colours for non-uint8 data).
    """
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim == 2:
        return gray_to_rgba(img, clim)
    c = clim if clim is not None else image_clim(img[..., :3])
    rgb = _to_u8(img[..., :3], c)
    h, w = img.shape[:2]
    out = np.empty((h * w, 4), np.uint8)
    # Channel by channel into the (N, 4) rows: ~7x faster than out[..., :3] = rgb, whose
    # 3-of-4-byte strided copy costs ~2-6 ms a VGA frame (a 30 fps playback has 33 ms in all).
    flat = rgb.reshape(h * w, 3)
    for i in range(3):
        out[:, i] = flat[:, i]
    out[:, 3] = _to_u8(img[..., 3], c).reshape(h * w) if img.shape[2] == 4 else 255
    return out.reshape(h, w, 4)
