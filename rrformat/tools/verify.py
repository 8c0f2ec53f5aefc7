"""``verify``: read every record of a file and check everything that can be checked.

Opening a file checks record headers and metas only; a flipped bit in a chunk body is
found when the chunk is read. ``verify`` reads every body, decodes every chunk and
compares each index entry with the rows it describes, so a file that verifies can be
read in full.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Literal

from .. import _framing as fr
from ..errors import CorruptFileError
from ..reader import Damage, RecordView, RrdReader
from ._common import Progress
from ._decode import Problem, RecordDecoder

__all__ = ["VerifyReport", "verify"]

Status = Literal["ok", "truncated", "corrupt"]


@dataclass(slots=True)
class VerifyReport:
    """What :func:`verify` found.

    Attributes
    ----------
    status
        ``"ok"``: the file is whole. ``"truncated"``: everything before the cut is sound
        and the file just ends early: its writer did not close it, so it has no footer
        and maybe a torn last record. ``"corrupt"``: some checksum or decoding check failed.
    problems
        One line per problem, each starting with the byte offset it concerns.
    chunks_ok
        Chunks that passed every check.
    records
        Records whose header could be read.
    damage
        The first place the file is damaged (of the kind ``status`` names), or None.
    """

    path: str
    status: Status = "ok"
    problems: list[str] = field(default_factory=list)
    chunks_ok: int = 0
    chunks_bad: int = 0
    records: int = 0
    file_size: int = 0
    has_footer: bool = False
    damage: Damage | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class _Verifier:
    def __init__(self, reader: RrdReader, progress: Progress | None) -> None:
        self.reader = reader
        self.progress = progress
        self.decoder = RecordDecoder(reader)
        self.problems: list[Problem] = []
        self.corrupt: list[Damage] = []
        self.truncation: Damage | None = None
        self.walk_damaged = False
        self.records = 0
        self.chunks_ok = 0
        self.chunks_bad = 0
        self.chunk_records: list[list[Any]] = []
        self.recordings: list[dict[str, Any]] = []
        self.last: RecordView | None = None
        self.fd = -1

    def problem(self, offset: int, message: str, size: int = 0) -> None:
        """Note corruption at ``offset``; ``size`` is how many bytes it makes unusable."""
        self.problems.append(Problem(offset, message))
        self.corrupt.append(Damage("corrupt", offset, size, message))

    def run(self) -> None:
        # Padding bytes are read directly: the reader has no call for bytes outside records.
        self.fd = os.open(self.reader.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            self.walk()
        finally:
            os.close(self.fd)
            self.fd = -1
        self.check_footer()

    def walk(self) -> None:
        size = self.reader.file_size
        for item in self.reader.walk(resync=True):
            if isinstance(item, Damage):
                self.walk_damaged = True
                self.last = None
                if item.kind == "truncated":
                    self.truncation = item
                    message = f"file ends early, {item.lost_bytes} bytes unreadable: {item.reason}"
                    self.problems.append(Problem(item.offset, message))
                else:
                    self.problem(item.offset, f"{item.lost_bytes} bytes unreadable: {item.reason}", item.lost_bytes)
                continue
            self.records += 1
            self.last = item
            try:
                self.check(item)
            except CorruptFileError as exc:
                self.problem(item.header.offset, exc.reason, item.header.size)
            self.check_padding(item)
            if self.progress is not None:
                self.progress(item.header.end, size)

    def check(self, rec: RecordView) -> None:
        h = rec.header
        if self.records == 1 and h.kind != fr.RecordKind.HEADER:
            self.problem(h.offset, f"the first record is a {rec.kind_name} record, not a header", h.size)
        if h.kind == fr.RecordKind.CHUNK:
            self.chunk_records.append([h.offset, h.size, rec.meta])
            try:
                decoded = self.decoder.decode_chunk(rec)
            except CorruptFileError:
                self.chunks_bad += len(rec.meta.get("chunks", ()) or ())
                raise
            for p in decoded.problems:
                self.problem(p.offset, p.message, h.size)
            bad = decoded.entries if decoded.record_flawed else decoded.dropped + decoded.flawed
            self.chunks_bad += bad
            self.chunks_ok += decoded.entries - bad
        elif h.kind == fr.RecordKind.RECORDING:
            info = self.decoder.take_recording(rec)
            if info.index != len(self.recordings):
                self.problem(h.offset, f"recording {info.index} declared where {len(self.recordings)} was due", h.size)
            self.recordings.append(info.to_json())
        elif h.kind == fr.RecordKind.SCHEMA:
            self.decoder.take_schema(rec)
        elif h.kind == fr.RecordKind.FOOTER:
            self.decoder.read_footer(rec)
        elif h.kind == fr.RecordKind.TRAILER:
            self.decoder.read_trailer(rec)
        else:
            # HEADER and unknown kinds: their body still has a checksum to check.
            self.reader.read_body(h)

    def check_padding(self, rec: RecordView) -> None:
        """The bytes after a body up to the next 8-aligned record must be zero (no checksum covers them)."""
        h = rec.header
        body_end = h.body_offset + h.body_len
        if h.end > body_end:
            pad = os.pread(self.fd, h.end - body_end, body_end)
            if pad.count(0) != len(pad):
                self.problem(h.offset, f"padding after the body (bytes {body_end}..{h.end}) is not zero", h.size)

    def check_footer(self) -> None:
        """If the file was closed (it ends in a trailer), its footer must index exactly what the walk found.

        A file that ends after a whole record but without a footer was not closed by its
        writer (a crash between two records): it is truncated, with nothing torn.
        """
        last = self.last
        size = self.reader.file_size
        if last is None or last.header.kind != fr.RecordKind.TRAILER or last.header.end != size:
            if not self.walk_damaged:
                reason = "the file has no footer: its writer did not close it (every record in it is whole)"
                self.truncation = Damage("truncated", size, 0, reason)
                self.problems.append(Problem(size, reason))
            return
        r = self.reader
        if r.opened_via != "footer":
            message = f"the file ends in a trailer but its footer is unusable: {r.footer_problem}"
            self.problem(last.header.offset, message)
            return
        if self.walk_damaged:
            return  # records the walk could not read differ from the footer anyway; already reported
        at = r.scan_end
        if r.record_metas != self.chunk_records:
            self.problem(at, f"footer index differs from the chunk records: {self._first_difference()}")
        if [x.to_json() for x in r.recordings] != self.recordings:
            self.problem(at, "footer lists other recordings than the recording records")
        if r.schema_offsets != self.decoder.schema_offsets:
            self.problem(at, "footer lists other schema offsets than the schema records")

    def _first_difference(self) -> str:
        footer = self.reader.record_metas
        scanned = self.chunk_records
        for a, b in zip(footer, scanned, strict=False):
            if a != b:
                return f"the footer's entry for the record at byte {a[0]} does not match the record at byte {b[0]}"
        return f"the footer lists {len(footer)} chunk records, the file holds {len(scanned)}"

    def report(self) -> VerifyReport:
        rep = VerifyReport(path=self.reader.path, file_size=self.reader.file_size)
        rep.records = self.records
        rep.chunks_ok = self.chunks_ok
        rep.chunks_bad = self.chunks_bad
        rep.has_footer = self.reader.opened_via == "footer"
        rep.problems = [str(p) for p in sorted(self.problems, key=lambda p: p.offset)]
        if self.corrupt:
            rep.status = "corrupt"
            rep.damage = min(self.corrupt, key=lambda d: d.offset)
        elif self.truncation is not None:
            rep.status = "truncated"
            rep.damage = self.truncation
        return rep


def verify(path: str | os.PathLike[str], *, progress: Progress | None = None) -> VerifyReport:
    """Check every record of an .rrd file.

    Parameters
    ----------
    path
        The file.
    progress
        Optional ``progress(done_bytes, total_bytes)`` callback.

    Returns
    -------
    VerifyReport

    Raises
    ------
    NotAnRrdFileError, UnsupportedVersionError
        The file is not an .rrd file this reader can read at all.

    Examples
    --------
    >>> report = verify("run.rrd")  # doctest: +SKIP
    >>> report.status, report.chunks_ok
    ('ok', 120)
    """
    try:
        reader = RrdReader(path)
    except CorruptFileError as exc:
        # Only the preamble is read before the walk: a damaged version field.
        rep = VerifyReport(path=os.fspath(path), status="corrupt", file_size=os.path.getsize(path))
        off = exc.offset or 0
        rep.problems = [str(Problem(off, exc.reason))]
        rep.damage = Damage("corrupt", off, rep.file_size - off, exc.reason)
        return rep
    with reader:
        v = _Verifier(reader, progress)
        v.run()
        return v.report()
