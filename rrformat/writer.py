"""Streaming .rrd writer: schemas once, chunks as they come, footer on close.

Chunk records are encoded (Arrow IPC serialisation, zstd, CRC) in a small pool of
worker threads, since zstd and crc32 release the GIL, and written in submission
order, each one handed to the OS as soon as it is encoded.
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import threading
import time
import uuid
import zlib
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import zstandard

from . import _framing as fr
from ._version import __version__
from .chunk import Chunk, ChunkRun, SlicedChunk, concat_batches
from .errors import RrdError

__all__ = [
    "RrdWriter",
    "RecordOutput",
    "RecordingInfo",
    "DEFAULT_CHUNK_BYTES",
    "DEFAULT_CHUNK_ROWS",
    "DEFAULT_ZSTD_LEVEL",
    "Compression",
]

DEFAULT_CHUNK_BYTES = 1 << 20
"""Target uncompressed size of one chunk record (see bench/RESULTS.md for the choice)."""
DEFAULT_CHUNK_ROWS = 16_384
"""Most rows in one chunk record, so that a time-range query can skip the rest."""
DEFAULT_ZSTD_LEVEL = 3
"""zstd level: level 3 compressed about as fast as level 1 and smaller on real data."""
_MIN_SAVING = 0.98
"""Bodies that compress to more than this fraction of their size are stored raw."""

Compression = Literal["zstd", "none"]


class RecordOutput(Protocol):
    """Where a streaming writer's records go (see :meth:`RrdWriter.to_stream`).

    ``write_record`` receives each record's pieces in file order: first the preamble
    (``kind`` None), then every record. Each record is a whole number of 8-byte words,
    so any subsequence of whole records after the preamble is still a valid stream.
    """

    def write_record(self, kind: fr.RecordKind | None, pieces: Sequence[bytes | memoryview | pa.Buffer]) -> None: ...


@dataclass(frozen=True, slots=True)
class RecordingInfo:
    """One recording held by a file: a run of one application."""

    index: int
    application_id: str
    recording_id: str
    start_time_ns: int

    def to_json(self) -> dict[str, Any]:
        return {
            "recording": self.index,
            "application_id": self.application_id,
            "recording_id": self.recording_id,
            "start_time_ns": self.start_time_ns,
        }

    @classmethod
    def from_json(cls, meta: dict[str, Any]) -> RecordingInfo:
        return cls(
            int(meta["recording"]), str(meta["application_id"]), str(meta["recording_id"]), int(meta["start_time_ns"])
        )


_codecs: dict[int, pa.Codec] = {}


def _codec(level: int) -> pa.Codec:
    """Arrow's zstd codec: a plain zstd frame with the content size, as ``zstandard`` writes.

    It makes the same bytes as ``zstandard.ZstdCompressor(level, write_content_size=True)``
    at about 5% less CPU, into Arrow's pooled memory, and is stateless, so the encoding
    threads can share it.
    """
    codec = _codecs.get(level)
    if codec is None:
        codec = _codecs[level] = pa.Codec("zstd", compression_level=level)
    return codec


@dataclass(slots=True)
class _Encoded:
    body: bytes | memoryview | pa.Buffer
    raw_size: int
    crc: int
    flags: int


def _encode(batch: pa.RecordBatch, compression: Compression, level: int) -> _Encoded:
    raw = batch.serialize()
    body: bytes | pa.Buffer = raw
    flags = 0
    if compression == "zstd" and raw.size:
        # The slice matters: a ResizableBuffer's buffer-protocol shape keeps its capacity
        # (the compress bound) after the codec shrinks it, and len() would read that.
        packed = _codec(level).compress(raw)
        packed = packed.slice(0, packed.size)
        if packed.size < raw.size * _MIN_SAVING:
            body, flags = packed, fr.FLAG_BODY_ZSTD
    return _Encoded(body, raw.size, zlib.crc32(body), flags)


def _entries(group: Sequence[Chunk], batch: pa.RecordBatch, rows: list[int] | None = None) -> list[dict[str, Any]]:
    """The index entries of ``group``, packed into ``batch``: ``Chunk.entry_json`` for each.

    Computed for the whole record with numpy rather than chunk by chunk: per-chunk
    Arrow calls cost ~60 us, which dominated writing many small chunks. The values are
    the same as ``entry_json``'s, including its sortedness test on ``np.diff``.
    ``rows`` are the chunks' row counts, when known.
    """
    if rows is None:
        rows = [c.rows for c in group]
    if len(group) == 1 or 0 in rows:
        out, start = [], 0
        for c in group:
            out.append(c.entry_json(start))
            start += c.rows
        return out
    starts = np.cumsum([0, *rows[:-1]], dtype=np.int64)
    lasts = starts + np.asarray(rows, dtype=np.int64) - 1
    row_ids = batch.column(0).to_numpy(zero_copy_only=False)
    first_ids, last_ids = row_ids[starts].tolist(), row_ids[lasts].tolist()
    start_list = starts.tolist()
    names: list[str] = []
    ranges: list[list[tuple[Any, ...]]] = []
    for name, kind in group[0].timelines.items():
        names.append(name)
        ranges.append(_time_ranges(batch.column(name), kind.value, starts, lasts, rows))
    timeless = not ranges
    # Tuples, not lists, where the values are plain numbers: JSON writes them alike, and the
    # garbage collector stops tracking them. Made before the dicts that hold them: by then
    # the collections their making set off have stopped tracking most of them, and a dict
    # of untracked values is not tracked either. The entries, which a file's writer keeps
    # until its footer, then cost the collector nothing.
    id_ranges = list(zip(first_ids, last_ids, strict=True))
    timelines: list[dict[str, tuple[Any, ...]]]
    if len(names) == 2:  # the usual case (a timeline and log_time): a dict display is the cheapest
        n0, n1 = names
        timelines = [{n0: a, n1: b} for a, b in zip(ranges[0], ranges[1], strict=True)]
    elif len(names) == 1:
        n0 = names[0]
        timelines = [{n0: a} for a in ranges[0]]
    elif ranges:
        timelines = [dict(zip(names, r, strict=True)) for r in zip(*ranges, strict=True)]
    else:
        timelines = [{} for _ in rows]
    return [
        {
            "entity": c.entity,
            "kind": c.kind,
            "start": start,
            "rows": n,
            "timeless": timeless,
            "row_ids": ids,
            "timelines": tl,
        }
        for c, start, n, ids, tl in zip(group, start_list, rows, id_ranges, timelines, strict=True)
    ]


def _time_ranges(
    col: pa.Array, kind: str, starts: npt.NDArray[np.int64], lasts: npt.NDArray[np.int64], rows: list[int]
) -> list[tuple[Any, ...]]:
    """``TimeRange.to_json()`` of each non-empty row range ``starts[i]..lasts[i]`` of a timeline column, as tuples."""
    nulls = col.null_count
    values = (col.fill_null(0) if nulls else col).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    # A range is sorted when none of its consecutive differences is negative.
    # Compare neighbours, not np.diff: an int64 difference can overflow and flip its sign.
    negative = np.concatenate(([0], np.cumsum(values[1:] < values[:-1])))
    is_sorted = (negative[lasts] == negative[starts]).tolist()
    if not nulls:
        lo = np.minimum.reduceat(values, starts).tolist()
        hi = np.maximum.reduceat(values, starts).tolist()
        return list(zip(itertools.repeat(kind, len(rows)), lo, hi, is_sorted, strict=True))
    valid = col.is_valid().to_numpy(zero_copy_only=False)
    n_valid = np.add.reduceat(valid.astype(np.int64), starts).tolist()
    info = np.iinfo(np.int64)
    lo = np.minimum.reduceat(np.where(valid, values, info.max), starts).tolist()
    hi = np.maximum.reduceat(np.where(valid, values, info.min), starts).tolist()
    out: list[tuple[Any, ...]] = []
    for i, n in enumerate(rows):
        if n_valid[i] == 0:
            out.append((kind, None, None, False))
        else:
            out.append((kind, lo[i], hi[i], n_valid[i] == n and is_sorted[i]))
    return out


def _run_batch(group: Sequence[Chunk]) -> pa.RecordBatch | None:
    """The concatenation of ``group``'s batches if they are consecutive chunks of one run, else None.

    One range of the run's batch rather than a concatenation of many slices. The range is
    copied into a batch of its own, as a concatenation makes it: that is the batch written
    (a slice would serialise with the bytes of its neighbours as padding).
    """
    first = group[0]
    if len(group) < 2 or type(first) is not SlicedChunk or first.run is None:
        return None
    run = first.run
    i0 = first.index
    for k, c in enumerate(group):
        if type(c) is not SlicedChunk or c.run is not run or c.index != i0 + k:
            return None
    last = i0 + len(group) - 1
    start = run.starts[i0]
    return pa.concat_batches([run.batch.slice(start, run.starts[last] + run.rows[last] - start)])


_EXACT_SIZE_ABOVE = 64 << 10
_MEASURE = -1
"""In ``_RunInfo.sizes``: measure this chunk with ``_size``."""


def _size(batch: pa.RecordBatch) -> int:
    """Bytes of a batch, for the record size bound.

    ``nbytes`` is exact for slices but costs ~10 us even for one row; the total buffer size
    costs ~0.3 us and is exact for a batch that is not a slice, but counts a slice's whole
    parent. Small totals are taken as they are (an overestimate only cuts records earlier);
    a slice of a large batch gets its share of it; other large batches are measured.
    """
    total = int(batch.get_total_buffer_size())
    if total <= _EXACT_SIZE_ABOVE:
        return total
    n = batch.num_rows
    ids = batch.column(0).buffers()[1]
    parent_rows = ids.size // 8 if ids is not None else 0
    if n and ids is not None and ids.size > 8 * n + 64:
        # A slice of a larger batch (the SDK builds small entities' rows as one batch and
        # slices it): its share of the parent, as if rows were of even size.
        return int(total * n // max(n, parent_rows))
    return int(batch.nbytes)


@dataclass(frozen=True, slots=True)
class _RunInfo:
    """What ``_split`` would find chunk by chunk in the chunks of a :class:`ChunkRun`, found at once."""

    schema_key: bytes
    sizes: list[int]
    """``_size`` of each chunk's batch (``_MEASURE``: not computed)."""
    ids_ok: list[bool]
    """Whether each chunk's row ids are non-null and strictly increasing."""
    whole: list[bool]
    """Whether each chunk is within the record bounds as it is (False also when not known)."""


def _run_info(run: ChunkRun, schema_key: bytes, chunk_bytes: int, chunk_rows: int) -> _RunInfo:
    """The sizes and row-id checks of all the chunks of ``run``, with numpy (see ``_RunInfo``)."""
    count = len(run.rows)
    rows = np.asarray(run.rows, dtype=np.int64)
    starts = np.asarray(run.starts, dtype=np.int64)
    # _size of a slice: every slice of a batch reports the whole batch's buffers.
    total = int(run.batch.get_total_buffer_size())
    sizes = np.full(count, total, dtype=np.int64)
    if total > _EXACT_SIZE_ABOVE:
        sizes[:] = _MEASURE
        ids_buf = run.batch.column(0).buffers()[1]
        if ids_buf is not None and count and total * int(rows.max()) < 1 << 62:  # (else measured: no overflow)
            ids_size = ids_buf.size
            parent_rows = ids_size // 8
            sliced = (rows > 0) & (ids_size > 8 * rows + 64)
            sizes[sliced] = total * rows[sliced] // np.maximum(rows[sliced], parent_rows)
    ids_ok = [True] * count
    col = run.batch.column(0)
    if col.null_count:
        ids_ok = [False] * count  # checked chunk by chunk
    elif count:
        ids = col.to_numpy()
        # A pair of neighbours that is not increasing, within one chunk (not across two).
        bad = ids[1:] <= ids[:-1]
        ends = starts + rows - 1  # a chunk's last row: its pair with the next row crosses over
        bad[ends[(ends >= 0) & (ends < len(bad))]] = False
        for p in np.flatnonzero(bad).tolist():
            ids_ok[int(np.searchsorted(starts, p, side="right")) - 1] = False
    # As in RrdWriter._split: a chunk of n > 1 rows is cut into pieces of ``step`` rows.
    per_row = np.maximum(1, sizes // np.maximum(rows, 1))
    step = np.maximum(1, np.minimum(chunk_rows, chunk_bytes // per_row))
    whole = (sizes != _MEASURE) & ((rows <= 1) | (rows <= step))
    return _RunInfo(schema_key, sizes.tolist(), ids_ok, whole.tolist())


class RrdWriter:
    """Write an .rrd file chunk by chunk.

    Parameters
    ----------
    path
        File to create. An existing file is refused unless ``overwrite=True``
        (use :meth:`append` to add to it).
    application_id, recording_id, start_time_ns
        The first recording of the file; ``recording_id`` defaults to a random UUID and
        ``start_time_ns`` to now.
    compression, level
        ``"zstd"`` (default) or ``"none"`` for bodies that can be memory-mapped.
    chunk_bytes, chunk_rows
        Bounds of one chunk record: larger chunks are split, small ones packed together.
    threads
        Encoding threads (0 encodes in the calling thread).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from rrformat.chunk import Chunk
    >>> path = os.path.join(tempfile.mkdtemp(), "demo.rrd")
    >>> with RrdWriter(path, application_id="demo") as w:
    ...     w.write_chunk(Chunk.build("sensor/temp", "scalar", row_ids=[0], timelines={"frame": ("sequence", [0])},
    ...                               components={"scalar": np.array([21.5])}))
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        application_id: str,
        recording_id: str | None = None,
        start_time_ns: int | None = None,
        compression: Compression = "zstd",
        level: int = DEFAULT_ZSTD_LEVEL,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        threads: int = 2,
        overwrite: bool = False,
        _append_state: _AppendState | None = None,
        _output: RecordOutput | None = None,
    ) -> None:
        if compression not in ("zstd", "none"):
            raise ValueError(f"compression must be 'zstd' or 'none', got {compression!r}")
        if not 1 <= level <= 22:
            raise ValueError(f"level must be between 1 and 22, got {level!r}")
        if chunk_bytes < 1 or chunk_rows < 1:
            raise ValueError(f"chunk_bytes and chunk_rows must be positive, got {chunk_bytes}, {chunk_rows}")
        self.path = str(path)
        self.compression: Compression = compression
        self.level = level
        self.chunk_bytes = chunk_bytes
        self.chunk_rows = chunk_rows
        self._lock = threading.RLock()
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="rrd-encode") if threads > 0 else None
        self._max_pending = max(2, 2 * threads)
        self._pending: collections.deque[tuple[Future[_Encoded] | _Encoded, dict[str, Any]]] = collections.deque()
        self._closed = False
        self._failed: BaseException | None = None
        self._schemas: dict[bytes, int] = {}
        self._last_schema: tuple[pa.Schema, bytes] | None = None
        self._valid_layouts: set[tuple[str, bytes]] = set()
        self._schema_offsets: dict[int, int] = {}
        self._records: list[list[Any]] = []  # [offset, size, meta] of every chunk record
        self._recordings: list[RecordingInfo] = []
        self._next_row_id: dict[int, int] = {}
        self._header_meta: dict[str, Any]
        self._output = _output
        self._file: Any = None
        if _append_state is None:
            if _output is None:
                mode = "wb" if overwrite else "xb"
                try:
                    self._file = open(self.path, mode, buffering=0)  # noqa: SIM115 - closed in close()
                except FileExistsError:
                    raise FileExistsError(
                        f"{self.path}: file exists; pass overwrite=True to replace it or use RrdWriter.append"
                    ) from None
            self._offset = 0
            self._header_meta = {"writer": f"rrkit {__version__}", "created_ns": time.time_ns()}
            self._write_raw([fr.pack_preamble()])
            self._write_record(fr.RecordKind.HEADER, self._header_meta)
            self.add_recording(
                application_id=application_id, recording_id=recording_id, start_time_ns=start_time_ns
            )
        else:
            st = _append_state
            self._file = open(self.path, "r+b", buffering=0)  # noqa: SIM115 - closed in close()
            self._offset = self._file.seek(0, os.SEEK_END)
            if self._offset != st.end_offset:
                self._file.close()
                raise RrdError("file changed while being opened for append", path=self.path)
            self._header_meta = st.header_meta
            self._schemas = dict(st.schemas)
            self._schema_offsets = dict(st.schema_offsets)
            self._records = [list(r) for r in st.records]
            self._recordings = list(st.recordings)
            self._next_row_id = dict(st.next_row_id)

    # --- construction for streams and append ------------------------------------------
    @classmethod
    def to_stream(
        cls,
        output: RecordOutput,
        *,
        application_id: str,
        recording_id: str | None = None,
        start_time_ns: int | None = None,
        name: str = "<stream>",
        compression: Compression = "zstd",
        level: int = DEFAULT_ZSTD_LEVEL,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        threads: int = 2,
    ) -> RrdWriter:
        """A writer whose records go to ``output`` instead of a file (live streaming).

        The records are those of a file, without footer and trailer: a stream has no
        end to put an index at, and its reader indexes records as they arrive. No index
        is kept in memory either, so a stream can run for ever.
        """
        return cls(
            name,
            application_id=application_id,
            recording_id=recording_id,
            start_time_ns=start_time_ns,
            compression=compression,
            level=level,
            chunk_bytes=chunk_bytes,
            chunk_rows=chunk_rows,
            threads=threads,
            _output=output,
        )

    @classmethod
    def append(
        cls,
        path: str | os.PathLike[str],
        *,
        compression: Compression = "zstd",
        level: int = DEFAULT_ZSTD_LEVEL,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        threads: int = 2,
    ) -> RrdWriter:
        """Reopen a closed file to add chunks; the old footer stays in place as a skipped record.

        A crash while appending loses only what was being appended: the file then has no
        valid trailer, and a reader rebuilds the index by scanning, old chunks included.
        A file whose tail is damaged is refused (``rrd recover`` repairs it first).
        """
        from .reader import RrdReader

        with RrdReader(path) as r:
            if r.damage is not None:
                raise RrdError(
                    f"cannot append: {r.damage.describe()}; run 'rrd recover' first", path=str(path)
                )
            schemas = {r.schema(sid).serialize().to_pybytes(): sid for sid in r.schema_offsets}
            nxt: dict[int, int] = {}
            for c in r.chunks:
                if c.row_id_max is not None:
                    nxt[c.recording] = max(nxt.get(c.recording, 0), c.row_id_max + 1)
            state = _AppendState(
                end_offset=r.file_size,
                header_meta=dict(r.header),
                schemas=schemas,
                schema_offsets=dict(r.schema_offsets),
                records=[list(x) for x in r.record_metas],
                recordings=list(r.recordings),
                next_row_id=nxt,
            )
        return cls(
            path,
            application_id="",
            compression=compression,
            level=level,
            chunk_bytes=chunk_bytes,
            chunk_rows=chunk_rows,
            threads=threads,
            _append_state=state,
        )

    # --- recordings --------------------------------------------------------------------
    @property
    def recordings(self) -> list[RecordingInfo]:
        return list(self._recordings)

    def add_recording(
        self, *, application_id: str, recording_id: str | None = None, start_time_ns: int | None = None
    ) -> int:
        """Declare another recording in this file; returns its index for :attr:`Chunk.recording`."""
        if not isinstance(application_id, str) or not application_id:
            raise ValueError(f"application_id must be a non-empty string, got {application_id!r}")
        with self._lock:
            info = RecordingInfo(
                len(self._recordings),
                application_id,
                recording_id if recording_id is not None else str(uuid.uuid4()),
                start_time_ns if start_time_ns is not None else time.time_ns(),
            )
            self._drain(0)
            self._write_record(fr.RecordKind.RECORDING, info.to_json())
            self._recordings.append(info)
            return info.index

    def next_row_id(self, recording: int = 0) -> int:
        """The smallest row id not yet written to ``recording``."""
        return self._next_row_id.get(recording, 0)

    # --- chunks --------------------------------------------------------------------------
    def write_chunk(self, chunk: Chunk) -> None:
        """Write one chunk (split into several records if it exceeds the bounds)."""
        self.write_chunks([chunk])

    def write_chunks(self, chunks: Iterable[Chunk]) -> None:
        """Write chunks; consecutive small chunks of one schema share a record."""
        with self._lock:
            self._check_open()
            for group, rows in self._pack(self._split(chunks)):
                self._submit(group, rows)

    def _split(self, chunks: Iterable[Chunk]) -> Iterator[tuple[Chunk, int, int, tuple[int, bytes]]]:
        """Check each chunk and cut it to the bounds.

        Yields ``(chunk, size, rows, (recording, schema key))``, the size as ``_size``
        gives it. The chunks of a :class:`ChunkRun` (the SDK's many small entities) get
        the same checks and sizes, computed once for the whole run (see ``_RunInfo``).
        """
        run: ChunkRun | None = None
        info = _RunInfo(b"", [], [], [])
        run_rows: list[int] = []
        run_key: tuple[int, bytes] = (-1, b"")
        layout_ok = False
        n_recordings = len(self._recordings)  # (the lock is held: no recording is added meanwhile)
        for c in chunks:
            rec = c.recording
            if rec >= n_recordings or rec < 0:
                raise ValueError(f"chunk refers to recording {rec}, but the file has {n_recordings}")
            if type(c) is SlicedChunk and c.run is not None:
                if c.run is not run:
                    run = c.run
                    run_rows = run.rows
                    info = _run_info(run, self._schema_key(run.batch.schema), self.chunk_bytes, self.chunk_rows)
                    layout_ok = False
                    run_key = (-1, b"")
                i = c.index
                if not layout_ok or not info.ids_ok[i]:
                    # What _validate checks of the schema holds for all the chunks of a run
                    # (one batch, one data kind): checked with the first, and for the others
                    # only if their row ids need it. It raises naming the problem.
                    self._validate(c)
                    layout_ok = (c.kind, info.schema_key) in self._valid_layouts
                if rec != run_key[0]:
                    run_key = (rec, info.schema_key)
                key = run_key
                n = run_rows[i]
                nbytes = info.sizes[i]
                if info.whole[i]:
                    yield c, nbytes, n, key
                    continue
                if nbytes == _MEASURE:
                    nbytes = _size(c.batch)
            else:
                self._validate(c)
                n = c.rows
                nbytes = _size(c.batch)
                key = (c.recording, self._schema_key(c.batch.schema))
            if n <= 1:
                yield c, nbytes, n, key
                continue
            per_row = max(1, nbytes // n)
            step = max(1, min(self.chunk_rows, self.chunk_bytes // per_row))
            if n <= step:
                yield c, nbytes, n, key
            else:
                for start in range(0, n, step):
                    piece = c.slice(start, min(step, n - start))
                    yield piece, int(piece.batch.nbytes), piece.rows, key


    def _validate(self, c: Chunk) -> None:
        """``c.validate()``, with the schema rules checked once per data kind and schema.

        Many one-row chunks share one schema (one box per entity per frame): for them only
        the row id is checked again. Chunks of several rows get the full check, whose cost
        their rows amortise.
        """
        layout = (c.kind, self._schema_key(c.batch.schema))
        if layout not in self._valid_layouts:
            c.validate()
            self._valid_layouts.add(layout)
            return
        # Beyond the schema, validate() checks that row ids are non-null and increasing:
        # trivially true of an empty chunk and of one non-null row. For a few rows a
        # Python comparison is cheaper than numpy's call overhead; validate() then names
        # the problem if there is one.
        rid = c.batch.column(0)
        if rid.null_count:
            c.validate()
        elif len(rid) > 32:
            ids = c.row_ids()
            if not bool(np.all(ids[1:] > ids[:-1])):
                c.validate()
        elif len(rid) > 1:
            ids_list = rid.to_pylist()
            if not all(a < b for a, b in itertools.pairwise(ids_list)):
                c.validate()

    def _schema_key(self, schema: pa.Schema) -> bytes:
        """The serialised schema, the identity of a schema in the file.

        Serialising costs microseconds per call; consecutive chunks nearly always share
        their schema, which ``equals`` recognises far faster.
        """
        last = self._last_schema
        if last is not None and (schema is last[0] or schema.equals(last[0], check_metadata=True)):
            return last[1]
        key: bytes = schema.serialize().to_pybytes()
        self._last_schema = (schema, key)
        return key

    def _pack(
        self, chunks: Iterable[tuple[Chunk, int, int, tuple[int, bytes]]]
    ) -> Iterator[tuple[list[Chunk], list[int]]]:
        """Group consecutive chunks of one recording and schema into records within the bounds.

        Yields each group with its chunks' row counts.
        """
        group: list[Chunk] = []
        counts: list[int] = []
        key: tuple[int, bytes] | None = None
        size = rows = 0
        max_bytes, max_rows = self.chunk_bytes, self.chunk_rows
        for c, nbytes, n, k in chunks:
            if group and (k != key or size + nbytes > max_bytes or rows + n > max_rows):
                yield group, counts
                group, counts, size, rows = [], [], 0, 0
            group.append(c)
            counts.append(n)
            key = k
            size += nbytes
            rows += n
        if group:
            yield group, counts

    def _submit(self, group: Sequence[Chunk], rows: list[int] | None = None) -> None:
        schema = group[0].batch.schema
        schema_id = self._schema_id(schema)
        batch = _run_batch(group)
        if batch is None:
            batch = concat_batches(c.batch for c in group)
        entries = _entries(group, batch, rows)
        start = sum(e["rows"] for e in entries)
        self._note_row_ids(group[0].recording, entries)
        meta: dict[str, Any] = {
            "schema": schema_id,
            "recording": group[0].recording,
            "rows": start,
            "codec": self.compression,
            "raw": 0,
            "chunks": entries,
        }
        job: Future[_Encoded] | _Encoded | None = None
        if self._pool is not None:
            try:
                job = self._pool.submit(_encode, batch, self.compression, self.level)
            except RuntimeError:
                # At interpreter exit (a file closed by an atexit handler) pools take no new work.
                job = None
        if job is None:
            job = _encode(batch, self.compression, self.level)
        self._pending.append((job, meta))
        self._drain(self._max_pending)

    def write_encoded(
        self,
        meta: dict[str, Any],
        body: bytes | memoryview,
        *,
        schema: pa.Schema,
        flags: int,
        body_crc: int | None = None,
        recording: int = 0,
    ) -> None:
        """Write a chunk record that was encoded elsewhere (a stream being saved), as it is.

        The body is neither decoded nor compressed again; only the schema id and the
        recording in its ``meta`` become this file's (schema ids are local to a stream).
        """
        with self._lock:
            self._check_open()
            meta = dict(meta, schema=self._schema_id(schema), recording=recording)
            self._note_row_ids(recording, meta["chunks"])
            crc = body_crc if body_crc is not None else zlib.crc32(body)
            self._pending.append((_Encoded(body, int(meta["raw"]), crc, flags & fr.FLAG_BODY_ZSTD), meta))
            self._drain(self._max_pending)

    def _note_row_ids(self, recording: int, entries: Sequence[dict[str, Any]]) -> None:
        last_ids = [e["row_ids"][1] for e in entries if e["row_ids"][1] is not None]
        if last_ids:
            self._next_row_id[recording] = max(self.next_row_id(recording), max(last_ids) + 1)

    def _drain(self, keep: int) -> None:
        """Write finished records in order until at most ``keep`` are pending."""
        while len(self._pending) > keep:
            job, meta = self._pending[0]
            enc = job.result() if isinstance(job, Future) else job
            self._pending.popleft()
            meta["raw"] = enc.raw_size
            if not enc.flags & fr.FLAG_BODY_ZSTD:
                meta["codec"] = "none"
            offset = self._offset
            self._write_record(fr.RecordKind.CHUNK, meta, enc.body, flags=enc.flags, body_crc=enc.crc)
            if self._output is None:
                self._records.append([offset, self._offset - offset, meta])

    def _schema_id(self, schema: pa.Schema) -> int:
        key = self._schema_key(schema)
        sid = self._schemas.get(key)
        if sid is None:
            sid = len(self._schemas)
            self._drain(0)  # a schema record precedes the chunks that use it
            self._schema_offsets[sid] = self._offset
            self._write_record(fr.RecordKind.SCHEMA, {"schema": sid}, key)
            self._schemas[key] = sid
        return sid

    # --- bytes ---------------------------------------------------------------------------
    def _write_raw(
        self, pieces: Sequence[bytes | memoryview | pa.Buffer], kind: fr.RecordKind | None = None
    ) -> None:
        if self._output is not None:
            try:
                self._output.write_record(kind, pieces)
            except BaseException as exc:
                self._failed = exc
                raise
            self._offset += sum(memoryview(p).nbytes for p in pieces)  # type: ignore[arg-type]
            return
        try:
            for p in pieces:
                view = memoryview(p)  # type: ignore[arg-type]
                written = 0
                while written < view.nbytes:
                    n = self._file.write(view[written:])
                    written += n or 0
                self._offset += view.nbytes
        except BaseException as exc:
            self._failed = exc
            raise

    def _write_record(
        self,
        kind: fr.RecordKind,
        meta: dict[str, Any] | None,
        body: bytes | memoryview | pa.Buffer = b"",
        *,
        flags: int = 0,
        body_crc: int | None = None,
    ) -> None:
        self._check_open()
        pieces = fr.pack_record(
            kind, meta, memoryview(body), flags=flags, record_offset=self._offset, body_crc=body_crc  # type: ignore[arg-type]
        )
        self._write_raw(pieces, kind)

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"{self.path}: writer is closed")
        if self._failed is not None:
            raise RrdError(f"an earlier write failed ({self._failed}); the file is readable up to it", path=self.path)

    # --- lifecycle -----------------------------------------------------------------------
    @property
    def bytes_written(self) -> int:
        return self._offset

    def flush(self, *, fsync: bool = False) -> None:
        """Encode and write every pending chunk; with ``fsync`` also force it to disk."""
        with self._lock:
            self._check_open()
            self._drain(0)
            if fsync and self._file is not None:
                os.fsync(self._file.fileno())

    def close(self) -> None:
        """Write pending chunks, the footer and the trailer, then close the file."""
        with self._lock:
            if self._closed:
                return
            try:
                if self._failed is None:
                    self._drain(0)
                    if self._output is None:
                        self._write_footer()
            finally:
                self._closed = True
                if self._pool is not None:
                    self._pool.shutdown(wait=True)
                if self._file is not None:
                    self._file.close()

    def abort(self) -> None:
        """Close without a footer (what a crash leaves; used by tests and tools)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._pool is not None:
                self._pool.shutdown(wait=True)
            if self._file is not None:
                self._file.close()

    def _write_footer(self) -> None:
        index = {
            "header": self._header_meta,
            "recordings": [r.to_json() for r in self._recordings],
            "schemas": {str(k): v for k, v in self._schema_offsets.items()},
            "records": self._records,
        }
        # The index is the writer's own data, free of cycles: checking for them costs a fifth
        # of the encoding of many small entries.
        raw = json.dumps(index, separators=(",", ":"), check_circular=False).encode()
        body = zstandard.ZstdCompressor(level=3).compress(raw)
        footer_offset = self._offset
        self._write_record(
            fr.RecordKind.FOOTER, {"records": len(self._records), "raw": len(raw)}, body, flags=fr.FLAG_BODY_ZSTD
        )
        self._write_record(fr.RecordKind.TRAILER, None, fr.pack_trailer_body(footer_offset))

    def __enter__(self) -> RrdWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class _AppendState:
    end_offset: int
    header_meta: dict[str, Any]
    schemas: dict[bytes, int]
    schema_offsets: dict[int, int]
    records: list[list[Any]]
    recordings: list[RecordingInfo]
    next_row_id: dict[int, int]
