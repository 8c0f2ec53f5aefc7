"""Picking on screen: which drawn thing is under a mouse position, without reading the GL buffers.

Software GL renderers (Mesa's llvmpipe) draw picking buffers as slowly as the scene
itself, and vispy's picking mode redraws the canvas. The scenes instead project candidate
geometry (points, segment end points, triangle corners) with the view's own transform
into canvas pixels and measure distances to the mouse there. A click needs a few numpy
operations over the drawn data, done only when the user clicks.

Distances are in canvas pixels; ``depth`` is the projective ``w`` of the view transform
(the distance along the view direction for a perspective camera, constant for an
orthographic one): smaller is nearer the viewer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "Pick",
    "PICK_RADIUS_PX",
    "project",
    "segment_distances",
    "triangle_hits",
    "best_pick",
]

F64 = npt.NDArray[np.float64]

PICK_RADIUS_PX = 6.0
"""A click this close (in pixels) to a point or a line picks it."""


@dataclass(frozen=True)
class Pick:
    """What a click hit.

    Attributes
    ----------
    entity
        The entity drawn there (a camera entity for its frustum).
    instance
        The index of the hit instance in the drawn data (a point of a cloud, a rectangle),
        when the scene knows it; else None.
    distance_px
        How far the click is from the thing's drawn outline (0 on or inside it).
    depth
        How far it is from the viewer (see the module's notes); 2D views use their draw
        order, negated: the topmost has the smallest.
    surface
        The thing is a surface (a mesh, an image, the inside of a rectangle) rather than a
        point or a line: points and lines within reach win over surfaces behind them.
    """

    entity: str
    instance: int | None
    distance_px: float
    depth: float
    surface: bool = False


def project(transform: Any, pts: npt.ArrayLike) -> tuple[F64, F64]:
    """Canvas pixel positions (N, 2) and depths (N,) of (N, 2|3) points through a vispy transform.

    Points behind the viewer get a depth <= 0 and NaN positions.
    """
    p = np.asarray(pts, dtype=np.float64)
    if p.ndim != 2 or not len(p):
        return np.zeros((0, 2)), np.zeros(0)
    mapped = np.asarray(transform.map(p), dtype=np.float64).reshape(len(p), -1)
    w = mapped[:, 3] if mapped.shape[1] > 3 else np.ones(len(p))
    ok = w > 0
    safe = np.where(ok, w, 1.0)
    xy = mapped[:, :2] / safe[:, None]
    xy[~ok] = np.nan
    return xy, w


def segment_distances(a: F64, b: F64, click: F64) -> F64:
    """Distance in pixels from ``click`` (2,) to each screen segment ``a[i]``-``b[i]`` (N, 2)."""
    d = b - a
    length2 = np.einsum("ij,ij->i", d, d)
    t = np.einsum("ij,ij->i", click[None, :] - a, d) / np.where(length2 > 0, length2, 1.0)
    t = np.clip(np.where(length2 > 0, t, 0.0), 0.0, 1.0)
    nearest = a + d * t[:, None]
    out: F64 = np.linalg.norm(nearest - click[None, :], axis=1)
    return np.where(np.isfinite(out), out, np.inf)


def triangle_hits(xy: F64, w: F64, faces: npt.NDArray[Any], click: F64) -> tuple[npt.NDArray[np.intp], F64]:
    """The triangles whose screen projection holds ``click``, and the depth of each there.

    ``xy``/``w`` are the projected vertices (:func:`project`), ``faces`` (M, 3) vertex indices.
    Triangles with a corner behind the viewer are skipped.
    """
    f = np.asarray(faces, dtype=np.intp).reshape(-1, 3)
    if not len(f) or not len(xy):
        return np.zeros(0, np.intp), np.zeros(0)
    p0, p1, p2 = xy[f[:, 0]], xy[f[:, 1]], xy[f[:, 2]]
    v0, v1, v2 = p1 - p0, p2 - p0, click[None, :] - p0
    den = v0[:, 0] * v1[:, 1] - v1[:, 0] * v0[:, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        s = (v2[:, 0] * v1[:, 1] - v1[:, 0] * v2[:, 1]) / den
        t = (v0[:, 0] * v2[:, 1] - v2[:, 0] * v0[:, 1]) / den
    inside = (s >= 0) & (t >= 0) & (s + t <= 1) & np.isfinite(s) & np.isfinite(t) & (np.abs(den) > 1e-12)
    inside &= (w[f] > 0).all(axis=1)
    hit = np.nonzero(inside)[0]
    ws = w[f[hit]]
    depth = ws[:, 0] * (1 - s[hit] - t[hit]) + ws[:, 1] * s[hit] + ws[:, 2] * t[hit]
    return hit, depth


def best_pick(candidates: list[Pick], radius_px: float = PICK_RADIUS_PX) -> Pick | None:
    """The pick to report among the candidates of one click.

    Points and lines within ``radius_px`` come first: the nearest to the click (0 when
    the click is on it), ties to the nearest the viewer; but not one hidden behind the
    nearest surface under the click. Otherwise the nearest surface under the click.
    """
    surfaces = [c for c in candidates if c.surface and c.distance_px <= 0.0]
    thin = [c for c in candidates if not c.surface and c.distance_px <= radius_px]
    front = min(surfaces, key=lambda c: c.depth) if surfaces else None
    if front is not None:
        # A small allowance: a line lying on a surface (a box on the ground) is not behind it.
        limit = front.depth + 1e-3 * max(1.0, abs(front.depth))
        thin = [c for c in thin if c.depth <= limit]
    if thin:
        return min(thin, key=lambda c: (round(c.distance_px, 3), c.depth))
    return front
