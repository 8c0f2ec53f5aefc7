"""Module-level lifecycle and time functions acting on the global recording (or ``recording=``)."""

from __future__ import annotations

import os

from . import _recording
from ._errors import ArgumentError, describe_value, report
from ._recording import RecordingStream, get_global_recording, resolve, set_global_recording
from .chunk import TimelineKind

_SEQUENCE = TimelineKind.SEQUENCE

__all__ = [
    "init",
    "save",
    "flush",
    "disconnect",
    "connect",
    "spawn",
    "show",
    "set_time_sequence",
    "set_time_seconds",
    "set_time_nanos",
    "reset_time",
    "is_enabled",
]


def init(
    application_id: str,
    *,
    recording_id: str | None = None,
    save: str | os.PathLike[str] | None = None,
    spawn: bool = False,
    default_enabled: bool = True,
    strict: bool = False,
    flush_bytes: int | None = None,
    flush_age: float | None = None,
    max_bytes_in_flight: int | None = None,
) -> RecordingStream:
    """Start the global recording that the module-level log functions write to.

    Parameters
    ----------
    application_id
        Name of your program, e.g. ``"vacuum"``.
    recording_id
        Unique id of this run (default: a random UUID).
    save
        Stream everything to this .rrd file from the first call. An unwritable path
        raises ``OSError`` at once, naming the path and the reason.
    spawn
        Start a live viewer (``rrview --listen``) unless one listens, and stream to it
        (see :func:`spawn`).
    default_enabled
        With False, or environment ``RRKIT_ENABLED=0``, every log call is a cheap no-op.
    strict
        Raise :class:`RecordingError` on bad input instead of a :class:`RecordingWarning`.
    flush_bytes, flush_age, max_bytes_in_flight
        Batching limits (see :class:`RecordingStream`).

    Returns
    -------
    RecordingStream
        The new global recording (a previous global recording is closed).

    Examples
    --------
    >>> import rrformat as rr
    >>> rr.init("vacuum", save="run.rrd")  # doctest: +SKIP
    >>> rr.set_time_sequence("frame", 0)  # doctest: +SKIP
    >>> rr.log_points("world/points", [[0, 0, 0], [1, 0, 0]])  # doctest: +SKIP
    """
    stream = RecordingStream(
        application_id,
        recording_id=recording_id,
        save=save,
        default_enabled=default_enabled,
        strict=strict,
        flush_bytes=flush_bytes,
        flush_age=flush_age,
        max_bytes_in_flight=max_bytes_in_flight,
    )
    previous = set_global_recording(stream)
    if previous is not None and previous is not stream:
        previous.disconnect()
    if spawn:
        stream.spawn()
    return stream


def _stream(recording: RecordingStream | None) -> RecordingStream | None:
    return resolve(recording)


def save(path: str | os.PathLike[str], *, recording: RecordingStream | None = None) -> None:
    """Stream the recording to an .rrd file; data logged before this call is written too."""
    s = _stream(recording)
    if s is not None:
        s.save(path)


def flush(*, timeout: float | None = None, recording: RecordingStream | None = None) -> None:
    """Write everything logged so far, so that a reader of the file sees it."""
    s = _stream(recording)
    if s is not None:
        s.flush(timeout=timeout)


def disconnect(*, recording: RecordingStream | None = None) -> None:
    """Flush, write the footer and close the recording's file."""
    s = recording if recording is not None else get_global_recording()
    if s is not None:
        s.disconnect()


def connect(addr: str | None = None, *, recording: RecordingStream | None = None) -> None:
    """Stream the recording to a viewer listening on TCP (``rrview --listen``), besides any file.

    Data logged before the call is sent too. The program is never held up by the viewer:
    at most 64 MiB (``RRKIT_TCP_BUFFER``) wait for a slow or absent one, beyond which the
    oldest unsent data is dropped with one warning; a file given to ``save`` keeps
    everything. An unreachable viewer is a warning and the connection is retried every
    second, so a viewer started (or restarted) later gets data from the next flush on.

    Parameters
    ----------
    addr
        ``"HOST:PORT"``; default ``"127.0.0.1:9876"``, where ``rrview --listen`` listens.

    Examples
    --------
    >>> import rrformat as rr
    >>> rr.init("vacuum", save="run.rrd")  # doctest: +SKIP
    >>> rr.connect()  # doctest: +SKIP
    """
    s = _stream(recording)
    if s is not None:
        s.connect(addr)


def spawn(addr: str | None = None, *, recording: RecordingStream | None = None) -> None:
    """Start a viewer (``rrview --listen ADDR``) unless one listens there, and stream to it.

    The viewer is a separate process and stays open after the program ends.
    """
    s = _stream(recording)
    if s is not None:
        s.spawn(addr)


def show(*, recording: RecordingStream | None = None) -> None:
    """Open a viewer on everything logged so far and wait until its window is closed.

    Examples
    --------
    >>> import rrformat as rr
    >>> rr.init("my_app")  # doctest: +SKIP
    >>> rr.log_points("points", [[0, 0, 0], [1, 1, 1]])  # doctest: +SKIP
    >>> rr.show()  # doctest: +SKIP
    """
    s = _stream(recording)
    if s is not None:
        s.show()


def is_enabled(*, recording: RecordingStream | None = None) -> bool:
    """Whether log calls to this recording record anything."""
    return resolve(recording) is not None


def _int_time(value: object, func: str, arg: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or (not isinstance(value, (int,)) and not hasattr(value, "__index__")):
        raise ArgumentError(arg, describe_value(value), "an integer, or None to remove the timeline")
    return int(value)  # type: ignore[call-overload]


def set_time_sequence(timeline: str, sequence: int | None, *, recording: RecordingStream | None = None) -> None:
    """Set the calling thread's position on a sequence timeline (frame numbers...).

    Every later log call from this thread is stamped with it. ``None`` removes the timeline.

    Examples
    --------
    >>> rr.set_time_sequence("frame_idx", 42)  # doctest: +SKIP
    """
    s = recording if recording is not None else _recording._global
    if (
        s is not None
        and type(sequence) is int
        and type(timeline) is str
        and s._settable.get(timeline) is _SEQUENCE
        and s.enabled
        and not s._closed
    ):
        # The common call, once per frame: an int on a timeline that passed the checks of
        # RecordingStream._set_time before. What _set_time does then, inline.
        tls = s._tls
        new = dict(getattr(tls, "time", _recording._EMPTY))  # copy on write, as in _set_time
        new[timeline] = (_SEQUENCE, sequence)
        tls.time = new
        return
    s = resolve(recording)
    if s is None:
        return
    if type(sequence) is not int:  # an int is the common case: no conversion
        try:
            sequence = _int_time(sequence, "set_time_sequence", "sequence")
        except ArgumentError as exc:
            report(s, f"set_time_sequence: argument {exc.arg!r}: got {exc.got}; expected {exc.expected}")
            return
    s._set_time(timeline, TimelineKind.SEQUENCE, sequence, "set_time_sequence")


def set_time_seconds(timeline: str, seconds: float | None, *, recording: RecordingStream | None = None) -> None:
    """Set the calling thread's time on a time timeline, in seconds (stored as nanoseconds).

    ``None`` removes the timeline.

    Examples
    --------
    >>> rr.set_time_seconds("sensor_time", 1700000000.25)  # doctest: +SKIP
    """
    s = _stream(recording)
    if s is None:
        return
    value: int | None = None
    if seconds is not None:
        try:
            f = float(seconds)
        except (TypeError, ValueError):
            report(s, f"set_time_seconds: argument 'seconds': got {describe_value(seconds)}; expected a number or None")
            return
        if f != f or f in (float("inf"), float("-inf")):
            report(s, f"set_time_seconds: argument 'seconds': got {f!r}; expected a finite number or None")
            return
        value = round(f * 1e9)
    s._set_time(timeline, TimelineKind.TIME, value, "set_time_seconds")


def set_time_nanos(timeline: str, nanos: int | None, *, recording: RecordingStream | None = None) -> None:
    """Set the calling thread's time on a time timeline, in integer nanoseconds.

    ``None`` removes the timeline.
    """
    s = _stream(recording)
    if s is None:
        return
    try:
        s._set_time(timeline, TimelineKind.TIME, _int_time(nanos, "set_time_nanos", "nanos"), "set_time_nanos")
    except ArgumentError as exc:
        report(s, f"set_time_nanos: argument {exc.arg!r}: got {exc.got}; expected {exc.expected}")


def reset_time(*, recording: RecordingStream | None = None) -> None:
    """Clear every timeline set on the calling thread (``log_time`` is always stamped)."""
    s = _stream(recording)
    if s is not None:
        s.reset_time()
