"""Time bounds given by users, turned into the int64 values stored on a timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from rrformat.chunk import TimelineKind

__all__ = ["TimeValue", "timeline_bounds", "to_timeline_value"]

TimeValue = int | float | str | dt.datetime | np.integer[Any] | np.datetime64 | None
"""A bound: an int (sequence number, or nanoseconds on a time timeline), float seconds,
an ISO-8601 string or a datetime (time timelines)."""


def to_timeline_value(value: Any, kind: TimelineKind, *, arg: str, timeline: str) -> int | None:
    """Convert a user bound to the timeline's stored int64; ``ValueError`` names ``arg``."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{arg} must be a number or a time, got {value!r}")
    if kind is TimelineKind.SEQUENCE:
        if isinstance(value, (int, np.integer)):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ValueError(f"{arg}: timeline {timeline!r} is a sequence; expected an integer, got {value!r}")
    if isinstance(value, (int, np.integer)):
        return int(value)  # nanoseconds
    if isinstance(value, float):
        return round(value * 1e9)  # seconds
    if isinstance(value, np.datetime64):
        return int(value.astype("datetime64[ns]").astype(np.int64))
    if isinstance(value, dt.datetime):
        return _datetime_ns(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return round(float(text) * 1e9)
        except ValueError:
            pass
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"{arg}: timeline {timeline!r} is a time; expected seconds or an ISO-8601 time "
                f"such as 2026-01-01T12:00:00Z, got {value!r}"
            ) from None
        return _datetime_ns(parsed)
    raise ValueError(f"{arg}: expected a number, an ISO-8601 time or a datetime, got {type(value).__name__}")


def timeline_bounds(
    kind: TimelineKind, timeline: str, start: TimeValue, end: TimeValue
) -> tuple[int | None, int | None]:
    """Both bounds of a range on ``timeline`` as stored values; ``ValueError`` if ``start`` is after ``end``."""
    lo = to_timeline_value(start, kind, arg="start", timeline=timeline)
    hi = to_timeline_value(end, kind, arg="end", timeline=timeline)
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"start ({start!r}) is after end ({end!r})")
    return lo, hi


def _datetime_ns(value: dt.datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)  # naive times are taken as UTC
    delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
