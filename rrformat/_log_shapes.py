"""log_rect(s) and log_obb(s): 2D rectangles and 3D oriented boxes.

Also holds the small validators shared by the shape, line and mesh log functions
(fixed-width float rows, and the optional per-instance components with singular or
plural argument names).
"""

from __future__ import annotations

import enum
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from . import _convert as cv
from . import _recording
from ._errors import ArgumentError, describe_value, log_function
from ._recording import RecordingStream

__all__ = ["RectFormat", "log_rect", "log_rects", "log_obb", "log_obbs"]


# --- shared validators ------------------------------------------------------------------
def float64_array(value: Any, arg: str, *, allow_nan: bool = False) -> npt.NDArray[np.float64]:
    """Any numeric array-like as float64 (for conversions that must not lose precision)."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise ArgumentError(arg, describe_value(value), f"a numeric array ({exc})") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise ArgumentError(arg, describe_value(value), "numbers (a numeric numpy array or nested lists of numbers)")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise ArgumentError(arg, describe_value(value), "real numbers")
    out = arr.astype(np.float64, copy=False)
    if not allow_nan and out.size and not np.isfinite(out).all():
        bad = int(np.count_nonzero(~np.isfinite(out)))
        raise ArgumentError(arg, f"{describe_value(value)} with {bad} NaN or infinite value(s)", "finite numbers")
    return out


def float_rows(
    value: Any,
    arg: str,
    width: int,
    *,
    n: int | None = None,
    per: str = "instance",
    allow_flat: bool = False,
    exact: bool = False,
) -> npt.NDArray[Any]:
    """An (N, width) float array; one row of shape (width,) is taken as N=1.

    ``n`` requires exactly that many rows (one per ``per``). ``allow_flat`` also accepts
    a flat array of ``N * width`` numbers. ``exact`` keeps float64 (else float32).
    """
    arr: npt.NDArray[Any] = float64_array(value, arg) if exact else cv.as_float_array(value, arg)
    shape = f"Nx{width}" + (f" (or a flat array of N*{width} numbers)" if allow_flat else "")
    if arr.ndim == 1 and allow_flat:
        if arr.shape[0] % width:
            raise ArgumentError(arg, describe_value(value), f"an array of shape {shape}; the length is not a multiple")
        arr = arr.reshape(-1, width)
    elif arr.ndim == 1 and arr.shape[0] == width:
        arr = arr.reshape(1, width)
    elif arr.ndim == 1 and arr.shape[0] == 0:
        arr = arr.reshape(0, width)
    if arr.ndim != 2 or arr.shape[1] != width:
        raise ArgumentError(arg, describe_value(value), f"an array of shape {shape}")
    if n is not None and arr.shape[0] != n:
        raise ArgumentError(arg, describe_value(value), f"{n} rows of {width} numbers (one per {per})")
    return arr


def one_vector(value: Any, arg: str, width: int, what: str) -> npt.NDArray[np.float32]:
    """Exactly ``width`` finite numbers, as a (1, width) float32 array."""
    arr = cv.as_float_array(value, arg)
    if arr.shape != (width,):
        raise ArgumentError(arg, describe_value(value), f"{what}: {width} numbers, shape ({width},)")
    return arr.reshape(1, width)


def instance_cells(
    cells: dict[str, Any],
    n: int,
    *,
    single: bool,
    colors: Any = None,
    labels: Any = None,
    class_ids: Any = None,
    identifiers: Any = None,
    stroke_widths: Any = None,
) -> int:
    """Fill the optional per-instance components of shapes; returns their bytes.

    With ``single`` the arguments are the singular ones of a one-instance function
    (``color``, ``label``...) and are named so in error messages.
    """
    if colors is not None:
        if single:
            rgba = np.array([cv.color(colors, "color")], dtype=np.uint8)
            cells["colors"] = cv.fixed_list(rgba, 4, pa.uint8())
        else:
            cells["colors"] = cv.colors(colors, "colors", n)
    if labels is not None:
        if single and not isinstance(labels, str):
            raise ArgumentError("label", describe_value(labels), "a string")
        cells["labels"] = cv.labels(labels, "label" if single else "labels", n)
    if class_ids is not None:
        if single and np.ndim(class_ids) != 0:
            raise ArgumentError("class_id", describe_value(class_ids), "one integer class id 0..65535")
        cells["class_ids"] = cv.per_instance_uint(class_ids, "class_id" if single else "class_ids", n, pa.uint16())
    if identifiers is not None:
        cells["instance_ids"] = cv.per_instance_uint(identifiers, "identifiers", n, pa.uint64())
    if stroke_widths is not None:
        if single and np.ndim(stroke_widths) != 0:
            raise ArgumentError("stroke_width", describe_value(stroke_widths), "one width >= 0")
        cells["stroke_widths"] = cv.per_instance_float(stroke_widths, "stroke_width" if single else "stroke_widths", n)
    return sum(a.nbytes for a in cells.values() if isinstance(a, pa.Array))


def parse_enum(value: Any, enum_type: type[enum.Enum], arg: str) -> Any:
    """An enum member from itself or its name (case-insensitive); lists the names on error."""
    if isinstance(value, enum_type):
        return value
    if isinstance(value, str):
        member = enum_type.__members__.get(value.strip().upper())
        if member is not None:
            return member
    allowed = ", ".join(f"{enum_type.__name__}.{name}" for name in enum_type.__members__)
    raise ArgumentError(arg, describe_value(value), f"one of {allowed} (or its name as a string)")


# --- rectangles --------------------------------------------------------------------------
class RectFormat(enum.Enum):
    """How the four numbers of a rectangle are to be read.

    Rectangles are always stored as ``XYWH`` from the minimum corner; the conversions are

    ========== ====================== ===============================================
    format     the four numbers       stored (x, y, w, h)
    ========== ====================== ===============================================
    XYWH       x, y, w, h             (x, y, w, h)
    YXHW       y, x, h, w             (x, y, w, h)
    XYXY       x1, y1, x2, y2         (x1, y1, x2 - x1, y2 - y1)
    YXYX       y1, x1, y2, x2         (x1, y1, x2 - x1, y2 - y1)
    XCYCWH     xc, yc, w, h           (xc - w / 2, yc - h / 2, w, h)
    XCYCW2H2   xc, yc, w/2, h/2       (xc - w/2, yc - h/2, 2 * (w/2), 2 * (h/2))
    ========== ====================== ===============================================

    Widths and heights must come out >= 0 (for XYXY: ``x2 >= x1`` and ``y2 >= y1``).
    """

    XYWH = "XYWH"
    YXHW = "YXHW"
    XYXY = "XYXY"
    YXYX = "YXYX"
    XCYCWH = "XCYCWH"
    XCYCW2H2 = "XCYCW2H2"


def rects_to_xywh(a: npt.NDArray[np.float64], fmt: RectFormat) -> npt.NDArray[np.float64]:
    """Convert an Nx4 float64 array from ``fmt`` to XYWH (see :class:`RectFormat`)."""
    c0, c1, c2, c3 = a[:, 0], a[:, 1], a[:, 2], a[:, 3]
    if fmt is RectFormat.XYWH:
        cols = (c0, c1, c2, c3)
    elif fmt is RectFormat.YXHW:
        cols = (c1, c0, c3, c2)
    elif fmt is RectFormat.XYXY:
        cols = (c0, c1, c2 - c0, c3 - c1)
    elif fmt is RectFormat.YXYX:
        cols = (c1, c0, c3 - c1, c2 - c0)
    elif fmt is RectFormat.XCYCWH:
        cols = (c0 - c2 / 2.0, c1 - c3 / 2.0, c2, c3)
    else:  # XCYCW2H2: centre and half sizes
        cols = (c0 - c2, c1 - c3, 2.0 * c2, 2.0 * c3)
    return np.stack(cols, axis=1) if len(a) else np.zeros((0, 4), np.float64)


_NEGATIVE_HINT = {
    RectFormat.XYWH: "w >= 0 and h >= 0",
    RectFormat.YXHW: "h >= 0 and w >= 0",
    RectFormat.XYXY: "x2 >= x1 and y2 >= y1",
    RectFormat.YXYX: "y2 >= y1 and x2 >= x1",
    RectFormat.XCYCWH: "w >= 0 and h >= 0",
    RectFormat.XCYCW2H2: "w/2 >= 0 and h/2 >= 0",
}


def _rects_cell(value: Any, arg: str, fmt_value: Any, *, single: bool) -> pa.Array:
    fmt: RectFormat = parse_enum(fmt_value, RectFormat, "rect_format")
    if single:
        if value is None:
            raise ArgumentError(arg, "None", f"one rectangle: 4 numbers in {fmt.name} format")
        raw = float64_array(value, arg)
        if raw.shape != (4,):
            raise ArgumentError(arg, describe_value(value), f"one rectangle: 4 numbers in {fmt.name} format")
        raw = raw.reshape(1, 4)
    else:
        raw = float_rows(value, arg, 4, exact=True)
    xywh = rects_to_xywh(raw, fmt)
    bad = np.flatnonzero((xywh[:, 2] < 0) | (xywh[:, 3] < 0))
    if bad.size:
        i = int(bad[0])
        raise ArgumentError(
            arg,
            f"{describe_value(value)} whose rectangle {i} has width {xywh[i, 2]:g} and height {xywh[i, 3]:g}",
            f"rectangles with a width and height >= 0 in {fmt.name} format ({_NEGATIVE_HINT[fmt]})",
        )
    out = xywh.astype(np.float32)
    if not np.isfinite(out).all():  # float64 input beyond the float32 range
        raise ArgumentError(arg, describe_value(value), "coordinates within the float32 range")
    return cv.fixed_list(out, 4, pa.float32())


def _draw_order(cells: dict[str, Any], draw_order: Any) -> None:
    if draw_order is not None:
        cells["draw_order"] = cv.finite_scalar(draw_order, "draw_order")


@log_function
def log_rects(
    entity_path: str,
    rects: Any,
    *,
    rect_format: RectFormat | str = RectFormat.XYWH,
    identifiers: Any = None,
    colors: Any = None,
    labels: Any = None,
    class_ids: Any = None,
    draw_order: float | None = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log 2D axis-aligned rectangles (e.g. the bounding boxes of detections in an image).

    Parameters
    ----------
    entity_path
        Path of the rectangles, e.g. ``"camera/image/detections"``.
    rects
        Nx4 array of numbers (any numeric dtype; stored as float32), in the space's units
        (pixels in an image space), read according to ``rect_format``. One rectangle of
        shape (4,) is taken as N=1. NaN is refused.
    rect_format
        A :class:`RectFormat` or its name (case-insensitive): ``XYWH`` (default: minimum
        corner, width, height), ``YXHW``, ``XYXY`` (min and max corners), ``YXYX``,
        ``XCYCWH`` (centre, width, height) or ``XCYCW2H2`` (centre, half width, half
        height). Every format is stored as XYWH from the minimum corner; the width and
        height must come out >= 0.
    identifiers
        Optional N unique non-negative integers (uint64) identifying the rectangles across time.
    colors
        One colour for all rectangles or N colours: RGB or RGBA, uint8 0-255 or float 0-1.
    labels
        One text label for all or N labels.
    class_ids
        One or N class ids (uint16), coloured and labelled by the annotation context.
    draw_order
        Higher values are drawn on top.
    timeless
        Log for all timelines (scenery) instead of at the current time.
    recording
        The recording to log to (default: the global one from :func:`init`).

    Examples
    --------
    >>> import numpy as np, rrformat as rr
    >>> rr.init("demo")  # doctest: +SKIP
    >>> boxes = np.array([[10, 20, 110, 220], [50, 50, 60, 90]])  # x1, y1, x2, y2 in pixels
    >>> rr.log_rects("camera/image/detections", boxes, rect_format=rr.RectFormat.XYXY,
    ...              labels=["person", "cup"], colors=[255, 0, 0])  # doctest: +SKIP
    """
    assert recording is not None
    entity = recording.entity(entity_path)
    cell = _rects_cell(rects, "rects", rect_format, single=False)
    n = len(cell)
    cells: dict[str, Any] = {"rects": cell}
    nbytes = instance_cells(
        cells, n, single=False, colors=colors, labels=labels, class_ids=class_ids, identifiers=identifiers
    )
    _draw_order(cells, draw_order)
    recording.log_row(entity, "rects2d", cells, timeless=timeless, nbytes=nbytes + 64)


@log_function
def log_rect(
    entity_path: str,
    rect: Any,
    *,
    rect_format: RectFormat | str = RectFormat.XYWH,
    color: Any = None,
    label: str | None = None,
    class_id: int | None = None,
    draw_order: float | None = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log one 2D axis-aligned rectangle.

    Parameters
    ----------
    entity_path
        Path of the rectangle, e.g. ``"camera/image/detection/#3"``.
    rect
        4 numbers (stored as float32) in the space's units (pixels in an image space),
        read according to ``rect_format``.
    rect_format
        A :class:`RectFormat` or its name (case-insensitive); default ``XYWH`` (minimum
        corner, width, height). See :func:`log_rects` for the formats.
    color
        RGB or RGBA, uint8 0-255 or float 0-1.
    label
        Text label.
    class_id
        Class id (uint16) looked up in the annotation context.
    draw_order
        Higher values are drawn on top.
    timeless
        Log for all timelines (scenery) instead of at the current time.
    recording
        The recording to log to (default: the global one from :func:`init`).

    Examples
    --------
    >>> rr.log_rect("camera/image/detection/#0", [100, 80, 40, 30], label="cup")  # doctest: +SKIP
    >>> rr.log_rect("camera/image/roi", [320, 240, 50, 50], rect_format="xcycw2h2")  # doctest: +SKIP
    """
    assert recording is not None
    entity = recording.entity(entity_path)
    cells: dict[str, Any] = {"rects": _rects_cell(rect, "rect", rect_format, single=True)}
    nbytes = instance_cells(cells, 1, single=True, colors=color, labels=label, class_ids=class_id)
    _draw_order(cells, draw_order)
    recording.log_row(entity, "rects2d", cells, timeless=timeless, nbytes=nbytes + 64)


# --- oriented boxes ---------------------------------------------------------------------------
def quaternions(value: Any, arg: str, n: int | None, *, single: bool) -> pa.Array:
    """Quaternions (x, y, z, w), normalised; a zero-length one is refused."""
    if single:
        q = float64_array(value, arg)
        if q.shape != (4,):
            raise ArgumentError(arg, describe_value(value), "one quaternion (x, y, z, w): 4 numbers")
        q = q.reshape(1, 4)
    else:
        q = float_rows(value, arg, 4, n=n, per="box", exact=True)
    norms = np.linalg.norm(q, axis=1)
    bad = np.flatnonzero(norms < 1e-12)
    if bad.size:
        raise ArgumentError(
            arg, f"{describe_value(value)} with a zero-length quaternion at row {int(bad[0])}", "non-zero quaternions"
        )
    return cv.fixed_list((q / norms[:, None]).astype(np.float32), 4, pa.float32())


def _half_sizes(value: Any, arg: str, *, single: bool) -> npt.NDArray[np.float32]:
    hs = one_vector(value, arg, 3, "one box's half size") if single else float_rows(value, arg, 3)
    if hs.size and float(hs.min()) < 0:
        raise ArgumentError(arg, f"{describe_value(value)} with minimum {float(hs.min()):g}", "half sizes >= 0")
    return hs


def _boxes_row(
    recording: RecordingStream,
    entity_path: str,
    *,
    single: bool,
    half_sizes: Any,
    positions: Any,
    rotations: Any,
    colors: Any,
    stroke_widths: Any,
    labels: Any,
    class_ids: Any,
    timeless: bool,
) -> None:
    names = ("half_size", "position", "rotation_q") if single else ("half_sizes", "positions", "rotations_q")
    entity = recording._paths.get(entity_path) if type(entity_path) is str else None
    if entity is None:
        entity = recording.entity(entity_path)
    # Half sizes and centres are queued as (n, 3) float32 arrays (owned: copied here), or for
    # one box of plain numbers as tuples, one instance each (see rrformat._batcher): the
    # batcher makes one Arrow array of the rows of many calls.
    hs: Any = cv.plain_vector(half_sizes, 3, minimum=0.0) if single else None
    if hs is None:
        hs = _half_sizes(half_sizes, names[0], single=single)
        n = len(hs)
    else:
        n = 1
    cells: dict[str, Any] = {"half_sizes": hs}
    nbytes = 12 * n
    if positions is not None:
        pos: Any = cv.plain_vector(positions, 3) if single else None
        if pos is None:
            if single:
                pos = one_vector(positions, names[1], 3, "one box centre")
            else:
                pos = float_rows(positions, names[1], 3, n=n, per="box")
        cells["centers"] = pos
        nbytes += 12 * n
    if rotations is not None:
        cells["rotations"] = quaternions(rotations, names[2], n, single=single)
    if any(v is not None for v in (rotations, colors, labels, class_ids, stroke_widths)):
        nbytes += instance_cells(
            cells, n, single=single, colors=colors, labels=labels, class_ids=class_ids, stroke_widths=stroke_widths
        )
    recording.log_row(entity, "boxes3d", cells, timeless=timeless, nbytes=nbytes + 64)


@log_function
def log_obbs(
    entity_path: str,
    *,
    half_sizes: Any,
    positions: Any = None,
    rotations_q: Any = None,
    colors: Any = None,
    stroke_widths: Any = None,
    labels: Any = None,
    class_ids: Any = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log 3D oriented bounding boxes.

    Parameters
    ----------
    entity_path
        Path of the boxes, e.g. ``"world/obstacles"``.
    half_sizes
        Nx3 half extents (>= 0) along each box's local x, y, z axes, in the space's units
        (stored as float32). One box of shape (3,) is taken as N=1.
    positions
        Optional Nx3 box centres (default: the origin), one per box.
    rotations_q
        Optional Nx4 rotation quaternions ``(x, y, z, w)``, one per box, rotating each box
        from its local axes into the entity's space. They are normalised; a zero-length
        quaternion is refused. Default: no rotation.
    colors
        One colour for all boxes or N colours: RGB or RGBA, uint8 0-255 or float 0-1.
    stroke_widths
        One or N line widths (>= 0), in the space's units.
    labels
        One text label for all or N labels.
    class_ids
        One or N class ids (uint16) looked up in the annotation context.
    timeless
        Log for all timelines (scenery) instead of at the current time.
    recording
        The recording to log to (default: the global one from :func:`init`).

    Examples
    --------
    >>> rr.log_obbs(
    ...     "world/obstacles",
    ...     half_sizes=[[0.5, 0.5, 1.0], [0.2, 0.3, 0.4]],
    ...     positions=[[1.0, 0.0, 1.0], [3.0, 2.0, 0.4]],
    ...     rotations_q=[[0, 0, 0, 1], [0, 0, 0.3826834, 0.9238795]],  # 45 degrees about z
    ...     labels=["pillar", "box"],
    ... )  # doctest: +SKIP
    """
    assert recording is not None
    _boxes_row(
        recording, entity_path, single=False, half_sizes=half_sizes, positions=positions, rotations=rotations_q,
        colors=colors, stroke_widths=stroke_widths, labels=labels, class_ids=class_ids, timeless=timeless,
    )


def log_obb(
    entity_path: str,
    *,
    half_size: Any,
    position: Any = None,
    rotation_q: Any = None,
    color: Any = None,
    stroke_width: float | None = None,
    label: str | None = None,
    class_id: int | None = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log one 3D oriented bounding box.

    Parameters
    ----------
    entity_path
        Path of the box, e.g. ``"world/robot/bbox"``.
    half_size
        ``[hx, hy, hz]``: half extents (>= 0) along the box's local axes, in the space's units.
    position
        ``[x, y, z]``: the box centre (default: the origin).
    rotation_q
        ``[x, y, z, w]``: rotation quaternion from the box's local axes to the entity's
        space; normalised, must not be zero. Default: no rotation.
    color
        RGB or RGBA, uint8 0-255 or float 0-1.
    stroke_width
        Line width (>= 0), in the space's units.
    label
        Text label.
    class_id
        Class id (uint16) looked up in the annotation context.
    timeless
        Log for all timelines (scenery) instead of at the current time.
    recording
        The recording to log to (default: the global one from :func:`init`).

    Examples
    --------
    >>> rr.log_obb("world/robot/bbox", half_size=[0.3, 0.2, 0.1], position=[0, 0, 0.1],
    ...            rotation_q=[0, 0, 0, 1], color=[0, 255, 0], label="robot")  # doctest: +SKIP
    """
    # The common call of a tracker (a known path, a size and a centre) is taken here, before
    # the decorator and the general path's conversions: at 10,000 boxes a frame their cost
    # is the logging thread's. Anything else, and any problem, goes to the general path.
    stream = recording if recording is not None else _recording._global
    if (
        stream is not None
        and rotation_q is None
        and color is None
        and stroke_width is None
        and label is None
        and class_id is None
        and type(entity_path) is str
        and stream.enabled
        and not stream._closed
    ):
        hs = cv.vector3_cell(half_size, 0.0)
        pos = None if position is None else cv.vector3_cell(position)
        if hs is not None and (pos is not None or position is None):
            # A tuple or bytes cell is one instance (see rrformat._batcher): no array per call.
            cells: dict[str, Any] = {"half_sizes": hs} if pos is None else {"half_sizes": hs, "centers": pos}
            try:
                entity = stream._paths.get(entity_path) or stream.entity(entity_path)
                stream.log_row(entity, "boxes3d", cells, timeless=timeless, nbytes=76 if pos is None else 88)
                return
            except Exception:  # nothing was queued: the general path reports it
                pass
    _log_obb(
        entity_path, half_size=half_size, position=position, rotation_q=rotation_q, color=color,
        stroke_width=stroke_width, label=label, class_id=class_id, timeless=timeless, recording=recording,
    )


def _log_obb_general(
    entity_path: str,
    *,
    half_size: Any,
    position: Any,
    rotation_q: Any,
    color: Any,
    stroke_width: float | None,
    label: str | None,
    class_id: int | None,
    timeless: bool,
    recording: RecordingStream | None,
) -> None:
    assert recording is not None
    _boxes_row(
        recording, entity_path, single=True, half_sizes=half_size, positions=position, rotations=rotation_q,
        colors=color, stroke_widths=stroke_width, labels=label, class_ids=class_id, timeless=timeless,
    )


# Warnings name the function the user called.
_log_obb_general.__name__ = _log_obb_general.__qualname__ = "log_obb"
_log_obb = log_function(_log_obb_general)
