"""Decode records in walk order and check everything a record claims against its data.

``verify`` reports what this module finds; ``recover`` keeps what it finds sound. Both
walk the records themselves instead of trusting an index, so the schemas and
recordings are collected here as the walk meets them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from .. import _framing as fr
from ..chunk import Chunk, ChunkInfo, entries_from_meta
from ..components import DATA_KINDS
from ..entity_path import EntityPath
from ..errors import CorruptFileError, SchemaError
from ..reader import RecordView, RrdReader
from ..writer import RecordingInfo

__all__ = ["Problem", "DecodedRecord", "RecordDecoder"]

_STAT_KEYS = ("rows", "timeless", "row_ids", "timelines")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a file, at a byte offset."""

    offset: int
    message: str

    def __str__(self) -> str:
        return f"byte {self.offset}: {self.message}"


@dataclass(slots=True)
class DecodedRecord:
    """A chunk record whose body decoded; ``chunks`` holds the entries that are usable.

    ``problems`` lists every disagreement between the meta and the data. An entry whose
    row range or columns are unusable is left out of ``chunks`` and counted in ``dropped``;
    an entry whose statistics (row id or time ranges) merely disagree with its rows is
    kept, since rewriting the chunk recomputes them from the rows, and counted in
    ``flawed``. ``record_flawed`` is set when the record's own meta disagrees with its body.
    """

    header: fr.RecordHeader
    meta: dict[str, Any]
    recording: int
    batch: pa.RecordBatch
    chunks: list[Chunk] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    dropped: int = 0
    flawed: int = 0
    record_flawed: bool = False

    @property
    def entries(self) -> int:
        return len(self.meta.get("chunks", ()))


def _corrupt(reader: RrdReader, offset: int, message: str) -> CorruptFileError:
    return CorruptFileError(message, path=reader.path, offset=offset)


class RecordDecoder:
    """Read the records of one file in walk order, remembering schemas and recordings.

    Every method raises :class:`CorruptFileError` (naming the record's offset) when the
    record as a whole cannot be used.
    """

    def __init__(self, reader: RrdReader) -> None:
        self.reader = reader
        self.schemas: dict[int, pa.Schema] = {}
        self.schema_offsets: dict[int, int] = {}
        self.recordings: dict[int, RecordingInfo] = {}

    # --- small records -------------------------------------------------------------------
    def take_recording(self, rec: RecordView) -> RecordingInfo:
        self.reader.read_body(rec.header)  # checks the (empty) body's checksum
        try:
            info = RecordingInfo.from_json(rec.meta)
        except (KeyError, TypeError, ValueError) as exc:
            raise _corrupt(self.reader, rec.header.offset, f"recording meta lacks a field: {exc}") from exc
        if info.index in self.recordings:
            raise _corrupt(self.reader, rec.header.offset, f"recording {info.index} is declared twice")
        self.recordings[info.index] = info
        return info

    def take_schema(self, rec: RecordView) -> int:
        off = rec.header.offset
        try:
            sid = int(rec.meta["schema"])
        except (KeyError, TypeError, ValueError) as exc:
            raise _corrupt(self.reader, off, f"schema meta lacks a field: {exc}") from exc
        body = self.reader.read_body(rec.header)
        try:
            schema = pa.ipc.read_schema(pa.py_buffer(body))
        except (pa.ArrowException, ValueError) as exc:
            raise _corrupt(self.reader, off, f"schema {sid} does not parse: {exc}") from exc
        known = self.schemas.get(sid)
        if known is not None and not known.equals(schema, check_metadata=True):
            raise _corrupt(self.reader, off, f"schema id {sid} is declared twice with different columns")
        self.schemas[sid] = schema
        self.schema_offsets[sid] = off
        return sid

    def read_footer(self, rec: RecordView) -> dict[str, Any]:
        """Decode a FOOTER record's index."""
        off = rec.header.offset
        try:
            raw = int(rec.meta["raw"])
        except (KeyError, TypeError, ValueError) as exc:
            raise _corrupt(self.reader, off, f"footer meta lacks a field: {exc}") from exc
        body = self.reader.read_body(rec.header, raw_size=raw)
        try:
            index = json.loads(body)
        except ValueError as exc:
            raise _corrupt(self.reader, off, f"footer index is not valid JSON: {exc}") from exc
        if not isinstance(index, dict):
            raise _corrupt(self.reader, off, "footer index is not a JSON object")
        return index

    def read_trailer(self, rec: RecordView) -> int:
        """The footer offset a TRAILER record points to."""
        footer_at = fr.unpack_trailer_body(self.reader.read_body(rec.header))
        if footer_at is None:
            raise _corrupt(self.reader, rec.header.offset, "trailer body is not a footer offset and the magic")
        return footer_at

    # --- chunk records -------------------------------------------------------------------
    def decode_chunk(self, rec: RecordView) -> DecodedRecord:
        """Decode a chunk record and check its index entries against its rows."""
        h, meta = rec.header, rec.meta
        reader = self.reader
        try:
            sid = int(meta["schema"])
            recording = int(meta["recording"])
            rows = int(meta["rows"])
            codec = str(meta["codec"])
            raw = int(meta["raw"])
            infos = entries_from_meta(meta, h.offset, h.size)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise _corrupt(reader, h.offset, f"chunk meta lacks a required field: {exc}") from exc
        schema = self.schemas.get(sid)
        if schema is None:
            raise _corrupt(reader, h.offset, f"chunk refers to schema {sid}, which no earlier record declares")
        zstd = bool(h.flags & fr.FLAG_BODY_ZSTD)
        body = reader.read_body(h, raw_size=raw if zstd else None)
        try:
            batch = pa.ipc.read_record_batch(pa.py_buffer(body), schema)
            batch.validate(full=True)
        except (pa.ArrowException, ValueError) as exc:
            raise _corrupt(reader, h.offset, f"chunk body is not a valid Arrow batch: {exc}") from exc
        if batch.num_rows != rows:
            raise _corrupt(reader, h.offset, f"chunk body holds {batch.num_rows} rows, its meta says {rows}")
        out = DecodedRecord(h, meta, recording, batch)
        if codec != ("zstd" if zstd else "none"):
            out.problems.append(Problem(h.offset, f"meta says codec {codec!r} but the body is stored otherwise"))
        if not zstd and raw != h.body_len:
            out.problems.append(Problem(h.offset, f"meta says {raw} raw bytes, the stored body has {h.body_len}"))
        if recording not in self.recordings:
            out.problems.append(Problem(h.offset, f"chunk refers to recording {recording}, which is not declared"))
        out.record_flawed = bool(out.problems)
        taken: list[tuple[int, int]] = []
        for i, (info, entry) in enumerate(zip(infos, meta["chunks"], strict=True)):
            chunk = self._check_entry(out, i, info, entry, taken)
            if chunk is None:
                out.dropped += 1
            else:
                out.chunks.append(chunk)
        return out

    def _check_entry(
        self, out: DecodedRecord, i: int, info: ChunkInfo, entry: dict[str, Any], taken: list[tuple[int, int]]
    ) -> Chunk | None:
        off = out.header.offset
        where = f"chunk {i} ({info.entity!r}, {info.kind})"
        start, end = info.row_start, info.row_start + info.rows
        if info.row_start < 0 or info.rows < 0 or end > out.batch.num_rows:
            out.problems.append(
                Problem(off, f"{where}: rows {start}..{end} lie outside the record's {out.batch.num_rows} rows")
            )
            return None
        if any(start < e and s < end for s, e in taken):
            out.problems.append(Problem(off, f"{where}: rows {start}..{end} overlap another chunk of the record"))
            return None
        taken.append((start, end))
        try:
            entity = str(EntityPath.parse(info.entity))
        except (ValueError, TypeError) as exc:
            out.problems.append(Problem(off, f"{where}: entity path does not parse: {exc}"))
            return None
        if entity != info.entity:
            out.problems.append(Problem(off, f"{where}: entity path is not canonical (should be {entity!r})"))
        chunk = Chunk(entity, info.kind, out.batch.slice(start, info.rows), out.recording)
        # Readers must accept kinds they do not know: check those with the rules every kind shares.
        probe = chunk if info.kind in DATA_KINDS else Chunk(entity, "extension", chunk.batch, out.recording)
        try:
            probe.validate()
        except SchemaError as exc:
            out.problems.append(Problem(off, f"{where}: {exc}"))
            return None
        actual = chunk.entry_json(start)
        wrong = [key for key in _STAT_KEYS if entry.get(key) != actual[key]]
        for key in wrong:
            out.problems.append(
                Problem(off, f"{where}: index says {key} {entry.get(key)!r}, the rows give {actual[key]!r}")
            )
        if wrong or entity != info.entity:
            out.flawed += 1
        return chunk
