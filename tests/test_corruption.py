"""Damaging one byte anywhere: the damage is reported, or it provably changes nothing.

For every byte of a small file, the byte is flipped, the file opened (through the footer
and by a scan) and every chunk read. What must happen is predicted from the byte's role
(preamble field, or record kind and part) and checked; and whatever the role, a chunk that
reads without error must equal the original: never a silently different value.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rrformat import _framing as fr
from rrformat import testing as rt
from rrformat.chunk import Chunk, ChunkInfo
from rrformat.errors import CorruptFileError, NotAnRrdFileError, RrdError, UnsupportedVersionError
from rrformat.reader import RrdReader
from rrformat.writer import RecordingInfo, RrdWriter


@dataclass(frozen=True)
class Expect:
    """What a damaged byte must cause.

    ``outcome`` is one of:
    ``refused`` (opening raises ``error``), ``harmless`` (everything reads as the original),
    ``scan_stops`` (the index ends before the record at ``offset``, reported as corrupt
    there, for ``part``'s checksum), ``read_fails`` (the index is intact but reading the
    chunks ``affected`` raises a checksum error of ``part``).
    """

    outcome: str
    error: type[RrdError] | None = None
    offset: int = 0
    part: str = ""
    fallback: bool = False  # opening through the footer had to fall back to a scan
    affected: frozenset[int] = frozenset()  # positions in the index


@dataclass
class Original:
    """The undamaged file and everything read from it."""

    path: Path
    data: bytes
    spans: list[rt.RecordSpan]
    index: list[ChunkInfo]
    recordings: list[RecordingInfo]
    header: dict[str, object]
    chunks: list[Chunk]
    schema_offsets: dict[int, int]


def _expect(orig: Original, offset: int, *, via_footer: bool) -> Expect:
    if offset < 8:
        return Expect("refused", NotAnRrdFileError)
    if offset < 10:
        return Expect("refused", UnsupportedVersionError)
    if offset < fr.PREAMBLE_SIZE:
        return Expect("harmless")  # the minor version and the reserved field may hold anything
    span = next(s for s in orig.spans if s.offset <= offset < s.end)
    part = span.part_of(offset)
    if part == "padding":
        return Expect("harmless")  # no reader looks at the zeros after a body
    kind = fr.RecordKind(span.kind)
    stops = Expect("scan_stops", offset=span.offset, part=part, fallback=via_footer)
    if kind is fr.RecordKind.FOOTER or kind is fr.RecordKind.TRAILER:
        if span.offset < orig.spans[-2].offset:
            # A footer and trailer left mid-file by an append: only a scan visits them.
            return stops if part != "body" and not via_footer else Expect("harmless")
        # A damaged footer or trailer costs a scan; the scan checks headers and metas only.
        return stops if part != "body" else Expect("harmless", fallback=via_footer)
    if kind is fr.RecordKind.HEADER or (part != "body" and not via_footer):
        # The header record is read whichever way the file is opened; a scan checks every
        # record's header and meta as it goes.
        return stops
    if kind is fr.RecordKind.RECORDING:
        return Expect("harmless")  # the footer holds the recordings; the record is not read
    if kind is fr.RecordKind.SCHEMA:
        sid = next(k for k, off in orig.schema_offsets.items() if off == span.offset)
        affected = frozenset(i for i, info in enumerate(orig.index) if info.schema_id == sid)
        return Expect("read_fails", part=part, affected=affected)
    assert kind is fr.RecordKind.CHUNK
    affected = frozenset(i for i, info in enumerate(orig.index) if info.record_offset == span.offset)
    return Expect("read_fails", part=part, affected=affected)


def _check(orig: Original, damaged: Path, offset: int, *, via_footer: bool) -> None:
    exp = _expect(orig, offset, via_footer=via_footer)
    where = f"byte {offset} ({exp.outcome}, via {'footer' if via_footer else 'scan'})"
    if exp.outcome == "refused":
        assert exp.error is not None
        with pytest.raises(exp.error):
            RrdReader(damaged, use_footer=via_footer)
        return
    with RrdReader(damaged, use_footer=via_footer) as r:
        # Whatever the role: the index is a prefix of the original, and a chunk either reads
        # exactly as written or raises an RrdError. Never a silently different value.
        assert r.chunks == orig.index[: len(r.chunks)], where
        assert r.recordings == orig.recordings[: len(r.recordings)], where
        failed = set()
        for i, info in enumerate(r.chunks):
            try:
                chunk = r.read_chunk(info)
            except CorruptFileError as exc:
                assert f"{exp.part} checksum" in exc.reason, (where, exc.reason)
                failed.add(i)
            else:
                assert chunk.equals(orig.chunks[i]), where
        assert r.opened_via == ("footer" if via_footer and not exp.fallback else "scan"), where
        if exp.fallback:
            assert r.footer_problem is not None, where
        if exp.outcome == "scan_stops":
            assert r.damage is not None and r.damage.kind == "corrupt", where
            assert r.damage.offset == exp.offset and f"{exp.part} checksum" in r.damage.reason, where
            assert r.chunks == [info for info in orig.index if info.record_offset < exp.offset], where
            assert not failed, where
            return
        assert r.damage is None, where
        assert r.chunks == orig.index and r.recordings == orig.recordings and r.header == orig.header, where
        assert failed == set(exp.affected), where


@pytest.fixture(params=["closed", "appended"])
def original(request: pytest.FixtureRequest, sample_rrd: tuple[Path, list[Chunk]]) -> Original:
    """The sample file; or the sample with one chunk appended (an old footer and trailer mid-file)."""
    path, written = sample_rrd
    assert path.stat().st_size < 4096
    if request.param == "appended":
        with RrdWriter.append(path, threads=0) as w:
            extra = rt.make_chunk("plot/s1", "scalar", rows=2, first_row_id=100, components=["scalar"])
            w.write_chunk(extra)
        written = [*written, extra]
    with RrdReader(path) as r:
        index, recordings, header, schemas = r.chunks, r.recordings, r.header, r.schema_offsets
    return Original(path, path.read_bytes(), rt.record_layout(path), index, recordings, header, written, schemas)


def _flips(orig: Original, tmp_path: Path, offsets: range, mask: int | None) -> Iterator[int]:
    """Flip each byte of ``offsets`` in a copy (xor ``mask``, or one bit chosen by the offset)
    in place, yield the offset while it is flipped, then restore it."""
    damaged = tmp_path / "damaged.rrd"
    shutil.copyfile(orig.path, damaged)
    fd = os.open(damaged, os.O_RDWR)
    try:
        for off in offsets:
            m = mask if mask is not None else 1 << (off // 4 % 8)
            os.pwrite(fd, bytes([orig.data[off] ^ m]), off)
            yield off
            os.pwrite(fd, orig.data[off : off + 1], off)
    finally:
        os.close(fd)


@pytest.mark.parametrize("via_footer", [True, False], ids=["footer", "scan"])
def test_every_byte_flipped(tmp_path: Path, original: Original, via_footer: bool) -> None:
    damaged = tmp_path / "damaged.rrd"
    for off in _flips(original, tmp_path, range(len(original.data)), 0xFF):
        _check(original, damaged, off, via_footer=via_footer)


@pytest.mark.parametrize("via_footer", [True, False], ids=["footer", "scan"])
def test_single_bit_flips(tmp_path: Path, original: Original, via_footer: bool) -> None:
    damaged = tmp_path / "damaged.rrd"
    for off in _flips(original, tmp_path, range(0, len(original.data), 4), None):
        _check(original, damaged, off, via_footer=via_footer)


def test_every_role_is_exercised(original: Original) -> None:
    """The sample file has every record kind, and padding, so the sweep covers every rule above."""
    kinds = {fr.RecordKind(s.kind) for s in original.spans}
    assert kinds == set(fr.RecordKind)
    parts = {s.part_of(o) for s in original.spans for o in range(s.offset, s.end)}
    assert parts == {"header", "meta", "body", "padding"}
    outcomes = {_expect(original, o, via_footer=True).outcome for o in range(len(original.data))}
    assert outcomes == {"refused", "harmless", "scan_stops", "read_fails"}
