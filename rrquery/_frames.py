"""Chunks as Polars frames: the one place that maps the file's columns to query columns.

Query columns are ``entity``, ``row_id``, one column per timeline (sequences as Int64,
times as ``Datetime("ns", "UTC")``), then the components under their own names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import polars as pl
import pyarrow as pa

from rrformat.chunk import ROW_ID, Chunk, TimelineKind, timeline_kind_of

__all__ = ["ENTITY", "ROW_ID", "TIME_DTYPE", "chunk_frame", "concat_frames", "timeline_dtype", "order_columns"]

ENTITY = "entity"
TIME_DTYPE = pl.Datetime("ns", "UTC")


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


def order_columns(frame: pl.DataFrame, timelines: Mapping[str, TimelineKind]) -> pl.DataFrame:
    """entity, row_id, the timelines (in the recording's order), then the components."""
    names = frame.columns
    first = [ENTITY, ROW_ID] + [t for t in timelines if t in names]
    rest = [c for c in names if c not in first]
    return frame.select(first + rest)


def concat_frames(frames: Iterable[pl.DataFrame], timelines: Mapping[str, TimelineKind]) -> pl.DataFrame:
    """Concatenate chunk frames whose columns differ (missing columns become null)."""
    parts = [f for f in frames]
    if not parts:
        schema: dict[str, pl.DataType] = {ENTITY: pl.String(), ROW_ID: pl.UInt64()}
        schema.update({name: timeline_dtype(kind) for name, kind in timelines.items()})
        return pl.DataFrame(schema=schema)
    out = parts[0] if len(parts) == 1 else pl.concat(parts, how="diagonal_relaxed", rechunk=False)
    return order_columns(out, timelines)
