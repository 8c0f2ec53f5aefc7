"""Where a recording's chunks go: a file, a live viewer over TCP, or memory until a file is chosen.

Sinks are called from the batcher's thread only. A sink that fails (disk full, file
removed) warns once and then drops data, so the program keeps running; the file stays
readable up to the last complete chunk.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import os
import socket
import threading
import time
import warnings
from collections.abc import Sequence
from typing import Protocol

import pyarrow as pa

from . import _framing as fr
from .chunk import Chunk
from .writer import RrdWriter

__all__ = ["Sink", "FileSink", "MemorySink", "TcpSink", "parse_address", "DEFAULT_PORT"]

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


DEFAULT_PORT = 9876
"""The port ``rrview --listen`` and ``rr.connect`` use by default."""
DEFAULT_TCP_BUFFER = 64 << 20
"""Bytes of encoded chunks a TCP sink holds for a slow or absent viewer before dropping the oldest."""
_RETRY_SECONDS = 1.0
_Pieces = list[memoryview]
"""One record as the writer framed it: header and meta, body, padding."""
"""How often a sink with no viewer tries to connect again."""


def parse_address(addr: str | None, *, arg: str = "addr") -> tuple[str, int]:
    """``"HOST:PORT"``, ``"PORT"`` or ``":PORT"`` (host 127.0.0.1), None for the default.

    Raises ``ValueError`` naming ``arg`` and the accepted forms.
    """
    if addr is None:
        return "127.0.0.1", DEFAULT_PORT
    if not isinstance(addr, str) or not addr.strip():
        raise ValueError(f"argument {arg!r}: got {addr!r}; expected 'HOST:PORT', e.g. '127.0.0.1:{DEFAULT_PORT}'")
    text = addr.strip()
    if text.startswith("tcp://"):
        text = text[len("tcp://") :]
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = "", text
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise ValueError(
            f"argument {arg!r}: got {addr!r}; expected 'HOST:PORT' with a port from 0 to 65535, "
            f"e.g. '127.0.0.1:{DEFAULT_PORT}'"
        )
    return host, port


class TcpSink:
    """Streams a recording's records to a viewer listening on TCP (``rrview --listen``).

    The robot is never held up by the viewer: records are encoded on the batcher's
    thread and queued; a sender thread writes them to the socket. While the viewer is
    slow or absent the queue holds at most ``buffer_bytes`` of chunk records, then the
    oldest are dropped (one warning, counted in :attr:`dropped_records`). The records
    that make the stream readable (preamble, header, recording, schemas) are never
    dropped: they are kept and sent again first on every new connection, so a viewer
    restarted on the same port gets data again from the next flush on.
    """

    def __init__(
        self,
        addr: str | None,
        *,
        application_id: str,
        recording_id: str,
        start_time_ns: int,
        flush_bytes: int,
        buffer_bytes: int = DEFAULT_TCP_BUFFER,
        connect_timeout: float = 2.0,
        close_timeout: float = 5.0,
    ) -> None:
        self.host, self.port = parse_address(addr)
        self.address = f"{self.host}:{self.port}"
        self.buffer_bytes = buffer_bytes
        self.connect_timeout = connect_timeout
        self.close_timeout = close_timeout
        self._cond = threading.Condition()
        self._control: list[_Pieces] = []  # the records every connection must get first
        # (chunk record, its size, the number of control records before it)
        self._queue: collections.deque[tuple[_Pieces, int, int]] = collections.deque()
        self._queued_bytes = 0
        self._sent_control = 0
        self._sock: socket.socket | None = None
        self._next_try = 0.0
        self._closing = False
        self._close_deadline = math.inf
        self._warned_drop = False
        self._warned_down = False
        self.dropped_records = 0
        self.dropped_bytes = 0
        self.sent_records = 0
        self.connections = 0
        self._writer = RrdWriter.to_stream(
            self,
            application_id=application_id,
            recording_id=recording_id,
            start_time_ns=start_time_ns,
            name=f"tcp://{self.address}",
            chunk_bytes=max(flush_bytes, 1 << 20),
        )
        # A first attempt in the caller's thread: an unreachable viewer is reported at once.
        with self._cond:
            self._connect()
        self._thread = threading.Thread(target=self._run, name=f"rrkit-tcp-{self.address}", daemon=True)
        self._thread.start()

    # --- RecordOutput: called by the stream writer, on the batcher's thread ----------------
    def write_record(self, kind: fr.RecordKind | None, pieces: Sequence[bytes | memoryview | pa.Buffer]) -> None:
        # The pieces are kept as they are (the encoded body is not copied): each record's
        # buffers are its own and nobody writes to them again.
        views = [memoryview(p).cast("B") for p in pieces]  # type: ignore[arg-type]
        size = sum(v.nbytes for v in views)
        with self._cond:
            if kind is not fr.RecordKind.CHUNK:
                self._control.append(views)
            else:
                self._queue.append((views, size, len(self._control)))
                self._queued_bytes += size
                while self._queued_bytes > self.buffer_bytes and len(self._queue) > 1:
                    _, old, _ = self._queue.popleft()
                    self._queued_bytes -= old
                    self._count_drop(old, "the viewer does not keep up")
            self._cond.notify_all()

    def _count_drop(self, nbytes: int, why: str) -> None:
        self.dropped_records += 1
        self.dropped_bytes += nbytes
        if not self._warned_drop:
            self._warned_drop = True
            warnings.warn(
                f"rrkit: streaming to {self.address}: {why}; the oldest unsent data is being dropped "
                f"(more than {self.buffer_bytes >> 20} MiB waiting). Files being recorded lose nothing. "
                "The count is in the debug log (RRKIT_LOG=debug) when the recording closes.",
                RuntimeWarning,
                stacklevel=2,
            )

    # --- Sink ------------------------------------------------------------------------
    def write(self, chunks: list[Chunk]) -> None:
        if not chunks:
            return
        try:
            self._writer.write_chunks(chunks)
            self._writer.flush()
        except Exception as exc:  # an encoding problem must not stop the other sinks
            log.warning("rrkit: streaming to %s: %s", self.address, exc)

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until every queued record was sent (or the viewer is gone, or ``timeout``)."""
        try:
            self._writer.flush()
        except Exception as exc:
            log.warning("rrkit: streaming to %s: %s", self.address, exc)
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue and self._sock is not None and time.monotonic() < deadline:
                self._cond.wait(0.05)

    def close(self) -> None:
        try:
            self._writer.close()
        except Exception as exc:
            log.warning("rrkit: streaming to %s: %s", self.address, exc)
        with self._cond:
            self._closing = True
            self._close_deadline = time.monotonic() + self.close_timeout
            self._cond.notify_all()
        self._thread.join(self.close_timeout + 1.0)
        with self._cond:
            if self._queue:
                self.dropped_records += len(self._queue)
                self.dropped_bytes += self._queued_bytes
                self._queue.clear()
            self._disconnect()
        if self.dropped_records:
            log.warning(
                "rrkit: streaming to %s dropped %d chunk records (%.1f MB) the viewer did not receive",
                self.address,
                self.dropped_records,
                self.dropped_bytes / 1e6,
            )
        log.debug("stream to %s closed: %d chunk records sent", self.address, self.sent_records)

    @property
    def connected(self) -> bool:
        return self._sock is not None

    # --- the connection (under self._cond) ----------------------------------------------
    def _connect(self) -> bool:
        self._next_try = time.monotonic() + _RETRY_SECONDS
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except OSError as exc:
            if not self._warned_down and not self._closing:
                self._warned_down = True
                warnings.warn(
                    f"rrkit: no viewer at {self.address} ({exc.strerror or exc}); logging goes on "
                    "(to the file too, if one is recorded) and the connection is retried every second. "
                    f"Start one with 'rrview --listen {self.address}'.",
                    RuntimeWarning,
                    stacklevel=3,
                )
            return False
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(0.25)  # sends wake up to notice closing; a slow viewer just takes longer
        self._sock = sock
        self._sent_control = 0
        self.connections += 1
        self._warned_down = False
        log.debug("connected to the viewer at %s", self.address)
        return True

    def _disconnect(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None

    def _send(self, pieces: _Pieces) -> bool:
        """Send a record; False when the viewer is gone or closing ran out of time."""
        sock = self._sock
        assert sock is not None
        for piece in pieces:
            view = piece
            while view.nbytes:
                try:
                    n = sock.send(view)
                except TimeoutError:
                    if self._closing and time.monotonic() > self._close_deadline:
                        return False
                    continue
                except OSError as exc:
                    log.warning("rrkit: the viewer at %s went away (%s); reconnecting every second", self.address, exc)
                    return False
                view = view[n:]
        return True

    # --- the sender thread --------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    now = time.monotonic()
                    if self._closing and (not self._queue or now > self._close_deadline):
                        return
                    reconnect = self._sock is None and now >= self._next_try and (self._queue or self._closing)
                    if reconnect and not self._connect() and self._closing:
                        return  # nobody listens: closing must not wait
                    if self._sock is not None and (self._queue or self._sent_control < len(self._control)):
                        break
                    self._cond.wait(0.1 if self._sock is None else 0.5)
                item = self._queue.popleft() if self._queue else None
                if item is not None:
                    self._queued_bytes -= item[1]
                need = item[2] if item is not None else len(self._control)
                controls = self._control[self._sent_control : need]
            # Sending happens outside the lock: the batcher keeps queueing (and dropping).
            ok = all(self._send(c) for c in controls)
            if ok and item is not None:
                ok = self._send(item[0])
            with self._cond:
                if ok:
                    self._sent_control = max(self._sent_control, need)
                    if item is not None:
                        self.sent_records += 1
                else:
                    if item is not None:
                        self.dropped_records += 1
                        self.dropped_bytes += item[1]
                    self._disconnect()
                self._cond.notify_all()
