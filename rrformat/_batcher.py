"""Row buffers and the background thread that turns them into chunks.

Log calls only append Python references to lists (no Arrow work on the caller's thread
for small values); the background thread builds Arrow columns, hands chunks to the
sink, and bounds memory: above ``max_bytes_in_flight`` log calls wait.

Small rows are queued in tables shared by all the entities of one layout (see
``_Layout``), other rows in a buffer per entity (``_Buffer``). Either way each entity's
rows reach the sink in logging order, one chunk per entity and flush.
"""

from __future__ import annotations

import array
import dataclasses
import itertools
import logging
import math
import operator
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from .chunk import ROW_ID, Chunk, ChunkRun, TimelineKind, timeline_field
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


Key = tuple[str, str, bool]
"""What rows are queued by: (entity, data kind, timeless)."""


class _Layout:
    """The entities whose small rows share one layout (data kind, timelines, components), and their open table.

    A tracker logs one small row to each of thousands of entities per frame. Queued in
    one flat list (a :class:`_Table`), such a row costs less than in a buffer of its own,
    and there is no buffer per entity to create, age, sort and build at every flush: the
    table is built as one batch, grouped by entity and cut into one chunk per entity.
    An entity keeps its place in the layout from one table to the next, so that after a
    flush its rows join the next table as cheaply as before.
    """

    __slots__ = ("entities", "index", "keys", "kind", "layout", "names", "retired", "table", "timeless", "tkinds")

    def __init__(
        self, kind: str, timeless: bool, when: TimePoint, cells: dict[str, Any], layout: tuple[Any, ...]
    ) -> None:
        self.kind = kind
        self.timeless = timeless
        self.layout = layout
        """The key of this layout in ``Batcher._layouts``."""
        self.tkinds: dict[str, TimelineKind] = {name: k for name, (k, _) in when.items()}
        self.names = tuple(cells)
        """The components, in column order."""
        self.entities: list[str] = []
        """The entities, in the order they came."""
        self.keys: list[Key] = []
        self.index: dict[str, int] = {}
        """Entity to its position in ``entities``."""
        self.table: _Table | None = None
        """The open table (None: it was flushed and no row came since)."""
        self.retired = False
        """Forgotten by the batcher (see ``Batcher._unlink``)."""

    def register(self, key: Key) -> int:
        """The place of a key's entity, given one if it has none."""
        i = self.index.get(key[0])
        if i is None:
            i = self.index[key[0]] = len(self.entities)
            self.entities.append(key[0])
            self.keys.append(key)
            if self.table is not None:
                self.table.ebytes.append(0)
        return i

    def fits(self, when: TimePoint, cells: dict[str, Any], nbytes: int) -> bool:
        """Whether a row has this layout (its components in any order) and is small."""
        if nbytes > _TABLE_ROW_BYTES or len(when) != len(self.tkinds) or cells.keys() != set(self.names):
            return False
        return all(self.tkinds.get(name) is kind for name, (kind, _) in when.items())


class _Table:
    """The queued rows of the entities of a :class:`_Layout`, until a flush.

    Rows are kept flat (``rows``): row id, log time, time point (the thread's dict, shared
    by the rows logged at one time, split into columns only when the table is built), then
    a cell per component; ``3 + len(names)`` items a row. A row joins only if it has
    exactly the layout's timelines and components; the batcher sees to that
    (``Batcher.add_row``). An entity's rows can be moved out into a buffer of its own
    (:meth:`take`), leaving tombstones behind.
    """

    __slots__ = ("dead", "ebytes", "erows", "lay", "names", "rows", "since", "tkinds", "when")

    def __init__(self, lay: _Layout) -> None:
        self.lay = lay
        self.names = lay.names
        self.tkinds = lay.tkinds
        self.when: TimePoint | None = None
        """The last time point that passed :meth:`same_time`: rows that share it skip the check."""
        self.rows: list[Any] = []
        self.erows = array.array("q")
        """Each row's entity as its place in the layout (-1: moved out); numpy reads it without a copy."""
        self.dead = 0
        """Rows moved out."""
        self.ebytes: list[int] = [0] * len(lay.entities)
        """Bytes queued per entity (the flush size holds per entity, as in a buffer of its own)."""
        self.since = time.monotonic()

    @property
    def nbytes(self) -> int:
        """Bytes queued."""
        return sum(self.ebytes)

    def same_time(self, when: TimePoint) -> bool:
        """Whether ``when`` has exactly this table's timelines."""
        tkinds = self.tkinds
        if len(when) != len(tkinds):
            return False
        for name, (kind, _) in when.items():
            if tkinds.get(name) is not kind:
                return False
        self.when = when
        return True

    def append(self, i: int, row_id: int, when: TimePoint, log_time: int, cells: dict[str, Any], nbytes: int) -> int:
        """Queue a row of entity ``i``; returns the bytes queued for that entity."""
        self.erows.append(i)
        self.rows += [row_id, log_time, when, *[cells[name] for name in self.names]]
        b: int = self.ebytes[i] + nbytes
        self.ebytes[i] = b
        return b

    def first_row(self) -> int:
        return int(self.rows[0]) if self.rows else 0

    def live(self) -> int:
        """Rows not moved out."""
        return len(self.erows) - self.dead

    def columns(
        self, pick: list[int] | None = None
    ) -> tuple[Sequence[int], Sequence[int], Sequence[TimePoint], dict[str, Sequence[Any]]]:
        """Row ids, log times, time points and component cells of all rows, or of the rows at ``pick``."""
        rows, stride = self.rows, 3 + len(self.names)
        cols: list[Sequence[Any]] = [rows[k::stride] for k in range(stride)]
        if pick is not None:
            if len(pick) == 1:
                cols = [[col[pick[0]]] for col in cols]
            else:
                # itemgetter picks many items in one call (a tuple), twice as fast as a comprehension.
                get = operator.itemgetter(*pick)
                cols = [get(col) for col in cols]
        return cols[0], cols[1], cols[2], dict(zip(self.names, cols[3:], strict=True))

    def take(self, i: int) -> _Buffer | None:
        """Move entity ``i``'s rows out into a buffer of its own (which keeps the table's age); None if it has none."""
        view = np.frombuffer(self.erows, dtype=np.int64)
        rows: list[int] = np.flatnonzero(view == i).tolist()
        del view  # the array cannot grow while numpy holds its buffer
        if not rows:
            return None
        buf = self._buffer(i, rows)
        for j in rows:
            self.erows[j] = -1
        self.dead += len(rows)
        self.ebytes[i] = 0
        buf.since = self.since
        return buf

    def _buffer(self, i: int, rows: list[int]) -> _Buffer:
        """A buffer holding the rows at positions ``rows`` (of entity ``i``)."""
        lay = self.lay
        buf = _Buffer(lay.entities[i], lay.kind, lay.timeless)
        row_ids, log_times, whens, cols = self.columns(rows)
        buf.row_ids, buf.log_times = list(row_ids), list(log_times)  # (a buffer's lists grow)
        buf.cols = {name: list(cells) for name, cells in cols.items()}
        buf.tkinds = dict(self.tkinds)
        buf.tcols = {name: [w[name][1] for w in whens] for name in self.tkinds}
        buf.nbytes = self.ebytes[i]
        return buf

    def buffers(self) -> list[_Buffer]:
        """The rows as one buffer per entity (to build them one by one)."""
        rows: list[list[int]] = [[] for _ in self.ebytes]
        for j, i in enumerate(self.erows):
            if i >= 0:
                rows[i].append(j)
        return [self._buffer(i, r) for i, r in enumerate(rows) if r]


_COLUMN_TYPES: dict[str, pa.DataType] = {name: c.column_type for name, c in COMPONENTS.items()}
_ONE_INSTANCE: frozenset[type] = frozenset({tuple, bytes})
"""Cells that are one instance of a fixed-size-list component (see ``_to_arrow``)."""
_VECTOR_CELLS: frozenset[type] = frozenset({np.ndarray, tuple, bytes})


def _to_arrow(cell: Any, instance_type: pa.DataType | None) -> pa.Array:
    """A cell of a batched component as an Arrow array of its instances.

    Besides Arrow arrays, a cell may be a numpy array (``(n,)``, or ``(n, k)`` for a
    fixed-size-list component), a tuple: *one* instance of a fixed-size-list component,
    as Python numbers, or bytes: one instance of a float32 fixed-size-list component, as
    its native float32 values (the fast paths of one small vector per call).
    """
    if isinstance(cell, pa.Array):
        return cell
    if type(cell) is tuple:
        assert instance_type is not None and pa.types.is_fixed_size_list(instance_type)
        return pa.FixedSizeListArray.from_arrays(pa.array(cell, type=instance_type.value_type), type=instance_type)
    if type(cell) is bytes:
        assert instance_type is not None and instance_type.value_type == pa.float32()
        return pa.FixedSizeListArray.from_arrays(pa.array(np.frombuffer(cell, dtype=np.float32)), type=instance_type)
    arr = np.ascontiguousarray(cell)
    if instance_type is not None and pa.types.is_fixed_size_list(instance_type):
        flat = pa.array(arr.reshape(-1), type=instance_type.value_type)
        return pa.FixedSizeListArray.from_arrays(flat, type=instance_type)
    return pa.array(arr.reshape(-1) if arr.ndim > 1 else arr, type=instance_type)


def _one_row(cell: tuple[Any, ...] | bytes, dtype: Any) -> npt.NDArray[Any]:
    """A tuple or bytes cell (one instance) as a numpy array of ``dtype``."""
    if type(cell) is bytes:
        return np.frombuffer(cell, dtype=np.float32).astype(dtype)
    return np.array(cell, dtype=dtype)


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
    if kinds == {bytes}:
        # One vector of float32 bytes per row: joined, they are the flat array.
        flat = np.frombuffer(b"".join(present), dtype=np.float32)
        return _to_arrow(flat.reshape(len(present), -1), instance_type)
    if kinds == {np.ndarray}:
        # Many small numpy cells: one numpy concatenation, one Arrow array.
        return _to_arrow(np.concatenate(present), instance_type)
    if kinds <= _VECTOR_CELLS and instance_type is not None and pa.types.is_fixed_size_list(instance_type):
        dtype = instance_type.value_type.to_pandas_dtype()
        width = instance_type.list_size
        rows = [c if type(c) is np.ndarray else _one_row(c, dtype).reshape(1, width) for c in present]
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
        if kinds <= _ONE_INSTANCE and len(present) == n:  # one instance per row
            offsets = np.arange(n + 1, dtype=np.int32)
        else:
            if kinds & _ONE_INSTANCE:  # a tuple or bytes cell is one instance
                lengths = np.fromiter(
                    (0 if c is None else 1 if type(c) in _ONE_INSTANCE else len(c) for c in cells),
                    dtype=np.int64,
                    count=n,
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


def _int_array(values: Sequence[int] | Sequence[int | None], dtype: type[np.integer[Any]]) -> pa.Array:
    """A row id or timeline column (uint64 or int64) from Python ints, None for a null.

    Through numpy when there is no null: several times faster than Arrow's conversion of
    Python ints.
    """
    try:
        return pa.array(np.fromiter(values, dtype=dtype, count=len(values)))
    except (TypeError, OverflowError):  # a None (a row off this timeline), or out of range
        return pa.array(values, type=pa.from_numpy_dtype(dtype))


def _build_batch(
    row_ids: Sequence[int],
    tkinds: dict[str, TimelineKind],
    tcols: dict[str, list[int | None]],
    log_times: Sequence[int] | None,
    cols: dict[str, list[Any]] | dict[str, Sequence[Any]],
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


def build_table_chunks(t: _Table) -> list[Chunk]:
    """One chunk per entity of a table, all cut from one batch (see ``_Layout``)."""
    lay = t.lay
    n_entities = len(t.ebytes)  # the entities the layout had when the table closed
    erows = np.frombuffer(t.erows, dtype=np.int64)
    pick: list[int] | None = None
    if t.dead or bool(np.any(erows[1:] < erows[:-1])):
        # Group the rows by entity; a stable sort keeps each entity's rows in logging order.
        # Rows moved out (-1) sort first and are dropped. The lists are reordered before
        # the batch is built: cheaper than Arrow's take on the built batch.
        order = np.argsort(erows, kind="stable")[t.dead :]
        erows = erows[order]
        pick = order.tolist()
    counts: list[int] = np.bincount(erows, minlength=n_entities).tolist()
    row_ids, log_times, whens, cols = t.columns(pick)
    tcols: dict[str, list[int | None]] = {name: [w[name][1] for w in whens] for name in t.tkinds}
    batch = _build_batch(row_ids, t.tkinds, tcols, None if lay.timeless else log_times, cols)
    entities = lay.entities[:n_entities]
    if 0 in counts:  # entities without rows in this table
        kept = [i for i, n in enumerate(counts) if n]
        entities = [entities[i] for i in kept]
        counts = [counts[i] for i in kept]
    if len(entities) == 1:
        return [Chunk(entities[0], lay.kind, batch)]
    return list(ChunkRun.cut(entities, lay.kind, batch, counts))


_SHARED_BUILD_BYTES = 64 << 10
"""Buffers up to this size are built together with others of their layout."""
_LARGE_ROW_BYTES = 512 << 10
"""Rows this large (images, clouds) are built one chunk each, without copying them into one
batch: the file sink's records hold at most ``max(flush_bytes, 1 MiB)``, so that with the
default settings the writer stores each such row alone in a record anyway."""
_TABLE_ROW_BYTES = 4 << 10
"""Rows up to this size are queued in the table of their layout (see ``_Layout``)."""
_PRIVATE_LIMIT = 100_000
"""Most keys remembered as queued in buffers of their own (see ``Batcher._private``)."""
_LAYOUT_LIMIT = 100_000
"""Most entities a layout remembers (see ``Batcher._unlink``)."""


class Batcher:
    """Queues rows per (entity, kind, timeless) and feeds chunks to ``write``.

    ``write`` is called on the background thread with a list of chunks; it must not raise
    (sinks report their own failures).

    A key's rows are queued in one place at a time: the table of their layout, or a
    buffer of the key's own. When a row does not fit the key's table (a large row, other
    components or timelines) or the key's rows alone reach ``flush_bytes``, its rows
    move out of the table into a buffer, and the key stays in buffers from then on: one
    move per key, however often its rows change layout.
    """

    def __init__(self, config: BatcherConfig, write: Callable[[list[Chunk]], None], *, name: str) -> None:
        self.config = config
        self._write = write
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._room = threading.Condition(self._lock)
        self._buffers: dict[Key, _Buffer] = {}
        self._layouts: dict[tuple[Any, ...], _Layout] = {}
        self._tables: dict[tuple[Any, ...], _Table] = {}
        """The open tables by layout, oldest first."""
        self._where: dict[Key, _Layout] = {}
        """The layout of each key whose small rows go to tables."""
        self._last_layout: _Layout | None = None
        self._private: set[Key] = set()
        """Keys whose rows go to buffers of their own (see the class docstring)."""
        self._moved: list[_Buffer] = []
        """Buffers of rows moved out of a table: older than their place in ``_buffers`` says."""
        self._ready: list[_Buffer | Chunk] = []
        """What is closed to new rows and waits to be written, in the order it was closed."""
        self._in_flight = 0
        self._next_row_id = 0
        self._flush_requests = 0
        self._flushes_done = 0
        self._stopping = False
        # Read on every logged row: plain attributes, not through the frozen config.
        self._max_in_flight = config.max_bytes_in_flight
        self._flush_bytes = config.flush_bytes
        self._flush_age = config.flush_age
        self._thread = threading.Thread(target=self._run, name=f"rrkit-batcher-{name}", daemon=True)
        self._thread.start()

    # --- called from logging threads ------------------------------------------------------
    def add_row(
        self, entity: str, kind: str, timeless: bool, when: TimePoint, log_time: int, cells: dict[str, Any], nbytes: int
    ) -> None:
        key = (entity, kind, timeless)
        # acquire/release rather than a with block: half the cost, on every logged row.
        lock = self._lock
        lock.acquire()
        try:
            if self._in_flight > self._max_in_flight:
                self._wait_for_room()
            # Row ids are assigned under the lock, so they follow the order rows are queued in.
            row_id = self._next_row_id
            self._next_row_id = row_id + 1
            self._in_flight += nbytes
            lay = self._where.get(key)
            # The common case first: a small row of its entity's layout, whose table is open.
            # (_Table.append, inline: this runs for every row.)
            if lay is not None:
                t = lay.table
                if (
                    t is not None
                    and nbytes <= _TABLE_ROW_BYTES
                    and (when is t.when or t.same_time(when))
                    and tuple(cells) == t.names
                ):
                    i = lay.index[entity]
                    t.erows.append(i)
                    t.rows += (row_id, log_time, when, *cells.values())
                    ebytes = t.ebytes
                    b = ebytes[i] = ebytes[i] + nbytes
                    if b >= self._flush_bytes:
                        self._flush_key(t, key)
                    return
            self._add_row(key, lay, row_id, when, log_time, cells, nbytes)
        finally:
            lock.release()

    def _add_row(
        self,
        key: Key,
        lay: _Layout | None,
        row_id: int,
        when: TimePoint,
        log_time: int,
        cells: dict[str, Any],
        nbytes: int,
    ) -> None:
        """``add_row`` for every case but the common one (called with the lock held)."""
        entity = key[0]
        if lay is not None:
            if lay.fits(when, cells, nbytes):  # no open table, or the components in another order
                t = lay.table or self._open(lay)
                if t.append(lay.index[entity], row_id, when, log_time, cells, nbytes) >= self._flush_bytes:
                    self._flush_key(t, key)
                return
            # The row does not fit its entity's layout. Rows of the entity still queued in
            # the layout's table move to a buffer, which this row joins (as they would all
            # have been in one buffer before), and the key takes buffers from now on: a key
            # that changes layout back and forth costs one move, not one per change.
            del self._where[key]
            moved = self._take(lay, entity)
            if moved is not None:
                self._go_private(key)
                self._buffers[key] = moved
                self._moved.append(moved)
        buf = self._buffers.get(key)
        if buf is None:
            lay = self._layout_of(key, when, cells) if nbytes <= _TABLE_ROW_BYTES and key not in self._private else None
            if lay is not None:
                i = lay.register(key)
                self._where[key] = lay
                t = lay.table or self._open(lay)
                if t.append(i, row_id, when, log_time, cells, nbytes) >= self._flush_bytes:
                    self._flush_key(t, key)
                return
            buf = self._buffers[key] = _Buffer(*key)
        buf.append(row_id, when, log_time, cells, nbytes)
        if buf.nbytes >= self._flush_bytes:
            del self._buffers[key]
            self._ready.append(buf)
            self._wake.notify()

    def _layout_of(self, key: Key, when: TimePoint, cells: dict[str, Any]) -> _Layout | None:
        """The layout of a small row, or None if its rows cannot share a table (called with the lock held)."""
        kind, timeless = key[1], key[2]
        last = self._last_layout
        # New entities come in bursts (a tracker's first frame): most rows have the layout of the one before.
        if (
            last is not None
            and last.kind == kind
            and last.timeless is timeless
            and tuple(cells) == last.names
            and not last.retired
            and (last.table is None or when is last.table.when or last.table.same_time(when))
            and (last.table is not None or last.fits(when, cells, 0))
        ):
            return last
        if not all(n in COMPONENTS for n in cells):
            return None  # extension components: their column types depend on the values
        layout = (kind, timeless, tuple((n, k) for n, (k, _) in when.items()), tuple(cells))
        lay = self._layouts.get(layout)
        if lay is None:
            lay = self._layouts[layout] = _Layout(kind, timeless, when, cells, layout)
        self._last_layout = lay
        return lay

    def _open(self, lay: _Layout) -> _Table:
        """A new table for a layout's rows (called with the lock held)."""
        t = lay.table = _Table(lay)
        self._tables[lay.layout] = t
        return t

    def _take(self, lay: _Layout, entity: str) -> _Buffer | None:
        """Move an entity's rows out of its layout's open table (called with the lock held)."""
        t = lay.table
        if t is None:
            return None
        buf = t.take(lay.index[entity])
        if not t.live():
            self._unlink(t)  # nothing left to write
        return buf

    def _flush_key(self, t: _Table, key: Key) -> None:
        """A key's rows reached the flush size: write them now, and give the key buffers from now on."""
        del self._where[key]
        moved = self._take(t.lay, key[0])
        if moved is not None:
            self._ready.append(moved)
        self._go_private(key)
        self._wake.notify()

    def _go_private(self, key: Key) -> None:
        # Bounded memory: past _PRIVATE_LIMIT keys the set starts again (a key may then take a table again).
        if len(self._private) >= _PRIVATE_LIMIT:
            self._private.clear()
        self._private.add(key)

    def _unlink(self, t: _Table) -> None:
        """Close a table to new rows (called with the lock held)."""
        lay = t.lay
        if self._tables.get(lay.layout) is t:
            del self._tables[lay.layout]
        if lay.table is t:
            lay.table = None
        if len(lay.entities) > _LAYOUT_LIMIT and not lay.retired:
            # Bounded memory: a layout that has seen very many entities starts again, so that
            # those that no longer log are forgotten.
            del self._layouts[lay.layout]
            lay.retired = True
            where = self._where
            for key in lay.keys:
                if where.get(key) is lay:
                    del where[key]

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
            # Keep this entity's rows in logging order: what is queued of it goes first.
            buf = self._buffers.pop(key, None)
            if buf is not None:
                self._ready.append(buf)
            lay = self._where.get(key)
            moved = None if lay is None else self._take(lay, chunk.entity)
            if moved is not None:
                self._ready.append(moved)
            self._ready.append(chunk)
            self._in_flight += nbytes
            self._wake.notify()

    def set_flush_age(self, seconds: float) -> None:
        """Flush every buffer once its oldest row is ``seconds`` old, from now on.

        A live viewer wants rows sooner than a file does: the background thread takes the
        new age (and the wake-up tick derived from it) at its next wake-up, which this
        call brings forward.
        """
        age = float(seconds)
        if not math.isfinite(age) or age <= 0:
            raise ValueError(f"flush age must be a positive number of seconds, got {seconds!r}")
        with self._lock:
            self._flush_age = age
            self.config = dataclasses.replace(self.config, flush_age=age)
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
        while True:
            with self._lock:
                # Read each time round: set_flush_age may change it (a live viewer connecting).
                tick = max(0.005, min(0.05, self._flush_age / 4))
                if not self._ready and self._flush_requests == self._flushes_done:
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

    def _take_due(self, *, all_: bool) -> list[_Buffer | _Table | Chunk]:
        """What is to be written now, in an order that keeps each entity's rows in logging order.

        A key's rows are in one open buffer or table at a time, and it gets another one
        only once that one is closed (put in ``_ready``, or taken here). Written in the
        order they were closed, a key's chunks follow each other as its rows did.
        """
        now = time.monotonic()
        due: list[_Buffer | _Table | Chunk] = list(self._ready)
        self._ready = []
        closing: list[_Buffer | _Table] = []
        if all_:
            closing.extend(self._buffers.values())
            self._buffers = {}
            tables = list(self._tables.values())
            for t in tables:
                self._unlink(t)
            closing.extend(tables)
            self._moved = []
        else:
            # Buffers are created in time order and a flushed one is created anew at the end:
            # the dict's order is the order of age, so the scan stops at the first young one.
            limit = now - self._flush_age
            aged: list[_Buffer] = []
            for buf in self._buffers.values():
                if buf.since > limit:
                    break
                aged.append(buf)
            if self._moved:
                # Buffers of rows moved out of a table are as old as the table: look at them too.
                taken = {id(b) for b in aged}
                young = []
                for buf in self._moved:
                    if self._buffers.get((buf.entity, buf.kind, buf.timeless)) is not buf or id(buf) in taken:
                        continue  # written already, or now
                    if buf.since <= limit:
                        aged.append(buf)
                    else:
                        young.append(buf)
                self._moved = young
            for buf in aged:
                del self._buffers[(buf.entity, buf.kind, buf.timeless)]
            closing.extend(aged)
            # Tables too are created in time order (and the dict keeps it).
            aged_tables: list[_Table] = []
            for t in self._tables.values():
                if t.since > limit:
                    break
                aged_tables.append(t)
            for t in aged_tables:
                self._unlink(t)
            closing.extend(aged_tables)
        # Closed at once, these hold no key twice, so any order would do: take row-id order.
        closing.sort(key=_first_row)
        due.extend(closing)
        return due

    def _emit(self, items: list[_Buffer | _Table | Chunk]) -> None:
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
            if isinstance(item, _Table):
                try:
                    chunks.extend(build_table_chunks(item))
                except Exception:  # build entity by entity, so that one bad value loses only its entity's rows
                    chunks.extend(_build_each(item.buffers()))
                continue
            shared = built.get(id(item))
            if shared is not None:
                chunks.append(shared)
                continue
            chunks.extend(_build_each([item]))
        try:
            self._write(chunks)
        finally:
            with self._lock:
                self._in_flight -= freed
                self._room.notify_all()


def _build_each(bufs: list[_Buffer]) -> list[Chunk]:
    """The chunks of each buffer, built on its own: a bad value loses only its buffer's rows."""
    chunks: list[Chunk] = []
    for buf in bufs:
        try:
            rows = len(buf.row_ids)
            if rows > 1 and buf.nbytes >= rows * _LARGE_ROW_BYTES:
                chunks.extend(build_row_chunks(buf))
            else:
                chunks.append(build_chunk(buf))
        except Exception as exc:  # a bad value must not lose the other entities' rows
            log.warning("rrkit: dropped %d rows of %r: %s", len(buf.row_ids), buf.entity, exc)
    return chunks


def _first_row(item: _Buffer | _Table) -> int:
    if isinstance(item, _Table):
        return item.first_row()
    return item.row_ids[0] if item.row_ids else 0
