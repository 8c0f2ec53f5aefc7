"""Reading .rrd files: open through the footer, or rebuild the index by a scan.

Every length read from the file is checked against the file's size before anything
is allocated, every record's header and meta checksums are checked when the record
is visited, and a body's checksum when the body is read.
"""

from __future__ import annotations

import collections
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import zstandard

from . import _framing as fr
from .chunk import Chunk, ChunkInfo, entries_from_meta
from .errors import CorruptFileError, RrdError, TruncatedFileError
from .writer import RecordingInfo

__all__ = ["RrdReader", "Damage", "RecordView", "open_rrd"]

_MAX_FOOTER_RAW = 1 << 30
_BATCH_CACHE = 4


@dataclass(frozen=True, slots=True)
class Damage:
    """Where a scan had to stop, and why."""

    kind: Literal["truncated", "corrupt"]
    offset: int
    lost_bytes: int
    reason: str

    def describe(self) -> str:
        what = "truncated" if self.kind == "truncated" else "corrupt"
        return f"{what} at byte {self.offset} ({self.lost_bytes} bytes unreadable): {self.reason}"


@dataclass(frozen=True, slots=True)
class RecordView:
    """One record met while walking the file."""

    header: fr.RecordHeader
    meta: dict[str, Any]

    @property
    def kind_name(self) -> str:
        try:
            return fr.RecordKind(self.header.kind).name.lower()
        except ValueError:
            return f"unknown({self.header.kind})"


class RrdReader:
    """Read-only access to an .rrd file.

    Parameters
    ----------
    path
        The file.
    use_footer
        Open through the footer when the file has a valid one (default). With False,
        or when the footer is missing or damaged, the record headers are scanned.

    Attributes
    ----------
    chunks : list[ChunkInfo]
        The index: one entry per chunk, in file order.
    damage : Damage | None
        Set when the file ends early (``truncated``) or a record is damaged
        (``corrupt``); every chunk before that point is available.
    opened_via : {"footer", "scan"}

    Examples
    --------
    >>> with RrdReader("run.rrd") as r:  # doctest: +SKIP
    ...     for info in r.chunks:
    ...         chunk = r.read_chunk(info)
    """

    def __init__(self, path: str | os.PathLike[str], *, use_footer: bool = True) -> None:
        self.path = os.fspath(path)
        try:
            self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except IsADirectoryError:
            raise RrdError("is a directory, not an .rrd file", path=self.path) from None
        try:
            self.file_size = os.fstat(self._fd).st_size
            self.version = fr.unpack_preamble(self._pread(0, min(fr.PREAMBLE_SIZE, self.file_size)), path=self.path)
            self.header: dict[str, Any] = {}
            self.recordings: list[RecordingInfo] = []
            self.chunks: list[ChunkInfo] = []
            self.record_metas: list[list[Any]] = []
            self.schema_offsets: dict[int, int] = {}
            self.damage: Damage | None = None
            self.footer_problem: str | None = None
            self.opened_via: Literal["footer", "scan"] = "scan"
            self._schemas: dict[int, pa.Schema] = {}
            self._batches: collections.OrderedDict[int, pa.RecordBatch] = collections.OrderedDict()
            self.records_decoded = 0
            """Chunk records decoded so far (lets callers check that a query pruned)."""
            self.scan_end = fr.PREAMBLE_SIZE
            if not (use_footer and self._open_footer()):
                self._scan_index(fr.PREAMBLE_SIZE)
        except BaseException:
            os.close(self._fd)
            self._fd = -1  # or __del__ closes it again, maybe after the number was reused
            raise

    # --- low level -----------------------------------------------------------------------
    def _pread(self, offset: int, n: int) -> bytes:
        data = os.pread(self._fd, n, offset)
        if len(data) != n:
            raise TruncatedFileError(f"expected {n} bytes, file has {len(data)}", path=self.path, offset=offset)
        return data

    def read_record(self, offset: int, *, size: int | None = None) -> RecordView:
        """Read and check a record's header and meta at ``offset``.

        Raises :class:`TruncatedFileError` if the record does not fit in the file
        (``size``, default the file's size) and :class:`CorruptFileError` if a checksum fails.
        """
        size = self.file_size if size is None else size
        if size - offset < fr.RECORD_HEADER_SIZE:
            raise TruncatedFileError(
                f"file ends inside a record header ({size - offset} of {fr.RECORD_HEADER_SIZE} bytes)",
                path=self.path,
                offset=offset,
            )
        raw = self._pread(offset, fr.RECORD_HEADER_SIZE)
        h = fr.unpack_record_header(raw, offset, path=self.path)
        if h.end > size:
            raise TruncatedFileError(
                f"record of {h.size} bytes extends past the end of the file ({size - offset} bytes left)",
                path=self.path,
                offset=offset,
            )
        if h.meta_len > fr.MAX_META_SIZE:
            raise CorruptFileError(
                f"record meta of {h.meta_len} bytes exceeds the limit", path=self.path, offset=offset
            )
        meta_bytes = self._pread(h.meta_offset, h.meta_len) if h.meta_len else b""
        fr.check_meta(h, meta_bytes, path=self.path)
        return RecordView(h, fr.decode_meta(h, meta_bytes, path=self.path))

    def read_body(self, header: fr.RecordHeader, *, raw_size: int | None = None) -> bytes:
        """Read a record's body, check its checksum, and decompress it if it is compressed."""
        body = self._pread(header.body_offset, header.body_len)
        fr.check_body(header, body, path=self.path)
        if header.flags & fr.FLAG_BODY_ZSTD:
            limit = raw_size if raw_size is not None else _MAX_FOOTER_RAW
            try:
                out = zstandard.ZstdDecompressor().decompress(body, max_output_size=limit)
            except zstandard.ZstdError as exc:
                raise CorruptFileError(
                    f"zstd body does not decompress: {exc}", path=self.path, offset=header.offset
                ) from exc
            if raw_size is not None and len(out) != raw_size:
                raise CorruptFileError(
                    f"body decompressed to {len(out)} bytes, the meta says {raw_size}",
                    path=self.path,
                    offset=header.offset,
                )
            return out
        return body

    # --- opening -------------------------------------------------------------------------
    def _open_footer(self) -> bool:
        if self.file_size < fr.PREAMBLE_SIZE + fr.TRAILER_SIZE:
            return False
        trailer_at = self.file_size - fr.TRAILER_SIZE
        try:
            t = self.read_record(trailer_at)
            if t.header.kind != fr.RecordKind.TRAILER:
                self.footer_problem = "no trailer at the end of the file"
                return False
            footer_at = fr.unpack_trailer_body(self.read_body(t.header))
            if footer_at is None or not fr.PREAMBLE_SIZE <= footer_at < trailer_at:
                raise CorruptFileError("trailer does not point inside the file", path=self.path, offset=trailer_at)
            f = self.read_record(footer_at, size=trailer_at)
            if f.header.kind != fr.RecordKind.FOOTER or f.header.end != trailer_at:
                raise CorruptFileError("trailer does not point at a footer", path=self.path, offset=footer_at)
            raw = int(f.meta.get("raw", 0))
            if not 0 < raw <= _MAX_FOOTER_RAW:
                raise CorruptFileError(f"footer size {raw} out of bounds", path=self.path, offset=footer_at)
            index = json.loads(self.read_body(f.header, raw_size=raw))
            head = self.read_record(fr.PREAMBLE_SIZE)
            if head.header.kind != fr.RecordKind.HEADER:
                raise CorruptFileError("first record is not a header", path=self.path, offset=fr.PREAMBLE_SIZE)
            self.header = head.meta
            self.recordings = [RecordingInfo.from_json(m) for m in index["recordings"]]
            self.schema_offsets = {int(k): int(v) for k, v in index["schemas"].items()}
            self.record_metas = [list(r) for r in index["records"]]
            self.chunks = [c for off, size, meta in self.record_metas for c in entries_from_meta(meta, off, size)]
        except (RrdError, ValueError, KeyError, TypeError) as exc:
            # A damaged footer costs a scan, never data: the records hold the same index.
            self.footer_problem = str(exc)
            self.header, self.recordings, self.schema_offsets, self.record_metas, self.chunks = {}, [], {}, [], []
            return False
        self.opened_via = "footer"
        self.scan_end = footer_at
        return True

    def walk(self, start: int = fr.PREAMBLE_SIZE, *, resync: bool = False) -> Iterator[RecordView | Damage]:
        """Visit records in file order from ``start``.

        Yields a :class:`Damage` where a record cannot be read. Without ``resync`` the
        walk stops there; with it, the walk searches for the next intact record header and
        goes on (used by ``rrd recover``).
        """
        off = start
        size = self.file_size
        while off < size:
            try:
                rec = self.read_record(off)
            except RrdError as exc:
                damage = self._damage_at(off, exc)
                if not resync or damage.kind == "truncated":
                    yield damage
                    return
                nxt = self._resync(off + 8)
                yield Damage("corrupt", off, (nxt if nxt is not None else size) - off, damage.reason)
                if nxt is None:
                    return
                off = nxt
                continue
            yield rec
            off = rec.header.end

    def _damage_at(self, off: int, exc: RrdError) -> Damage:
        lost = self.file_size - off
        if isinstance(exc, TruncatedFileError):
            return Damage("truncated", off, lost, exc.reason)
        if self._tail_is_zero(off):
            # A crash can leave the end of a file zero-filled: a torn write, not damage.
            return Damage("truncated", off, lost, "the file ends in zero bytes (an interrupted write)")
        return Damage("corrupt", off, lost, exc.reason)

    def _tail_is_zero(self, off: int) -> bool:
        pos = off
        while pos < self.file_size:
            block = os.pread(self._fd, min(1 << 20, self.file_size - pos), pos)
            if not block or block.count(0) != len(block):
                return False
            pos += len(block)
        return True

    def _resync(self, start: int) -> int | None:
        """Find the next offset holding an intact record (header and meta checksums)."""
        pos = fr.align8(start)
        block_size = 1 << 22
        while pos + fr.RECORD_HEADER_SIZE <= self.file_size:
            block = os.pread(self._fd, min(block_size + fr.RECORD_HEADER_SIZE, self.file_size - pos), pos)
            n = (len(block) - fr.RECORD_HEADER_SIZE) // 8 + 1
            words = np.frombuffer(block[: (len(block) // 8) * 8], dtype="<u8")
            first = words[:n]
            fourth = words[3 : 3 + n]
            m = min(len(first), len(fourth))
            kind = first[:m] & 0xFFFF
            flags = (first[:m] >> 16) & 0xFFFF
            reserved = fourth[:m] & 0xFFFFFFFF
            candidates = np.nonzero((kind >= 1) & (kind <= 0xFF) & (flags <= 3) & (reserved == 0))[0]
            for i in candidates:
                off = pos + int(i) * 8
                try:
                    self.read_record(off)
                except RrdError:
                    continue
                return off
            pos += m * 8
        return None

    def _scan_index(self, start: int) -> None:
        for item in self.walk(start):
            if isinstance(item, Damage):
                self.damage = item
                return
            self._take(item)
            self.scan_end = item.header.end
        self.damage = None

    def _take(self, rec: RecordView) -> None:
        h, meta = rec.header, rec.meta
        try:
            if h.kind == fr.RecordKind.HEADER:
                self.header = meta
            elif h.kind == fr.RecordKind.RECORDING:
                self.recordings.append(RecordingInfo.from_json(meta))
            elif h.kind == fr.RecordKind.SCHEMA:
                self.schema_offsets[int(meta["schema"])] = h.offset
            elif h.kind == fr.RecordKind.CHUNK:
                self.record_metas.append([h.offset, h.size, meta])
                self.chunks.extend(entries_from_meta(meta, h.offset, h.size))
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptFileError(
                f"record meta lacks a required field: {exc}", path=self.path, offset=h.offset
            ) from exc

    def refresh(self) -> list[ChunkInfo]:
        """Pick up records appended since the last look (for files still being written).

        Returns the new index entries. Only meaningful when the file was opened by a scan.
        """
        if self.opened_via == "footer":
            return []
        self.file_size = os.fstat(self._fd).st_size
        before = len(self.chunks)
        self._scan_index(self.scan_end)
        return self.chunks[before:]

    # --- schemas and chunks -------------------------------------------------------------
    def schema(self, schema_id: int) -> pa.Schema:
        """The Arrow schema with this id (read from its schema record on first use)."""
        s = self._schemas.get(schema_id)
        if s is None:
            off = self.schema_offsets.get(schema_id)
            if off is None:
                raise CorruptFileError(f"chunk refers to unknown schema {schema_id}", path=self.path)
            rec = self.read_record(off)
            if rec.header.kind != fr.RecordKind.SCHEMA or int(rec.meta.get("schema", -1)) != schema_id:
                raise CorruptFileError(f"no schema record {schema_id} here", path=self.path, offset=off)
            try:
                s = pa.ipc.read_schema(pa.py_buffer(self.read_body(rec.header)))
            except pa.ArrowException as exc:
                raise CorruptFileError(f"schema does not parse: {exc}", path=self.path, offset=off) from exc
            self._schemas[schema_id] = s
        return s

    def read_record_batch(self, record_offset: int) -> pa.RecordBatch:
        """Decode the whole Arrow batch of the chunk record at ``record_offset`` (cached)."""
        cached = self._batches.get(record_offset)
        if cached is not None:
            self._batches.move_to_end(record_offset)
            return cached
        batch = self.decode_record(record_offset)
        self._batches[record_offset] = batch
        while len(self._batches) > _BATCH_CACHE:
            self._batches.popitem(last=False)
        return batch

    def decode_record(self, record_offset: int) -> pa.RecordBatch:
        """Decode a chunk record without the cache.

        Safe to call from several threads at once once the record's schema is loaded
        (:meth:`schema`): reads are positional and zstd releases the GIL.
        """
        self.records_decoded += 1
        rec = self.read_record(record_offset)
        if rec.header.kind != fr.RecordKind.CHUNK:
            raise CorruptFileError("index points at a record that is not a chunk", path=self.path, offset=record_offset)
        meta = rec.meta
        schema = self.schema(int(meta["schema"]))
        data = self.read_body(rec.header, raw_size=int(meta["raw"]))
        try:
            batch = pa.ipc.read_record_batch(pa.py_buffer(data), schema)
            batch.validate(full=False)
        except pa.ArrowException as exc:
            raise CorruptFileError(
                f"chunk body is not a valid Arrow batch: {exc}", path=self.path, offset=record_offset
            ) from exc
        if batch.num_rows != int(meta["rows"]):
            raise CorruptFileError(
                f"chunk holds {batch.num_rows} rows, its index says {meta['rows']}",
                path=self.path,
                offset=record_offset,
            )
        return batch

    def read_chunk(self, info: ChunkInfo) -> Chunk:
        """Read one chunk by its index entry."""
        batch = self.read_record_batch(info.record_offset)
        if info.row_start + info.rows > batch.num_rows:
            raise CorruptFileError(
                "index entry points past the rows of its record", path=self.path, offset=info.record_offset
            )
        return Chunk(info.entity, info.kind, batch.slice(info.row_start, info.rows), info.recording)

    def iter_chunks(self) -> Iterator[Chunk]:
        for info in self.chunks:
            yield self.read_chunk(info)

    # --- lifecycle -----------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._fd < 0

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self._batches.clear()

    def __enter__(self) -> RrdReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        fd = getattr(self, "_fd", -1)
        if fd >= 0:
            os.close(fd)


def open_rrd(path: str | os.PathLike[str], *, use_footer: bool = True) -> RrdReader:
    """Open an .rrd file for reading (see :class:`RrdReader`)."""
    return RrdReader(path, use_footer=use_footer)
