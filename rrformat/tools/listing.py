"""One JSON object per chunk: the output of ``rrd print --json`` and of the test vectors.

The objects are built from the index (and, with data, from the chunk's rows) with a
fixed key order, and :func:`dumps` serialises them the same way every time, so the
expected output of a test vector can be compared byte for byte (spec section 10).
"""

from __future__ import annotations

import base64
import decimal
import json
import math
import numbers
from typing import Any

import pyarrow as pa

from ..chunk import ChunkInfo
from ..reader import RrdReader

__all__ = ["chunk_json", "column_json", "columns_json", "dumps", "json_value"]


def json_value(value: Any) -> Any:
    """A value from ``to_pylist()`` as plain JSON.

    Binary values become ``{"base64": ...}``; non-finite floats the strings ``"nan"``,
    ``"inf"``, ``"-inf"`` (JSON has no such numbers); decimals exact strings; maps lists
    of ``[key, value]`` pairs.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, numbers.Real):  # e.g. numpy scalars
        return json_value(int(value) if isinstance(value, numbers.Integral) else float(value))
    return str(value)


def _plain_type(t: pa.DataType) -> pa.DataType:
    """``t`` with every temporal type replaced by the integer type that stores it.

    Dates, times, timestamps and durations print as their stored integer (the column's
    type string gives the unit): exact at every resolution and in every language, where
    a conversion to calendar objects would lose nanoseconds or depend on the platform.
    """
    if pa.types.is_timestamp(t) or pa.types.is_duration(t) or pa.types.is_date64(t) or pa.types.is_time64(t):
        return pa.int64()
    if pa.types.is_date32(t) or pa.types.is_time32(t):
        return pa.int32()
    if pa.types.is_map(t):
        return pa.map_(t.key_field.with_type(_plain_type(t.key_type)), t.item_field.with_type(_plain_type(t.item_type)))
    if pa.types.is_fixed_size_list(t):
        return pa.list_(t.value_field.with_type(_plain_type(t.value_type)), t.list_size)
    if pa.types.is_large_list(t):
        return pa.large_list(t.value_field.with_type(_plain_type(t.value_type)))
    if pa.types.is_list(t):
        return pa.list_(t.value_field.with_type(_plain_type(t.value_type)))
    if pa.types.is_struct(t):
        return pa.struct([f.with_type(_plain_type(f.type)) for f in t])
    return t


def column_json(column: pa.Array) -> list[Any]:
    """One column's values as JSON (see :func:`json_value` and :func:`_plain_type`)."""
    plain = _plain_type(column.type)
    if plain != column.type:
        column = column.cast(plain)
    return [json_value(v) for v in column.to_pylist()]


def columns_json(batch: pa.RecordBatch) -> dict[str, list[Any]]:
    """Every column of a batch, in schema order, as JSON values."""
    return {name: column_json(batch.column(i)) for i, name in enumerate(batch.schema.names)}


def chunk_json(reader: RrdReader, info: ChunkInfo, *, data: bool = False) -> dict[str, Any]:
    """The JSON object describing one chunk (keys in the fixed order of ``rrd print --json``).

    Raises
    ------
    CorruptFileError
        The chunk's schema (or, with ``data``, its body) cannot be read.
    """
    schema = reader.schema(info.schema_id)
    obj: dict[str, Any] = {
        "offset": info.record_offset,
        "size": info.record_size,
        "recording": info.recording,
        "entity": info.entity,
        "kind": info.kind,
        "rows": info.rows,
        "timeless": info.timeless,
        "row_ids": [info.row_id_min, info.row_id_max],
        "timelines": {
            name: {"kind": r.kind.value, "min": r.min, "max": r.max, "sorted": r.sorted}
            for name, r in info.timelines.items()
        },
        "columns": {f.name: str(f.type) for f in schema},
        "codec": info.codec,
    }
    if data:
        obj["data"] = columns_json(reader.read_chunk(info).batch)
    return obj


def dumps(obj: Any) -> str:
    """Serialise one line of ``rrd print --json``: compact, key order kept, UTF-8 text as is."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
