"""Stroke widths of lines: per-segment widths in the space's units, grouped for vispy Line visuals.

Boxes, line strips, rectangles and arrows may carry a width per instance
(``stroke_widths``, ``width_scales``) in the space's units. vispy's ``Line`` visual has one
width for all its segments, in screen pixels, and drawing real-width geometry (quads in
2D, tubes in 3D) would cost a mesh per entity on a software renderer. So the scenes
group an entity's segments by width (a few groups at most, :data:`MAX_GROUPS`), draw one
``Line`` per group, and convert each group's width to pixels with the view's current
scale: pixels per space unit at the centre of the drawn data (:func:`width_px`). In a 2D
view that scale is exact everywhere (an orthographic camera); in a 3D view it is exact at
the depth of the scene's centre, nearer lines look thinner than they would in true
perspective and farther ones thicker. The scenes convert again whenever the camera
moves, so zooming thickens the lines as it would real geometry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "DEFAULT_WIDTH_PX",
    "MIN_WIDTH_PX",
    "MAX_WIDTH_PX",
    "MAX_GROUPS",
    "segment_widths",
    "width_groups",
    "width_px",
    "group_role",
    "rescale",
    "watch_view",
]

F32 = npt.NDArray[np.float32]

DEFAULT_WIDTH_PX = 2.0
"""Lines without a logged width: this many pixels whatever the zoom."""
MIN_WIDTH_PX = 1.0
MAX_WIDTH_PX = 32.0
"""Widths are clamped to this range of pixels (a thick line seen from close up would cover the view)."""
MAX_GROUPS = 8
"""At most this many Line visuals per entity: more distinct widths are binned (log-spaced)."""


def segment_widths(values: npt.NDArray[Any] | None, counts: npt.ArrayLike) -> F32:
    """The width of each segment: instance ``i``'s width repeated ``counts[i]`` times.

    ``values`` are the row's per-instance widths already broadcast to the instances (None:
    no widths logged, every segment gets NaN, the default). Negative or non-finite widths
    also mean the default.
    """
    c = np.asarray(counts, dtype=np.intp).reshape(-1)
    if values is None:
        return np.full(int(c.sum()), np.nan, np.float32)
    w = np.asarray(values, dtype=np.float32).reshape(-1)[: len(c)]
    w = np.where(np.isfinite(w) & (w >= 0), w, np.float32(np.nan)).astype(np.float32)
    return np.repeat(w, c[: len(w)])


def width_groups(widths: npt.ArrayLike) -> list[tuple[float, npt.NDArray[np.intp]]]:
    """Segments grouped by width: ``(width in space units or NaN for the default, segment indices)``.

    The default group comes first, then widths in increasing order. With more than
    :data:`MAX_GROUPS` distinct widths, positive widths are binned on a log scale and each
    bin is drawn with its median width.
    """
    w = np.asarray(widths, dtype=np.float64).reshape(-1)
    if not len(w):
        return []
    out: list[tuple[float, npt.NDArray[np.intp]]] = []
    default = np.isnan(w)
    if default.any():
        out.append((float("nan"), np.nonzero(default)[0]))
    idx = np.nonzero(~default)[0]
    if not len(idx):
        return out
    vals = w[idx]
    uniq = np.unique(vals)
    slots = MAX_GROUPS - len(out)
    if len(uniq) <= slots:
        for u in uniq:
            out.append((float(u), idx[vals == u]))
        return out
    # Too many widths for one visual each: bin them, zero widths with the thinnest.
    positive = vals[vals > 0]
    lo, hi = float(positive.min()), float(positive.max())
    edges = np.geomspace(lo, hi, slots + 1)[1:-1]
    bins = np.searchsorted(edges, np.maximum(vals, lo), side="right")
    for b in range(slots):
        members = idx[bins == b]
        if len(members):
            out.append((float(np.median(w[members])), members))
    return out


def width_px(width: float, pixels_per_unit: float | None) -> float:
    """A width in space units as a Line width in pixels (NaN: the default width)."""
    if not np.isfinite(width):
        return DEFAULT_WIDTH_PX
    if pixels_per_unit is None or not np.isfinite(pixels_per_unit) or pixels_per_unit <= 0:
        return DEFAULT_WIDTH_PX
    return float(np.clip(width * pixels_per_unit, MIN_WIDTH_PX, MAX_WIDTH_PX))


def rescale(lines: Iterable[tuple[Any, float]], pixels_per_unit: float | None) -> None:
    """Give each ``(Line visual, width in space units)`` its width in pixels at the view's new scale."""
    for line, width in lines:
        if np.isfinite(width):
            px = width_px(width, pixels_per_unit)
            if line.width != px:
                line.set_data(width=px)


def group_role(role: str, i: int) -> str:
    """The visual role of width group ``i``: the role itself for the first, then ``role:1``, ``role:2``..."""
    return role if i == 0 else f"{role}:{i}"


def watch_view(viewbox: Any, callback: Callable[[], None]) -> None:
    """Call ``callback`` whenever the view box's camera moves (pan, zoom, orbit, resize).

    Cameras either replace the scene's transform (the node's ``transform_change`` event)
    or change it in place (the transform's own ``changed`` event, which a replaced
    transform no longer sends): follow both, moving to each new transform.
    """
    node = viewbox.scene
    watched: list[Any] = []

    def follow(event: Any = None) -> None:
        tr = node.transform
        if not watched or watched[0] is not tr:
            if watched:
                watched.pop().changed.disconnect(changed)
            tr.changed.connect(changed)
            watched.append(tr)
        callback()

    def changed(event: Any = None) -> None:
        callback()

    node.events.transform_change.connect(follow)
    follow()
