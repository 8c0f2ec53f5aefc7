"""``compact``: rewrite a file with chunks of a chosen size and compression.

A live recording flushes often, which leaves many small chunks; a query over a
finished file is faster with fewer, larger ones. ``compact`` concatenates the rows of
each (recording, entity, data kind, schema) in row-id order and writes them again
through :class:`~rrformat.writer.RrdWriter`, which splits them at the chosen size and
packs the small leftovers of many entities together. Values, row ids and timelines
are unchanged; only the chunk boundaries and the compression change.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..chunk import Chunk, ChunkInfo
from ..errors import CorruptFileError
from ..reader import RrdReader
from ..writer import DEFAULT_CHUNK_BYTES, DEFAULT_CHUNK_ROWS, Compression, RrdWriter
from ._common import Progress, atomic_output, damage_is_refusal, open_sound

__all__ = ["CompactReport", "compact"]

_Key = tuple[int, str, str, int]  # recording, entity, kind, schema id
_PENDING_FACTOR = 64
"""Rows waiting to fill a chunk are flushed early past this many chunks' worth of bytes,
bounding memory on files with very many entities."""


@dataclass(slots=True)
class CompactReport:
    """What :func:`compact` did: chunk and record counts and sizes before and after."""

    src: str
    dst: str
    chunks_in: int = 0
    chunks_out: int = 0
    records_in: int = 0
    records_out: int = 0
    rows: int = 0
    size_in: int = 0
    size_out: int = 0


def _key(info: ChunkInfo) -> _Key:
    return (info.recording, info.entity, info.kind, info.schema_id)


def _copy(batch: pa.RecordBatch) -> pa.RecordBatch:
    # A slice keeps its whole record's buffers alive; a concatenation owns just its rows.
    return pa.concat_batches([batch, batch.slice(0, 0)])


def _in_order(infos: Iterable[ChunkInfo]) -> bool:
    """Whether chunks met in file order also come in increasing, disjoint row-id order."""
    last: int | None = None
    for info in infos:
        if info.row_id_min is None or info.row_id_max is None:
            continue
        if last is not None and info.row_id_min <= last:
            return False
        last = info.row_id_max
    return True


class _Pending:
    """Rows of one key waiting to fill a chunk."""

    __slots__ = ("batches", "nbytes", "rows")

    def __init__(self) -> None:
        self.batches: list[pa.RecordBatch] = []
        self.nbytes = 0
        self.rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        self.batches.append(batch)
        self.nbytes += batch.nbytes
        self.rows += batch.num_rows

    def take(self) -> pa.RecordBatch:
        out = pa.concat_batches(self.batches) if len(self.batches) > 1 else _copy(self.batches[0])
        self.batches, self.nbytes, self.rows = [], 0, 0
        return out


class _Compactor:
    def __init__(self, reader: RrdReader, writer: RrdWriter, progress: Progress | None) -> None:
        self.reader = reader
        self.writer = writer
        self.progress = progress
        self.pending: dict[_Key, _Pending] = {}
        self.pending_bytes = 0

    def step(self, batch: pa.RecordBatch) -> int:
        """Rows per chunk for rows like these (the writer's own rule, so it does not split again)."""
        per_row = max(1, int(batch.nbytes) // max(1, int(batch.num_rows)))
        return max(1, min(self.writer.chunk_rows, self.writer.chunk_bytes // per_row))

    def write(self, key: _Key, batch: pa.RecordBatch) -> None:
        recording, entity, kind, _ = key
        self.writer.write_chunk(Chunk(entity, kind, batch, recording))

    def add(self, key: _Key, batch: pa.RecordBatch) -> None:
        p = self.pending.setdefault(key, _Pending())
        before = p.nbytes
        p.add(batch)
        self.pending_bytes += p.nbytes - before
        if p.nbytes >= self.writer.chunk_bytes or p.rows >= self.writer.chunk_rows:
            self.pending_bytes -= p.nbytes
            whole = p.take()
            step = self.step(whole)
            full = (whole.num_rows // step) * step
            pieces = [Chunk(key[1], key[2], whole.slice(s, step), key[0]) for s in range(0, full, step)]
            self.writer.write_chunks(pieces)
            if full < whole.num_rows:
                p.add(whole.slice(full))
                self.pending_bytes += p.nbytes
        if self.pending_bytes > _PENDING_FACTOR * self.writer.chunk_bytes:
            self.flush_pending(largest_only=True)

    def flush_pending(self, *, largest_only: bool = False) -> None:
        """Write waiting rows; small chunks go in one call, sorted by schema, so the writer packs them."""
        keys = sorted((k for k, p in self.pending.items() if p.rows), key=lambda k: (k[0], k[3], k[1], k[2]))
        if largest_only:
            keys.sort(key=lambda k: -self.pending[k].nbytes)
            keys = keys[: max(1, len(keys) // 2)]
            keys.sort(key=lambda k: (k[0], k[3], k[1], k[2]))
        chunks = []
        for k in keys:
            p = self.pending[k]
            self.pending_bytes -= p.nbytes
            chunks.append(Chunk(k[1], k[2], p.take(), k[0]))
        self.writer.write_chunks(chunks)

    def run(self) -> None:
        r = self.reader
        by_key: dict[_Key, list[ChunkInfo]] = {}
        by_record: dict[int, list[ChunkInfo]] = {}
        for info in r.chunks:
            by_key.setdefault(_key(info), []).append(info)
            by_record.setdefault(info.record_offset, []).append(info)
        ordered = {k for k, infos in by_key.items() if _in_order(infos)}
        for offset, infos in by_record.items():
            batch = r.read_record_batch(offset)
            for info in infos:
                if _key(info) in ordered and info.rows:
                    self.add(_key(info), batch.slice(info.row_start, info.rows))
            if self.progress is not None:
                self.progress(infos[0].record_offset + infos[0].record_size, r.file_size)
        self.flush_pending()
        # Keys whose chunks are out of row-id order in the file (appends, merges) are sorted in memory.
        for k in sorted(set(by_key) - ordered, key=lambda k: (k[0], k[3], k[1], k[2])):
            self.write(k, self.sorted_rows(k, by_key[k]))

    def sorted_rows(self, key: _Key, infos: list[ChunkInfo]) -> pa.RecordBatch:
        batch = pa.concat_batches([self.reader.read_chunk(i).batch for i in infos])
        batch = batch.take(pc.sort_indices(batch.column(0)))
        ids = batch.column(0).to_numpy(zero_copy_only=False)
        if len(ids) > 1 and not bool(np.all(ids[1:] > ids[:-1])):
            raise CorruptFileError(
                f"recording {key[0]} holds the same row id twice for {key[1]!r} ({key[2]})", path=self.reader.path
            )
        return batch


def compact(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    compression: Compression = "zstd",
    overwrite: bool = False,
    progress: Progress | None = None,
) -> CompactReport:
    """Rewrite ``src`` into ``dst`` with chunks of about ``chunk_bytes`` uncompressed bytes.

    Parameters
    ----------
    src, dst
        The file to read (it must be whole) and the file to write.
    chunk_bytes, chunk_rows
        Bounds of one chunk record in the output.
    compression
        ``"zstd"``, or ``"none"`` for bodies that can be memory-mapped.
    overwrite
        Replace ``dst`` if it exists.
    progress
        Optional ``progress(done_bytes, total_bytes)`` callback.

    Raises
    ------
    DamagedInputError
        ``src`` is truncated or corrupt (``recover`` it first).

    Examples
    --------
    >>> compact("run.rrd", "run-hot.rrd", compression="none")  # doctest: +SKIP
    CompactReport(...)
    """
    with open_sound(src) as reader, atomic_output(dst, srcs=[src], overwrite=overwrite) as tmp:
        recs = reader.recordings
        first = recs[0] if recs else None
        writer = RrdWriter(
            tmp,
            application_id=first.application_id if first else "unknown",
            recording_id=first.recording_id if first else None,
            start_time_ns=first.start_time_ns if first else None,
            compression=compression,
            chunk_bytes=chunk_bytes,
            chunk_rows=chunk_rows,
        )
        try:
            for info in recs[1:]:
                writer.add_recording(
                    application_id=info.application_id, recording_id=info.recording_id, start_time_ns=info.start_time_ns
                )
            with damage_is_refusal():
                _Compactor(reader, writer, progress).run()
        except BaseException:
            writer.abort()
            raise
        writer.close()
        with RrdReader(tmp) as out:
            return CompactReport(
                src=os.fspath(src),
                dst=os.fspath(dst),
                chunks_in=len(reader.chunks),
                chunks_out=len(out.chunks),
                records_in=len(reader.record_metas),
                records_out=len(out.record_metas),
                rows=sum(c.rows for c in out.chunks),
                size_in=reader.file_size,
                size_out=out.file_size,
            )
