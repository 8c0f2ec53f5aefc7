"""``recover``: copy every sound chunk of a damaged file into a new, whole file.

The source is walked record by record, resynchronising after a damaged record (spec
section 7.2.5), so the chunks after a corrupt record in the middle are kept too. A
chunk is kept only if its record is wholly sound: header, meta and body checksums hold
and the body decodes. The source is only read.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from typing import Literal

from .. import _framing as fr
from ..chunk import Chunk
from ..errors import CorruptFileError, RrdError
from ..reader import Damage, RecordView, RrdReader
from ..writer import Compression, RecordingInfo, RrdWriter
from ._common import KEEP_RECORDS, Progress, atomic_output, source_compression
from ._decode import RecordDecoder

__all__ = ["RecoverReport", "recover"]

Status = Literal["nothing_lost", "some_lost", "nothing_recoverable"]
_NO_DATA_KINDS = (fr.RecordKind.FOOTER, fr.RecordKind.TRAILER)


@dataclass(slots=True)
class RecoverReport:
    """What :func:`recover` kept and lost.

    Attributes
    ----------
    status
        ``"nothing_lost"``: every chunk was copied. ``"some_lost"``: some bytes or chunks
        could not be kept. ``"nothing_recoverable"``: not one chunk could be kept; no
        output file was written.
    chunks_recovered
        Chunks written to the output.
    chunks_lost
        Chunks known to be lost: exact when the source's footer was usable, otherwise a
        lower bound (a chunk record whose header is destroyed cannot be counted).
    bytes_lost
        Bytes of the source that went into no kept record.
    problems
        One line per damaged place, starting with its byte offset.
    """

    src: str
    dst: str
    status: Status = "nothing_lost"
    chunks_recovered: int = 0
    chunks_lost: int = 0
    chunks_lost_exact: bool = False
    bytes_lost: int = 0
    rows_recovered: int = 0
    recordings: list[RecordingInfo] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class _Recovery:
    def __init__(self, reader: RrdReader, out_path: str, compression: Compression, progress: Progress | None) -> None:
        self.reader = reader
        self.out_path = out_path
        self.compression = compression
        self.progress = progress
        self.decoder = RecordDecoder(reader)
        self.writer: RrdWriter | None = None
        self.rec_map: dict[int, int] = {}
        self.report = RecoverReport(reader.path, out_path)
        self.data_lost = False
        self.known_lost = 0

    def lose(self, offset: int, size: int, message: str, *, chunks: int = 0, data: bool = True) -> None:
        self.report.problems.append(f"byte {offset}: {message}")
        self.report.bytes_lost += size
        self.known_lost += chunks
        self.data_lost = self.data_lost or data or chunks > 0

    # --- output recordings ---------------------------------------------------------------
    def declare(self, info: RecordingInfo) -> int:
        app, rid, start = info.application_id, info.recording_id, info.start_time_ns
        if self.writer is None:
            self.writer = RrdWriter(
                self.out_path,
                application_id=app,
                recording_id=rid,
                start_time_ns=start,
                compression=self.compression,
                chunk_bytes=KEEP_RECORDS,
                chunk_rows=KEEP_RECORDS,
            )
            out = 0
        else:
            out = self.writer.add_recording(application_id=app, recording_id=rid, start_time_ns=start)
        self.rec_map[info.index] = out
        self.report.recordings.append(RecordingInfo(out, info.application_id, info.recording_id, info.start_time_ns))
        return out

    def output_recording(self, src_index: int, offset: int) -> int:
        out = self.rec_map.get(src_index)
        if out is None:
            # Its RECORDING record was lost: keep the data under a stand-in recording
            # rather than drop it; the application id is most likely the file's first one.
            first = next(iter(self.decoder.recordings.values()), None)
            app = first.application_id if first is not None else "recovered"
            stand_in = RecordingInfo(src_index, app, str(uuid.uuid4()), 0)
            self.report.problems.append(
                f"byte {offset}: recording {src_index} was never declared (its record was lost); "
                f"its chunks are kept under the new recording id {stand_in.recording_id}"
            )
            out = self.declare(stand_in)
        return out

    # --- the walk ------------------------------------------------------------------------
    def run(self) -> None:
        size = self.reader.file_size
        for item in self.reader.walk(resync=True):
            if isinstance(item, Damage):
                kind, chunks = self.peek(item.offset)
                what = "file ends early" if item.kind == "truncated" else "corrupt"
                self.lose(
                    item.offset,
                    item.lost_bytes,
                    f"{what}, {item.lost_bytes} bytes unreadable: {item.reason}",
                    chunks=chunks,
                    data=kind not in _NO_DATA_KINDS,
                )
                continue
            try:
                self.take(item)
            except CorruptFileError as exc:
                n = len(item.meta.get("chunks", ()) or ()) if item.header.kind == fr.RecordKind.CHUNK else 0
                data = item.header.kind not in (*_NO_DATA_KINDS, fr.RecordKind.HEADER)
                self.lose(item.header.offset, item.header.size, f"{exc.reason}; record dropped", chunks=n, data=data)
            if self.progress is not None:
                self.progress(item.header.end, size)

    def take(self, rec: RecordView) -> None:
        h = rec.header
        if h.kind == fr.RecordKind.RECORDING:
            info = self.decoder.take_recording(rec)
            if info.index not in self.rec_map:
                self.declare(info)
        elif h.kind == fr.RecordKind.SCHEMA:
            self.decoder.take_schema(rec)
        elif h.kind == fr.RecordKind.CHUNK:
            decoded = self.decoder.decode_chunk(rec)
            if decoded.dropped:
                message = f"{decoded.dropped} chunk(s) of the record have unusable rows"
                self.lose(h.offset, 0, message, chunks=decoded.dropped)
            if not decoded.chunks:
                return
            out = self.output_recording(decoded.recording, h.offset)
            chunks = [Chunk(c.entity, c.kind, c.batch, out) for c in decoded.chunks]
            assert self.writer is not None
            self.writer.write_chunks(chunks)  # one call per record: the record layout is kept
            self.report.chunks_recovered += len(chunks)
            self.report.rows_recovered += sum(c.rows for c in chunks)
        # HEADER, FOOTER, TRAILER and unknown kinds carry no data of their own.

    def peek(self, offset: int) -> tuple[int | None, int]:
        """The kind and chunk count of a damaged record whose header (and meta) are still intact.

        A torn footer loses no data, and a torn chunk record's meta still says how many
        chunks were lost.
        """
        try:
            with open(self.reader.path, "rb") as f:
                f.seek(offset)
                raw = f.read(fr.RECORD_HEADER_SIZE)
                if len(raw) < fr.RECORD_HEADER_SIZE:
                    return None, 0
                h = fr.unpack_record_header(raw, offset, path=self.reader.path)
                if h.kind != fr.RecordKind.CHUNK or h.meta_len > fr.MAX_META_SIZE:
                    return h.kind, 0
                meta_bytes = f.read(h.meta_len)
            if len(meta_bytes) < h.meta_len:
                return h.kind, 0
            fr.check_meta(h, meta_bytes, path=self.reader.path)
            entries = fr.decode_meta(h, meta_bytes, path=self.reader.path).get("chunks")
            return h.kind, len(entries) if isinstance(entries, list) else 0
        except (RrdError, OSError):
            return None, 0

    def finish(self) -> RecoverReport:
        rep = self.report
        footer_total = len(self.reader.chunks) if self.reader.opened_via == "footer" else None
        if footer_total is not None:
            rep.chunks_lost = max(0, footer_total - rep.chunks_recovered)
            rep.chunks_lost_exact = True
        else:
            rep.chunks_lost = self.known_lost
        if rep.chunks_recovered == 0 and (self.data_lost or rep.chunks_lost or self.writer is None):
            rep.status = "nothing_recoverable"
        elif self.data_lost or rep.chunks_lost:
            rep.status = "some_lost"
        else:
            rep.status = "nothing_lost"
        return rep


def recover(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    compression: Compression | None = None,
    progress: Progress | None = None,
) -> RecoverReport:
    """Write every sound chunk of ``src`` to a new file ``dst``.

    Recordings keep their ids, application ids and start times; chunks keep their
    entity, data kind, row ids, timelines and values. ``src`` is never modified.

    Parameters
    ----------
    src, dst
        The damaged file and the file to write.
    overwrite
        Replace ``dst`` if it exists.
    compression
        ``"zstd"`` or ``"none"``; by default like the source (``"none"`` if every
        readable chunk record of it is uncompressed).
    progress
        Optional ``progress(done_bytes, total_bytes)`` callback.

    Returns
    -------
    RecoverReport
        With status ``"nothing_recoverable"`` no file is written.

    Examples
    --------
    >>> report = recover("crashed.rrd", "fixed.rrd")  # doctest: +SKIP
    >>> report.status, report.chunks_recovered
    ('some_lost', 41)
    """
    with RrdReader(src) as reader, atomic_output(dst, srcs=[src], overwrite=overwrite) as tmp:
        job = _Recovery(reader, str(tmp), compression or source_compression([reader]), progress)
        try:
            job.run()
        except BaseException:
            if job.writer is not None:
                job.writer.abort()
            raise
        report = job.finish()
        report.dst = os.fspath(dst)
        if job.writer is not None:
            if report.status == "nothing_recoverable":
                job.writer.abort()
                os.unlink(tmp)  # no output at all rather than a file without data
            else:
                job.writer.close()
        return report
