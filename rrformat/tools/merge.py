"""``merge``: gather several files into one.

Recordings are matched by ``recording_id``: the parts of one run written to several
files become one recording again, while different runs stay separate recordings of
the output file. Row ids must stay unique within a recording, so when two inputs'
row-id ranges for one output recording overlap, the later input's row ids are shifted
past the earlier ones (their order within each input is kept).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from ..chunk import Chunk, ChunkInfo
from ..errors import CorruptFileError
from ..reader import RrdReader
from ..writer import Compression, RecordingInfo, RrdWriter
from ._common import (
    KEEP_RECORDS,
    Progress,
    atomic_output,
    damage_is_refusal,
    open_sound,
    same_file,
    source_compression,
)

__all__ = ["MergeReport", "merge"]

_MAX_ROW_ID = (1 << 64) - 1


@dataclass(frozen=True, slots=True)
class RowIdShift:
    """Row ids of ``recording`` in input ``input`` were moved by ``offset`` in the output."""

    input: int
    recording: int
    output_recording: int
    offset: int


@dataclass(slots=True)
class MergeReport:
    """What :func:`merge` wrote."""

    srcs: list[str]
    dst: str
    recordings: list[RecordingInfo] = field(default_factory=list)
    shifts: list[RowIdShift] = field(default_factory=list)
    chunks: int = 0
    rows: int = 0
    size_out: int = 0


@dataclass(slots=True)
class _Plan:
    recordings: list[RecordingInfo]
    # (input, input recording) -> (output recording, row id offset)
    mapping: dict[tuple[int, int], tuple[int, int]]


def _row_id_range(reader: RrdReader, recording: int) -> tuple[int, int] | None:
    ids = [
        (c.row_id_min, c.row_id_max)
        for c in reader.chunks
        if c.recording == recording and c.row_id_min is not None and c.row_id_max is not None
    ]
    if not ids:
        return None
    return min(lo for lo, _ in ids), max(hi for _, hi in ids)


def _plan(readers: Sequence[RrdReader], as_one: bool) -> _Plan:
    out: list[RecordingInfo] = []
    by_key: dict[str, int] = {}
    mapping: dict[tuple[int, int], tuple[int, int]] = {}
    used: dict[int, list[tuple[int, int]]] = {}  # output recording -> row-id ranges taken
    for i, reader in enumerate(readers):
        for rec in reader.recordings:
            key = "" if as_one else rec.recording_id
            idx = by_key.get(key)
            if idx is None:
                idx = by_key[key] = len(out)
                out.append(RecordingInfo(idx, rec.application_id, rec.recording_id, rec.start_time_ns))
            else:
                # One run split over several files started when its earliest part started.
                o = out[idx]
                out[idx] = RecordingInfo(idx, o.application_id, o.recording_id, min(o.start_time_ns, rec.start_time_ns))
            offset = 0
            rng = _row_id_range(reader, rec.index)
            taken = used.setdefault(idx, [])
            if rng is not None:
                lo, hi = rng
                # Keep the ids as they are unless they collide with ids already placed.
                if any(lo <= t_hi and t_lo <= hi for t_lo, t_hi in taken):
                    offset = max(t_hi for _, t_hi in taken) + 1 - lo
                if hi + offset > _MAX_ROW_ID:
                    raise ValueError(f"{reader.path}: row ids of recording {rec.index} do not fit after shifting")
                taken.append((lo + offset, hi + offset))
            mapping[(i, rec.index)] = (idx, offset)
    return _Plan(out, mapping)


def _shift(batch: pa.RecordBatch, offset: int) -> pa.RecordBatch:
    if offset == 0:
        return batch
    ids = pc.add_checked(batch.column(0), pa.scalar(offset, pa.uint64()))
    return batch.set_column(0, batch.schema.field(0), ids)


def merge(
    srcs: Sequence[str | os.PathLike[str]],
    dst: str | os.PathLike[str],
    *,
    as_one: bool = False,
    overwrite: bool = False,
    compression: Compression | None = None,
    progress: Progress | None = None,
) -> MergeReport:
    """Merge .rrd files into one.

    Parameters
    ----------
    srcs
        The input files, each whole (``recover`` damaged ones first).
    dst
        The file to write.
    as_one
        Put everything into one recording, with the first input's application and
        recording ids, instead of matching recordings by ``recording_id``.
    overwrite
        Replace ``dst`` if it exists.
    compression
        ``"zstd"`` or ``"none"``; by default ``"none"`` only if every input is uncompressed.
    progress
        Optional ``progress(done_bytes, total_bytes)`` callback over all inputs.

    Raises
    ------
    DamagedInputError
        An input is truncated or corrupt.
    ValueError
        No input, or the same file given twice.

    Examples
    --------
    >>> merge(["robot-a.rrd", "robot-b.rrd"], "both.rrd")  # doctest: +SKIP
    MergeReport(...)
    """
    paths = [os.fspath(s) for s in srcs]
    if not paths:
        raise ValueError("merge needs at least one input file")
    for i, a in enumerate(paths):
        for b in paths[:i]:
            if same_file(a, b):
                raise ValueError(f"{a}: given twice as an input (also as {b})")
    readers: list[RrdReader] = []
    try:
        for p in paths:
            readers.append(open_sound(p))
        plan = _plan(readers, as_one)
        with atomic_output(dst, srcs=paths, overwrite=overwrite) as tmp:
            with damage_is_refusal():
                _write(readers, plan, tmp, compression or source_compression(readers), progress)
            with RrdReader(tmp) as out:
                report = MergeReport(paths, os.fspath(dst), plan.recordings, size_out=out.file_size)
                report.chunks = len(out.chunks)
                report.rows = sum(c.rows for c in out.chunks)
        for (i, rec), (out_rec, offset) in sorted(plan.mapping.items()):
            if offset:
                report.shifts.append(RowIdShift(i, rec, out_rec, offset))
        return report
    finally:
        for r in readers:
            r.close()


def _write(
    readers: Sequence[RrdReader],
    plan: _Plan,
    path: os.PathLike[str],
    compression: Compression,
    progress: Progress | None,
) -> None:
    first = plan.recordings[0] if plan.recordings else None
    writer = RrdWriter(
        path,
        application_id=first.application_id if first else "merged",
        recording_id=first.recording_id if first else None,
        start_time_ns=first.start_time_ns if first else None,
        compression=compression,
        chunk_bytes=KEEP_RECORDS,
        chunk_rows=KEEP_RECORDS,
    )
    try:
        for info in plan.recordings[1:]:
            writer.add_recording(
                application_id=info.application_id, recording_id=info.recording_id, start_time_ns=info.start_time_ns
            )
        total = sum(r.file_size for r in readers)
        done = 0
        for i, reader in enumerate(readers):
            by_record: dict[int, list[ChunkInfo]] = {}
            for c in reader.chunks:
                by_record.setdefault(c.record_offset, []).append(c)
            for offset, infos in by_record.items():
                target = plan.mapping.get((i, infos[0].recording))
                if target is None:
                    raise CorruptFileError(
                        f"chunk refers to recording {infos[0].recording}, which is not declared",
                        path=reader.path,
                        offset=offset,
                    )
                out_rec, shift = target
                batch = _shift(reader.read_record_batch(offset), shift)
                # One call per source record: the writer keeps the record as it was.
                writer.write_chunks(Chunk(c.entity, c.kind, batch.slice(c.row_start, c.rows), out_rec) for c in infos)
                if progress is not None:
                    progress(done + offset + infos[0].record_size, total)
            done += reader.file_size
    except BaseException:
        writer.abort()
        raise
    writer.close()
