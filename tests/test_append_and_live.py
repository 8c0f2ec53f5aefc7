"""Appending to closed files, crashes while appending, and reading files that another process writes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import pytest

from rrformat import testing as rt
from rrformat.chunk import Chunk
from rrformat.errors import RrdError
from rrformat.reader import RrdReader
from rrformat.writer import RrdWriter


def _read_all(path: Path, *, use_footer: bool) -> tuple[RrdReader, list[Chunk]]:
    with RrdReader(path, use_footer=use_footer) as r:
        return r, [r.read_chunk(info) for info in r.chunks]


def _assert_chunks(path: Path, expected: Sequence[Chunk], *, closed: bool) -> None:
    """Both ways of opening give exactly ``expected``, in order; a closed file opens via its footer."""
    for use_footer in (True, False):
        r, got = _read_all(path, use_footer=use_footer)
        assert r.damage is None
        assert r.opened_via == ("footer" if closed and use_footer else "scan")
        assert len(got) == len(expected)
        assert all(a.equals(b) for a, b in zip(got, expected, strict=True))


def _extra(first_row_id: int, seed: int) -> list[Chunk]:
    """Chunks to append: one of a schema the sample has, one of a new schema."""
    return [
        rt.make_chunk("plot/s1", "scalar", rows=3, first_row_id=first_row_id, components=["scalar"], seed=seed),
        rt.make_chunk("world/points", "points3d", rows=2, first_row_id=first_row_id + 3, seed=seed),
    ]


def test_append_after_close(sample_rrd: tuple[Path, list[Chunk]]) -> None:
    path, written = sample_rrd
    old_size = path.stat().st_size
    old_bytes = path.read_bytes()
    with RrdReader(path) as r:
        old_schemas = dict(r.schema_offsets)
        old_max = max(i.row_id_max for i in r.chunks if i.recording == 0 and i.row_id_max is not None)

    with RrdWriter.append(path) as w:
        assert w.next_row_id(0) == old_max + 1, "row ids continue after the largest one in the recording"
        first = _extra(w.next_row_id(0), seed=1)
        w.write_chunks(first)
    assert path.read_bytes()[:old_size] == old_bytes, "appending never rewrites a byte"
    _assert_chunks(path, written + first, closed=True)
    with RrdReader(path) as r:
        # The scalar schema is reused; only the points schema is new.
        assert len(r.schema_offsets) == len(old_schemas) + 1
        assert {k: v for k, v in r.schema_offsets.items() if k in old_schemas} == old_schemas
        assert [rec.application_id for rec in r.recordings] == ["sample", "sample"]

    with RrdWriter.append(path, compression="none") as w:
        third = w.add_recording(application_id="third")
        second = [*_extra(w.next_row_id(0), seed=2), rt.make_chunk("x", "scalar", rows=1, recording=third)]
        w.write_chunks(second)
    _assert_chunks(path, written + first + second, closed=True)
    with RrdReader(path) as r:
        assert [rec.application_id for rec in r.recordings] == ["sample", "sample", "third"]
        assert [rec.recording_id for rec in r.recordings][:2] == ["sample-0", "sample-1"]


def test_append_to_an_aborted_file_adds_the_footer(tmp_path: Path) -> None:
    """A file left without footer (but undamaged) by a crash can be appended to, and then has a footer."""
    path = tmp_path / "aborted.rrd"
    w = RrdWriter(path, application_id="crashy")
    before = [rt.numbered_chunk(i) for i in range(4)]
    w.write_chunks(before)
    w.flush()
    w.abort()
    _assert_chunks(path, before, closed=False)
    with RrdWriter.append(path) as w2:
        after = [rt.numbered_chunk(i) for i in range(4, 7)]
        w2.write_chunks(after)
    _assert_chunks(path, before + after, closed=True)


@pytest.mark.parametrize("cut", [1, 8, 47, 49, 100])
def test_append_to_a_truncated_file_is_refused(sample_rrd: tuple[Path, list[Chunk]], cut: int) -> None:
    path, _ = sample_rrd
    os.truncate(path, path.stat().st_size - cut)
    damaged = path.read_bytes()
    with RrdReader(path) as r:
        assert r.damage is not None and r.damage.kind == "truncated"
    with pytest.raises(RrdError, match="rrd recover"):
        RrdWriter.append(path)
    assert path.read_bytes() == damaged, "a refused append leaves the file alone"


def test_crash_during_append_loses_nothing_old(sample_rrd: tuple[Path, list[Chunk]]) -> None:
    path, written = sample_rrd
    w = RrdWriter.append(path, chunk_rows=4)
    flushed = [rt.numbered_chunk(i) for i in range(3)]
    w.write_chunks(flushed)
    w.flush()
    pending = [rt.numbered_chunk(i) for i in range(3, 10)]
    w.write_chunks(pending)  # some of these may still be in the encoder when the "crash" happens
    w.abort()
    for use_footer in (True, False):
        r, got = _read_all(path, use_footer=use_footer)
        assert r.opened_via == "scan" and r.damage is None
        assert len(got) >= len(written) + len(flushed)
        assert all(a.equals(b) for a, b in zip(got, written, strict=False)), "every old chunk survives"
        # The appended chunks were split by chunk_rows=4: what was read is a prefix of the pieces.
        pieces = [c.slice(s, min(4, c.rows - s)) for c in flushed + pending for s in range(0, c.rows, 4)]
        new = got[len(written) :]
        assert len(new) <= len(pieces)
        assert all(a.equals(b) for a, b in zip(new, pieces, strict=False))

    # A crash in the middle of writing a record: the torn record is reported, nothing before it lost.
    size = path.stat().st_size
    os.truncate(path, size - 5)
    with RrdReader(path) as r:
        assert r.damage is not None and r.damage.kind == "truncated"
        assert len(r.chunks) >= len(written) + len(flushed) - 1
        assert all(r.read_chunk(i).equals(c) for i, c in zip(r.chunks, written, strict=False))


# --- another process writing ---------------------------------------------------------------------
_WRITER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from rrformat.testing import numbered_chunk
    from rrformat.writer import RrdWriter

    path, count, delay, hold = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4] == "hold"
    # Built up front so that the process spends its time writing; uncompressed, so that
    # large records take several page writes (more chances to be seen, or killed, half done).
    chunks = [numbered_chunk(i) for i in range(count)]
    with RrdWriter(path, application_id="live", compression="none") as w:
        for i, chunk in enumerate(chunks):
            w.write_chunk(chunk)
            w.flush()
            print(i + 1, flush=True)  # this many chunks are in the file now
            time.sleep(delay)
        if hold:  # wait to be killed, never closing the file
            time.sleep(600)
    print("closed", flush=True)
    """
)


def _start_writer(tmp_path: Path, path: Path, count: int, delay: float, *, hold: bool = False) -> subprocess.Popen[str]:
    """Run the writer script: ``count`` chunks, ``delay`` seconds apart; with ``hold`` it then
    waits to be killed instead of closing the file."""
    script = tmp_path / "writer.py"
    script.write_text(_WRITER_SCRIPT)
    return subprocess.Popen(
        [sys.executable, str(script), str(path), str(count), str(delay), "hold" if hold else "close"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(stdout: IO[str], flushed: int) -> None:
    """Read the writer's progress lines until it says ``flushed`` chunks are in the file."""
    for line in stdout:
        if line.strip() != "closed" and int(line) >= flushed:
            return
    raise AssertionError("the writer process ended early")


def _check_prefix(r: RrdReader, seen: int) -> int:
    """The reader sees a complete prefix of the stream, at least ``seen`` long; return its length."""
    assert r.damage is None or r.damage.kind == "truncated", r.damage
    n = len(r.chunks)
    assert n >= seen, "the prefix never shrinks"
    for i, info in enumerate(r.chunks):
        assert r.read_chunk(info).equals(rt.numbered_chunk(i))
    return n


def test_reading_while_another_process_writes(tmp_path: Path) -> None:
    path = tmp_path / "live.rrd"
    count = 30
    proc = _start_writer(tmp_path, path, count, 0.01)
    try:
        assert proc.stdout is not None
        _wait_for(proc.stdout, 1)  # the file exists and holds a chunk
        follower = RrdReader(path, use_footer=False)
        seen_open = seen_refresh = 0
        looks = 0
        while proc.poll() is None or looks == 0:
            looks += 1
            with RrdReader(path) as r:
                seen_open = _check_prefix(r, seen_open)
            follower.refresh()
            seen_refresh = _check_prefix(follower, seen_refresh)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert out.strip().endswith("closed")
        follower.refresh()
        assert _check_prefix(follower, seen_refresh) == count and follower.damage is None
        follower.close()
        with RrdReader(path) as r:
            assert r.opened_via == "footer" and _check_prefix(r, count) == count
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("pause", [0.0, 0.003], ids=["at-once", "a-moment-later"])
def test_writer_killed_mid_run_keeps_every_flushed_chunk(tmp_path: Path, pause: float) -> None:
    path = tmp_path / "killed.rrd"
    proc = _start_writer(tmp_path, path, 300, 0.0, hold=True)
    try:
        assert proc.stdout is not None
        _wait_for(proc.stdout, 25)
        time.sleep(pause)  # lets the kill land at another point of the writer's cycle
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        assert proc.returncode == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for use_footer in (True, False):
        with RrdReader(path, use_footer=use_footer) as r:
            assert r.opened_via == "scan"
            assert 25 <= _check_prefix(r, 25) <= 300
