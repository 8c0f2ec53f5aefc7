"""Error types raised by the .rrd file layer.

Every error that concerns a file names the file and, where it applies, the byte
offset at which the problem was found, so a user can tell which of many files is
damaged and where.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "RrdError",
    "NotAnRrdFileError",
    "CorruptFileError",
    "TruncatedFileError",
    "UnsupportedVersionError",
    "SchemaError",
]


class RrdError(Exception):
    """Base class of every error raised about an .rrd file."""

    def __init__(self, message: str, *, path: str | Path | None = None, offset: int | None = None) -> None:
        self.path = str(path) if path is not None else None
        self.offset = offset
        self.reason = message
        where = ""
        if self.path is not None:
            where = f"{self.path}"
            if offset is not None:
                where += f" at byte {offset}"
            where += ": "
        super().__init__(where + message)


class NotAnRrdFileError(RrdError):
    """The file does not start with the .rrd magic bytes."""


class CorruptFileError(RrdError):
    """A record's checksum or structure is wrong: the bytes were damaged."""


class TruncatedFileError(RrdError):
    """The file ends inside a record: the writer stopped before finishing it."""


class UnsupportedVersionError(RrdError):
    """The file was written with a newer major format version than this reader knows."""


class SchemaError(ValueError):
    """A chunk's columns do not follow the rules of the format (bad type, missing row id...)."""
