"""Cutting a file at every byte: the reader offers exactly the records completed before the cut."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from rrformat import _framing as fr
from rrformat import testing as rt
from rrformat.chunk import Chunk
from rrformat.errors import NotAnRrdFileError
from rrformat.reader import RrdReader
from rrformat.writer import RrdWriter


def _sample(path: Path) -> list[Chunk]:
    return rt.write_sample_file(path)


def _sample_uncompressed(path: Path) -> list[Chunk]:
    return rt.write_sample_file(path, compression="none")


def _sample_appended(path: Path) -> list[Chunk]:
    """The sample, then an append: an old footer and trailer sit in the middle of the file."""
    written = rt.write_sample_file(path)
    with RrdWriter.append(path, threads=0) as w:
        extra = [
            rt.make_chunk("world/points", "points3d", rows=2, first_row_id=100, components=["positions3d"]),
            rt.make_chunk("plot/s0", "scalar", rows=2, first_row_id=102, components=["scalar"], seed=4),
        ]
        w.write_chunks(extra)
    return written + extra


@pytest.mark.parametrize("make", [_sample, _sample_uncompressed, _sample_appended], ids=["zstd", "none", "appended"])
def test_every_truncation_reads_the_complete_prefix(tmp_path: Path, make: Callable[[Path], list[Chunk]]) -> None:
    path = tmp_path / "full.rrd"
    written = make(path)
    size = path.stat().st_size
    spans = rt.record_layout(path)
    with RrdReader(path) as full:
        index, recordings, header = full.chunks, full.recordings, full.header
        originals = [full.read_chunk(info) for info in index]
    assert len(originals) == len(written) and all(a.equals(b) for a, b in zip(originals, written, strict=True))
    boundaries = {fr.PREAMBLE_SIZE} | {s.end for s in spans}
    # A cut right after a trailer leaves a closed file: the original one, or the one before the append.
    closed_at = {s.end for s in spans if s.kind == fr.RecordKind.TRAILER}

    cut = tmp_path / "cut.rrd"
    shutil.copyfile(path, cut)
    # Cutting from the end down to nothing: one truncate() per offset, no copying.
    for n in range(size, -1, -1):
        os.truncate(cut, n)
        if n < fr.PREAMBLE_SIZE:
            with pytest.raises(NotAnRrdFileError):
                RrdReader(cut)
            continue
        complete = [s for s in spans if s.end <= n]
        with RrdReader(cut) as r:
            assert r.chunks == [info for info in index if info.record_offset + info.record_size <= n], n
            n_rec = sum(s.kind == fr.RecordKind.RECORDING for s in complete)
            assert r.recordings == recordings[:n_rec]
            assert r.header == (header if complete else {})
            assert r.opened_via == ("footer" if n in closed_at else "scan")
            if n in boundaries:
                assert r.damage is None, n
            else:
                assert r.damage is not None and r.damage.kind == "truncated", n
                start = max(b for b in boundaries if b <= n)
                assert (r.damage.offset, r.damage.lost_bytes) == (start, n - start)
            for info in r.chunks:
                assert r.read_chunk(info).equals(originals[index.index(info)])


def test_zero_filled_tail_is_a_truncation(tmp_path: Path, sample_rrd: tuple[Path, list[Chunk]]) -> None:
    """A power loss can leave the end of a file as zeros: from a record on, that is a truncation."""
    path, written = sample_rrd
    data = path.read_bytes()
    spans = rt.record_layout(path)
    with RrdReader(path) as full:
        index = full.chunks
    torn = tmp_path / "torn.rrd"
    for s in spans[1:]:
        torn.write_bytes(data[: s.offset] + bytes(len(data) - s.offset))
        with RrdReader(torn) as r:
            assert r.damage is not None and r.damage.kind == "truncated"
            assert (r.damage.offset, r.damage.lost_bytes) == (s.offset, len(data) - s.offset)
            assert r.chunks == [i for i in index if i.record_offset < s.offset]
            assert all(r.read_chunk(i).equals(written[index.index(i)]) for i in r.chunks)
