"""log_line_strip(s), log_line_segments and log_arrow: lines in 2D and 3D, and 3D arrows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from . import _convert as cv
from ._errors import ArgumentError, describe_value, log_function
from ._log_shapes import instance_cells, one_vector
from ._recording import RecordingStream

__all__ = ["log_line_strip", "log_line_segments", "log_line_strips_2d", "log_line_strips_3d", "log_arrow"]


def _points(value: Any, arg: str, dims: tuple[int, ...]) -> npt.NDArray[np.float32]:
    """An (M, D) float32 array of vertices with D in ``dims`` (M may be 0 or 1)."""
    arr = cv.as_float_array(value, arg)
    if arr.ndim == 1 and arr.shape[0] == 0:
        arr = arr.reshape(0, dims[0])
    if arr.ndim != 2 or arr.shape[1] not in dims:
        want = " or ".join(f"Mx{d}" for d in dims)
        raise ArgumentError(arg, describe_value(value), f"an array of vertices of shape {want}")
    return arr


def _strips(flat: npt.NDArray[np.float32], offsets: npt.NDArray[np.int32], dims: int) -> pa.Array:
    """Line strips as one list array: strip i is ``flat[offsets[i]:offsets[i + 1]]``."""
    values = cv.fixed_list(flat, dims, pa.float32())
    return pa.ListArray.from_arrays(pa.array(offsets, type=pa.int32()), values)


def _kind(dims: int) -> tuple[str, str]:
    return ("line_strips2d", "strips2d") if dims == 2 else ("line_strips3d", "strips3d")


def _draw_order(cells: dict[str, Any], draw_order: Any, dims: int) -> None:
    if draw_order is None:
        return
    if dims != 2:
        raise ArgumentError("draw_order", repr(draw_order), "None for 3D lines (draw order applies to 2D)")
    cells["draw_order"] = cv.finite_scalar(draw_order, "draw_order")


@log_function
def log_line_strip(
    entity_path: str,
    positions: Any,
    *,
    stroke_width: float | None = None,
    color: Any = None,
    draw_order: float | None = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log one line strip: a polyline through the given points, in 2D or 3D.

    Parameters
    ----------
    entity_path
        Path of the strip, e.g. ``"world/robot/path"``.
    positions
        Nx2 (a 2D strip) or Nx3 (a 3D strip) array of vertices in the space's units
        (stored as float32); consecutive vertices are joined. NaN is refused.
    stroke_width
        Line width (>= 0), in the space's units.
    color
        RGB or RGBA, uint8 0-255 or float 0-1.
    draw_order
        2D only: higher values are drawn on top.
    timeless
        Log for all timelines (scenery) instead of at the current time.
    recording
        The recording to log to (default: the global one from :func:`init`).

    Examples
    --------
    >>> import numpy as np, rrformat as rr
    >>> t = np.linspace(0, 2 * np.pi, 50)
    >>> rr.log_line_strip("world/path", np.stack([np.cos(t), np.sin(t), t / 10], axis=1),
    ...                   stroke_width=0.01, color=[255, 200, 0])  # doctest: +SKIP
    """
    assert recording is not None
    entity = recording.entity(entity_path)
    pts = _points(positions, "positions", (2, 3))
    dims = int(pts.shape[1])
    kind, component = _kind(dims)
    cells: dict[str, Any] = {component: _strips(pts, np.array([0, len(pts)], np.int32), dims)}
    nbytes = instance_cells(cells, 1, single=True, colors=color, stroke_widths=stroke_width)
    _draw_order(cells, draw_order, dims)
    recording.log_row(entity, kind, cells, timeless=timeless, nbytes=nbytes + 64)


@log_function
def log_line_segments(
    entity_path: str,
    positions: Any,
    *,
    stroke_width: float | None = None,
    color: Any = None,
    draw_order: float | None = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log independent line segments, in 2D or 3D.

    Parameters
    ----------
    entity_path
        Path of the segments, e.g. ``"world/robot/laser_rays"``.
    positions
        A (2N)x2 or (2N)x3 array of points in the space's units (stored as float32):
        points 0 and 1 make the first segment, 2 and 3 the second, and so on. The count
        must be even. Stored as N line strips of 2 points each.
    stroke_width
        One line width (>= 0) for every segment, in the space's units.
    color
        One colour for every segment: RGB or RGBA, uint8 0-255 or float 0-1.
    draw_order
        2D only: higher values are drawn on top.
    timeless
        Log for all timelines (scenery) instead of at the current time.
    recording
        The recording to log to (default: the global one from :func:`init`).

    Examples
    --------
    >>> starts = np.zeros((10, 3)); ends = np.random.rand(10, 3)
    >>> rays = np.stack([starts, ends], axis=1).reshape(-1, 3)  # s0, e0, s1, e1, ...
    >>> rr.log_line_segments("world/rays", rays, color=[255, 0, 0])  # doctest: +SKIP
    """
    assert recording is not None
    entity = recording.entity(entity_path)
    pts = _points(positions, "positions", (2, 3))
    if len(pts) % 2:
        raise ArgumentError(
            "positions", f"{describe_value(positions)} ({len(pts)} points)", "an even number of points (2 per segment)"
        )
    dims = int(pts.shape[1])
    n = len(pts) // 2
    kind, component = _kind(dims)
    cells: dict[str, Any] = {component: _strips(pts, np.arange(0, 2 * n + 1, 2, dtype=np.int32), dims)}
    if color is not None:
        cv.color(color, "color")  # exactly one colour: refuse N colours here, with the right name
        cells["colors"] = cv.colors(color, "color", n)
    if stroke_width is not None:
        if np.ndim(stroke_width) != 0:
            raise ArgumentError("stroke_width", describe_value(stroke_width), "one width >= 0")
        cells["stroke_widths"] = cv.per_instance_float(stroke_width, "stroke_width", n)
    _draw_order(cells, draw_order, dims)
    nbytes = sum(a.nbytes for a in cells.values() if isinstance(a, pa.Array))
    recording.log_row(entity, kind, cells, timeless=timeless, nbytes=nbytes + 64)


def _log_strips(
    recording: RecordingStream,
    entity_path: str,
    line_strips: Any,
    dims: int,
    *,
    identifiers: Any,
    stroke_widths: Any,
    colors: Any,
    labels: Any,
    class_ids: Any,
    draw_order: Any,
    timeless: bool,
) -> None:
    entity = recording.entity(entity_path)
    expected = f"a list of Mx{dims} arrays (one per strip)"
    if isinstance(line_strips, np.ndarray) and line_strips.ndim == 2:
        # One strip passed as is: say how to log it rather than complain about its rows.
        raise ArgumentError("line_strips", describe_value(line_strips), f"{expected}; wrap a single strip in a list")
    if isinstance(line_strips, (str, bytes)):
        raise ArgumentError("line_strips", describe_value(line_strips), expected)
    try:
        items = list(line_strips)
    except TypeError:
        raise ArgumentError("line_strips", describe_value(line_strips), expected) from None
    parts = [_points(s, f"line_strips[{i}]", (dims,)) for i, s in enumerate(items)]
    offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum([len(p) for p in parts], out=offsets[1:])
    if offsets[-1] > np.iinfo(np.int32).max:
        raise ArgumentError("line_strips", f"{int(offsets[-1])} vertices", "fewer than 2**31 vertices in one call")
    flat = np.concatenate(parts) if parts else np.zeros((0, dims), np.float32)
    kind, component = _kind(dims)
    cells: dict[str, Any] = {component: _strips(flat, offsets.astype(np.int32), dims)}
    nbytes = instance_cells(
        cells, len(parts), single=False, colors=colors, labels=labels, class_ids=class_ids,
        identifiers=identifiers, stroke_widths=stroke_widths,
    )
    _draw_order(cells, draw_order, dims)
    recording.log_row(entity, kind, cells, timeless=timeless, nbytes=nbytes + 64)


@log_function
def log_line_strips_2d(
    entity_path: str,
    line_strips: Iterable[Any],
    *,
    identifiers: Any = None,
    stroke_widths: Any = None,
    colors: Any = None,
    labels: Any = None,
    class_ids: Any = None,
    draw_order: float | None = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log several 2D line strips (polylines) as one batch.

    Parameters
    ----------
    entity_path
        Path of the strips, e.g. ``"camera/image/lane_markings"``.
    line_strips
        A list (or any iterable) of K arrays, each Mx2 (M may differ per strip): the
        vertices of one strip in the space's units (pixels in an image space), stored as float32.
    identifiers
        Optional K unique non-negative integers (uint64) identifying the strips across time.
    stroke_widths
        One or K line widths (>= 0), in the space's units.
    colors
        One colour for all strips or K colours: RGB or RGBA, uint8 0-255 or float 0-1.
    labels
        One text label for all or K labels.
    class_ids
        One or K class ids (uint16) looked up in the annotation context.
    draw_order
        Higher values are drawn on top.
    timeless
        Log for all timelines (scenery) instead of at the current time.
    recording
        The recording to log to (default: the global one from :func:`init`).

    Examples
    --------
    >>> lanes = [np.array([[0, 480], [300, 200]]), np.array([[640, 480], [340, 200]])]
    >>> rr.log_line_strips_2d("camera/image/lanes", lanes, colors=[0, 255, 0], stroke_widths=3)  # doctest: +SKIP
    """
    assert recording is not None
    _log_strips(
        recording, entity_path, line_strips, 2, identifiers=identifiers, stroke_widths=stroke_widths,
        colors=colors, labels=labels, class_ids=class_ids, draw_order=draw_order, timeless=timeless,
    )


@log_function
def log_line_strips_3d(
    entity_path: str,
    line_strips: Iterable[Any],
    *,
    identifiers: Any = None,
    stroke_widths: Any = None,
    colors: Any = None,
    labels: Any = None,
    class_ids: Any = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log several 3D line strips (polylines) as one batch.

    Parameters
    ----------
    entity_path
        Path of the strips, e.g. ``"world/map/walls"``.
    line_strips
        A list (or any iterable) of K arrays, each Mx3 (M may differ per strip): the
        vertices of one strip in the space's units, stored as float32.
    identifiers
        Optional K unique non-negative integers (uint64) identifying the strips across time.
    stroke_widths
        One or K line widths (>= 0), in the space's units.
    colors
        One colour for all strips or K colours: RGB or RGBA, uint8 0-255 or float 0-1.
    labels
        One text label for all or K labels.
    class_ids
        One or K class ids (uint16) looked up in the annotation context.
    timeless
        Log for all timelines (scenery) instead of at the current time.
    recording
        The recording to log to (default: the global one from :func:`init`).

    Examples
    --------
    >>> walls = [[[0, 0, 0], [5, 0, 0], [5, 3, 0]], [[0, 1, 0], [0, 3, 0]]]
    >>> rr.log_line_strips_3d("world/map/walls", walls, stroke_widths=0.05, timeless=True)  # doctest: +SKIP
    """
    assert recording is not None
    _log_strips(
        recording, entity_path, line_strips, 3, identifiers=identifiers, stroke_widths=stroke_widths,
        colors=colors, labels=labels, class_ids=class_ids, draw_order=None, timeless=timeless,
    )


@log_function
def log_arrow(
    entity_path: str,
    origin: Any,
    vector: Any,
    *,
    color: Any = None,
    label: str | None = None,
    width_scale: float | None = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log one 3D arrow from ``origin`` to ``origin + vector``.

    Parameters
    ----------
    entity_path
        Path of the arrow, e.g. ``"world/robot/velocity"``.
    origin
        ``[x, y, z]``: where the arrow starts, in the space's units; None means the origin.
    vector
        ``[dx, dy, dz]``: direction and length of the arrow (the tip is ``origin + vector``).
    color
        RGB or RGBA, uint8 0-255 or float 0-1.
    label
        Text label.
    width_scale
        Width of the shaft (>= 0), in the space's units.
    timeless
        Log for all timelines (scenery) instead of at the current time.
    recording
        The recording to log to (default: the global one from :func:`init`).

    Examples
    --------
    >>> rr.log_arrow("world/robot/velocity", [1.0, 2.0, 0.0], [0.5, 0.0, 0.0],
    ...              color=[0, 0, 255], width_scale=0.02)  # doctest: +SKIP
    """
    assert recording is not None
    entity = recording.entity(entity_path)
    start = np.zeros((1, 3), np.float32) if origin is None else one_vector(origin, "origin", 3, "a 3D start point")
    vec = one_vector(vector, "vector", 3, "a 3D vector")
    cells: dict[str, Any] = {
        "origins": cv.fixed_list(start, 3, pa.float32()),
        "vectors": cv.fixed_list(vec, 3, pa.float32()),
    }
    if width_scale is not None:
        if np.ndim(width_scale) != 0:
            raise ArgumentError("width_scale", describe_value(width_scale), "one width >= 0")
        cells["width_scales"] = cv.per_instance_float(width_scale, "width_scale", 1)
    nbytes = instance_cells(cells, 1, single=True, colors=color, labels=label)
    recording.log_row(entity, "arrows3d", cells, timeless=timeless, nbytes=nbytes + 64)
