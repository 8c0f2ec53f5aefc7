"""Chunks as Polars frames: the one place that maps the file's columns to query columns.

Query columns are ``entity``, ``row_id``, one column per timeline (sequences as Int64,
times as ``Datetime("ns", "UTC")``), then the components under their own names.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from rrformat.chunk import ROW_ID, Chunk, TimelineKind, timeline_kind_of

__all__ = [
    "ENTITY",
    "ROW_ID",
    "TIME_DTYPE",
    "Window",
    "chunk_frame",
    "parts_frames",
    "concat_frames",
    "timeline_dtype",
    "order_columns",
    "window",
]

ENTITY = "entity"
TIME_DTYPE = pl.Datetime("ns", "UTC")
_TIMESTAMP = pa.timestamp("ns", tz="UTC")
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1

Window = tuple[int | None, int | None]
"""Inclusive raw int64 bounds on a timeline (None: unbounded)."""


def timeline_dtype(kind: TimelineKind) -> pl.DataType:
    return TIME_DTYPE if kind is TimelineKind.TIME else pl.Int64()


def chunk_frame(chunk: Chunk, *, components: Sequence[str] | None = None) -> pl.DataFrame:
    """One chunk as a frame, with only the requested components (all when None)."""
    batch = chunk.batch
    keep: list[str] = []
    time_cols: list[str] = []
    for f in batch.schema:
        if f.name == ROW_ID:
            keep.append(f.name)
            continue
        kind = timeline_kind_of(f)
        if kind is not None:
            keep.append(f.name)
            if kind is TimelineKind.TIME:
                time_cols.append(f.name)
        elif components is None or f.name in components:
            keep.append(f.name)
    if len(keep) != batch.num_columns:
        batch = batch.select(keep)
    frame = pl.from_arrow(pa.Table.from_batches([batch]), rechunk=False)
    assert isinstance(frame, pl.DataFrame)
    casts = [pl.col(c).cast(pl.Int64).cast(TIME_DTYPE) for c in time_cols]
    return frame.with_columns(*casts, pl.lit(chunk.entity, dtype=pl.String).alias(ENTITY))


def window(batch: pa.RecordBatch, timeline: str, lo: int | None, hi: int | None, is_sorted: bool) -> pa.RecordBatch:
    """The rows of ``batch`` on ``timeline`` within ``[lo, hi]`` (rows null there are dropped).

    ``is_sorted`` is the index's word that the column is non-decreasing without nulls:
    the window is then found by binary search and taken as a slice (no copy).
    """
    i = batch.schema.get_field_index(timeline)
    if i < 0:
        return batch.slice(0, 0)  # not on this timeline at all
    if (lo is not None and lo > _I64_MAX) or (hi is not None and hi < _I64_MIN):
        return batch.slice(0, 0)
    lo = None if lo is None or lo <= _I64_MIN else lo
    hi = None if hi is None or hi >= _I64_MAX else hi
    col = batch.column(i)
    if col.null_count == 0:
        if lo is None and hi is None:
            return batch
        if is_sorted:
            values = col.to_numpy()
            start = 0 if lo is None else int(np.searchsorted(values, lo, "left"))
            end = len(values) if hi is None else int(np.searchsorted(values, hi, "right"))
            return batch.slice(start, max(0, end - start))
    mask = pc.is_valid(col)
    if lo is not None:
        mask = pc.and_(mask, pc.greater_equal(col, pa.scalar(lo, pa.int64())))
    if hi is not None:
        mask = pc.and_(mask, pc.less_equal(col, pa.scalar(hi, pa.int64())))
    return batch.filter(mask)


def parts_frames(
    parts: Sequence[tuple[str, pa.RecordBatch]], *, components: Sequence[str] | None = None
) -> Iterator[pl.DataFrame]:
    """Frames of ``(entity, batch)`` parts: one per run of parts sharing a schema.

    Each run becomes one Arrow table and one ``pl.from_arrow`` call (no copy of the
    columns), rather than a frame per chunk: a million rows in 60 chunks convert in
    about a millisecond.
    """
    start = 0
    while start < len(parts):
        schema = parts[start][1].schema
        end = start + 1
        while end < len(parts) and _same_schema(parts[end][1].schema, schema):
            end += 1
        yield _run_frame(parts[start:end], schema, components)
        start = end


def _same_schema(a: pa.Schema, b: pa.Schema) -> bool:
    return a is b or a.equals(b, check_metadata=True)


def _run_frame(
    parts: Sequence[tuple[str, pa.RecordBatch]], schema: pa.Schema, components: Sequence[str] | None
) -> pl.DataFrame:
    keep: list[int] = []
    times: list[int] = []
    for i, f in enumerate(schema):
        kind = timeline_kind_of(f) if f.name != ROW_ID else None
        if f.name == ROW_ID or kind is not None:
            if kind is TimelineKind.TIME:
                times.append(len(keep))
            keep.append(i)
        elif components is None or f.name in components:
            keep.append(i)
    table = pa.Table.from_batches([b for _, b in parts], schema=schema)
    if len(keep) != len(schema):
        table = table.select(keep)
    for i in times:
        # int64 nanoseconds and timestamp(ns) share their layout: the cast does not copy.
        table = table.set_column(i, pa.field(table.field(i).name, _TIMESTAMP), table.column(i).cast(_TIMESTAMP))
    frame = pl.from_arrow(table, rechunk=False)
    assert isinstance(frame, pl.DataFrame)
    names = [e for e, _ in parts]
    first = names[0]
    if all(e == first for e in names):
        entity: pl.Expr | pl.Series = pl.lit(first, dtype=pl.String).alias(ENTITY)
    else:
        distinct = list(dict.fromkeys(names))
        code = {e: i for i, e in enumerate(distinct)}
        rows = np.repeat(np.array([code[e] for e in names], dtype=np.uint32), [b.num_rows for _, b in parts])
        entity = pl.Series(ENTITY, distinct, dtype=pl.String).gather(rows)
    row_ids = frame.get_column(ROW_ID)
    # Checked, not assumed: with the flag set, sorting by row id later costs nothing.
    rid = row_ids.set_sorted() if row_ids.is_sorted() else row_ids
    # One select puts the entity first as well (each operation on a frame of nested
    # columns costs a few tenths of a millisecond, whatever its number of rows).
    return frame.select(entity, rid, *[c for c in frame.columns if c != ROW_ID])


def order_columns(frame: pl.DataFrame, timelines: Mapping[str, TimelineKind]) -> pl.DataFrame:
    """entity, row_id, the timelines (in the recording's order), then the components."""
    names = frame.columns
    first = [ENTITY, ROW_ID] + [t for t in timelines if t in names]
    rest = [c for c in names if c not in first]
    order = first + rest
    return frame if order == names else frame.select(order)


def concat_frames(frames: Iterable[pl.DataFrame], timelines: Mapping[str, TimelineKind]) -> pl.DataFrame:
    """Concatenate chunk frames whose columns differ (missing columns become null)."""
    parts = [f for f in frames]
    if not parts:
        schema: dict[str, pl.DataType] = {ENTITY: pl.String(), ROW_ID: pl.UInt64()}
        schema.update({name: timeline_dtype(kind) for name, kind in timelines.items()})
        return pl.DataFrame(schema=schema)
    out = parts[0] if len(parts) == 1 else pl.concat(parts, how="diagonal_relaxed", rechunk=False)
    return order_columns(out, timelines)
