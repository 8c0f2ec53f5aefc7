"""Columnar logging (log_columns: many rows of one entity in one call) and user extension components.

``log_columns`` converts whole columns with numpy and builds the chunk directly, with no
per-row Python work: a million scalars take one call. The file writer cuts the chunk
into records of bounded size, so a time-range query still skips what it does not need.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from . import _convert as cv
from ._batcher import LOG_TIME
from ._errors import ArgumentError, describe_value, log_function
from ._log_context import annotation_cell
from ._log_images import as_array, image_array, owned, tensor_array
from ._log_text import log_level
from ._log_transforms import view_coordinates
from ._recording import RecordingStream
from .chunk import ROW_ID, Chunk, TimelineKind
from .components import COMPONENTS, DATA_KINDS, ComponentType

__all__ = ["log_columns", "log_extension_components", "instances"]

_INT64_MAX = np.iinfo(np.int64).max

# The type each extension component first had, per recording and entity: a component keeps
# one Arrow type, so that its rows can be concatenated into one column.
_ext_types: weakref.WeakKeyDictionary[RecordingStream, dict[tuple[str, str], pa.DataType]] = weakref.WeakKeyDictionary()
_ext_lock = threading.Lock()


# --- extension components ----------------------------------------------------------------
def instances(value: Any, arg: str) -> pa.Array:
    """Any array-like as an Arrow array of instances, one per element of its first axis.

    Numbers, bools, strings and bytes become the matching Arrow types; an array of shape
    ``(N, k, ...)`` becomes N fixed-size lists; a single value is one instance; a ragged
    list goes through Arrow's type inference. Numeric data is copied once if it may be
    the caller's memory.
    """
    if isinstance(value, pa.ChunkedArray):
        return value.combine_chunks()
    if isinstance(value, pa.Array):
        return value
    if value is None:
        raise ArgumentError(arg, "None", "values: a number, string, array or list")
    if isinstance(value, (str, bytes)) or np.isscalar(value):
        value = [value]
    try:
        src: npt.NDArray[Any] | None = np.asarray(value)
    except (ValueError, TypeError):
        src = None  # ragged nested lists: Arrow can still type them
    if src is None or src.dtype == object:
        try:
            return pa.array(value if isinstance(value, list) else list(value))
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise ArgumentError(arg, describe_value(value), f"values Arrow can store ({exc})") from None
    arr = src.reshape(1) if src.ndim == 0 else src
    if arr.dtype.kind == "c":
        raise ArgumentError(arg, describe_value(value), "real numbers (store real and imaginary parts separately)")
    if arr.dtype.kind in "biufmM":
        arr = owned(arr, src, value)
    try:
        out = pa.array(arr.reshape(-1))
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise ArgumentError(arg, describe_value(value), f"values Arrow can store ({exc})") from None
    for width in reversed(arr.shape[1:]):
        out = pa.FixedSizeListArray.from_arrays(out, width)
    return out


def _reserved(recording: RecordingStream) -> set[str]:
    """Column names an extension component must not take: the row id and the timelines."""
    return {ROW_ID, LOG_TIME, *recording._timeline_kinds}


def _check_extension_name(name: Any, arg: str, reserved: set[str]) -> None:
    if not isinstance(name, str) or not name:
        raise ArgumentError(arg, f"the name {describe_value(name)}", "a non-empty string as component name")
    if name in COMPONENTS:
        raise ArgumentError(
            arg, f"the name {name!r}, a built-in component", "a name that is not a built-in component (prefix it)"
        )
    if name in reserved:
        raise ArgumentError(arg, f"the name {name!r}, a timeline or the row id", "a name that is not a timeline's")


def _keep_types(recording: RecordingStream, entity: str, arrays: dict[str, pa.Array]) -> dict[str, pa.Array]:
    """Cast to the type each component had before on this entity, or raise; then remember it."""
    with _ext_lock:
        known = _ext_types.setdefault(recording, {})
        out: dict[str, pa.Array] = {}
        for name, arr in arrays.items():
            want = known.get((entity, name))
            if want is not None and arr.type != want:
                try:
                    arr = arr.cast(want)
                except (pa.ArrowException, TypeError, ValueError):
                    raise ArgumentError(
                        f'components["{name}"]',
                        f"values of type {arr.type}",
                        f"values of type {want}, as logged before on {entity!r} (a component keeps its type)",
                    ) from None
            out[name] = arr
        for name, arr in out.items():
            known.setdefault((entity, name), arr.type)
    return out


@log_function
def log_extension_components(
    entity_path: str,
    components: Mapping[str, Any],
    *,
    identifiers: Any = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log your own components (any values Arrow can hold) as one row of an entity.

    Parameters
    ----------
    entity_path
        Path of the entity, e.g. ``"world/detections"``. The path holds data kind
        ``extension``; transforms and annotation contexts may share it.
    components
        Component name to values. Each value is a list of N instances: a numpy array
        (any numeric, bool, string, bytes or datetime dtype; shape ``(N,)`` gives N
        values, ``(N, k, ...)`` N fixed-size lists), a list, a pyarrow array, or one
        value. All must have the same length N, or length 1 (repeated N times). Names
        must not be built-in component names (``colors``, ``scalar``...), ``row_id``
        or a timeline's name. A component keeps its Arrow type on a path: later values
        are cast to it, or refused.
    identifiers
        Optional N non-negative integers identifying the instances (``instance_ids``).
    timeless
        Log for all timelines instead of at the current time.
    recording
        The recording to log to (default: the global one).

    Notes
    -----
    Stored as data kind ``extension``: one ``list<T>`` column per component (one list
    of N instances per row). The values are copied at the call.

    Examples
    --------
    >>> rr.log_extension_components(  # doctest: +SKIP
    ...     "world/detections",
    ...     {"confidence": np.array([0.9, 0.4]), "detector": "yolo", "track_state": ["new", "lost"]},
    ...     identifiers=[17, 42],
    ... )
    """
    assert recording is not None
    entity = recording.entity(entity_path)
    recording.check_kind(entity, "extension")
    if not isinstance(components, Mapping) or not components:
        raise ArgumentError("components", describe_value(components), "a non-empty dict of component name to values")
    reserved = _reserved(recording)
    arrays: dict[str, pa.Array] = {}
    for name, value in components.items():
        _check_extension_name(name, "components", reserved)
        arrays[name] = instances(value, f'components["{name}"]')
    n = max(len(a) for a in arrays.values())
    for name, a in arrays.items():
        if len(a) not in (1, n):
            raise ArgumentError(
                f'components["{name}"]', f"{len(a)} values", f"one value or {n} (the longest component's length)"
            )
        if len(a) != n:
            arrays[name] = a.take(pa.array(np.zeros(n, dtype=np.int64)))
    cells: dict[str, Any] = dict(_keep_types(recording, entity, arrays))
    if identifiers is not None:
        cells["instance_ids"] = cv.per_instance_uint(identifiers, "identifiers", n, pa.uint64())
    nbytes = sum(a.nbytes for a in cells.values()) + 64
    recording.log_row(entity, "extension", cells, timeless=timeless, nbytes=nbytes)


# --- log_columns: component columns -------------------------------------------------------
def _one_per_row(inst: pa.Array) -> pa.Array:
    """A list column holding each instance as its own row."""
    offsets = pa.array(np.arange(len(inst) + 1, dtype=np.int32), type=pa.int32())
    return pa.ListArray.from_arrays(offsets, inst)


def _rows(value: Any) -> int | None:
    """The number of rows of a column value, or None for a single value."""
    if isinstance(value, (pa.Array, pa.ChunkedArray)):
        return len(value)
    if isinstance(value, (str, bytes)) or np.isscalar(value) or value is None:
        return None
    shape = getattr(value, "shape", None)
    if shape is not None:
        return int(shape[0]) if len(shape) else None
    try:
        return len(value)
    except TypeError:
        return None


def _numbers(name: str, value: Any, n: int, dtype: type[np.generic], tail: tuple[int, ...]) -> npt.NDArray[Any]:
    """A numeric column of shape ``(n, *tail)``; a single value (tail empty) is repeated."""
    src = as_array(value, name)
    want = f"({n}, {', '.join(map(str, tail))})" if tail else f"({n},)"
    if src.ndim == 0 and not tail:
        arr = np.broadcast_to(src, (n,))
    elif src.shape[:1] == (n,) and int(np.prod(src.shape[1:], dtype=np.int64)) == int(np.prod(tail, dtype=np.int64)):
        arr = src.reshape((n, *tail))
    else:
        raise ArgumentError(name, describe_value(value), f"an array of shape {want}: one value per row")
    kind = arr.dtype.kind
    if np.issubdtype(dtype, np.floating):
        if kind not in "biuf":
            raise ArgumentError(name, describe_value(value), "numbers")
        arr = arr.astype(dtype, copy=False)
        if name != "scalar" and arr.size and not np.isfinite(arr).all():
            bad = int(np.count_nonzero(~np.isfinite(arr)))
            raise ArgumentError(name, f"{describe_value(value)} with {bad} NaN or infinite value(s)", "finite numbers")
    elif dtype is np.bool_:
        if kind != "b":
            raise ArgumentError(name, describe_value(value), "booleans")
    else:
        info = np.iinfo(np.dtype(dtype))
        if kind not in "iu":
            raise ArgumentError(name, describe_value(value), f"integers in {info.min}..{info.max}")
        if arr.size and (int(arr.min()) < info.min or int(arr.max()) > info.max):
            got = f"{describe_value(value)} with values {int(arr.min())}..{int(arr.max())}"
            raise ArgumentError(name, got, f"integers in {info.min}..{info.max}")
        arr = arr.astype(dtype, copy=False)
    return owned(arr, src, value)


def _canonical_strings(arr: pa.Array, fix: Callable[[Any, str], str], name: str) -> pa.Array:
    """Validate (and canonicalise) each distinct value of a string column with ``fix``."""
    uniq = pc.unique(arr)
    canon = [None if v is None else fix(v, name) for v in uniq.to_pylist()]
    if canon == uniq.to_pylist():
        return arr
    return pa.array(canon, pa.utf8()).take(pc.index_in(arr, value_set=uniq))


def _one_of(allowed: tuple[str, ...]) -> Callable[[Any, str], str]:
    def fix(value: Any, arg: str) -> str:
        text = str(value).strip().lower()
        if text == "jpg":
            text = "jpeg"
        if text not in allowed:
            raise ArgumentError(arg, repr(value), f"one of {', '.join(allowed)}")
        return text

    return fix


_STRING_CHECKS: dict[str, Callable[[Any, str], str]] = {
    "level": log_level,
    "view_coordinates": view_coordinates,
    "image_format": _one_of(("jpeg", "png")),
    "mesh_format": _one_of(("glb", "gltf", "obj")),
}


def _strings(name: str, value: Any, n: int) -> pa.Array:
    if isinstance(value, str):
        arr = pa.repeat(pa.scalar(value, pa.utf8()), n)
    else:
        if _rows(value) != n:
            raise ArgumentError(name, describe_value(value), f"{n} strings (one per row) or one string")
        try:
            arr = pa.array(value if isinstance(value, (list, np.ndarray)) else list(value), type=pa.utf8())
        except (pa.ArrowException, TypeError, ValueError):
            raise ArgumentError(name, describe_value(value), f"{n} strings (one per row)") from None
    check = _STRING_CHECKS.get(name)
    return _canonical_strings(arr, check, name) if check is not None else arr


def _unit_quaternions(name: str, q: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    norms = np.linalg.norm(q.astype(np.float64), axis=1)
    zero = np.flatnonzero(norms < 1e-12)
    if zero.size:
        raise ArgumentError(
            name, f"a zero quaternion at row {int(zero[0])}", "non-zero rotation quaternions (x, y, z, w)"
        )
    out: npt.NDArray[np.float32] = (q / norms[:, None]).astype(np.float32)
    return out


# Sizes cannot be negative and a depth unit must be positive: (bound, strictly greater).
_LOWER_BOUNDS: dict[str, tuple[float, bool]] = {
    "meter": (0.0, True),
    "radii": (0.0, False),
    "radius": (0.0, False),
    "stroke_widths": (0.0, False),
    "width_scales": (0.0, False),
}


def _instance_values(ctype: ComponentType, kind: str, value: Any, n: int) -> pa.Array:
    """N values of a component's instance (batched) or column (mono) type."""
    name = ctype.name
    t = ctype.instance_type if ctype.batched else ctype.column_type
    if name in ("color", "colors"):
        # np.array copies: cv.colors may wrap its input's memory.
        return cv.colors(np.array(as_array(value, name)), name, n)
    if name == "tensor":
        data, names = image_array(kind, value, name, lead=1)
        if data.shape[0] != n:
            raise ArgumentError(name, describe_value(value), f"{n} stacked arrays (one per row) on axis 0")
        return tensor_array(data, names, rows=n)
    if name == "class_descriptions":
        if _rows(value) != n:
            raise ArgumentError(name, describe_value(value), f"{n} annotation contexts (one per row)")
        return pa.concat_arrays([annotation_cell(v, name) for v in value])
    if t == pa.utf8():
        return _strings(name, value, n)
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
        arr = _numbers(name, value, n, t.to_pandas_dtype(), ())
        low = _LOWER_BOUNDS.get(name)
        if low is not None and arr.size and not bool((arr > low[0] if low[1] else arr >= low[0]).all()):
            bound = f"> {low[0]}" if low[1] else f">= {low[0]}"
            raise ArgumentError(name, f"{describe_value(value)} with minimum {arr.min()}", f"values {bound}")
        return pa.array(arr, type=t)
    if pa.types.is_fixed_size_list(t) and pa.types.is_floating(t.value_type):
        arr = _numbers(name, value, n, np.float32, (t.list_size,))
        if name in ("rotation", "rotations"):
            arr = _unit_quaternions(name, arr)
        return pa.FixedSizeListArray.from_arrays(pa.array(arr.reshape(-1), type=t.value_type), t.list_size)
    # Nested types (strips, mesh buffers, encoded bytes): a list of N values Arrow can convert.
    if _rows(value) != n:
        raise ArgumentError(name, describe_value(value), f"{n} values (one per row) of type {t}")
    try:
        return pa.array(value if isinstance(value, list) else list(value), type=t)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise ArgumentError(name, describe_value(value), f"{n} values of type {t} ({exc})") from None


def _column(ctype: ComponentType, kind: str, value: Any, n: int) -> pa.Array:
    """The chunk column of a catalogued component from a user value of ``n`` rows."""
    name = ctype.name
    if isinstance(value, (pa.Array, pa.ChunkedArray)):
        arr = value.combine_chunks() if isinstance(value, pa.ChunkedArray) else value
        if len(arr) != n:
            raise ArgumentError(name, f"a pyarrow array of length {len(arr)}", f"{n} rows")
        if arr.type == ctype.column_type:
            return arr  # several instances per row are given this way
        if ctype.batched and (pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type)):
            try:
                return arr.cast(ctype.column_type)
            except (pa.ArrowException, TypeError, ValueError):
                pass  # perhaps a list is the instance type (line strips): try that next
        target = ctype.instance_type if ctype.batched else ctype.column_type
        try:
            arr = arr.cast(target)
        except (pa.ArrowException, TypeError, ValueError):
            raise ArgumentError(
                name, f"a pyarrow array of type {arr.type}", f"type {ctype.column_type} or {target}"
            ) from None
        return _one_per_row(arr) if ctype.batched else arr
    inst = _instance_values(ctype, kind, value, n)
    return _one_per_row(inst) if ctype.batched else inst


# --- log_columns: timelines ------------------------------------------------------------------
def _timeline_values(name: str, value: Any, hint: TimelineKind | None, n: int) -> tuple[TimelineKind, npt.NDArray[Any]]:
    arg = f'times["{name}"]'
    src = as_array(value, arg)
    if src.shape != (n,):
        raise ArgumentError(arg, describe_value(value), f"an array of {n} times (one per row)")
    k = src.dtype.kind
    if k in "mM":
        if hint is TimelineKind.SEQUENCE:
            raise ArgumentError(arg, describe_value(value), "integers for a sequence timeline")
        unit = "datetime64[ns]" if k == "M" else "timedelta64[ns]"
        ns = src.astype(unit)
        if np.isnat(ns).any():
            raise ArgumentError(arg, f"{describe_value(value)} with NaT values", "valid times")
        return TimelineKind.TIME, owned(ns.view(np.int64), src, value)
    if k == "f":
        if hint is TimelineKind.SEQUENCE:
            raise ArgumentError(arg, describe_value(value), "integers for a sequence timeline")
        secs = src.astype(np.float64)
        if not np.isfinite(secs).all() or (secs.size and float(np.abs(secs).max()) * 1e9 >= _INT64_MAX):
            raise ArgumentError(arg, f"{describe_value(value)} with NaN, infinite or huge values", "finite seconds")
        return TimelineKind.TIME, np.round(secs * 1e9).astype(np.int64)
    if k in "iu":
        if k == "u" and src.size and int(src.max()) > _INT64_MAX:
            raise ArgumentError(arg, f"{describe_value(value)} with values above 2**63-1", "int64 values")
        kind = hint or TimelineKind.SEQUENCE
        return kind, owned(src.astype(np.int64, copy=False), src, value)
    raise ArgumentError(
        arg, describe_value(value), "integers (a sequence, or nanoseconds), float seconds, or datetime64 values"
    )


def _timelines(
    recording: RecordingStream, times: Any, timeline_kinds: Any, n: int, components: Mapping[str, Any]
) -> dict[str, tuple[TimelineKind, npt.NDArray[Any]]]:
    if times is None:
        times = {}
    if not isinstance(times, Mapping):
        raise ArgumentError("times", describe_value(times), "a dict of timeline name to an array of times")
    if timeline_kinds is None:
        timeline_kinds = {}
    if not isinstance(timeline_kinds, Mapping) or not set(timeline_kinds) <= set(times):
        raise ArgumentError(
            "timeline_kinds", describe_value(timeline_kinds), "a dict from names of `times` to 'sequence' or 'time'"
        )
    out: dict[str, tuple[TimelineKind, npt.NDArray[Any]]] = {}
    for name, value in times.items():
        if not isinstance(name, str) or not name:
            raise ArgumentError("times", f"the timeline name {describe_value(name)}", "non-empty strings")
        if name in (LOG_TIME, ROW_ID) or name in COMPONENTS or name in components:
            raise ArgumentError(
                "times",
                f"the timeline name {name!r}",
                f"a name other than {LOG_TIME!r} (set automatically), {ROW_ID!r} and component names",
            )
        hint: TimelineKind | None = None
        if name in timeline_kinds:
            try:
                hint = TimelineKind(timeline_kinds[name])
            except ValueError:
                raise ArgumentError(
                    "timeline_kinds", f"{timeline_kinds[name]!r} for {name!r}", "'sequence' or 'time'"
                ) from None
        kind, values = _timeline_values(name, value, hint, n)
        known = recording._timeline_kinds.get(name)
        if known is not None and known is not kind:
            raise ArgumentError(
                f'times["{name}"]',
                f"{kind.value} values",
                f"{known.value} values ({name!r} is a {known.value} timeline)",
            )
        out[name] = (kind, values)
    return out


@log_function
def log_columns(
    entity_path: str,
    kind: str,
    *,
    times: Mapping[str, Any] | None = None,
    timeline_kinds: Mapping[str, str | TimelineKind] | None = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
    **components: Any,
) -> None:
    """Log N rows of one entity at once, as columns (fast: no per-row Python work).

    Parameters
    ----------
    entity_path
        Path of the entity, e.g. ``"robot/battery/voltage"``.
    kind
        The data kind of the rows: ``"scalar"``, ``"points3d"``, ``"image"``,
        ``"rigid3"``, ``"text_entry"``, ``"extension"``... (see ``rrformat.components``).
    times
        Timeline name to an array of N times (row i is at ``times[name][i]``). The kind
        of timeline is taken from the dtype: integers make a *sequence* (frame
        numbers); float seconds and ``datetime64``/``timedelta64`` make a *time*
        (stored in nanoseconds). ``log_time`` is set to the call's wall-clock time for
        every row. The calling thread's ``set_time_*`` values are not used.
    timeline_kinds
        Optional timeline name to ``"sequence"`` or ``"time"``, to override the guess:
        ``{"t": "time"}`` makes integer values nanoseconds.
    timeless
        Log the rows for all timelines (no ``times`` then).
    recording
        The recording to log to (default: the global one).
    **components
        The component columns, each with N rows (N is the length of the first required
        component, or of the first component for ``"extension"``); the required
        components of the kind must be given, and only components of the kind.

        *Mono* components (one value per row: ``scalar``, ``text``, ``translation``,
        ``tensor``...) take an array of N values: shape ``(N,)`` for numbers, strings and
        bools, ``(N, k)`` for fixed-size values (``translation`` ``(N, 3)``,
        ``rotation`` ``(N, 4)`` quaternions, normalised; ``image_from_camera``
        ``(N, 3, 3)``), a stack ``(N, H, W[, C])`` for ``tensor``. A single number or
        string is repeated on every row; ``color`` takes one colour or N.

        *Batched* components (a list of instances per row: ``positions3d``,
        ``colors``, ``radii``...) take an array of N rows where each row is **one**
        instance: ``positions3d`` of shape ``(N, 3)`` logs N rows of one point each.
        For several instances per row, pass a pyarrow array of the column type (e.g.
        ``pa.list_(...)``), which is used as it is.

        For ``"extension"``, names other than the built-in components (plus
        ``instance_ids``), each an array of N rows, one instance per row.

    Notes
    -----
    Numeric columns are copied once (the caller may reuse its arrays) and wrapped
    as Arrow arrays; row ids are reserved in one block, so the rows stay after
    everything logged before the call. The chunk goes to the file writer as it is, and
    the writer cuts it into records of bounded size.

    Examples
    --------
    >>> t = np.arange(1_000_000)
    >>> rr.log_columns("sensor/imu/ax", "scalar", times={"tick": t}, scalar=np.sin(t / 1000))  # doctest: +SKIP
    >>> stamps = np.datetime64("2026-01-01") + np.arange(3) * np.timedelta64(10, "ms")
    >>> rr.log_columns(  # doctest: +SKIP
    ...     "world/robot", "rigid3", times={"stamp": stamps},
    ...     translation=np.zeros((3, 3)), rotation=np.tile([0.0, 0.0, 0.0, 1.0], (3, 1)),
    ... )
    """
    assert recording is not None
    entity = recording.entity(entity_path)
    if not isinstance(kind, str) or kind not in DATA_KINDS:
        raise ArgumentError("kind", describe_value(kind), f"a data kind: {', '.join(sorted(DATA_KINDS))}")
    recording.check_kind(entity, kind)
    dk = DATA_KINDS[kind]
    if not components:
        raise ArgumentError("components", "no component columns", f"keyword arguments such as {dk.required or ('x',)}")
    extension = kind == "extension"
    if extension:
        reserved = _reserved(recording) | set(times or {})
        for name in components:
            if name != "instance_ids":
                _check_extension_name(name, name, reserved)
    else:
        for name in components:
            if name not in dk.components:
                raise ArgumentError(
                    name, "a component not of this kind", f"components of {kind}: {', '.join(dk.components)}"
                )
        missing = [c for c in dk.required if c not in components]
        if missing:
            raise ArgumentError(missing[0], "nothing", f"a column (the kind {kind} requires {', '.join(dk.required)})")
    first = (dk.required or tuple(components))[0]
    n = _rows(components[first])
    if n is None:
        raise ArgumentError(first, describe_value(components[first]), "an array with one value per row")
    if n == 0:
        return
    if timeless and times:
        raise ArgumentError("times", describe_value(times), "None when timeless=True")
    timelines = {} if timeless else _timelines(recording, times, timeline_kinds, n, components)
    columns: dict[str, pa.Array] = {}
    ext: dict[str, pa.Array] = {}
    for name, value in components.items():
        ctype = COMPONENTS.get(name)
        if ctype is not None:
            columns[name] = _column(ctype, kind, value, n)
            continue
        inst = instances(value, name)
        if len(inst) != n:
            raise ArgumentError(name, describe_value(value), f"{n} values (one instance per row)")
        ext[name] = inst
    if ext:
        columns.update((k, _one_per_row(v)) for k, v in _keep_types(recording, entity, ext).items())
    tl: dict[str, tuple[TimelineKind | str, Any]] = {k: (tk, v) for k, (tk, v) in timelines.items()}
    if not timeless:
        tl[LOG_TIME] = (TimelineKind.TIME, np.full(n, time.time_ns(), dtype=np.int64))
    for name, (tk, _) in timelines.items():
        recording._timeline_kinds.setdefault(name, tk)
    start = recording.reserve_row_ids(n)
    row_ids = np.arange(start, start + n, dtype=np.uint64)
    chunk = Chunk.build(entity, kind, row_ids=row_ids, timelines=tl, components=columns)
    recording.log_chunk(chunk)
