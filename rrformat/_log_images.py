"""log_image, log_depth_image, log_segmentation_image, log_tensor and log_image_file.

Images and tensors are stored as one ``tensor`` struct per row: shape, dimension names,
numpy dtype name and one contiguous little-endian C-order buffer (``spec/rrd.md`` 9.1).
The pixels are copied at most once, at the call: the caller may reuse its buffer (a
camera driver's frame buffer) as soon as the call returns.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from . import _convert as cv
from ._errors import ArgumentError, describe_value, log_function
from ._recording import RecordingStream
from .components import TENSOR_TYPE

__all__ = [
    "ImageFormat",
    "log_image",
    "log_depth_image",
    "log_segmentation_image",
    "log_tensor",
    "log_image_file",
    "as_array",
    "owned",
    "image_array",
    "tensor_array",
    "TENSOR_DTYPES",
]

TENSOR_DTYPES = frozenset(
    ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32", "float64"]
)
"""The element types a tensor may hold (spec 9.1, note 1)."""

_IMAGE_KINDS = ("image", "depth_image", "segmentation_image", "tensor")
_PIXELS = {
    "image": "uint8, uint16, float32 or float64 pixels (e.g. image.astype(np.uint8))",
    "depth_image": "uint16 or float depth values (e.g. depth.astype(np.float32))",
    "segmentation_image": "integer class ids in 0..65535 (e.g. seg.astype(np.uint16))",
    "tensor": f"a numeric or bool dtype ({', '.join(sorted(TENSOR_DTYPES))})",
}
_SHAPES = {
    "image": "an image of shape HxW, HxWx1, HxWx3 (RGB) or HxWx4 (RGBA) with H, W > 0",
    "depth_image": "a depth image of shape HxW (or HxWx1) with H, W > 0",
    "segmentation_image": "a class-id image of shape HxW (or HxWx1) with H, W > 0",
    "tensor": "an array with at least one dimension",
}


def as_array(value: Any, arg: str) -> npt.NDArray[Any]:
    """``np.asarray(value)``, with a failure reported against ``arg``."""
    if isinstance(value, (str, bytes)) or value is None:
        raise ArgumentError(arg, describe_value(value), "a numpy array (or an array-like of numbers)")
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise ArgumentError(arg, describe_value(value), f"a numpy array ({exc})") from None


def owned(arr: npt.NDArray[Any], src: npt.NDArray[Any], value: Any) -> npt.NDArray[Any]:
    """``arr`` as a C-contiguous little-endian array the recording may keep.

    ``src`` is ``np.asarray(value)``. When ``arr`` may still be the caller's memory
    (an ndarray, or a view of a tensor of another library) it is copied once, because
    it is serialised later on a background thread and the caller may overwrite it.
    """
    little = arr.dtype.newbyteorder("<")
    if arr.dtype != little:
        arr = arr.astype(little)
    out = np.ascontiguousarray(arr)
    caller_memory = src is value or src.base is not None
    if caller_memory and np.may_share_memory(out, src):
        out = out.copy()
    return out


def _check_shape(kind: str, arr: npt.NDArray[Any], arg: str, value: Any, lead: int) -> npt.NDArray[Any]:
    """Check the image dimensions after ``lead`` leading (row) axes; HxWx1 becomes HxW."""
    dims = arr.shape[lead:]
    if kind == "tensor":
        if len(dims) < 1:
            raise ArgumentError(arg, describe_value(value), _SHAPES[kind])
        return arr
    if len(dims) == 3 and dims[2] == 1:
        arr = arr.reshape(arr.shape[:-1])
        dims = dims[:2]
    channels_ok = len(dims) == 2 or (kind == "image" and len(dims) == 3 and dims[2] in (3, 4))
    if not channels_ok or dims[0] == 0 or dims[1] == 0:
        what = _SHAPES[kind]
        if kind == "image" and len(dims) == 3:
            what += f" (got {dims[2]} channels)"
        raise ArgumentError(arg, describe_value(value), what)
    return arr


def _check_dtype(kind: str, arr: npt.NDArray[Any], arg: str, value: Any) -> npt.NDArray[Any]:
    """Convert the element type to one stored for ``kind``, or raise."""
    dt = arr.dtype
    name = dt.name
    expected = _PIXELS[kind]
    if kind == "image":
        if name in ("uint8", "uint16", "float32"):
            return arr
        if name in ("float16", "float64"):
            return arr.astype(np.float32)
    elif kind == "depth_image":
        if name in ("uint16", "float32"):
            return arr
        if name in ("float16", "float64"):
            return arr.astype(np.float32)
    elif kind == "segmentation_image":
        if name in ("uint8", "uint16"):
            return arr
        if name == "bool":
            return arr.astype(np.uint8)
        if dt.kind in "iu":
            lo, hi = (int(arr.min()), int(arr.max())) if arr.size else (0, 0)
            if lo < 0 or hi > 0xFFFF:
                raise ArgumentError(arg, f"{describe_value(value)} with class ids {lo}..{hi}", expected)
            return arr.astype(np.uint16)
    elif name in TENSOR_DTYPES:
        return arr
    raise ArgumentError(arg, describe_value(value), expected)


def image_array(kind: str, value: Any, arg: str, *, lead: int = 0) -> tuple[npt.NDArray[Any], list[str] | None]:
    """Validate and convert an image or tensor of ``kind`` (``lead`` leading row axes).

    Returns the array to store (owned by the recording, C-contiguous, little-endian)
    and the default dimension names.
    """
    assert kind in _IMAGE_KINDS
    src = as_array(value, arg)
    if src.ndim < lead:
        raise ArgumentError(arg, describe_value(value), f"{lead} leading row axis then {_SHAPES[kind]}")
    arr = _check_shape(kind, src, arg, value, lead)
    arr = _check_dtype(kind, arr, arg, value)
    names: list[str] | None = None
    if kind != "tensor":
        names = ["height", "width", "color"] if arr.ndim - lead == 3 else ["height", "width"]
    return owned(arr, src, value), names


def _list_column(values: pa.Array, width: int, rows: int) -> pa.Array:
    """``rows`` lists of ``width`` items each, from ``rows * width`` values."""
    offsets = pa.array(np.arange(rows + 1, dtype=np.int32) * np.int32(width), type=pa.int32())
    return pa.ListArray.from_arrays(offsets, values)


def tensor_array(data: npt.NDArray[Any], names: Sequence[str] | None, *, rows: int | None = None) -> pa.StructArray:
    """The ``tensor`` column of one tensor (``rows=None``) or of ``rows`` stacked on axis 0.

    ``data`` must be C-contiguous and little-endian (see :func:`owned`): its buffer is
    wrapped, not copied.
    """
    if rows is None:
        return _one_tensor(data, names)
    n = rows
    shape = data.shape[1:]
    per_item = int(np.prod(shape, dtype=np.int64)) * data.itemsize
    raw = data.reshape(-1).view(np.uint8)
    offsets = np.arange(n + 1, dtype=np.int64) * per_item
    blobs = pa.LargeBinaryArray.from_buffers(pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(raw)])
    shape_col = _list_column(pa.array(np.tile(np.asarray(shape, dtype=np.uint64), n), pa.uint64()), len(shape), n)
    if names is None:
        names_col = pa.nulls(n, type=pa.list_(pa.utf8()))
    else:
        picks = np.tile(np.arange(len(names), dtype=np.int64), n)
        names_col = _list_column(pa.array(list(names), pa.utf8()).take(picks), len(names), n)
    dtype_col = pa.repeat(pa.scalar(data.dtype.name, pa.utf8()), n)
    return pa.StructArray.from_arrays([shape_col, names_col, dtype_col, blobs], fields=list(TENSOR_TYPE))


_META_CACHE: dict[tuple[Any, ...], tuple[pa.Array, pa.Array, pa.Array]] = {}
"""The shape, names and dtype columns of one tensor, per (shape, names, dtype): a camera
logs the same kind of frame over and over, and Arrow arrays are immutable, so they are shared."""


def _one_tensor(data: npt.NDArray[Any], names: Sequence[str] | None) -> pa.StructArray:
    """The ``tensor`` column of one tensor: :func:`tensor_array` with ``rows=None``."""
    key = (data.shape, None if names is None else tuple(names), data.dtype.name)
    meta = _META_CACHE.get(key)
    if meta is None:
        meta = (
            pa.array([list(data.shape)], type=TENSOR_TYPE.field("shape").type),
            pa.array([None if names is None else list(names)], type=TENSOR_TYPE.field("names").type),
            pa.array([data.dtype.name], type=pa.utf8()),
        )
        if len(_META_CACHE) >= 256:
            _META_CACHE.clear()
        _META_CACHE[key] = meta
    raw = data.reshape(-1).view(np.uint8)
    offsets = pa.py_buffer(np.array([0, raw.nbytes], dtype=np.int64))
    blobs = pa.LargeBinaryArray.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(raw)])
    return pa.StructArray.from_arrays([*meta, blobs], fields=list(TENSOR_TYPE))


def _meter(value: Any) -> float:
    m = cv.finite_scalar(value, "meter")
    if m <= 0:
        raise ArgumentError("meter", repr(value), "a positive number of depth units per metre (e.g. 1000 for mm)")
    return m


def _log_tensor_kind(
    recording: RecordingStream | None,
    kind: str,
    entity_path: Any,
    value: Any,
    arg: str,
    *,
    names: Sequence[str] | None = None,
    meter: Any = None,
    draw_order: Any = None,
    timeless: bool,
) -> None:
    assert recording is not None
    entity = recording.entity(entity_path)
    data, default_names = image_array(kind, value, arg)
    if names is not None:
        if isinstance(names, str) or not all(isinstance(x, str) for x in names) or len(names) != data.ndim:
            raise ArgumentError("names", describe_value(names), f"{data.ndim} strings, one name per dimension")
        default_names = list(names)
    cells: dict[str, Any] = {"tensor": tensor_array(data, default_names)}
    if meter is not None:
        cells["meter"] = _meter(meter)
    if draw_order is not None:
        cells["draw_order"] = cv.finite_scalar(draw_order, "draw_order")
    recording.log_row(entity, kind, cells, timeless=timeless, nbytes=data.nbytes + 128)


@log_function
def log_image(
    entity_path: str,
    image: Any,
    *,
    draw_order: float | None = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log a gray, RGB or RGBA image.

    Parameters
    ----------
    entity_path
        Path of the image, e.g. ``"world/camera/image"``. Log a pinhole
        (:func:`log_pinhole`) at the same path to place it in a 3D scene.
    image
        A numpy array (or array-like) of shape ``HxW`` (gray), ``HxWx1`` (gray, stored as
        ``HxW``), ``HxWx3`` (RGB) or ``HxWx4`` (RGBA), row 0 at the top.
        dtype ``uint8`` (0-255) or ``uint16`` (0-65535) is stored as is; ``float32`` is
        stored as is (0.0-1.0 is the displayed range); ``float64`` and ``float16`` are
        converted to ``float32``. Other dtypes are refused: convert first, e.g.
        ``image.astype(np.uint8)``. Any memory layout is accepted (it is made
        C-contiguous); the pixels are copied once, so the buffer may be reused at once.
    draw_order
        Drawing order in 2D views: higher values are drawn on top (images default low).
    timeless
        Log for all timelines (scenery) instead of at the current time.
    recording
        The recording to log to (default: the global one from :func:`init`).

    Notes
    -----
    Stored as data kind ``image`` with a ``tensor`` component: shape, dimension names
    ``["height", "width"]`` or ``["height", "width", "color"]``, dtype name, and the
    pixels as one contiguous little-endian buffer (read back with
    ``np.frombuffer(data, dtype).reshape(shape)``). To store JPEG or PNG bytes as they
    are, use :func:`log_image_file`.

    Examples
    --------
    >>> import numpy as np, rrformat as rr
    >>> rr.init("demo", save="demo.rrd")  # doctest: +SKIP
    >>> rgb = np.zeros((480, 640, 3), dtype=np.uint8)
    >>> rgb[:, :, 0] = 255  # a red frame
    >>> rr.log_image("camera/rgb", rgb)  # doctest: +SKIP
    """
    _log_tensor_kind(recording, "image", entity_path, image, "image", draw_order=draw_order, timeless=timeless)


@log_function
def log_depth_image(
    entity_path: str,
    image: Any,
    *,
    meter: float | None = None,
    draw_order: float | None = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log a depth image (distance along the camera's forward axis per pixel).

    Parameters
    ----------
    entity_path
        Path of the depth image, e.g. ``"world/camera/depth"``.
    image
        Array of shape ``HxW`` (or ``HxWx1``). dtype ``uint16`` (typically millimetres)
        or ``float32`` is stored as is; ``float64``/``float16`` become ``float32``.
        NaN may mark pixels without a measurement.
    meter
        How many depth units make one metre: ``1000`` for millimetres in ``uint16``,
        ``1`` for metres in floats. A positive number; None leaves it unspecified.
    draw_order
        Drawing order in 2D views: higher values are drawn on top.
    timeless
        Log for all timelines instead of at the current time.
    recording
        The recording to log to (default: the global one).

    Notes
    -----
    Stored as data kind ``depth_image``: a ``tensor`` component (names
    ``["height", "width"]``) and an optional ``meter`` component.

    Examples
    --------
    >>> depth_mm = np.full((480, 640), 1500, dtype=np.uint16)  # everything 1.5 m away
    >>> rr.log_depth_image("camera/depth", depth_mm, meter=1000)  # doctest: +SKIP
    """
    _log_tensor_kind(
        recording, "depth_image", entity_path, image, "image", meter=meter, draw_order=draw_order, timeless=timeless
    )


@log_function
def log_segmentation_image(
    entity_path: str,
    image: Any,
    *,
    draw_order: float | None = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log an image of class ids (coloured and labelled by the annotation context).

    Parameters
    ----------
    entity_path
        Path of the segmentation image, e.g. ``"camera/segmentation"``.
    image
        Array of shape ``HxW`` (or ``HxWx1``) of integer class ids. ``uint8`` and ``uint16``
        are stored as is; ``bool`` masks become ``uint8`` 0/1; other integer dtypes are
        converted to ``uint16`` when every id lies in 0..65535. Floats are refused.
    draw_order
        Drawing order in 2D views: higher values are drawn on top.
    timeless
        Log for all timelines instead of at the current time.
    recording
        The recording to log to (default: the global one).

    Notes
    -----
    Stored as data kind ``segmentation_image`` with a ``tensor`` component (names
    ``["height", "width"]``). Log the class names and colours once with
    :func:`log_annotation_context` on the path or one of its parents.

    Examples
    --------
    >>> seg = np.zeros((480, 640), dtype=np.uint8)
    >>> seg[100:200, 100:300] = 1  # class 1: a car
    >>> rr.log_annotation_context("camera", [(1, "car", (255, 0, 0))], timeless=True)  # doctest: +SKIP
    >>> rr.log_segmentation_image("camera/segmentation", seg)  # doctest: +SKIP
    """
    _log_tensor_kind(
        recording, "segmentation_image", entity_path, image, "image", draw_order=draw_order, timeless=timeless
    )


@log_function
def log_tensor(
    entity_path: str,
    tensor: Any,
    *,
    names: Sequence[str] | None = None,
    meter: float | None = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log an n-dimensional array (feature maps, occupancy grids, histograms...).

    Parameters
    ----------
    entity_path
        Path of the tensor, e.g. ``"model/attention"``.
    tensor
        Array-like with at least one dimension, of dtype ``bool``, ``int8``..``int64``,
        ``uint8``..``uint64``, ``float16``, ``float32`` or ``float64`` (kept as given; a
        big-endian array is stored little-endian). Zero-length dimensions are allowed.
    names
        Optional name of each dimension, one string per dimension
        (e.g. ``["batch", "channel", "height", "width"]``).
    meter
        For depth-like tensors: how many units make one metre (a positive number).
    timeless
        Log for all timelines instead of at the current time.
    recording
        The recording to log to (default: the global one).

    Notes
    -----
    Stored as data kind ``tensor`` with a ``tensor`` component: shape, names (or null),
    dtype name and one contiguous C-order little-endian buffer.

    Examples
    --------
    >>> grid = np.random.rand(8, 64, 64).astype(np.float32)
    >>> rr.log_tensor("model/features", grid, names=["channel", "y", "x"])  # doctest: +SKIP
    """
    _log_tensor_kind(recording, "tensor", entity_path, tensor, "tensor", names=names, meter=meter, timeless=timeless)


class ImageFormat(str, enum.Enum):
    """Encodings accepted by :func:`log_image_file` (strings ``"jpeg"``/``"jpg"``/``"png"`` work too)."""

    JPEG = "jpeg"
    PNG = "png"


_MAGIC = {ImageFormat.JPEG: b"\xff\xd8\xff", ImageFormat.PNG: b"\x89PNG\r\n\x1a\n"}
_FORMAT_NAMES = {"jpeg": ImageFormat.JPEG, "jpg": ImageFormat.JPEG, "png": ImageFormat.PNG}


def _sniff(data: bytes) -> ImageFormat | None:
    for fmt, magic in _MAGIC.items():
        if data.startswith(magic):
            return fmt
    return None


def _image_format(value: Any) -> ImageFormat:
    if isinstance(value, ImageFormat):
        return value
    if isinstance(value, str) and value.strip().lower().lstrip(".") in _FORMAT_NAMES:
        return _FORMAT_NAMES[value.strip().lower().lstrip(".")]
    raise ArgumentError("img_format", describe_value(value), "ImageFormat.JPEG, ImageFormat.PNG, 'jpeg' or 'png'")


def _image_bytes(img_bytes: Any, img_path: Any) -> tuple[bytes, str, str]:
    """The file's bytes, the argument they came from and how to name them in messages."""
    if (img_bytes is None) == (img_path is None):
        got = "both img_bytes and img_path" if img_bytes is not None else "neither img_bytes nor img_path"
        raise ArgumentError("img_bytes", got, "exactly one of img_bytes (the encoded bytes) or img_path (a file)")
    if img_path is not None:
        if not isinstance(img_path, (str, os.PathLike)):
            raise ArgumentError("img_path", describe_value(img_path), "a path to a JPEG or PNG file")
        try:
            return Path(img_path).read_bytes(), "img_path", repr(os.fspath(img_path))
        except OSError as exc:
            raise ArgumentError(
                "img_path", repr(os.fspath(img_path)), f"a readable file ({exc.strerror or exc})"
            ) from None
    if isinstance(img_bytes, bytes):
        return img_bytes, "img_bytes", "bytes"
    if isinstance(img_bytes, (bytearray, memoryview)):
        return bytes(img_bytes), "img_bytes", "bytes"
    if isinstance(img_bytes, np.ndarray) and img_bytes.dtype == np.uint8 and img_bytes.ndim == 1:
        return img_bytes.tobytes(), "img_bytes", "bytes"
    raise ArgumentError("img_bytes", describe_value(img_bytes), "bytes, bytearray, memoryview or a 1-D uint8 array")


@log_function
def log_image_file(
    entity_path: str,
    *,
    img_bytes: bytes | bytearray | memoryview | npt.NDArray[np.uint8] | None = None,
    img_path: str | os.PathLike[str] | None = None,
    img_format: ImageFormat | str | None = None,
    draw_order: float | None = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log an encoded JPEG or PNG image, stored as its file bytes (not decoded).

    Parameters
    ----------
    entity_path
        Path of the image, e.g. ``"camera/jpeg"``.
    img_bytes
        The encoded file contents (``bytes``, ``bytearray``, ``memoryview`` or a 1-D
        ``uint8`` array). Give exactly one of ``img_bytes`` and ``img_path``.
    img_path
        A JPEG or PNG file to read (read at the call).
    img_format
        :class:`ImageFormat` (``JPEG`` or ``PNG``) or the strings ``"jpeg"``, ``"jpg"``,
        ``"png"``. None guesses it from the file's first bytes (JPEG starts with
        ``FF D8 FF``, PNG with ``89 'PNG' 0D 0A 1A 0A``); the file name's suffix is not
        trusted. A given format must match those magic bytes.
    draw_order
        Drawing order in 2D views: higher values are drawn on top.
    timeless
        Log for all timelines instead of at the current time.
    recording
        The recording to log to (default: the global one).

    Notes
    -----
    Stored as data kind ``encoded_image``: component ``encoded_image`` (the bytes) and
    ``image_format`` (``"jpeg"`` or ``"png"``). This is much smaller than
    :func:`log_image` for camera streams that are already compressed.

    Examples
    --------
    >>> rr.log_image_file("camera/jpeg", img_path="frame_0001.jpg")  # doctest: +SKIP
    >>> rr.log_image_file("camera/png", img_bytes=png_bytes, img_format=rr.ImageFormat.PNG)  # doctest: +SKIP
    """
    assert recording is not None
    entity = recording.entity(entity_path)
    data, arg, name = _image_bytes(img_bytes, img_path)
    sniffed = _sniff(data)
    head = data[:8].hex(" ") if data else "nothing"
    if img_format is None:
        if sniffed is None:
            raise ArgumentError(arg, f"{name} of {len(data)} bytes starting {head}", "a JPEG or PNG file")
        fmt = sniffed
    else:
        fmt = _image_format(img_format)
        if sniffed is not fmt:
            raise ArgumentError(
                arg,
                f"{name} of {len(data)} bytes starting {head}",
                f"{fmt.value.upper()} data (starting {_MAGIC[fmt].hex(' ')}) as img_format says",
            )
    cells: dict[str, Any] = {"encoded_image": data, "image_format": fmt.value}
    if draw_order is not None:
        cells["draw_order"] = cv.finite_scalar(draw_order, "draw_order")
    recording.log_row(entity, "encoded_image", cells, timeless=timeless, nbytes=len(data) + 64)
