"""Latest-at: each component's last value at or before a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import polars as pl

from rrformat.chunk import TimelineKind

from ._frames import ENTITY, ROW_ID, chunk_frame, concat_frames
from ._timebounds import TimeValue, to_timeline_value

if TYPE_CHECKING:
    from ._recording import Recording

__all__ = ["latest_at"]

KIND = "kind"


def latest_at(rec: Recording, timeline: str, t: TimeValue, entities: str | Sequence[str]) -> pl.DataFrame:
    kind = rec.timeline_kind(timeline)
    at = to_timeline_value(t, kind, arg="t", timeline=timeline)
    if at is None:
        raise ValueError("t must be given")
    infos = rec.select(entities, timeline=timeline, start=None, end=at)
    frames = []
    for chunk in rec.read_chunks(infos):
        frame = chunk_frame(chunk).with_columns(pl.lit(chunk.kind).alias(KIND))
        if not chunk.timeless:
            col = pl.col(timeline)
            raw = col.cast(pl.Int64) if kind is TimelineKind.TIME else col
            frame = frame.filter(col.is_not_null() & (raw <= at))
        frames.append(frame)
    combined = concat_frames(frames, {timeline: kind})
    if timeline not in combined.columns:
        dtype = pl.Datetime("ns", "UTC") if kind is TimelineKind.TIME else pl.Int64()
        combined = combined.with_columns(pl.lit(None, dtype=dtype).alias(timeline))
    if KIND not in combined.columns:
        combined = combined.with_columns(pl.lit(None, dtype=pl.String).alias(KIND))
    other_times = [c for c in combined.columns if c in rec._timelines and c != timeline]
    components = [c for c in combined.columns if c not in (ENTITY, ROW_ID, KIND, timeline, *other_times)]
    # Timeless rows (null time) sort first: they count as logged before any time.
    ordered = combined.sort([timeline, ROW_ID], nulls_last=False)
    out = ordered.group_by([ENTITY, KIND], maintain_order=True).agg(
        pl.col(timeline).drop_nulls().last(),
        *[pl.col(c).drop_nulls().last() for c in components],
    )
    return out.sort([ENTITY, KIND])
