"""Per-entity row buffers and the background thread that turns them into chunks.

Log calls only append Python references to lists (no Arrow work on the caller's thread
for small values); the background thread builds Arrow columns, hands chunks to the
sink, and bounds memory: above ``max_bytes_in_flight`` log calls wait.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from .chunk import ROW_ID, Chunk, TimelineKind, timeline_field
from .components import COMPONENTS, ComponentType

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
    """The queued rows of one (entity, kind, timeless): plain Python lists, one per column.

    Timeline values are split into their columns as rows arrive (not kept as the
    thread's time dicts): a row then holds no container the garbage collector tracks,
    which keeps millions of queued small rows cheap.
    """

    __slots__ = (
        "cols",
        "entity",
        "kind",
        "log_times",
        "nbytes",
        "row_ids",
        "since",
        "tcols",
        "timeless",
        "tkinds",
    )

    def __init__(self, entity: str, kind: str, timeless: bool) -> None:
        self.entity = entity
        self.kind = kind
        self.timeless = timeless
        self.row_ids: list[int] = []
        self.tcols: dict[str, list[int | None]] = {}
        self.tkinds: dict[str, TimelineKind] = {}
        self.log_times: list[int] = []
        self.cols: dict[str, list[Any]] = {}
        self.nbytes = 0
        self.since = time.monotonic()

    def append(self, row_id: int, when: TimePoint, log_time: int, cells: dict[str, Any], nbytes: int) -> None:
        n = len(self.row_ids)
        tcols = self.tcols
        if when:
            for name, (kind, value) in when.items():
                tcol = tcols.get(name)
                if tcol is None:
                    tcol = tcols[name] = [None] * n
                    self.tkinds[name] = kind
                tcol.append(value)
        if len(tcols) != len(when):  # a timeline set for earlier rows is not set for this one
            for tcol in tcols.values():
                if len(tcol) == n:
                    tcol.append(None)
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
        self.log_times.append(log_time)
        self.nbytes += nbytes

    def layout(self) -> tuple[Any, ...] | None:
        """What fixes the schema of this buffer's chunk, or None when it depends on the values.

        Catalogued components always get their catalogued column type and timelines
        are int64 of their recording-wide kind, so two buffers with the same layout
        build chunks of the same schema (user extension components may not).
        """
        if any(name not in COMPONENTS for name in self.cols):
            return None
        return (self.kind, self.timeless, tuple(self.tkinds.items()), tuple(self.cols))


_COLUMN_TYPES: dict[str, pa.DataType] = {name: c.column_type for name, c in COMPONENTS.items()}


def _to_arrow(cell: Any, instance_type: pa.DataType | None) -> pa.Array:
    """A cell of a batched component as an Arrow array of its instances.

    Besides Arrow arrays, a cell may be a numpy array (``(n,)``, or ``(n, k)`` for a
    fixed-size-list component) or a tuple: *one* instance of a fixed-size-list
    component, as Python numbers (the fast path of one small vector per call).
    """
    if isinstance(cell, pa.Array):
        return cell
    if type(cell) is tuple:
        assert instance_type is not None and pa.types.is_fixed_size_list(instance_type)
        return pa.FixedSizeListArray.from_arrays(pa.array(cell, type=instance_type.value_type), type=instance_type)
    arr = np.ascontiguousarray(cell)
    if instance_type is not None and pa.types.is_fixed_size_list(instance_type):
        flat = pa.array(arr.reshape(-1), type=instance_type.value_type)
        return pa.FixedSizeListArray.from_arrays(flat, type=instance_type)
    return pa.array(arr.reshape(-1) if arr.ndim > 1 else arr, type=instance_type)


def _instances(ctype: ComponentType | None, present: list[Any], kinds: set[type]) -> pa.Array:
    """The instances of all rows of a batched column, concatenated (``kinds``: the cells' types)."""
    instance_type = ctype.instance_type if ctype is not None else None
    if not present:
        assert instance_type is not None
        return pa.array([], type=instance_type)
    if len(present) == 1:
        # One row (a large cloud, an image): wrap it, concatenating would copy it.
        return _to_arrow(present[0], instance_type)
    if kinds == {tuple}:
        # One small vector per row: their numbers make one flat array.
        assert instance_type is not None
        flat = np.fromiter(
            itertools.chain.from_iterable(present),
            dtype=instance_type.value_type.to_pandas_dtype(),
            count=len(present) * instance_type.list_size,
        )
        return _to_arrow(flat.reshape(len(present), -1), instance_type)
    if kinds == {np.ndarray}:
        # Many small numpy cells: one numpy concatenation, one Arrow array.
        return _to_arrow(np.concatenate(present), instance_type)
    if kinds == {np.ndarray, tuple} and instance_type is not None and pa.types.is_fixed_size_list(instance_type):
        dtype = instance_type.value_type.to_pandas_dtype()
        width = instance_type.list_size
        rows = [np.array(c, dtype=dtype).reshape(1, width) if type(c) is tuple else c for c in present]
        return _to_arrow(np.concatenate(rows), instance_type)
    arrays = [_to_arrow(c, instance_type) for c in present]
    first = arrays[0].type
    if instance_type is not None and any(a.type != first for a in arrays):
        # Cells built by different code paths may differ in child nullability only.
        arrays = [a if a.type == instance_type else a.cast(instance_type) for a in arrays]
    return pa.concat_arrays(arrays)


def _build_column(name: str, cells: Sequence[Any]) -> pa.Array:
    ctype = COMPONENTS.get(name)
    batched = ctype.batched if ctype is not None else True
    if batched:
        n = len(cells)
        present = [c for c in cells if c is not None]
        kinds = set(map(type, present))
        if kinds == {tuple} and len(present) == n:  # one instance per row
            offsets = np.arange(n + 1, dtype=np.int32)
        else:
            if tuple in kinds:  # a tuple cell is one instance
                lengths = np.fromiter(
                    (0 if c is None else 1 if type(c) is tuple else len(c) for c in cells), dtype=np.int64, count=n
                )
            elif len(present) == n:
                lengths = np.fromiter(map(len, cells), dtype=np.int64, count=n)
            else:
                lengths = np.fromiter((0 if c is None else len(c) for c in cells), dtype=np.int64, count=n)
            offsets = np.zeros(n + 1, dtype=np.int32)
            np.cumsum(lengths, out=offsets[1:])
        values = _instances(ctype, present, kinds)
        mask = None
        if len(present) != n:
            mask = pa.array(np.fromiter((c is None for c in cells), dtype=np.bool_, count=n))
        if ctype is not None and values.type == ctype.instance_type:
            return pa.ListArray.from_arrays(pa.array(offsets), values, type=_COLUMN_TYPES[name], mask=mask)
        arr = pa.ListArray.from_arrays(pa.array(offsets), values, mask=mask)
        if ctype is not None and arr.type != _COLUMN_TYPES[name]:
            arr = arr.cast(_COLUMN_TYPES[name])
        return arr
    assert ctype is not None
    column_type = _COLUMN_TYPES[name]
    if any(isinstance(c, pa.Array) for c in cells):
        # Cast each one-row cell to the catalogued type so that cells built by different
        # code paths (nullable or not fixed-size-list items) concatenate.
        parts = [
            pa.nulls(1, type=column_type)
            if c is None
            else (c if isinstance(c, pa.Array) else pa.array([c], type=column_type))
            for c in cells
        ]
        parts = [p if p.type == column_type else p.cast(column_type) for p in parts]
        # One row (an image): use it as it is, concatenating would copy the pixels.
        return parts[0] if len(parts) == 1 else pa.concat_arrays(parts)
    return pa.array(cells, type=column_type)


def _int_array(values: list[int] | list[int | None], dtype: type[np.integer[Any]]) -> pa.Array:
    """A row id or timeline column (uint64 or int64) from Python ints, None for a null.

    Through numpy when there is no null: several times faster than Arrow's conversion of
    Python ints.
    """
    try:
        return pa.array(np.fromiter(values, dtype=dtype, count=len(values)))
    except (TypeError, OverflowError):  # a None (a row off this timeline), or out of range
        return pa.array(values, type=pa.from_numpy_dtype(dtype))


def _build_batch(
    row_ids: list[int],
    tkinds: dict[str, TimelineKind],
    tcols: dict[str, list[int | None]],
    log_times: list[int] | None,
    cols: dict[str, list[Any]],
) -> pa.RecordBatch:
    fields = [pa.field(ROW_ID, pa.uint64(), nullable=False)]
    arrays: list[pa.Array] = [_int_array(row_ids, np.uint64)]
    if log_times is not None:
        for name, values in tcols.items():
            fields.append(timeline_field(name, tkinds[name]))
            arrays.append(_int_array(values, np.int64))
        fields.append(timeline_field(LOG_TIME, TimelineKind.TIME))
        arrays.append(_int_array(log_times, np.int64))
    for name, cells in cols.items():
        arr = _build_column(name, cells)
        fields.append(pa.field(name, arr.type))
        arrays.append(arr)
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def build_chunk(buf: _Buffer) -> Chunk:
    """Turn a buffer's rows into one Arrow chunk."""
    batch = _build_batch(buf.row_ids, buf.tkinds, buf.tcols, None if buf.timeless else buf.log_times, buf.cols)
    return Chunk(buf.entity, buf.kind, batch)


def build_row_chunks(buf: _Buffer) -> list[Chunk]:
    """One chunk per row of a buffer of large rows (see ``_LARGE_ROW_BYTES``)."""
    out = []
    log_times = None if buf.timeless else buf.log_times
    for i in range(len(buf.row_ids)):
        j = i + 1
        batch = _build_batch(
            buf.row_ids[i:j],
            buf.tkinds,
            {name: values[i:j] for name, values in buf.tcols.items()},
            None if log_times is None else log_times[i:j],
            {name: cells[i:j] for name, cells in buf.cols.items()},
        )
        out.append(Chunk(buf.entity, buf.kind, batch))
    return out


def build_chunks(bufs: Sequence[_Buffer]) -> list[Chunk]:
    """The chunks of buffers of one layout, built as one batch and sliced (see ``_Buffer.layout``).

    Building costs about the same for one row as for thousands: ten thousand entities
    of one box each are built at once instead of one by one.
    """
    first = bufs[0]
    row_ids: list[int] = []
    log_times: list[int] = []
    tcols: dict[str, list[int | None]] = {name: [] for name in first.tcols}
    cols: dict[str, list[Any]] = {name: [] for name in first.cols}
    for b in bufs:
        row_ids += b.row_ids
        log_times += b.log_times
        for name, values in b.tcols.items():
            tcols[name] += values
        for name, cells in b.cols.items():
            cols[name] += cells
    batch = _build_batch(row_ids, first.tkinds, tcols, None if first.timeless else log_times, cols)
    out = []
    start = 0
    for b in bufs:
        n = len(b.row_ids)
        out.append(Chunk(b.entity, b.kind, batch.slice(start, n)))
        start += n
    return out


_SHARED_BUILD_BYTES = 64 << 10
"""Buffers up to this size are built together with others of their layout."""
_LARGE_ROW_BYTES = 512 << 10
"""Rows this large (images, clouds) are built one chunk each, without copying them into one
batch: the file sink's records hold at most ``max(flush_bytes, 1 MiB)``, so that with the
default settings the writer stores each such row alone in a record anyway."""


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
        # Read on every logged row: plain attributes, not through the frozen config.
        self._max_in_flight = config.max_bytes_in_flight
        self._flush_bytes = config.flush_bytes
        self._thread = threading.Thread(target=self._run, name=f"rrkit-batcher-{name}", daemon=True)
        self._thread.start()

    # --- called from logging threads ------------------------------------------------------
    def add_row(
        self, entity: str, kind: str, timeless: bool, when: TimePoint, log_time: int, cells: dict[str, Any], nbytes: int
    ) -> None:
        key = (entity, kind, timeless)
        with self._lock:
            if self._in_flight > self._max_in_flight:
                self._wait_for_room()
            # Row ids are assigned under the lock, so they follow the order rows are queued in.
            row_id = self._next_row_id
            self._next_row_id = row_id + 1
            buf = self._buffers.get(key)
            if buf is None:
                buf = self._buffers[key] = _Buffer(entity, kind, timeless)
            buf.append(row_id, when, log_time, cells, nbytes)
            self._in_flight += nbytes
            if buf.nbytes >= self._flush_bytes:
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
        if all_:
            due.extend(self._buffers.values())
            self._buffers = {}
        else:
            # Buffers are created in time order and a flushed one is created anew at the end:
            # the dict's order is the order of age, so the scan stops at the first young one.
            limit = now - self.config.flush_age
            aged: list[_Buffer] = []
            for buf in self._buffers.values():
                if buf.since > limit:
                    break
                aged.append(buf)
            for buf in aged:
                del self._buffers[(buf.entity, buf.kind, buf.timeless)]
            due.extend(aged)
        due.extend(self._blocks)
        self._blocks = []
        # Build in row-id order so that an entity's chunks stay in logging order.
        due.sort(key=_first_row)
        return due

    def _emit(self, items: list[_Buffer | Chunk]) -> None:
        if not items:
            return
        freed = 0
        built: dict[int, Chunk] = {}
        # Small buffers of one layout are built together (one batch, sliced per entity).
        groups: dict[tuple[Any, ...], list[_Buffer]] = {}
        for item in items:
            if isinstance(item, _Buffer) and item.nbytes <= _SHARED_BUILD_BYTES:
                layout = item.layout()
                if layout is not None:
                    groups.setdefault(layout, []).append(item)
        for group in groups.values():
            if len(group) < 2:
                continue
            try:
                for buf, chunk in zip(group, build_chunks(group), strict=True):
                    built[id(buf)] = chunk
            except Exception:  # build them one by one below, so that one bad value loses only its rows
                pass
        chunks: list[Chunk] = []
        for item in items:
            if isinstance(item, Chunk):
                chunks.append(item)
                freed += item.batch.nbytes
                continue
            freed += item.nbytes
            shared = built.get(id(item))
            if shared is not None:
                chunks.append(shared)
                continue
            try:
                rows = len(item.row_ids)
                if rows > 1 and item.nbytes >= rows * _LARGE_ROW_BYTES:
                    chunks.extend(build_row_chunks(item))
                else:
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
