"""Keypoints: points with ``keypoint_ids`` joined into skeletons by their annotation context.

A class of an annotation context may describe keypoints (a label and a colour per
keypoint id) and ``keypoint_connections``, pairs of keypoint ids joined by a line. The
points of one row whose class has connections are drawn with those lines, in the class's
colour, in 2D and 3D views. Points with keypoint ids but no class ids belong to class 0,
so a single skeleton needs no class ids at all.

One row holds one skeleton per class: when a keypoint id repeats within a class (two
people of one class logged in one call), each connection joins the first point of each id.
Log one entity per skeleton to draw several.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from .colormaps import AnnotationContext

__all__ = ["keypoint_classes", "skeleton_segments", "keypoint_colors", "keypoint_labels"]

I64 = npt.NDArray[np.int64]


def keypoint_classes(class_ids: I64 | None, keypoint_ids: I64 | None, n: int) -> I64 | None:
    """The class of each of ``n`` keypoints: the row's class ids, else class 0 (None when not keypoints)."""
    if keypoint_ids is None:
        return None
    if class_ids is None:
        return np.zeros(n, np.int64)
    return np.asarray(class_ids, dtype=np.int64)[:n]


def skeleton_segments(
    ctx: AnnotationContext, positions: npt.NDArray[Any], class_ids: I64 | None, keypoint_ids: I64 | None
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint8]]:
    """The skeleton lines of one row of points: end points (2K, D) and RGBA colours (2K, 4).

    ``class_ids`` and ``keypoint_ids`` are per point (already broadcast); connections to a
    keypoint missing from the row, or at a non-finite position, are left out.
    """
    pos = np.asarray(positions, dtype=np.float32)
    dims = pos.shape[1] if pos.ndim == 2 else 2
    empty = np.zeros((0, dims), np.float32), np.zeros((0, 4), np.uint8)
    classes = keypoint_classes(class_ids, keypoint_ids, len(pos))
    if classes is None or keypoint_ids is None or not ctx.connections or not len(pos):
        return empty
    kps = np.asarray(keypoint_ids, dtype=np.int64)[: len(pos)]
    finite = np.isfinite(pos).all(axis=1)
    ends: list[int] = []
    colors: list[tuple[int, int, int, int]] = []
    for cid in np.unique(classes).tolist():
        pairs = ctx.connections.get(int(cid))
        if not pairs:
            continue
        members = np.nonzero((classes == cid) & finite)[0]
        first: dict[int, int] = {}
        for i in members.tolist():
            first.setdefault(int(kps[i]), i)
        color = ctx.color(int(cid))
        for a, b in pairs:
            ia, ib = first.get(a), first.get(b)
            if ia is not None and ib is not None:
                ends.extend((ia, ib))
                colors.extend((color, color))
    if not ends:
        return empty
    return pos[np.asarray(ends, np.intp)], np.asarray(colors, np.uint8).reshape(-1, 4)


def keypoint_colors(ctx: AnnotationContext, class_ids: I64, keypoint_ids: I64) -> npt.NDArray[np.uint8]:
    """RGBA per keypoint: its own colour in the context, else its class's colour (context or palette)."""
    keys, inverse = _pairs(class_ids, keypoint_ids)
    table = np.empty((len(keys), 4), np.uint8)
    for j, (c, k) in enumerate(keys):
        own = ctx.keypoint_colors.get((c, k))
        table[j] = own if own is not None else ctx.color(c)
    return table[inverse]


def keypoint_labels(ctx: AnnotationContext, class_ids: I64, keypoint_ids: I64) -> list[str]:
    """The label per keypoint: its keypoint label in the context, else its class label, else ""."""
    keys, inverse = _pairs(class_ids, keypoint_ids)
    table = [ctx.keypoint_labels.get((c, k)) or ctx.label(c) or "" for c, k in keys]
    return [table[j] for j in inverse.tolist()]


def _pairs(class_ids: I64, keypoint_ids: I64) -> tuple[list[tuple[int, int]], npt.NDArray[np.intp]]:
    """The distinct (class, keypoint) pairs and, per point, the index of its pair (one lookup per pair)."""
    n = min(len(class_ids), len(keypoint_ids))
    combined = np.asarray(class_ids[:n], np.int64) * 65536 + np.asarray(keypoint_ids[:n], np.int64)
    uniq, inverse = np.unique(combined, return_inverse=True)
    return [(int(u) // 65536, int(u) % 65536) for u in uniq.tolist()], inverse.reshape(-1)
