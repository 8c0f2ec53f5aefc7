"""log_text_entry: a line of a text log, with a level and an optional colour."""

from __future__ import annotations

from typing import Any

from . import _convert as cv
from ._errors import ArgumentError, describe_value, log_function
from ._recording import RecordingStream

__all__ = ["LogLevel", "LOG_LEVELS", "log_text_entry", "log_level"]


class LogLevel:
    """The levels of a text entry, from least to most severe.

    Examples
    --------
    >>> LogLevel.WARN
    'WARN'
    """

    TRACE = "TRACE"
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"


LOG_LEVELS = (LogLevel.TRACE, LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR, LogLevel.CRITICAL)
"""Every level, least severe first (the ``level`` component holds one of these)."""

# Python's logging module spells one level differently; accepting it lets log records pass through.
_ALIASES = {"WARNING": LogLevel.WARN}


def log_level(value: Any, arg: str = "level") -> str:
    """The canonical spelling of a level (case-insensitive), or ArgumentError."""
    if isinstance(value, str):
        key = value.strip().upper()
        if key in LOG_LEVELS:
            return key
        if key in _ALIASES:
            return _ALIASES[key]
    raise ArgumentError(arg, describe_value(value), f"one of {', '.join(LOG_LEVELS)} (any case), or None")


@log_function
def log_text_entry(
    entity_path: str,
    text: str,
    *,
    level: str | None = LogLevel.INFO,
    color: Any = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log one entry of a text log (shown in a text view, one line per entry, with its time).

    Parameters
    ----------
    entity_path
        Path of the log, e.g. ``"logs/planner"``.
    text
        The message (any length; newlines are kept).
    level
        ``"TRACE"``, ``"DEBUG"``, ``"INFO"`` (default), ``"WARN"``, ``"ERROR"`` or
        ``"CRITICAL"``, in any case; the :class:`LogLevel` constants name them.
        ``"WARNING"`` is accepted as ``"WARN"``. None stores no level.
    color
        Optional colour of the entry: RGB or RGBA, uint8 0-255 or float 0-1.
    timeless
        Log for all timelines instead of at the current time.
    recording
        The recording to log to (default: the global one).

    Notes
    -----
    Stored as data kind ``text_entry`` with components ``text``, ``level`` and ``color``.

    Examples
    --------
    >>> rr.log_text_entry("logs/planner", "path blocked, replanning", level=rr.LogLevel.WARN)  # doctest: +SKIP
    >>> rr.log_text_entry("logs/planner", "goal reached", color=[0, 200, 0])  # doctest: +SKIP
    """
    assert recording is not None
    entity = recording.entity(entity_path)
    if not isinstance(text, str):
        raise ArgumentError("text", describe_value(text), "a string")
    cells: dict[str, Any] = {"text": text}
    if level is not None:
        cells["level"] = log_level(level)
    if color is not None:
        cells["color"] = cv.color(color, "color")
    recording.log_row(entity, "text_entry", cells, timeless=timeless, nbytes=len(text) + 64)
