"""log_points and log_point: 2D and 3D point clouds."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from . import _convert as cv
from ._errors import ArgumentError, describe_value, log_function
from ._log_shapes import instance_cells
from ._recording import RecordingStream

__all__ = ["log_points", "log_point"]


@log_function
def log_points(
    entity_path: str,
    positions: Any,
    *,
    identifiers: Any = None,
    colors: Any = None,
    radii: Any = None,
    labels: Any = None,
    class_ids: Any = None,
    keypoint_ids: Any = None,
    draw_order: float | None = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log a 2D or 3D point cloud.

    Parameters
    ----------
    entity_path
        Path of the cloud, e.g. ``"world/lidar"``.
    positions
        Nx2 or Nx3 array of positions, in the space's units (pixels in an image space).
    identifiers
        Optional N unique non-negative integers identifying the points across time.
    colors
        One colour for all points or N colours: RGB or RGBA, uint8 0-255 or float 0-1.
    radii
        One radius or N radii, in the space's units.
    labels
        One text label or N labels.
    class_ids
        One or N class ids (uint16), coloured and labelled by the annotation context.
    keypoint_ids
        One or N keypoint ids (uint16) within their class.
    draw_order
        2D only: higher values are drawn on top.
    timeless
        Log for all timelines (scenery) instead of at the current time.
    recording
        The recording to log to (default: the global one from :func:`init`).

    Examples
    --------
    >>> import numpy as np, rrformat as rr
    >>> rr.init("demo")  # doctest: +SKIP
    >>> rr.log_points("world/points", np.random.rand(100, 3), colors=[255, 0, 0], radii=0.02)  # doctest: +SKIP
    """
    assert recording is not None
    entity = recording.entity(entity_path)
    pos, dims = cv.vectors(positions, "positions", dims=(2, 3))
    n = len(pos)
    cells: dict[str, Any] = {"positions2d" if dims == 2 else "positions3d": pos}
    if radii is not None:
        cells["radii"] = cv.per_instance_float(radii, "radii", n)
    if keypoint_ids is not None:
        cells["keypoint_ids"] = cv.per_instance_uint(keypoint_ids, "keypoint_ids", n, pa.uint16())
    # The components points share with shapes; returns the bytes of every cell, radii included.
    nbytes = instance_cells(
        cells, n, single=False, colors=colors, labels=labels, class_ids=class_ids, identifiers=identifiers
    )
    if draw_order is not None:
        if dims != 2:
            raise ArgumentError("draw_order", repr(draw_order), "None for 3D points (draw order applies to 2D)")
        cells["draw_order"] = cv.finite_scalar(draw_order, "draw_order")
    recording.log_row(entity, "points2d" if dims == 2 else "points3d", cells, timeless=timeless, nbytes=nbytes + 64)


@log_function
def log_point(
    entity_path: str,
    position: Any,
    *,
    radius: float | None = None,
    color: Any = None,
    label: str | None = None,
    class_id: int | None = None,
    keypoint_id: int | None = None,
    draw_order: float | None = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log a single 2D or 3D point (a cloud of one).

    Parameters
    ----------
    entity_path
        Path of the point.
    position
        ``[x, y]`` or ``[x, y, z]``.
    radius, color, label, class_id, keypoint_id
        As for :func:`log_points`, for one point.

    Examples
    --------
    >>> rr.log_point("world/robot/target", [1.0, 2.0, 0.0], color=[0, 255, 0])  # doctest: +SKIP
    """
    arr = np.asarray(position) if position is not None else None
    if arr is None or arr.ndim != 1 or arr.shape[0] not in (2, 3):
        raise ArgumentError("position", describe_value(position), "one point, [x, y] or [x, y, z]")
    if label is not None and not isinstance(label, str):
        raise ArgumentError("label", describe_value(label), "a string")
    try:
        log_points.__wrapped__(  # type: ignore[attr-defined]
            entity_path,
            arr.reshape(1, -1),
            colors=color,
            radii=radius,
            labels=[label] if label is not None else None,
            class_ids=class_id,
            keypoint_ids=keypoint_id,
            draw_order=draw_order,
            timeless=timeless,
            recording=recording,
        )
    except ArgumentError as exc:
        # Name the argument the caller typed, not the plural one of log_points.
        raise ArgumentError(_SINGULAR.get(exc.arg, exc.arg), exc.got, exc.expected) from None


_SINGULAR = {
    "colors": "color",
    "radii": "radius",
    "labels": "label",
    "class_ids": "class_id",
    "keypoint_ids": "keypoint_id",
}
