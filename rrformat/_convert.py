"""Conversions from user input (numpy, lists, scalars) to the format's Arrow arrays.

Each function validates one argument and raises :class:`ArgumentError` naming it, with
what it received and what was expected. Arrays are wrapped without a copy when their
dtype already matches.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ._errors import ArgumentError, describe_value

__all__ = [
    "as_float_array",
    "vectors",
    "fixed_list",
    "colors",
    "color",
    "per_instance_float",
    "per_instance_uint",
    "labels",
    "broadcast_count",
    "finite_scalar",
    "plain_vector",
    "plain_vector3",
    "vector3_cell",
]

_F32_MAX = float(np.finfo(np.float32).max)
_EXACT_INT = 1 << 24  # ints of at most this size are exact in float32, however numpy converts them


def as_float_array(value: Any, arg: str, *, allow_nan: bool = False) -> npt.NDArray[np.float32]:
    """Any numeric array-like as float32; NaN refused unless allowed."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise ArgumentError(arg, describe_value(value), f"a numeric array ({exc})") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise ArgumentError(arg, describe_value(value), "numbers (a numeric numpy array or nested lists of numbers)")
    # Always a copy: the caller may reuse its buffer before the batcher has written the row.
    out = arr.astype(np.float32, copy=True)
    if not allow_nan and out.size and not np.isfinite(out).all():
        bad = int(np.count_nonzero(~np.isfinite(out)))
        raise ArgumentError(arg, f"{describe_value(value)} with {bad} NaN or infinite value(s)", "finite numbers")
    return out


def plain_vector(value: Any, width: int, *, minimum: float | None = None) -> tuple[float, ...] | None:
    """One short vector (a box's size, a centre) as a tuple of Python numbers, if plainly valid; else None.

    The fast path of :func:`as_float_array` for the many small calls of a tracker: a
    numpy array of shape ``(width,)`` and a float dtype, or a list or tuple of ``width``
    Python floats (or small ints), all within the float32 range (and ``>= minimum``),
    so that their float32 values are finite. For anything else it returns None and the
    caller takes its general path, which then gives the same float32 values or names
    the problem. The tuple is a copy: the caller may reuse its array.
    """
    t = type(value)
    if t is np.ndarray:
        if value.shape != (width,) or value.dtype.kind != "f":
            return None
        out = tuple(value.tolist())
    elif t is tuple or t is list:
        if len(value) != width:
            return None
        for x in value:
            tx = type(x)
            if tx is not float and not (tx is int and -_EXACT_INT <= x <= _EXACT_INT):
                return None
        out = tuple(value)
    else:
        return None
    low = -_F32_MAX if minimum is None else minimum
    for x in out:
        if not low <= x <= _F32_MAX:  # also false for NaN
            return None
    return out


def plain_vector3(value: Any, minimum: float | None = None) -> tuple[float, float, float] | None:
    """``plain_vector(value, 3, minimum=minimum)``, unrolled for three numbers.

    A tracker calls it twice per box, a hundred thousand times a second: the loops of
    :func:`plain_vector` cost more than the checks themselves. Same result for every
    input (a copy as a tuple, or None for the general path).
    """
    t = type(value)
    if t is np.ndarray:
        if value.shape != (3,) or value.dtype.kind != "f":
            return None
        x, y, z = value.tolist()
    elif t is tuple or t is list:
        if len(value) != 3:
            return None
        x, y, z = value
        tx, ty, tz = type(x), type(y), type(z)
        if not (
            (tx is float or (tx is int and -_EXACT_INT <= x <= _EXACT_INT))
            and (ty is float or (ty is int and -_EXACT_INT <= y <= _EXACT_INT))
            and (tz is float or (tz is int and -_EXACT_INT <= z <= _EXACT_INT))
        ):
            return None
    else:
        return None
    low = -_F32_MAX if minimum is None else minimum
    # Chained comparisons are false for NaN too.
    if low <= x <= _F32_MAX and low <= y <= _F32_MAX and low <= z <= _F32_MAX:
        return (x, y, z)
    return None


_F32 = np.dtype(np.float32)
_NDARRAY = np.ndarray


def vector3_cell(value: Any, minimum: float | None = None) -> tuple[float, float, float] | bytes | None:
    """:func:`plain_vector3` as a batcher cell: for a native float32 array, its 12 bytes.

    The same values pass, but a float32 row (a tracker's numpy output) is queued as one
    bytes object rather than a tuple of three Python floats: less to keep per row, and
    the rows of many calls join into one array without a conversion (see
    ``rrformat._batcher._to_arrow``).
    """
    if type(value) is _NDARRAY and value.dtype is _F32:  # native byte order: numpy's own float32 dtype
        low = -_F32_MAX if minimum is None else minimum
        try:
            # Any other shape than (3,) fails here: too many or too few values to unpack,
            # or rows (lists) that do not compare with numbers.
            x, y, z = value.tolist()
            if low <= x <= _F32_MAX and low <= y <= _F32_MAX and low <= z <= _F32_MAX:
                return value.tobytes()
        except (ValueError, TypeError):
            pass
        return None
    return plain_vector3(value, minimum)


def fixed_list(values: npt.NDArray[Any], width: int, value_type: pa.DataType) -> pa.Array:
    """Wrap an (N, width) array as a fixed_size_list array without copying."""
    flat = np.ascontiguousarray(values).reshape(-1)
    return pa.FixedSizeListArray.from_arrays(pa.array(flat, type=value_type), width)


def vectors(value: Any, arg: str, *, dims: Sequence[int], allow_nan: bool = False) -> tuple[pa.Array, int]:
    """An (N, D) array of vectors with D in ``dims``; returns the Arrow array and D.

    A single vector of shape (D,) is taken as N=1.
    """
    arr = as_float_array(value, arg, allow_nan=allow_nan)
    if arr.ndim == 1 and arr.shape[0] in dims:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] not in dims:
        want = " or ".join(f"Nx{d}" for d in dims)
        raise ArgumentError(arg, describe_value(value), f"an array of shape {want}")
    d = int(arr.shape[1])
    return fixed_list(arr, d, pa.float32()), d


def _color_array(value: Any, arg: str) -> npt.NDArray[np.uint8]:
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise ArgumentError(arg, describe_value(value), f"colours as numbers ({exc})") from None
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] not in (3, 4):
        raise ArgumentError(arg, describe_value(value), "RGB or RGBA colours, shape (3,), (4,), Nx3 or Nx4")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all() or arr.min(initial=0.0) < 0.0 or arr.max(initial=0.0) > 1.0:
            raise ArgumentError(arg, describe_value(value), "float colours in the range 0-1 (or uint8 0-255)")
        arr = np.round(arr * 255.0)
    elif np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_:
        # uint8 and bool values are in range by their type: no pass over the data for them.
        if arr.dtype != np.uint8 and arr.dtype != np.bool_ and arr.size and (arr.min() < 0 or arr.max() > 255):
            raise ArgumentError(
                arg, f"{describe_value(value)} with values {arr.min()}..{arr.max()}", "integer colours 0-255"
            )
    else:
        raise ArgumentError(arg, describe_value(value), "numeric colours (uint8 0-255 or float 0-1)")
    # One new array (owned: see as_float_array), written once: RGB gets an opaque alpha channel.
    # Channel by channel: numpy copies an (N, 3) block into an (N, 4) one several times slower.
    out = np.empty((arr.shape[0], 4), dtype=np.uint8)
    for k in range(arr.shape[1]):
        out[:, k] = arr[:, k]
    if arr.shape[1] == 3:
        out[:, 3] = 255
    return out


def colors(value: Any, arg: str, n: int) -> pa.Array:
    """N colours, or one colour broadcast to all N instances."""
    arr = _color_array(value, arg)
    if arr.shape[0] == 1 and n != 1:
        arr = np.broadcast_to(arr, (n, 4))
    elif arr.shape[0] != n:
        raise ArgumentError(arg, describe_value(value), f"one colour or {n} colours (one per instance)")
    return fixed_list(arr, 4, pa.uint8())


def color(value: Any, arg: str) -> list[int]:
    """Exactly one colour, as an RGBA list (for mono components)."""
    arr = _color_array(value, arg)
    if arr.shape[0] != 1:
        raise ArgumentError(arg, describe_value(value), "one colour, RGB or RGBA")
    return [int(x) for x in arr[0]]


def broadcast_count(value: Any, arg: str, n: int) -> npt.NDArray[Any]:
    """A per-instance array of length N, a scalar broadcast to N."""
    arr = np.asarray(value)
    if arr.ndim == 0:
        return np.broadcast_to(arr, (n,))
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ArgumentError(arg, describe_value(value), f"one value or {n} values (one per instance)")
    return arr


def per_instance_float(value: Any, arg: str, n: int, *, minimum: float | None = 0.0) -> pa.Array:
    arr = broadcast_count(as_float_array(value, arg), arg, n)
    if minimum is not None and arr.size and float(arr.min()) < minimum:
        raise ArgumentError(arg, f"{describe_value(value)} with minimum {float(arr.min())}", f"values >= {minimum}")
    return pa.array(np.ascontiguousarray(arr), type=pa.float32())


def per_instance_uint(value: Any, arg: str, n: int, arrow_type: pa.DataType) -> pa.Array:
    arr = np.asarray(value)
    whole_floats = arr.dtype.kind == "f" and (arr.size == 0 or bool(np.all(arr == np.floor(arr))))
    if not (np.issubdtype(arr.dtype, np.integer) or whole_floats):
        raise ArgumentError(arg, describe_value(value), "non-negative integers")
    top = np.iinfo(arrow_type.to_pandas_dtype()).max
    if arr.size and (arr.min() < 0 or arr.max() > top):
        raise ArgumentError(arg, describe_value(value), f"integers in 0..{top}")
    arr = broadcast_count(arr, arg, n)
    return pa.array(np.ascontiguousarray(arr).astype(arrow_type.to_pandas_dtype()), type=arrow_type)


def labels(value: Any, arg: str, n: int) -> pa.Array:
    if isinstance(value, str):
        return pa.array([value] * n, type=pa.utf8())
    try:
        items = list(value)
    except TypeError:
        raise ArgumentError(arg, describe_value(value), f"a string or {n} strings") from None
    if len(items) != n or not all(isinstance(x, str) for x in items):
        raise ArgumentError(arg, describe_value(value), f"a string or {n} strings (one per instance)")
    return pa.array(items, type=pa.utf8())


def finite_scalar(value: Any, arg: str, *, allow_nan: bool = False) -> float:
    """One real number."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ArgumentError(arg, describe_value(value), "a number") from None
    if not allow_nan and not math.isfinite(x):
        raise ArgumentError(arg, repr(x), "a finite number")
    return x
