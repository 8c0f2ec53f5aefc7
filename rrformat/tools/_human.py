"""Human-readable times and durations for reports."""

from __future__ import annotations

import datetime as dt

__all__ = ["format_time_ns", "format_duration_ns", "looks_like_epoch_ns"]

_EPOCH_LO = 631_152_000 * 10**9  # 1990-01-01
_EPOCH_HI = 7_258_118_400 * 10**9  # 2200-01-01


def looks_like_epoch_ns(value: int) -> bool:
    """Whether a time value reads best as a date (ns since 1970) rather than a duration from zero."""
    return _EPOCH_LO <= value < _EPOCH_HI


def format_time_ns(value: int) -> str:
    """A time timeline value: an ISO-8601 UTC date for wall-clock times, else a duration from 0.

    Examples
    --------
    >>> format_time_ns(1_700_000_000_123_456_789)
    '2023-11-14T22:13:20.123456789Z'
    >>> format_time_ns(1_500_000_000)
    '1.500s'
    """
    if not looks_like_epoch_ns(value):
        return format_duration_ns(value)
    secs, ns = divmod(value, 10**9)
    when = dt.datetime.fromtimestamp(secs, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{when}.{ns:09d}Z"


def format_duration_ns(value: int) -> str:
    """A span of nanoseconds: ``850ns``, ``1.250ms``, ``12.500s``, ``3m 05.000s``, ``2h 03m 05.000s``.

    Examples
    --------
    >>> format_duration_ns(3_723_500_000_000)
    '1h 02m 03.500s'
    >>> format_duration_ns(-2_000_000)
    '-2.000ms'
    """
    if value < 0:
        return "-" + format_duration_ns(-value)
    if value < 1_000:
        return f"{value}ns"
    if value < 1_000_000:
        return f"{value / 1e3:.3f}us"
    if value < 10**9:
        return f"{value / 1e6:.3f}ms"
    secs = value / 1e9
    if secs < 60:
        return f"{secs:.3f}s"
    minutes, secs = divmod(secs, 60)
    if minutes < 60:
        return f"{int(minutes)}m {secs:06.3f}s"
    hours, minutes = divmod(int(minutes), 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m {secs:06.3f}s"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h {minutes:02d}m"
