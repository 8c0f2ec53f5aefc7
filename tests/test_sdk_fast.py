"""The SDK's paths for many small entities: tables in the batcher, chunk runs in the writer.

A tracker logs one small row to each of thousands of entities per frame. The batcher
queues such rows in tables shared by the entities of one layout and cuts each table into
one chunk per entity (a :class:`ChunkRun`); the writer takes the chunks of a run together.
These tests check that what reaches the file is what the general paths make: the same
records byte for byte, each entity's rows in logging order, the same errors.
"""

from __future__ import annotations

import dataclasses
import pickle
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from waiting import wait_for

import rrformat as rr
from rrformat import RecordingError, RecordingStream, RecordingWarning, RrdReader, RrdWriter, _batcher
from rrformat import _framing as fr
from rrformat._batcher import Batcher, BatcherConfig
from rrformat._convert import plain_vector, plain_vector3, vector3_cell
from rrformat._log_columns import log_columns
from rrformat._log_points import log_points
from rrformat._log_shapes import log_obb
from rrformat.chunk import Chunk, ChunkRun, SlicedChunk, TimelineKind
from rrformat.errors import SchemaError
from rrformat.testing import make_chunk, record_layout

SEQ = TimelineKind.SEQUENCE


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #
def plain(chunks: list[Chunk]) -> list[Chunk]:
    """The same chunks as plain :class:`Chunk` objects (which take the writer's general path)."""
    return [Chunk(c.entity, c.kind, c.batch, c.recording) for c in chunks]


def chunk_records(path: Path) -> list[tuple[int, bytes]]:
    """Kind and bytes (from the meta to the end) of every schema and chunk record of a file."""
    data = path.read_bytes()
    kinds = (fr.RecordKind.SCHEMA, fr.RecordKind.CHUNK)
    return [(s.kind, data[s.meta_offset : s.end]) for s in record_layout(path) if s.kind in kinds]


def write(path: Path, chunks: list[Chunk], bounds: dict[str, int]) -> None:
    chunk_bytes, chunk_rows = bounds.get("chunk_bytes", 1 << 20), bounds.get("chunk_rows", 16_384)
    with RrdWriter(
        path, application_id="fast", recording_id="r", start_time_ns=1, threads=0, chunk_bytes=chunk_bytes,
        chunk_rows=chunk_rows,
    ) as w:
        w.write_chunks(chunks)


def run_of(entities: list[str], rows: list[int], *, seed: int = 0, first_row_id: int = 0, **kw: Any) -> list[Chunk]:
    """Chunks of ``entities`` cut from one batch of known values (``rows[i]`` rows each)."""
    whole = make_chunk("x", "points3d", rows=sum(rows), seed=seed, first_row_id=first_row_id, **kw)
    return list(ChunkRun.cut(entities, "points3d", whole.batch, rows))


def entity_rows(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Each entity's rows, chunk after chunk in file order (not sorted)."""
    out: dict[str, list[dict[str, Any]]] = {}
    with RrdReader(path) as r:
        assert r.damage is None
        for info in sorted(r.chunks, key=lambda c: (c.record_offset, c.row_start)):
            out.setdefault(info.entity, []).extend(r.read_chunk(info).batch.to_pylist())
    return out


# --------------------------------------------------------------------------- #
# The writer: chunks of a run make the same records as the same chunks one by one
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "bounds",
    [
        {},
        {"chunk_rows": 7},  # records cut mid-run
        {"chunk_bytes": 600},  # records cut by size, a chunk of the large run split into pieces
        {"chunk_bytes": 1, "chunk_rows": 1},  # a record per row
    ],
)
def test_run_chunks_make_the_records_of_plain_chunks(tmp_path: Path, bounds: dict[str, int]) -> None:
    names = [f"objects/{i}/box" for i in range(6)]
    small = run_of(names, [1, 3, 0, 2, 1, 4], null_every=4)
    # Over 64 KiB: sizes are the chunks' shares of the batch (as _size computes them).
    large = run_of(names[:3], [300, 1, 1500], seed=3, first_row_id=100)
    nearly_all = run_of(names[:2], [1500, 2], seed=4, first_row_id=3000)  # a chunk measured exactly
    other = make_chunk("single", "points3d", rows=2, first_row_id=5000)
    second_run = run_of(names, [2, 2, 2, 2, 2, 2], seed=5, first_row_id=9000)
    text = list(ChunkRun.cut(["log/a", "log/b"], "text_entry", make_chunk("x", "text_entry", rows=5).batch, [2, 3]))
    chunks = [*small, other, *large, *nearly_all, *second_run, *text, *small[:2]]
    fast, slow = tmp_path / "fast.rrd", tmp_path / "slow.rrd"
    write(fast, chunks, bounds)
    write(slow, plain(chunks), bounds)
    assert chunk_records(fast) == chunk_records(slow)
    with RrdReader(fast) as a, RrdReader(slow) as b:
        assert a.record_metas == b.record_metas
        assert len(a.chunks) >= len(chunks) - 1  # the empty chunk has its entry too
        for x, y in zip(a.chunks, b.chunks, strict=True):
            assert a.read_chunk(x).equals(b.read_chunk(y))


def test_a_run_chunk_with_bad_row_ids_is_refused_as_a_plain_one(tmp_path: Path) -> None:
    whole = make_chunk("x", "points3d", rows=6)
    ids = pa.array(np.array([0, 1, 2, 9, 4, 5], dtype=np.uint64))
    batch = whole.batch.set_column(0, whole.batch.schema.field(0), ids)
    messages: list[str] = []
    run: list[Chunk] = list(ChunkRun.cut(["a", "b"], "points3d", batch, [3, 3]))
    for chunks in (run, plain(run)):
        with RrdWriter(tmp_path / f"w{len(messages)}.rrd", application_id="fast", threads=0) as w:
            with pytest.raises(SchemaError) as err:
                w.write_chunks(chunks)
            messages.append(str(err.value))
    assert messages[0] == messages[1]
    assert "'b'" in messages[0] and "strictly increasing" in messages[0]


def test_sliced_chunks_behave_as_chunks() -> None:
    whole = make_chunk("x", "points3d", rows=5)
    _, b = ChunkRun.cut(["a", "b"], "points3d", whole.batch, [2, 3])
    assert isinstance(b, SlicedChunk) and b.run is not None and b.index == 1
    assert b.batch.equals(whole.batch.slice(2, 3)) and b.rows == 3 and b.entity == "b"
    assert b.batch is b.batch  # made once
    assert b.equals(Chunk("b", "points3d", whole.batch.slice(2, 3)))
    b.validate()
    back = pickle.loads(pickle.dumps(b))
    # (pickling drops the non-null flag of nested fields: compare values)
    assert type(back) is Chunk
    assert (back.entity, back.kind, back.batch.to_pylist()) == ("b", b.kind, b.batch.to_pylist())
    moved = dataclasses.replace(b, recording=1)
    assert moved.run is None and moved.recording == 1 and moved.batch.equals(b.batch)
    with pytest.raises(dataclasses.FrozenInstanceError):
        b.entity = "c"  # type: ignore[misc]
    with pytest.raises(ValueError, match="cannot cut"):
        ChunkRun.cut(["a"], "points3d", whole.batch, [9])


# --------------------------------------------------------------------------- #
# The batcher: tables of many small entities
# --------------------------------------------------------------------------- #
def test_many_small_entities_keep_their_rows_in_order(tmp_path: Path) -> None:
    path = tmp_path / "boxes.rrd"
    rec = RecordingStream("boxes", save=path, strict=True)
    rng = np.random.default_rng(0)
    centres = rng.uniform(-5, 5, (6, 200, 3)).astype(np.float32)
    for f in range(6):
        rr.set_time_sequence("frame", f, recording=rec)
        for i in range(200):
            log_obb(f"objects/{i}/box", half_size=[0.5, 0.25, 1.0], position=centres[f, i], recording=rec)
        if f in (1, 3):
            rec.flush()  # three flushes: three chunks per entity, each cut from one table
    rec.disconnect()
    rows = entity_rows(path)
    assert len(rows) == 200
    for i in range(200):
        got = rows[f"objects/{i}/box"]
        assert [r["frame"] for r in got] == list(range(6))
        ids = [r["row_id"] for r in got]
        assert ids == sorted(ids)
        np.testing.assert_array_equal(np.array([r["centers"][0] for r in got], dtype=np.float32), centres[:, i])
        assert all(r["half_sizes"] == [[0.5, 0.25, 1.0]] for r in got)
    with RrdReader(path) as r:
        per_entity = [c for c in r.chunks if c.entity == "objects/7/box"]
        assert [c.rows for c in per_entity] == [2, 2, 2]
        assert len({c.record_offset for c in r.chunks}) < len(r.chunks) / 10  # packed into few records


def test_an_entity_that_changes_layout_keeps_one_chunk_per_flush(tmp_path: Path) -> None:
    path = tmp_path / "layout.rrd"
    rec = RecordingStream("layout", save=path, strict=True)
    rr.set_time_sequence("frame", 0, recording=rec)
    for i in range(5):
        log_obb(f"b/{i}", half_size=[1, 1, 1], position=[i, 0, 0], recording=rec)
    log_obb("b/2", half_size=[2, 2, 2], color=[255, 0, 0], recording=rec)  # other components
    rr.set_time_sequence("frame", 1, recording=rec)
    for i in range(5):
        log_obb(f"b/{i}", half_size=[1, 1, 1], position=[i, 1, 0], recording=rec)
    rec.disconnect()
    rows = entity_rows(path)
    with RrdReader(path) as r:
        assert sorted(c.entity for c in r.chunks) == [f"b/{i}" for i in range(5)]  # one chunk each
    changed = rows["b/2"]
    assert [r["frame"] for r in changed] == [0, 0, 1]
    assert [r["colors"] for r in changed] == [None, [[255, 0, 0, 255]], None]
    assert [r["centers"] for r in changed] == [[[2, 0, 0]], None, [[2, 1, 0]]]
    assert [r["centers"] for r in rows["b/4"]] == [[[4, 0, 0]], [[4, 1, 0]]]
    assert "colors" not in pa.Table.from_pylist(rows["b/4"]).schema.names


def test_an_entity_that_reaches_the_flush_size_is_written_alone() -> None:
    rec = RecordingStream("size", flush_bytes=4096, flush_age=1000.0, strict=True)  # in memory
    try:
        rr.set_time_sequence("frame", 0, recording=rec)
        for i in range(10):
            log_obb(f"quiet/{i}", half_size=[1, 1, 1], recording=rec)
        for k in range(100):  # 88 bytes a row: past 4096 after 47 rows
            log_obb("busy", half_size=[1, 1, 1], position=[k, 0, 0], recording=rec)
        wait_for(lambda: any(c.entity == "busy" for c in rec.memory_chunks()))
        written = rec.memory_chunks()
        assert {c.entity for c in written} == {"busy"}
        assert written[0].rows >= 46
        rec.flush()
        got = rec.memory_chunks()
        assert {c.entity for c in got} == {"busy", *(f"quiet/{i}" for i in range(10))}
        busy = [x for c in got if c.entity == "busy" for x in c.batch.column("centers").to_pylist()]
        assert busy == [[[k, 0, 0]] for k in range(100)]
    finally:
        rec.disconnect()


def test_rows_and_columns_of_one_entity_stay_in_logging_order(tmp_path: Path) -> None:
    path = tmp_path / "mixed.rrd"
    rec = RecordingStream("mixed", save=path, strict=True)
    rr.set_time_sequence("frame", 0, recording=rec)
    for i in range(3):
        log_points(f"pts/{i}", [[i, 0, 0]], recording=rec)
    log_columns("pts/1", "points3d", times={"frame": [1, 2]}, positions3d=[[[1, 1, 1]], [[1, 2, 2]]], recording=rec)
    rr.set_time_sequence("frame", 3, recording=rec)
    for i in range(3):
        log_points(f"pts/{i}", [[i, 3, 3]], recording=rec)
    rec.disconnect()
    rows = entity_rows(path)
    assert [r["frame"] for r in rows["pts/1"]] == [0, 1, 2, 3]
    ids = [r["row_id"] for r in rows["pts/1"]]
    assert ids == sorted(ids)
    assert [r["frame"] for r in rows["pts/2"]] == [0, 3]


def test_a_bad_value_loses_only_its_entitys_rows(caplog: pytest.LogCaptureFixture) -> None:
    written: list[Chunk] = []
    b = Batcher(BatcherConfig(flush_age=1000.0), written.extend, name="bad")
    when = {"frame": (SEQ, 1)}
    for i in range(4):
        # A tuple cell is one 3-vector: the two numbers of "e/2" fail when the table is built.
        cells = {"half_sizes": (1.0, 2.0) if i == 2 else (1.0, 2.0, 3.0)}
        b.add_row(f"e/{i}", "boxes3d", False, when, time.time_ns(), cells, 64)
    with caplog.at_level("WARNING", logger="rrkit"):
        b.stop()
    assert b._in_flight == 0
    assert sorted(c.entity for c in written) == ["e/0", "e/1", "e/3"]
    assert "dropped 1 rows of 'e/2'" in caplog.text


def test_components_in_another_order_keep_an_entity_in_its_table() -> None:
    written: list[Chunk] = []
    b = Batcher(BatcherConfig(flush_age=1000.0), written.extend, name="order")
    for f in range(3):
        when = {"frame": (SEQ, f)}
        for i in range(3):
            cells = {"half_sizes": (1.0, 1.0, 1.0), "centers": (float(f), float(i), 0.0)}
            if (f + i) % 2:
                cells = dict(reversed(cells.items()))
            b.add_row(f"e/{i}", "boxes3d", False, when, time.time_ns(), cells, 88)
    b.stop()
    assert b._in_flight == 0  # every queued byte accounted as written
    written.sort(key=lambda c: c.entity)
    assert [c.entity for c in written] == ["e/0", "e/1", "e/2"]  # one chunk each
    for i, c in enumerate(written):
        assert c.batch.column("centers").to_pylist() == [[[f, i, 0]] for f in range(3)]


def test_moved_rows_and_size_flushes_keep_the_bytes_in_flight_exact() -> None:
    written: list[Chunk] = []
    b = Batcher(BatcherConfig(flush_age=1000.0, flush_bytes=1000), written.extend, name="bytes")
    when = {"frame": (SEQ, 0)}
    for i in range(3):
        b.add_row(f"e/{i}", "boxes3d", False, when, 0, {"half_sizes": (1.0, 1.0, 1.0)}, 100)
    b.add_row("e/1", "boxes3d", False, when, 0, {"half_sizes": (2.0, 2.0, 2.0), "colors": (1, 2, 3, 4)}, 100)
    for _ in range(10):  # past flush_bytes: e/2's rows go out alone
        b.add_row("e/2", "boxes3d", False, when, 0, {"half_sizes": (3.0, 3.0, 3.0)}, 100)
    wait_for(lambda: any(c.entity == "e/2" for c in written))
    assert {c.entity for c in written} == {"e/2"}
    b.stop()
    assert b._in_flight == 0
    rows = {c.entity: c.rows for c in written if c.entity != "e/2"}
    assert rows == {"e/0": 1, "e/1": 2}
    assert sum(c.rows for c in written if c.entity == "e/2") == 11


def test_rows_moved_out_of_a_table_are_flushed_by_age() -> None:
    rec = RecordingStream("moved", flush_age=0.05, strict=True)  # in memory
    try:
        rr.set_time_sequence("frame", 0, recording=rec)
        log_obb("plain", half_size=[1, 1, 1], recording=rec)
        log_obb("moved", half_size=[1, 1, 1], recording=rec)
        log_points("cloud", np.zeros((1000, 3)), recording=rec)  # a large row: a buffer of its own
        log_obb("moved", half_size=[1, 1, 1], label="now with a label", recording=rec)
        wait_for(lambda: {"plain", "moved", "cloud"} <= {c.entity for c in rec.memory_chunks()})
        moved = [c for c in rec.memory_chunks() if c.entity == "moved"]
        assert len(moved) == 1 and moved[0].batch.column("labels").to_pylist() == [None, ["now with a label"]]
    finally:
        rec.disconnect()


def test_a_layout_forgets_its_entities_past_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_batcher, "_LAYOUT_LIMIT", 4)
    written: list[Chunk] = []
    b = Batcher(BatcherConfig(flush_age=1000.0), written.extend, name="forget")
    for f in range(3):
        for i in range(10):
            b.add_row(f"e/{i}", "boxes3d", False, {"frame": (SEQ, f)}, 0, {"half_sizes": (1.0, 1.0, float(f))}, 64)
        assert b.flush()
        assert len(b._layouts) == 0 and len(b._where) == 0  # forgotten once the table was written
    b.stop()
    assert b._in_flight == 0
    assert [c.entity for c in written] == [f"e/{i}" for i in range(10)] * 3
    assert [c.batch.column("half_sizes").to_pylist() for c in written[::10]] == [[[[1, 1, f]]] for f in range(3)]


def test_chunks_kept_in_memory_are_written_by_save(tmp_path: Path) -> None:
    rec = RecordingStream("later", strict=True)
    rr.set_time_sequence("frame", 0, recording=rec)
    for i in range(50):
        log_obb(f"o/{i}", half_size=[1, 2, 3], position=[i, 0, 0], recording=rec)
    rec.flush()
    assert any(isinstance(c, SlicedChunk) for c in rec.memory_chunks())
    path = tmp_path / "later.rrd"
    rec.save(path)
    log_obb("o/0", half_size=[1, 2, 3], position=[0, 1, 0], recording=rec)
    rec.disconnect()
    rows = entity_rows(path)
    assert len(rows) == 50
    assert [r["centers"] for r in rows["o/0"]] == [[[0, 0, 0]], [[0, 1, 0]]]
    assert rows["o/49"][0]["centers"] == [[49, 0, 0]]


def test_threads_logging_to_many_entities_lose_no_row(tmp_path: Path) -> None:
    path = tmp_path / "threads.rrd"
    rec = RecordingStream("threads", save=path, strict=True, flush_age=0.01)

    def work(t: int) -> None:
        for f in range(20):
            rr.set_time_sequence("frame", f, recording=rec)
            for i in range(50):
                log_obb(f"t{t}/{i}", half_size=[1, 1, 1], position=[t, f, i], recording=rec)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    rec.disconnect()
    rows = entity_rows(path)
    assert len(rows) == 200
    for t in range(4):
        for i in range(50):
            assert [r["centers"] for r in rows[f"t{t}/{i}"]] == [[[t, f, i]] for f in range(20)]


# --------------------------------------------------------------------------- #
# The batcher's flush age, changed while it runs
# --------------------------------------------------------------------------- #
def test_set_flush_age_applies_to_rows_already_queued() -> None:
    written: list[Chunk] = []
    b = Batcher(BatcherConfig(flush_age=1000.0), written.extend, name="age")
    try:
        b.add_row("a/b", "scalar", False, {"frame": (SEQ, 1)}, time.time_ns(), {"scalar": 1.0}, 64)
        time.sleep(0.1)
        assert written == []  # 1000 s from being due
        b.set_flush_age(0.05)
        assert b.config.flush_age == 0.05
        wait_for(lambda: bool(written))
        assert [c.entity for c in written] == ["a/b"]
    finally:
        b.stop()


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "soon"])
def test_set_flush_age_refuses_what_is_not_a_positive_number(bad: Any) -> None:
    b = Batcher(BatcherConfig(), lambda chunks: None, name="refuse")
    try:
        with pytest.raises((ValueError, TypeError)):
            b.set_flush_age(bad)
        assert b.config.flush_age == 0.2
    finally:
        b.stop()


# --------------------------------------------------------------------------- #
# log_obb's fast path
# --------------------------------------------------------------------------- #
VALUES: list[Any] = [0.0, -0.0, 1.5, -2.0, 3, 2**24, 2**24 + 1, True, float("nan"), float("inf"), 3.5e38, np.float32(1)]


def test_plain_vector3_is_plain_vector_for_three_numbers() -> None:
    inputs: list[Any] = [[a, b, c] for a in VALUES for b in VALUES[:4] for c in VALUES]
    inputs += [tuple(v) for v in inputs[::7]]
    for dtype in (np.float16, np.float32, np.float64, np.int32, np.bool_, np.complex64, object):
        for arr in ([1, 2, 3], [1.5, -2.5, 1e30], [np.nan, 1, 2], [0, 0], [[1, 2, 3]], [-1.0, 2, 3]):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # 1e30 overflows float16
                inputs.append(np.array(arr).astype(dtype))
    inputs += [[1.0, 2.0], (), 5, "abc", None, np.float64(3.0), np.zeros(6)[::2]]
    inputs += [np.array([1, -2, 3], dtype=">f4"), np.arange(9, dtype=np.float32)[::3], np.float32([0, -0.0, 1e38])]
    for value in inputs:
        for minimum in (None, 0.0):
            want = plain_vector(value, 3, minimum=minimum)
            got = plain_vector3(value, minimum)
            assert (want is None) == (got is None), value
            if want is not None and got is not None:
                assert list(got) == list(want) and [type(x) for x in got] == [type(x) for x in want], value
            # The cell of the same value: the same, or for native float32 arrays their bytes.
            cell = vector3_cell(value, minimum)
            if type(cell) is bytes:
                assert isinstance(value, np.ndarray) and value.dtype == np.dtype(np.float32) and want is not None
                assert np.frombuffer(cell, np.float32).tolist() == list(want)
            else:
                assert cell == got, value


def test_log_obb_fast_and_general_paths_store_the_same(tmp_path: Path) -> None:
    path = tmp_path / "paths.rrd"
    rec = RecordingStream("paths", save=path, strict=True)
    rr.set_time_sequence("frame", 4, recording=rec)
    half, centre = [0.5, 0.25, 2.0], [1.0, -2.0, 3.5]
    log_obb("fast", half_size=np.array(half, np.float32), position=centre, recording=rec)
    log_obb("general", half_size=[np.float32(x) for x in half], position=np.array([centre]).reshape(3), recording=rec)
    log_obb("/odd/path", half_size=half, position=tuple(centre), recording=rec)  # not canonical
    log_obb("origin", half_size=half, timeless=True, recording=rec)
    rec.disconnect()
    rows = entity_rows(path)
    assert rows["fast"][0]["half_sizes"] == rows["general"][0]["half_sizes"] == [half]
    assert rows["fast"][0]["centers"] == rows["general"][0]["centers"] == rows["odd/path"][0]["centers"] == [centre]
    assert {"frame", "log_time"} <= set(rows["fast"][0])
    assert "centers" not in rows["origin"][0] and "frame" not in rows["origin"][0]
    assert rows["origin"][0]["half_sizes"] == [half]


@pytest.mark.parametrize("change_layout", [False, True])
def test_vector_cells_of_every_kind_make_one_column(tmp_path: Path, change_layout: bool) -> None:
    path = tmp_path / "cells.rrd"
    rec = RecordingStream("cells", save=path, strict=True)
    rr.set_time_sequence("frame", 0, recording=rec)
    for i in range(3):  # float32 rows (bytes cells), lists (tuples), int arrays (general path: numpy cells)
        log_obb(f"m/{i}", half_size=np.float32([1, 2, 3]), position=np.float32([i, 0, 0]), recording=rec)
        log_obb(f"m/{i}", half_size=[1.5, 2, 3], position=[i, 1.0, 0], recording=rec)
        log_obb(f"m/{i}", half_size=np.array([1, 2, 4], np.int32), position=np.array([i, 2, 0]), recording=rec)
    if change_layout:  # the rows move to a buffer of their own: built there
        log_obb("m/1", half_size=np.float32([9, 9, 9]), label="moved", recording=rec)
    rec.disconnect()
    rows = entity_rows(path)
    for i in range(3):
        got = rows[f"m/{i}"]
        assert [r["half_sizes"] for r in got[:3]] == [[[1, 2, 3]], [[1.5, 2, 3]], [[1, 2, 4]]]
        assert [r["centers"] for r in got[:3]] == [[[i, 0, 0]], [[i, 1, 0]], [[i, 2, 0]]]
    if change_layout:
        assert rows["m/1"][3]["half_sizes"] == [[9, 9, 9]] and rows["m/1"][3]["labels"] == ["moved"]


def test_log_obb_fast_path_reports_like_the_general_path(tmp_path: Path) -> None:
    rec = RecordingStream("errors", save=tmp_path / "errors.rrd", strict=True)
    log_points("taken", [[0, 0, 0]], recording=rec)
    with pytest.raises(RecordingError, match=r"^log_obb: argument 'entity_path': got 'taken', which already holds"):
        log_obb("taken", half_size=[1, 1, 1], recording=rec)
    with pytest.raises(RecordingError, match=r"^log_obb: argument 'half_size'.*half sizes >= 0"):
        log_obb("box", half_size=[1, -1, 1], recording=rec)
    with pytest.raises(RecordingError, match=r"^log_obb: argument 'entity_path'"):
        log_obb("", half_size=[1, 1, 1], recording=rec)
    rec.disconnect()
    lenient = RecordingStream("lenient", save=tmp_path / "lenient.rrd")
    log_points("taken", [[0, 0, 0]], recording=lenient)
    with pytest.warns(RecordingWarning, match=r"^log_obb: argument 'entity_path'.*The call was dropped"):
        log_obb("taken", half_size=[1, 1, 1], recording=lenient)
    log_obb("kept", half_size=[1, 1, 1], recording=lenient)
    lenient.disconnect()
    rows = entity_rows(tmp_path / "lenient.rrd")
    assert set(rows) == {"taken", "kept"} and len(rows["taken"]) == 1
    disabled = RecordingStream("off", default_enabled=False)
    log_obb("x", half_size=[1, 1, 1], recording=disabled)  # a no-op
    assert disabled.memory_chunks() == []
