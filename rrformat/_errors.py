"""How the logging SDK reports bad input: a warning by default, an exception when strict.

A logging SDK must never take the robot down, so by default a bad call is dropped with
a :class:`RecordingWarning` that names the function, the argument, what it received and
what was expected. ``rr.init(..., strict=True)`` raises :class:`RecordingError` instead.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    from ._recording import RecordingStream

__all__ = ["RecordingWarning", "RecordingError", "ArgumentError", "describe_value", "log_function", "report"]


class RecordingWarning(UserWarning):
    """A log call was dropped because of bad input (or the sink failed)."""


class RecordingError(ValueError):
    """Raised instead of :class:`RecordingWarning` when the recording is strict."""


class ArgumentError(Exception):
    """Internal: one argument of a log call is wrong. Turned into a warning or an error."""

    def __init__(self, arg: str, got: str, expected: str) -> None:
        super().__init__(arg, got, expected)
        self.arg = arg
        self.got = got
        self.expected = expected


def describe_value(value: Any) -> str:
    """A short description of a received value for error messages."""
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        return f"an array of shape {tuple(shape)} and dtype {dtype}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def report(stream: RecordingStream | None, message: str, *, stacklevel: int = 3) -> None:
    """Warn, or raise if the stream is strict."""
    if stream is not None and stream.strict:
        raise RecordingError(message)
    warnings.warn(message, RecordingWarning, stacklevel=stacklevel)


P = ParamSpec("P")
R = TypeVar("R")


def log_function(fn: Callable[P, R]) -> Callable[P, R | None]:
    """Decorate a log function: argument errors become a warning (or, strict, an error).

    The wrapped function receives the resolved stream in ``recording=``; if recording is
    disabled it is not called at all.
    """
    name = fn.__name__
    from . import _recording  # late: _recording imports this module

    resolve = _recording.resolve

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
        # The common case inline (an open, enabled stream): this runs on every log call.
        given: RecordingStream | None = kwargs.get("recording")  # type: ignore[assignment]
        stream = given if given is not None else _recording._global
        if stream is None or not stream.enabled or stream._closed:
            stream = resolve(given)
            if stream is None:
                return None
        kwargs["recording"] = stream
        try:
            return fn(*args, **kwargs)
        except ArgumentError as exc:
            report(
                stream, f"{name}: argument {exc.arg!r}: got {exc.got}; expected {exc.expected}. The call was dropped."
            )
        except Exception as exc:
            # Anything else (a wrong keyword, an unexpected type deep in a conversion) must
            # not stop the robot either, unless the user asked for strictness.
            if stream.strict:
                raise
            report(stream, f"{name}: {type(exc).__name__}: {exc}. The call was dropped.")
        return None

    return wrapper
