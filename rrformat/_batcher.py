"""Per-entity row buffers and the background thread that turns them into chunks.

Log calls only append Python references to lists (no Arrow work on the caller's thread
for small values); the background thread builds Arrow columns, hands chunks to the
sink, and bounds memory: above ``max_bytes_in_flight`` log calls wait.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from .chunk import ROW_ID, Chunk, TimelineKind, timeline_field
from .components import COMPONENTS

__all__ = ["Batcher", "BatcherConfig", "TimePoint", "LOG_TIME"]

log = logging.getLogger("rrkit")

LOG_TIME = "log_time"
"""The timeline every timed row is stamped on: wall-clock nanoseconds at the log call."""

TimePoint = dict[str, tuple[TimelineKind, int]]
"""A thread's current time: timeline name to (kind, value). Never mutated once shared."""


@dataclass(frozen=True, slots=True)
class BatcherConfig:
    flush_bytes: int = 1 << 20
    """Flush an entity's buffer once it holds this many bytes."""
    flush_age: float = 0.2
    """Flush an entity's buffer once its oldest row is this old (seconds)."""
    max_bytes_in_flight: int = 256 << 20
    """Log calls wait while buffered plus unwritten bytes exceed this."""


class _Buffer:
    __slots__ = ("cols", "entity", "kind", "log_times", "nbytes", "row_ids", "since", "timeless", "times")

    def __init__(self, entity: str, kind: str, timeless: bool) -> None:
        self.entity = entity
        self.kind = kind
        self.timeless = timeless
        self.row_ids: list[int] = []
        self.times: list[TimePoint] = []
        self.log_times: list[int] = []
        self.cols: dict[str, list[Any]] = {}
        self.nbytes = 0
        self.since = time.monotonic()

    def append(self, row_id: int, when: TimePoint, log_time: int, cells: dict[str, Any], nbytes: int) -> None:
        n = len(self.row_ids)
        cols = self.cols
        for name, value in cells.items():
            col = cols.get(name)
            if col is None:
                col = cols[name] = [None] * n
            col.append(value)
        if len(cols) != len(cells):
            for col in cols.values():
                if len(col) == n:
                    col.append(None)
        self.row_ids.append(row_id)
        self.times.append(when)
        self.log_times.append(log_time)
        self.nbytes += nbytes


def _build_column(name: str, cells: Sequence[Any]) -> pa.Array:
    ctype = COMPONENTS.get(name)
    batched = ctype.batched if ctype is not None else True
    if batched:
        present = [c for c in cells if c is not None]
        lengths = np.fromiter((0 if c is None else len(c) for c in cells), dtype=np.int64, count=len(cells))
        offsets = np.zeros(len(cells) + 1, dtype=np.int32)
        np.cumsum(lengths, out=offsets[1:])
        if ctype is not None:
            values = pa.concat_arrays(present) if present else pa.array([], type=ctype.instance_type)
        else:
            values = pa.concat_arrays(present)
        mask = None
        if len(present) != len(cells):
            mask = pa.array([c is None for c in cells], type=pa.bool_())
        arr = pa.ListArray.from_arrays(pa.array(offsets), values, mask=mask)
        if ctype is not None and arr.type != ctype.column_type:
            arr = arr.cast(ctype.column_type)
        return arr
    assert ctype is not None
    if any(isinstance(c, pa.Array) for c in cells):
        # Cast each one-row cell to the catalogued type so that cells built by different
        # code paths (nullable or not fixed-size-list items) concatenate.
        parts = [
            pa.nulls(1, type=ctype.column_type)
            if c is None
            else (c if isinstance(c, pa.Array) else pa.array([c], type=ctype.column_type))
            for c in cells
        ]
        return pa.concat_arrays([p if p.type == ctype.column_type else p.cast(ctype.column_type) for p in parts])
    return pa.array(cells, type=ctype.column_type)


def _time_columns(times: Sequence[TimePoint]) -> dict[str, tuple[TimelineKind, list[int | None]]]:
    names: dict[str, TimelineKind] = {}
    last: TimePoint | None = None
    for t in times:
        if t is last:
            continue  # rows logged without a time change share one snapshot
        last = t
        for k, (kind, _) in t.items():
            names.setdefault(k, kind)
    out: dict[str, tuple[TimelineKind, list[int | None]]] = {}
    for name, kind in names.items():
        out[name] = (kind, [t[name][1] if name in t else None for t in times])
    return out


def build_chunk(buf: _Buffer) -> Chunk:
    """Turn a buffer's rows into one Arrow chunk."""
    fields = [pa.field(ROW_ID, pa.uint64(), nullable=False)]
    arrays: list[pa.Array] = [pa.array(buf.row_ids, type=pa.uint64())]
    if not buf.timeless:
        for name, (kind, values) in _time_columns(buf.times).items():
            fields.append(timeline_field(name, kind))
            arrays.append(pa.array(values, type=pa.int64()))
        fields.append(timeline_field(LOG_TIME, TimelineKind.TIME))
        arrays.append(pa.array(buf.log_times, type=pa.int64()))
    for name, cells in buf.cols.items():
        arr = _build_column(name, cells)
        fields.append(pa.field(name, arr.type))
        arrays.append(arr)
    batch = pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))
    return Chunk(buf.entity, buf.kind, batch)


class Batcher:
    """Buffers rows per (entity, kind, timeless) and feeds chunks to ``write``.

    ``write`` is called on the background thread with a list of chunks; it must not raise
    (sinks report their own failures).
    """

    def __init__(self, config: BatcherConfig, write: Callable[[list[Chunk]], None], *, name: str) -> None:
        self.config = config
        self._write = write
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._room = threading.Condition(self._lock)
        self._buffers: dict[tuple[str, str, bool], _Buffer] = {}
        self._ready: list[_Buffer] = []
        self._blocks: list[Chunk] = []
        self._in_flight = 0
        self._next_row_id = 0
        self._flush_requests = 0
        self._flushes_done = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=f"rrkit-batcher-{name}", daemon=True)
        self._thread.start()

    # --- called from logging threads ------------------------------------------------------
    def add_row(
        self, entity: str, kind: str, timeless: bool, when: TimePoint, log_time: int, cells: dict[str, Any], nbytes: int
    ) -> None:
        key = (entity, kind, timeless)
        with self._lock:
            if self._in_flight > self.config.max_bytes_in_flight:
                self._wait_for_room()
            # Row ids are assigned under the lock, so they follow the order rows are queued in.
            row_id = self._next_row_id
            self._next_row_id += 1
            buf = self._buffers.get(key)
            if buf is None:
                buf = self._buffers[key] = _Buffer(entity, kind, timeless)
            buf.append(row_id, when, log_time, cells, nbytes)
            self._in_flight += nbytes
            if buf.nbytes >= self.config.flush_bytes:
                del self._buffers[key]
                self._ready.append(buf)
                self._wake.notify()

    def reserve_row_ids(self, n: int) -> int:
        """Reserve ``n`` consecutive row ids; returns the first."""
        with self._lock:
            first = self._next_row_id
            self._next_row_id += n
            return first

    def add_chunk(self, chunk: Chunk) -> None:
        """Queue an already-built chunk (columnar logging) behind the rows logged before it."""
        nbytes = chunk.batch.nbytes
        with self._lock:
            if self._in_flight > self.config.max_bytes_in_flight:
                self._wait_for_room()
            key = (chunk.entity, chunk.kind, chunk.timeless)
            buf = self._buffers.pop(key, None)
            if buf is not None:  # keep this entity's rows in logging order
                self._ready.append(buf)
            self._blocks.append(chunk)
            self._in_flight += nbytes
            self._wake.notify()

    def _wait_for_room(self) -> None:
        log.debug("more than %d bytes in flight: waiting for the writer", self.config.max_bytes_in_flight)
        self._wake.notify()
        while self._in_flight > self.config.max_bytes_in_flight and not self._stopping:
            self._room.wait(0.5)

    def flush(self, timeout: float | None = None) -> bool:
        """Write everything logged so far; returns False on timeout."""
        with self._lock:
            self._flush_requests += 1
            target = self._flush_requests
            self._wake.notify()
            deadline = None if timeout is None else time.monotonic() + timeout
            while self._flushes_done < target and self._thread.is_alive():
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._room.wait(remaining if remaining is not None else 0.5)
        return True

    def stop(self, timeout: float | None = None) -> None:
        self.flush(timeout)
        with self._lock:
            self._stopping = True
            self._wake.notify()
        self._thread.join(timeout)

    # --- the background thread -----------------------------------------------------------
    def _run(self) -> None:
        tick = max(0.005, min(0.05, self.config.flush_age / 4))
        while True:
            with self._lock:
                if not self._ready and not self._blocks and self._flush_requests == self._flushes_done:
                    if self._stopping:
                        return
                    self._wake.wait(tick)
                flush_target = self._flush_requests
                # Over the memory bound, loggers are waiting: write everything, not only aged rows.
                over = self._in_flight > self.config.max_bytes_in_flight
                take = self._take_due(all_=flush_target != self._flushes_done or over)
            self._emit(take)
            with self._lock:
                if flush_target != self._flushes_done:
                    self._flushes_done = flush_target
                self._room.notify_all()

    def _take_due(self, *, all_: bool) -> list[_Buffer | Chunk]:
        now = time.monotonic()
        due: list[_Buffer | Chunk] = []
        due.extend(self._ready)
        self._ready = []
        for key in list(self._buffers):
            buf = self._buffers[key]
            if all_ or now - buf.since >= self.config.flush_age:
                due.append(buf)
                del self._buffers[key]
        due.extend(self._blocks)
        self._blocks = []
        # Build in row-id order so that an entity's chunks stay in logging order.
        due.sort(key=lambda b: _first_row(b))
        return due

    def _emit(self, items: list[_Buffer | Chunk]) -> None:
        if not items:
            return
        chunks: list[Chunk] = []
        freed = 0
        for item in items:
            if isinstance(item, Chunk):
                chunks.append(item)
                freed += item.batch.nbytes
                continue
            freed += item.nbytes
            try:
                chunks.append(build_chunk(item))
            except Exception as exc:  # a bad value must not lose the other entities' rows
                log.warning("rrkit: dropped %d rows of %r: %s", len(item.row_ids), item.entity, exc)
        try:
            self._write(chunks)
        finally:
            with self._lock:
                self._in_flight -= freed
                self._room.notify_all()


def _first_row(item: _Buffer | Chunk) -> int:
    if isinstance(item, Chunk):
        ids = item.row_ids()
        return int(ids[0]) if len(ids) else 0
    return item.row_ids[0] if item.row_ids else 0
