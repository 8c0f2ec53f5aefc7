"""Where a recording's chunks go: a file, or memory until a file is chosen.

Sinks are called from the batcher's thread only. A sink that fails (disk full, file
removed) warns once and then drops data, so the program keeps running; the file stays
readable up to the last complete chunk.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from typing import Protocol

from .chunk import Chunk
from .writer import RrdWriter

__all__ = ["Sink", "FileSink", "MemorySink"]

log = logging.getLogger("rrkit")


class Sink(Protocol):
    def write(self, chunks: list[Chunk]) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


class FileSink:
    """Streams chunks into an .rrd file (footer written on close)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        application_id: str,
        recording_id: str,
        start_time_ns: int,
        flush_bytes: int,
    ) -> None:
        self.path = os.fspath(path)
        # Opening here, in the caller's thread, makes a bad path fail at once.
        self._writer = RrdWriter(
            self.path,
            application_id=application_id,
            recording_id=recording_id,
            start_time_ns=start_time_ns,
            overwrite=True,
            chunk_bytes=max(flush_bytes, 1 << 20),
        )
        self._failed = False
        self._lock = threading.Lock()
        self.chunks_written = 0
        log.debug("recording to %s", self.path)

    def write(self, chunks: list[Chunk]) -> None:
        with self._lock:
            if self._failed or not chunks:
                return
            try:
                self._writer.write_chunks(chunks)
                self._writer.flush()
                self.chunks_written += len(chunks)
            except Exception as exc:
                self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        self._failed = True
        warnings.warn(
            f"rrkit: writing {self.path} failed ({exc}); logging goes on but this file gets no more data. "
            "The file is readable up to the last complete chunk.",
            RuntimeWarning,
            stacklevel=2,
        )

    def flush(self) -> None:
        with self._lock:
            if self._failed:
                return
            try:
                self._writer.flush()
            except Exception as exc:
                self._fail(exc)

    def close(self) -> None:
        with self._lock:
            try:
                if self._failed:
                    self._writer.abort()
                else:
                    self._writer.close()
            except Exception as exc:
                if not self._failed:
                    self._fail(exc)
                self._writer.abort()


class MemorySink:
    """Keeps chunks in memory, so that a sink chosen later (``rr.save``) gets them too."""

    def __init__(self) -> None:
        self.chunks: list[Chunk] = []
        self._lock = threading.Lock()

    def write(self, chunks: list[Chunk]) -> None:
        with self._lock:
            self.chunks.extend(chunks)

    def take(self) -> list[Chunk]:
        with self._lock:
            out, self.chunks = self.chunks, []
            return out

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None
