"""Live data: recordings arriving over TCP (``rrview --listen``), without Qt.

Connections are read on their own threads; what arrives waits in a per-recording
queue until the viewer takes it (:meth:`LiveSource.refresh`, on the GUI thread), so a
busy viewer never slows the reading of the socket. Chunk records are kept encoded (as
they arrived) and decoded only when a view needs them, through the same store as files.

Memory: a source keeps the records of its recording up to a quarter of the memory limit
(and as much again waiting for the viewer), and the process's resident memory under the
limit, purging the oldest records first (timeless ones are kept). With
``drop_at_latency`` a viewer that fell behind skips the records that waited longer than
that, so what it shows stays recent.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import logging
import os
import socket
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from rrformat import _framing as fr
from rrformat.chunk import ChunkInfo, entries_from_meta
from rrformat.errors import RrdError
from rrformat.stream import DEFAULT_MAX_RECORD_BYTES, ProtocolError, StreamReader, StreamRecord, decode_chunk_body
from rrformat.writer import RecordingInfo, RrdWriter

from .store import default_memory_limit, resident_bytes

__all__ = ["LiveServer", "LiveSource", "LiveStats", "DEFAULT_LISTEN", "parse_duration"]

log = logging.getLogger("rrview")

DEFAULT_LISTEN = ("127.0.0.1", 9876)
_HEADROOM = 64 << 20
"""Resident memory kept free under the limit for drawing (see rrview.store)."""
_KEEP_NEWEST = 2
"""Records never purged: the newest ones hold what the views show now."""


def parse_duration(text: str) -> float:
    """``"200ms"``, ``"1.5s"``, ``"2m"`` or plain seconds, to seconds; ``ValueError`` otherwise."""
    s = text.strip().lower().replace(" ", "")
    for suffix, scale in (("ms", 1e-3), ("us", 1e-6), ("s", 1.0), ("m", 60.0), ("", 1.0)):
        if s.endswith(suffix):
            number = s[: len(s) - len(suffix)] if suffix else s
            try:
                value = float(number)
            except ValueError:
                break
            if value <= 0:
                raise ValueError(f"duration {text!r} must be positive")
            return value * scale
    raise ValueError(f"duration {text!r} is not a duration: use e.g. 200ms, 1.5s or 2m")


@dataclass(slots=True)
class LiveStats:
    """What a live recording received, skipped and forgot."""

    records: int = 0
    bytes: int = 0
    dropped_records: int = 0
    """Records skipped by ``drop_at_latency`` (or because the queue outgrew its memory share)."""
    dropped_rows: int = 0
    purged_records: int = 0
    """Records forgotten, oldest first, to stay under the memory limit."""
    purged_rows: int = 0
    connections: int = 0
    """Connections open now."""

    def describe(self) -> str:
        parts = [
            f"live: {self.connections} connection{'s' if self.connections != 1 else ''}",
            f"{self.records:,} records ({self.bytes / 1e6:,.1f} MB) received",
        ]
        if self.dropped_records:
            parts.append(f"{self.dropped_rows:,} rows dropped to keep up")
        if self.purged_records:
            parts.append(f"{self.purged_rows:,} oldest rows purged to stay under the memory limit")
        return " · ".join(parts)


def _timeless(record: StreamRecord) -> bool:
    entries = record.meta.get("chunks", [])
    return bool(entries) and all(e.get("timeless") for e in entries)


@dataclass(slots=True)
class _Held:
    record: StreamRecord
    schema: pa.Schema
    infos: list[ChunkInfo]
    timeless: bool


class LiveSource:
    """One recording arriving live; reads like an :class:`~rrformat.reader.RrdReader` to the model.

    Parameters
    ----------
    name
        Shown as the recording's name ("vacuum @ 127.0.0.1:9876").
    info
        The recording (application and recording id, start time).
    memory_limit
        The viewer's memory limit in bytes.
    drop_at_latency
        Seconds a record may wait for the viewer before it is skipped (None: never).
    """

    opened_via = "stream"

    def __init__(
        self,
        name: str,
        info: RecordingInfo,
        header: dict[str, Any],
        *,
        memory_limit: int | None = None,
        drop_at_latency: float | None = None,
        bound_process: bool = True,
    ) -> None:
        self.path = name
        self.header = header
        self.recordings = [RecordingInfo(0, info.application_id, info.recording_id, info.start_time_ns)]
        self.damage = None
        self.memory_limit = memory_limit if memory_limit is not None else default_memory_limit()
        self.drop_at_latency = drop_at_latency
        self.bound_process = bound_process
        self.chunks: list[ChunkInfo] = []
        self.stats = LiveStats()
        self._lock = threading.Lock()
        self._pending: collections.deque[tuple[StreamRecord, pa.Schema, float]] = collections.deque()
        self._pending_bytes = 0
        self._held: collections.OrderedDict[int, _Held] = collections.OrderedDict()
        self._held_bytes = 0
        self._next_key = fr.PREAMBLE_SIZE
        self._purged: list[ChunkInfo] = []
        self.closed = False

    @property
    def recording_id(self) -> str:
        return self.recordings[0].recording_id

    # --- the connection threads -------------------------------------------------------
    def put(self, record: StreamRecord, schema: pa.Schema) -> None:
        """Queue a chunk record that just arrived."""
        with self._lock:
            self._pending.append((record, schema, time.monotonic()))
            self._pending_bytes += record.size
            self.stats.records += 1
            self.stats.bytes += record.size
            # A viewer that stopped taking data must not grow without end either: the
            # oldest waiting records go, except timeless ones (they hold for all time).
            if self._pending_bytes > self.memory_limit // 4:
                kept: collections.deque[tuple[StreamRecord, pa.Schema, float]] = collections.deque()
                for item in self._pending:
                    if self._pending_bytes > self.memory_limit // 4 and item is not self._pending[-1] and not (
                        _timeless(item[0])
                    ):
                        self._pending_bytes -= item[0].size
                        self._count_drop(item[0])
                    else:
                        kept.append(item)
                self._pending = kept

    def _count_drop(self, record: StreamRecord) -> None:
        self.stats.dropped_records += 1
        self.stats.dropped_rows += int(record.meta.get("rows", 0))

    # --- the viewer (GUI thread) -------------------------------------------------------
    def refresh(self) -> list[ChunkInfo]:
        """Take what arrived since the last call; returns the new index entries."""
        now = time.monotonic()
        with self._lock:
            taken = list(self._pending)
            self._pending.clear()
            self._pending_bytes = 0
        new: list[ChunkInfo] = []
        for record, schema, arrived in taken:
            timeless = _timeless(record)
            if self.drop_at_latency is not None and not timeless and now - arrived > self.drop_at_latency:
                with self._lock:
                    self._count_drop(record)
                continue
            key = self._next_key
            self._next_key += record.size
            meta = dict(record.meta, recording=0)
            infos = entries_from_meta(meta, key, record.size)
            with self._lock:
                self._held[key] = _Held(record, schema, infos, timeless)
                self._held_bytes += record.size
            self.chunks.extend(infos)
            new.extend(infos)
        self._purge()
        return new

    def take_purged(self) -> list[ChunkInfo]:
        """Index entries forgotten since the last call (the model drops them)."""
        out, self._purged = self._purged, []
        return out

    def _purge(self) -> None:
        excess = self._held_bytes - self.memory_limit // 4
        if self.bound_process:
            rss = resident_bytes()
            if rss is not None:
                excess = max(excess, rss + _HEADROOM - self.memory_limit)
        if excess <= 0:
            return
        gone: set[int] = set()
        with self._lock:
            for key in list(self._held)[: max(0, len(self._held) - _KEEP_NEWEST)]:
                if excess <= 0:
                    break
                held = self._held[key]
                if held.timeless:
                    continue
                del self._held[key]
                self._held_bytes -= held.record.size
                excess -= held.record.size
                gone.add(key)
                self._purged.extend(held.infos)
                self.stats.purged_records += 1
                self.stats.purged_rows += sum(i.rows for i in held.infos)
        if gone:
            self.chunks = [c for c in self.chunks if c.record_offset not in gone]

    def decode_record(self, key: int) -> pa.RecordBatch:
        """The Arrow batch of a held record (the store calls this and caches the result)."""
        with self._lock:
            held = self._held.get(key)
        if held is None:
            raise RrdError("this data was purged to stay under the memory limit", path=self.path)
        return decode_chunk_body(held.record, held.schema, name=self.path)

    @property
    def held_bytes(self) -> int:
        return self._held_bytes

    def close(self) -> None:
        self.closed = True
        with self._lock:
            self._pending.clear()
            self._held.clear()
            self._held_bytes = self._pending_bytes = 0


class _Saver:
    """Writes one live recording's records, as they arrive, to an .rrd file (``--save``).

    Records are copied without decoding (bodies stay as they were compressed, see
    :meth:`RrdWriter.write_encoded`); schema ids are the file's own, since several
    connections of one recording (a reconnect) may each number their schemas.
    """

    def __init__(self, path: str, info: RecordingInfo) -> None:
        self.path = path
        self._writer = RrdWriter(
            path,
            application_id=info.application_id,
            recording_id=info.recording_id,
            start_time_ns=info.start_time_ns,
            overwrite=True,
            threads=0,
        )
        self.failed: str | None = None

    def chunk(self, record: StreamRecord, schema: pa.Schema) -> None:
        if self.failed is not None:
            return
        try:
            self._writer.write_encoded(
                record.meta, record.body, schema=schema, flags=record.flags, body_crc=record.body_crc
            )
        except (OSError, RrdError) as exc:
            self.failed = str(exc)
            log.warning("rrview: saving to %s failed (%s); the file is readable up to here", self.path, exc)
        except ValueError:  # closed while a connection was still copying its last record
            pass

    def close(self) -> None:
        # The footer makes the file open at once; a crash before this leaves a file read by a scan.
        try:
            self._writer.close()
        except (RrdError, OSError) as exc:
            log.warning("rrview: could not finish %s (%s); it is readable by a scan", self.path, exc)


class LiveServer:
    """Accepts SDK connections on TCP and turns what they send into :class:`LiveSource` objects.

    Parameters
    ----------
    host, port
        Where to listen (port 0: any free port, see :attr:`port`). A port in use raises
        ``OSError`` saying so.
    memory_limit, drop_at_latency
        Passed to every :class:`LiveSource`.
    save
        Also write what arrives to this .rrd file (further recordings to ``NAME-2.rrd``...).
    max_record_bytes
        Larger records close the connection that sends them (no allocation for them).
    """

    def __init__(
        self,
        host: str = DEFAULT_LISTEN[0],
        port: int = DEFAULT_LISTEN[1],
        *,
        memory_limit: int | None = None,
        drop_at_latency: float | None = None,
        save: str | os.PathLike[str] | None = None,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        bound_process: bool = True,
    ) -> None:
        try:
            self._sock = socket.create_server((host, port))
        except OSError as exc:
            why = os.strerror(exc.errno) if exc.errno else str(exc)
            hint = " (another viewer may be listening there)" if exc.errno == errno.EADDRINUSE else ""
            raise OSError(exc.errno, f"cannot listen on {host}:{port}: {why}{hint}") from exc
        self.host = host
        self.port = int(self._sock.getsockname()[1])
        self.memory_limit = memory_limit
        self.drop_at_latency = drop_at_latency
        self.save = os.fspath(save) if save is not None else None
        self.max_record_bytes = max_record_bytes
        self.bound_process = bound_process
        self.sources: dict[str, LiveSource] = {}
        self.saved: dict[str, str] = {}
        self.events: collections.deque[str] = collections.deque(maxlen=100)
        self._new: list[LiveSource] = []
        self._savers: dict[str, _Saver] = {}
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
        self._closed = False
        self._thread = threading.Thread(target=self._accept, name="rrview-listen", daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def take_new(self) -> list[LiveSource]:
        """Recordings that started arriving since the last call."""
        with self._lock:
            out, self._new = self._new, []
            return out

    def _event(self, text: str, *, warn: bool = False) -> None:
        self.events.append(text)
        (log.warning if warn else log.info)("rrview: %s", text)

    # --- threads ------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, peer = self._sock.accept()
            except OSError:
                return
            name = f"{peer[0]}:{peer[1]}"
            with self._lock:
                self._conns.add(conn)
            t = threading.Thread(target=self._serve, args=(conn, name), name=f"rrview-conn-{name}", daemon=True)
            self._threads.add(t)
            t.start()

    def _serve(self, conn: socket.socket, name: str) -> None:
        self._event(f"connection from {name}")
        sources: list[LiveSource] = []
        reason = "closed by the peer"
        try:
            self._read(conn, name, sources)
        except ProtocolError as exc:
            reason = f"refused: {exc.reason}"
        except OSError as exc:
            reason = f"lost: {exc}"
        except Exception as exc:  # one bad connection must not take the viewer down
            reason = f"failed: {exc!r}"
        finally:
            with self._lock:
                self._conns.discard(conn)
                for s in sources:
                    s.stats.connections -= 1
            with contextlib.suppress(OSError):
                conn.close()
        if not self._closed:
            self._event(f"connection from {name} {reason}", warn=reason.startswith(("refused", "failed")))

    def _read(self, conn: socket.socket, name: str, sources: list[LiveSource]) -> None:
        reader = StreamReader(read_into=conn.recv_into, name=name, max_record_bytes=self.max_record_bytes)
        reader.read_preamble()
        header: dict[str, Any] = {}
        schemas: dict[int, pa.Schema] = {}
        recordings: dict[int, LiveSource] = {}
        while True:
            rec = reader.next_record()
            if rec is None:
                return
            kind = rec.kind
            if kind == fr.RecordKind.HEADER:
                header = rec.meta
            elif kind == fr.RecordKind.RECORDING:
                try:
                    info = RecordingInfo.from_json(rec.meta)
                except (KeyError, TypeError, ValueError) as exc:
                    raise ProtocolError(f"bad recording record: {exc}", path=name) from exc
                source = self._source(info, header, name)
                recordings[info.index] = source
                sources.append(source)
            elif kind == fr.RecordKind.SCHEMA:
                try:
                    sid = int(rec.meta["schema"])
                    schema = pa.ipc.read_schema(pa.py_buffer(rec.body))
                except (KeyError, TypeError, ValueError, pa.ArrowException) as exc:
                    raise ProtocolError(f"bad schema record: {exc}", path=name) from exc
                schemas[sid] = schema
            elif kind == fr.RecordKind.CHUNK:
                try:
                    source = recordings[int(rec.meta["recording"])]
                    schema = schemas[int(rec.meta["schema"])]
                    entries_from_meta(rec.meta, 0, rec.size)  # a malformed index is refused here, not in the GUI
                except (KeyError, TypeError, ValueError) as exc:
                    raise ProtocolError(
                        f"chunk record refers to unknown recording or schema, or its meta is bad: {exc}", path=name
                    ) from exc
                saver = self._savers.get(source.recording_id)
                if saver is not None:
                    saver.chunk(rec, schema)
                source.put(rec, schema)
            # Footers, trailers (a file piped into the port) and unknown kinds carry nothing new.

    def _source(self, info: RecordingInfo, header: dict[str, Any], peer: str) -> LiveSource:
        with self._lock:
            source = self.sources.get(info.recording_id)
            if source is None:
                source = LiveSource(
                    f"{info.application_id} @ {self.address}",
                    info,
                    header,
                    memory_limit=self.memory_limit,
                    drop_at_latency=self.drop_at_latency,
                    bound_process=self.bound_process,
                )
                # New first: whoever sees it in ``sources`` then finds it in take_new().
                self._new.append(source)
                self.sources[info.recording_id] = source
                if self.save is not None:
                    path = self._save_path(len(self._savers))
                    try:
                        self._savers[info.recording_id] = _Saver(path, info)
                        self.saved[info.recording_id] = path
                        self._event(f"saving {info.application_id} ({info.recording_id}) to {path}")
                    except OSError as exc:
                        self._event(f"cannot save to {path}: {exc}", warn=True)
            source.stats.connections += 1
            return source

    def _save_path(self, n: int) -> str:
        assert self.save is not None
        if n == 0:
            return self.save
        stem, ext = os.path.splitext(self.save)
        return f"{stem}-{n + 1}{ext or '.rrd'}"

    def close(self) -> None:
        """Stop listening, close every connection and finish the saved files."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        # Connections whose peer is done still have its last records in the socket: read them.
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            with self._lock:
                if not self._conns:
                    break
            time.sleep(0.01)
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
        self._thread.join(2.0)
        for t in list(self._threads):
            t.join(2.0)  # each finishes the record it was copying
        for saver in self._savers.values():
            saver.close()
