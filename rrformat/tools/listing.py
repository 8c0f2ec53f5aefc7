"""One JSON object per chunk: the output of ``rrd print --json`` and of the test vectors.

The objects are built from the index (and, with data, from the chunk's rows) with a
fixed key order, and :func:`dumps` serialises them the same way every time, so the
expected output of a test vector can be compared byte for byte (spec section 10).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
from typing import Any

import pyarrow as pa

from ..chunk import ChunkInfo
from ..reader import RrdReader

__all__ = ["chunk_json", "columns_json", "dumps", "json_value"]


def json_value(value: Any) -> Any:
    """A value from ``to_pylist()`` as plain JSON.

    Binary values become ``{"base64": ...}``; non-finite floats the strings ``"nan"``,
    ``"inf"``, ``"-inf"`` (JSON has no such numbers); dates and times ISO-8601 strings;
    maps lists of ``[key, value]`` pairs.
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
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return str(value)


def columns_json(batch: pa.RecordBatch) -> dict[str, list[Any]]:
    """Every column of a batch, in schema order, as JSON values."""
    return {name: json_value(batch.column(i).to_pylist()) for i, name in enumerate(batch.schema.names)}


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
