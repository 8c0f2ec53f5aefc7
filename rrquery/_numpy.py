"""Columns to numpy: tensors and images without a per-pixel loop."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

__all__ = ["to_numpy", "decode_image", "tensors_of"]

_TENSOR_FIELDS = {"shape", "dtype", "data"}


def to_numpy(series: pl.Series, *, decode: bool = False) -> npt.NDArray[Any] | list[npt.NDArray[Any] | None]:
    """Convert a query column to numpy.

    - Tensor/image columns (struct with shape, dtype, data): one array of shape
      ``(rows, *shape)`` when every row has the same shape and dtype (a view of the column's
      buffer, no copy), else a list of arrays. Null rows give None in a list.
    - Encoded image columns (JPEG/PNG bytes) with ``decode=True``: decoded to HxWxC uint8
      arrays (needs Pillow).
    - Fixed-size arrays (``pl.Array``) and lists of them (points, boxes): stacked when all
      rows have the same length, else a list of arrays.
    - Anything else: ``Series.to_numpy()``.

    Examples
    --------
    >>> images = rec.range("camera/image", timeline="frame")["tensor"]  # doctest: +SKIP
    >>> rrquery.to_numpy(images).shape  # doctest: +SKIP
    (300, 480, 640, 3)
    """
    dtype = series.dtype
    if isinstance(dtype, pl.Struct) and {f.name for f in dtype.fields} >= _TENSOR_FIELDS:
        return _tensors(series)
    if dtype == pl.Binary and decode:
        return [None if b is None else decode_image(b) for b in series.to_list()]
    if isinstance(dtype, pl.List):
        rows = [None if v is None else v.to_numpy() for v in series]
        lengths = {len(r) for r in rows if r is not None}
        # `None in rows` would compare arrays elementwise: test identity instead.
        if rows and all(r is not None for r in rows) and len(lengths) <= 1:
            return np.stack(rows)  # type: ignore[arg-type]
        return rows
    out: npt.NDArray[Any] = series.to_numpy()
    return out


def _tensors(series: pl.Series) -> npt.NDArray[Any] | list[npt.NDArray[Any] | None]:
    return tensors_of(series.to_arrow())


def tensors_of(arr: pa.Array | pa.ChunkedArray) -> npt.NDArray[Any] | list[npt.NDArray[Any] | None]:
    """A tensor struct column (Arrow) as numpy: see :func:`to_numpy`."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    assert isinstance(arr, pa.StructArray)
    shapes = arr.field("shape").to_pylist()
    dtypes = arr.field("dtype").to_pylist()
    data = arr.field("data")
    valid = arr.is_valid().to_pylist()
    if all(valid) and shapes and all(s == shapes[0] for s in shapes) and len(set(dtypes)) == 1:
        dt = np.dtype(dtypes[0]).newbyteorder("<")
        data = data.cast(pa.large_binary())
        offsets = np.frombuffer(data.buffers()[1], dtype=np.int64)[data.offset : data.offset + len(data) + 1]
        buf = np.frombuffer(data.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
        stacked: npt.NDArray[Any] = buf.view(dt).reshape(len(arr), *shapes[0])
        return stacked
    out: list[npt.NDArray[Any] | None] = []
    for ok, shape, dtype, blob in zip(valid, shapes, dtypes, data.to_pylist(), strict=True):
        out.append(None if not ok else np.frombuffer(blob, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape))
    return out


def decode_image(blob: bytes) -> npt.NDArray[np.uint8]:
    """Decode JPEG or PNG bytes into an HxW or HxWxC uint8 array (needs Pillow)."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("decoding JPEG/PNG images needs Pillow: pip install pillow") from None
    with Image.open(io.BytesIO(blob)) as im:
        return np.asarray(im)
