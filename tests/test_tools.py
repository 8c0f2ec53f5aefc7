"""Tests for :mod:`rrformat.tools`: verify, recover, compact, merge, describe and the chunk listing."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rrformat import _framing as fr
from rrformat.chunk import Chunk
from rrformat.errors import NotAnRrdFileError
from rrformat.reader import Damage, RrdReader
from rrformat.testing import RecordSpan, chunk_lists, make_chunk, record_layout
from rrformat.tools import (
    DamagedInputError,
    chunk_json,
    compact,
    describe,
    dumps,
    merge,
    recover,
    verify,
)
from rrformat.writer import RrdWriter

Key = tuple[str, str, str]  # recording id, entity, kind


# --- helpers ------------------------------------------------------------------------------------
def write_many(
    path: Path,
    *,
    flushes: int = 12,
    recording_id: str = "rec-a",
    close: bool = True,
    compression: str = "zstd",
    first_row_id: int = 0,
) -> None:
    """A file of many small records: each flush writes a few rows of three entities (one timeless)."""
    w = RrdWriter(
        path,
        application_id="robot",
        recording_id=recording_id,
        start_time_ns=1_700_000_000_000_000_000,
        compression="zstd" if compression == "zstd" else "none",
        threads=0,
    )
    w.write_chunk(
        Chunk.build("world", "view_coordinates", row_ids=[first_row_id], components={"view_coordinates": ["RDF"]})
    )
    rid = first_row_id + 1
    for i in range(flushes):
        w.write_chunk(
            make_chunk(
                "world/points",
                "points3d",
                rows=5,
                first_row_id=rid,
                seed=i,
                timelines={"frame": "sequence", "log_time": "time"},
            )
        )
        w.write_chunk(make_chunk("plot/speed", "scalar", rows=3, first_row_id=rid + 5, seed=i, components=["scalar"]))
        w.write_chunk(make_chunk("camera/jpeg", "encoded_image", rows=1, first_row_id=rid + 8, seed=i))
        rid += 9
        w.flush()
    if close:
        w.close()
    else:
        w.abort()


def rows_by_key(path: Path) -> dict[Key, pa.Table]:
    """Every row of a file, per (recording id, entity, kind), sorted by row id."""
    groups: dict[Key, list[pa.RecordBatch]] = {}
    with RrdReader(path) as r:
        rec_ids = {rec.index: rec.recording_id for rec in r.recordings}
        for info in r.chunks:
            chunk = r.read_chunk(info)
            if chunk.rows:
                groups.setdefault((rec_ids[info.recording], info.entity, info.kind), []).append(chunk.batch)
    return {k: pa.Table.from_batches(v).sort_by("row_id").combine_chunks() for k, v in groups.items()}


def chunk_list(path: Path) -> list[tuple[Any, ...]]:
    """Each chunk as (recording id, entity, kind, row ids, timelines, batch), in file order."""
    with RrdReader(path) as r:
        rec_ids = {rec.index: rec.recording_id for rec in r.recordings}
        out = []
        for info in r.chunks:
            c = r.read_chunk(info)
            out.append(
                (rec_ids[info.recording], info.entity, info.kind, c.row_ids().tolist(), dict(info.timelines), c.batch)
            )
        return out


def recordings(path: Path) -> list[tuple[str, str, int]]:
    with RrdReader(path) as r:
        return [(x.application_id, x.recording_id, x.start_time_ns) for x in r.recordings]


def flip(path: Path, offset: int, dst: Path) -> Path:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x5A
    dst.write_bytes(bytes(data))
    return dst


def chunk_spans(path: Path) -> list[RecordSpan]:
    return [s for s in record_layout(path) if s.kind == fr.RecordKind.CHUNK]


def record_flags(path: Path) -> Iterator[tuple[int, int, dict[str, Any]]]:
    with RrdReader(path, use_footer=False) as r:
        for item in r.walk():
            assert not isinstance(item, Damage)
            yield item.header.kind, item.header.flags, item.meta


@pytest.fixture
def many(tmp_path: Path) -> Path:
    path = tmp_path / "many.rrd"
    write_many(path)
    return path


# --- verify -------------------------------------------------------------------------------------
def test_verify_whole_file(sample_rrd: tuple[Path, list[Chunk]]) -> None:
    path, written = sample_rrd
    seen: list[tuple[int, int]] = []
    rep = verify(path, progress=lambda done, total: seen.append((done, total)))
    assert rep.status == "ok" and rep.ok
    assert rep.problems == [] and rep.damage is None
    assert rep.chunks_ok == len(written) and rep.chunks_bad == 0
    assert rep.records == len(record_layout(path))
    assert rep.has_footer
    assert seen[-1] == (path.stat().st_size, path.stat().st_size)
    assert all(a <= b for (a, _), (b, _) in itertools.pairwise(seen))


def test_verify_truncated_unclosed_file(tmp_path: Path) -> None:
    src = tmp_path / "live.rrd"
    write_many(src, close=False)
    last = chunk_spans(src)[-1]
    cut = tmp_path / "cut.rrd"
    cut.write_bytes(src.read_bytes()[: last.body_offset + 3])
    rep = verify(cut)
    assert rep.status == "truncated"
    assert rep.damage is not None and rep.damage.kind == "truncated"
    assert rep.damage.offset == last.offset
    assert len(rep.problems) == 1 and rep.problems[0].startswith(f"byte {last.offset}:")
    with RrdReader(src) as r:
        whole = len(r.chunks)
    assert rep.chunks_ok == whole - 1
    assert not rep.has_footer


def test_verify_unclosed_file_with_whole_records_is_truncated(tmp_path: Path) -> None:
    src = tmp_path / "live.rrd"
    write_many(src, close=False)  # every flushed record is whole, but there is no footer
    rep = verify(src)
    assert rep.status == "truncated" and not rep.has_footer
    assert rep.damage is not None and rep.damage.offset == src.stat().st_size and rep.damage.lost_bytes == 0
    assert rep.problems == [f"byte {src.stat().st_size}: {rep.damage.reason}"]
    assert rep.chunks_bad == 0
    # nothing is missing: recovering it only adds the footer
    out = tmp_path / "closed.rrd"
    assert recover(src, out).status == "nothing_lost"
    assert verify(out).status == "ok"


def test_verify_closed_file_cut_in_trailer_is_truncated(sample_rrd: tuple[Path, list[Chunk]], tmp_path: Path) -> None:
    path, _ = sample_rrd
    cut = tmp_path / "cut.rrd"
    cut.write_bytes(path.read_bytes()[:-10])
    assert verify(cut).status == "truncated"


def test_verify_flipped_body_byte_is_corrupt_and_walk_goes_on(many: Path, tmp_path: Path) -> None:
    spans = chunk_spans(many)
    victim = spans[len(spans) // 2]
    bad = flip(many, victim.body_offset + 2, tmp_path / "bad.rrd")
    rep = verify(bad)
    assert rep.status == "corrupt"
    assert rep.damage is not None and rep.damage.offset == victim.offset
    assert any(p.startswith(f"byte {victim.offset}:") and "body checksum" in p for p in rep.problems)
    # The record headers are intact: every other chunk is still checked and sound.
    with RrdReader(many) as r:
        total = len(r.chunks)
    assert rep.chunks_ok == total - 1 and rep.chunks_bad == 1


def test_verify_flipped_header_byte_resyncs(many: Path, tmp_path: Path) -> None:
    spans = chunk_spans(many)
    victim = spans[3]
    bad = flip(many, victim.offset + 5, tmp_path / "bad.rrd")
    rep = verify(bad)
    assert rep.status == "corrupt"
    assert rep.problems[0].startswith(f"byte {victim.offset}:")
    with RrdReader(many) as r:
        total = len(r.chunks)
    assert rep.chunks_ok == total - 1


def test_verify_damaged_footer_is_corrupt(many: Path, tmp_path: Path) -> None:
    footer = next(s for s in record_layout(many) if s.kind == fr.RecordKind.FOOTER)
    bad = flip(many, footer.body_offset + 1, tmp_path / "bad.rrd")
    rep = verify(bad)
    assert rep.status == "corrupt"
    assert any(p.startswith(f"byte {footer.offset}:") for p in rep.problems)


def test_verify_index_entry_that_lies_about_its_rows(sample_rrd: tuple[Path, list[Chunk]], tmp_path: Path) -> None:
    path, _ = sample_rrd
    first = chunk_spans(path)[0]
    data = bytearray(path.read_bytes())
    meta_bytes = bytes(data[first.meta_offset : first.body_offset])
    text = meta_bytes.decode()
    assert '"row_ids":[0,0]' in text
    forged = text.replace('"row_ids":[0,0]', '"row_ids":[0,7]').rstrip()
    with RrdReader(path) as r:
        header = r.read_record(first.offset).header
        body = data[header.body_offset : header.body_offset + header.body_len]
    pieces = fr.pack_record(
        fr.RecordKind.CHUNK, json.loads(forged), bytes(body), flags=header.flags, record_offset=first.offset
    )
    packed = b"".join(bytes(p) for p in pieces)
    assert len(packed) == header.size
    data[first.offset : first.offset + header.size] = packed
    forged_path = tmp_path / "forged.rrd"
    forged_path.write_bytes(bytes(data))
    rep = verify(forged_path)
    assert rep.status == "corrupt"
    assert any("row_ids [0, 7]" in p and "[0, 0]" in p for p in rep.problems)
    assert any("footer index differs" in p for p in rep.problems)


def test_verify_rejects_non_rrd(tmp_path: Path) -> None:
    p = tmp_path / "notes.txt"
    p.write_text("hello world, this is not a recording")
    with pytest.raises(NotAnRrdFileError):
        verify(p)


# --- recover ------------------------------------------------------------------------------------
def test_recover_whole_file_keeps_everything(sample_rrd: tuple[Path, list[Chunk]], tmp_path: Path) -> None:
    path, written = sample_rrd
    before = path.read_bytes()
    out = tmp_path / "out.rrd"
    rep = recover(path, out)
    assert rep.status == "nothing_lost"
    assert rep.chunks_recovered == len(written) and rep.chunks_lost == 0 and rep.bytes_lost == 0
    assert path.read_bytes() == before
    assert recordings(out) == recordings(path)
    got, want = chunk_list(out), chunk_list(path)
    assert [g[:5] for g in got] == [w[:5] for w in want]
    assert all(g[5].equals(w[5], check_metadata=True) for g, w in zip(got, want, strict=True))
    # One output record per input record: packed chunks stay packed.
    assert len(chunk_spans(out)) == len(chunk_spans(path))
    assert verify(out).status == "ok"


def test_recover_truncated_file(tmp_path: Path) -> None:
    src = tmp_path / "live.rrd"
    write_many(src, close=False)
    last = chunk_spans(src)[-1]
    cut = tmp_path / "cut.rrd"
    cut.write_bytes(src.read_bytes()[: last.body_offset + 3])
    out = tmp_path / "fixed.rrd"
    rep = recover(cut, out)
    assert rep.status == "some_lost"
    assert rep.chunks_lost == 1  # the torn record's meta was intact and names its chunk
    assert rep.bytes_lost == cut.stat().st_size - last.offset
    assert verify(out).status == "ok"
    with RrdReader(src) as r:
        assert rep.chunks_recovered == len(r.chunks) - 1
    assert [c[:5] for c in chunk_list(out)] == [c[:5] for c in chunk_list(src)][:-1]


def test_recover_corrupt_record_in_the_middle_keeps_what_follows(many: Path, tmp_path: Path) -> None:
    spans = chunk_spans(many)
    victim = spans[len(spans) // 2]
    bad = flip(many, victim.offset + 9, tmp_path / "bad.rrd")  # in the header: the walk must resync
    out = tmp_path / "fixed.rrd"
    rep = recover(bad, out)
    assert rep.status == "some_lost"
    want = chunk_list(many)
    assert rep.chunks_recovered == len(want) - 1
    assert rep.chunks_lost == 1 and rep.chunks_lost_exact  # counted from the (intact) footer
    assert rep.bytes_lost == victim.end - victim.offset
    got = chunk_list(out)
    lost = len(spans) // 2
    assert [g[:5] for g in got] == [w[:5] for i, w in enumerate(want) if i != lost]
    # chunks after the damaged record are there too
    assert got[-1][3] == want[-1][3]
    assert verify(out).status == "ok"
    assert recordings(out) == recordings(many)


def test_recover_corrupt_body(many: Path, tmp_path: Path) -> None:
    spans = chunk_spans(many)
    bad = flip(many, spans[2].body_offset, tmp_path / "bad.rrd")
    rep = recover(bad, tmp_path / "fixed.rrd")
    assert rep.status == "some_lost" and rep.chunks_lost == 1
    assert any(p.startswith(f"byte {spans[2].offset}:") for p in rep.problems)


def test_recover_nothing_recoverable_writes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "live.rrd"
    write_many(src, close=False)
    first = chunk_spans(src)[0]
    cut = tmp_path / "cut.rrd"
    cut.write_bytes(src.read_bytes()[: first.offset + 20])
    out = tmp_path / "fixed.rrd"
    rep = recover(cut, out)
    assert rep.status == "nothing_recoverable" and rep.chunks_recovered == 0
    assert set(tmp_path.iterdir()) == {src, cut}  # no output, no temporary file left behind


def test_recover_refuses_existing_output_and_itself(sample_rrd: tuple[Path, list[Chunk]], tmp_path: Path) -> None:
    path, _ = sample_rrd
    out = tmp_path / "out.rrd"
    out.write_bytes(b"keep me")
    with pytest.raises(FileExistsError):
        recover(path, out)
    assert out.read_bytes() == b"keep me"
    with pytest.raises(ValueError, match="also an input"):
        recover(path, path, overwrite=True)
    assert recover(path, out, overwrite=True).status == "nothing_lost"


# --- compact ------------------------------------------------------------------------------------
def test_compact_packs_small_chunks_and_keeps_data(many: Path, tmp_path: Path) -> None:
    out = tmp_path / "compact.rrd"
    rep = compact(many, out)
    assert rows_by_key(out).keys() == rows_by_key(many).keys()
    for key, table in rows_by_key(many).items():
        assert rows_by_key(out)[key].equals(table, check_metadata=True), key
    assert recordings(out) == recordings(many)
    assert rep.chunks_in == len(chunk_list(many))
    assert rep.chunks_out == len(chunk_list(out)) == 3 + 1  # one chunk per entity (all fit in 1 MiB)
    assert rep.records_out < rep.records_in
    assert verify(out).status == "ok"


def test_compact_small_chunk_size_splits(many: Path, tmp_path: Path) -> None:
    out = tmp_path / "small.rrd"
    rep = compact(many, out, chunk_bytes=256)
    assert rep.chunks_out > rep.chunks_in
    for key, table in rows_by_key(many).items():
        assert rows_by_key(out)[key].equals(table, check_metadata=True), key
    with RrdReader(out) as r:
        # every record holds about 256 bytes of Arrow data or a single row
        assert all(meta["rows"] == 1 or meta["raw"] < 8 * 256 for _, _, meta in r.record_metas)


def test_compact_without_compression_is_uncompressed(many: Path, tmp_path: Path) -> None:
    out = tmp_path / "hot.rrd"
    compact(many, out, compression="none")
    chunk_records = [(flags, meta) for kind, flags, meta in record_flags(out) if kind == fr.RecordKind.CHUNK]
    assert chunk_records
    assert all(not flags & fr.FLAG_BODY_ZSTD and meta["codec"] == "none" for flags, meta in chunk_records)
    assert all(o % 8 == 0 for o in (s.body_offset for s in chunk_spans(out)))
    for key, table in rows_by_key(many).items():
        assert rows_by_key(out)[key].equals(table, check_metadata=True), key


def test_compact_sorts_rows_written_out_of_order(tmp_path: Path) -> None:
    src = tmp_path / "shuffled.rrd"
    with RrdWriter(src, application_id="robot", threads=0) as w:
        for first in (100, 0, 50):
            w.write_chunk(make_chunk("plot/x", "scalar", rows=4, first_row_id=first, components=["scalar"], seed=first))
            w.flush()
    out = tmp_path / "sorted.rrd"
    compact(src, out)
    got = chunk_list(out)
    assert len(got) == 1
    assert got[0][3] == [0, 1, 2, 3, 50, 51, 52, 53, 100, 101, 102, 103]
    ((key, table),) = rows_by_key(src).items()
    assert rows_by_key(out)[key].equals(table, check_metadata=True)


def test_compact_refuses_damaged_input(many: Path, tmp_path: Path) -> None:
    spans = chunk_spans(many)
    bad = flip(many, spans[1].body_offset, tmp_path / "bad.rrd")
    with pytest.raises(DamagedInputError, match="recover"):
        compact(bad, tmp_path / "out.rrd")
    cut = tmp_path / "cut.rrd"
    cut.write_bytes(many.read_bytes()[: spans[-1].offset + 40])
    with pytest.raises(DamagedInputError, match="truncated"):
        compact(cut, tmp_path / "out.rrd")
    assert not (tmp_path / "out.rrd").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


# --- merge --------------------------------------------------------------------------------------
def test_merge_keeps_different_recordings_apart(tmp_path: Path) -> None:
    a, b = tmp_path / "a.rrd", tmp_path / "b.rrd"
    write_many(a, recording_id="run-a", flushes=3)
    write_many(b, recording_id="run-b", flushes=4)
    out = tmp_path / "ab.rrd"
    rep = merge([a, b], out)
    assert [r.recording_id for r in rep.recordings] == ["run-a", "run-b"]
    assert [r[1] for r in recordings(out)] == ["run-a", "run-b"]
    assert rep.shifts == []  # separate recordings: no row id needs to move
    merged = rows_by_key(out)
    for src in (a, b):
        for key, table in rows_by_key(src).items():
            assert merged[key].equals(table, check_metadata=True)
    assert verify(out).status == "ok"


def test_merge_same_recording_id_becomes_one_with_unique_row_ids(tmp_path: Path) -> None:
    a, b = tmp_path / "a.rrd", tmp_path / "b.rrd"
    write_many(a, recording_id="same", flushes=3)
    write_many(b, recording_id="same", flushes=3)  # the same row ids again
    out = tmp_path / "one.rrd"
    rep = merge([a, b], out)
    assert len(rep.recordings) == 1 and rep.recordings[0].recording_id == "same"
    assert len(rep.shifts) == 1 and rep.shifts[0].input == 1 and rep.shifts[0].offset > 0
    with RrdReader(out) as r:
        ids = np.concatenate([r.read_chunk(c).row_ids() for c in r.chunks])
    assert len(np.unique(ids)) == len(ids)
    for key, table in rows_by_key(out).items():
        ids_sorted = table.column("row_id").to_numpy()
        assert np.all(ids_sorted[1:] > ids_sorted[:-1])
        # both inputs' values are there: the merged column is the two inputs' columns one after the other
        src_vals = rows_by_key(a)[key].drop_columns(["row_id"])
        assert table.drop_columns(["row_id"]).equals(pa.concat_tables([src_vals, src_vals]).combine_chunks())
    assert verify(out).status == "ok"


def test_merge_disjoint_parts_of_one_recording_keep_their_ids(tmp_path: Path) -> None:
    a, b = tmp_path / "a.rrd", tmp_path / "b.rrd"
    write_many(a, recording_id="same", flushes=2)
    write_many(b, recording_id="same", flushes=2, first_row_id=10_000)
    rep = merge([b, a], tmp_path / "out.rrd")
    assert rep.shifts == []
    assert len(rep.recordings) == 1


def test_merge_as_one(tmp_path: Path) -> None:
    a, b = tmp_path / "a.rrd", tmp_path / "b.rrd"
    write_many(a, recording_id="run-a", flushes=2)
    write_many(b, recording_id="run-b", flushes=2)
    out = tmp_path / "one.rrd"
    rep = merge([a, b], out, as_one=True)
    assert [(r.application_id, r.recording_id) for r in rep.recordings] == [("robot", "run-a")]
    with RrdReader(out) as r:
        assert {c.recording for c in r.chunks} == {0}
        ids = np.concatenate([r.read_chunk(c).row_ids() for c in r.chunks])
    assert len(np.unique(ids)) == len(ids)
    assert verify(out).status == "ok"


def test_merge_refuses_bad_inputs(many: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="twice"):
        merge([many, many], tmp_path / "out.rrd")
    with pytest.raises(ValueError, match="at least one"):
        merge([], tmp_path / "out.rrd")
    cut = tmp_path / "cut.rrd"
    cut.write_bytes(many.read_bytes()[:-60])
    with pytest.raises(DamagedInputError):
        merge([many, cut], tmp_path / "out.rrd")
    assert not (tmp_path / "out.rrd").exists()


# --- describe and listing -----------------------------------------------------------------------
def test_describe(sample_rrd: tuple[Path, list[Chunk]]) -> None:
    path, written = sample_rrd
    d = describe(path)
    assert d["opened_via"] == "footer" and d["damage"] is None
    assert d["chunks"] == len(written)
    assert d["rows"] == sum(c.rows for c in written)
    assert d["records"] == len(record_layout(path))
    assert d["records_by_kind"]["chunk"] == d["chunk_records"]
    assert d["file_size"] == path.stat().st_size
    assert d["raw_bytes"] > 0 and d["compression_ratio"] == round(d["raw_bytes"] / d["stored_bytes"], 3)
    recs = d["recordings"]
    assert [r["recording_id"] for r in recs] == ["sample-0", "sample-1"]
    assert recs[0]["start_time"].startswith("2023-11-14T22:13:20")
    ents = {(e["entity"], e["kind"]): e for e in recs[0]["entities"]}
    assert ents[("world", "view_coordinates")]["timeless"]
    assert ents[("plot/s1", "scalar")]["rows"] == 3
    frame = recs[1]["timelines"]["frame"]
    assert (frame["kind"], frame["min"], frame["max"]) == ("sequence", 9, 12)
    assert json.loads(json.dumps(d)) == d


def test_describe_time_timeline_text(many: Path) -> None:
    t = describe(many)["recordings"][0]["timelines"]["log_time"]
    assert t["kind"] == "time"
    assert t["min_text"].endswith("Z") and t["duration"] == t["max"] - t["min"]
    assert t["duration_text"].endswith("ms")


def test_describe_truncated(tmp_path: Path) -> None:
    src = tmp_path / "live.rrd"
    write_many(src, close=False)
    cut = tmp_path / "cut.rrd"
    cut.write_bytes(src.read_bytes()[:-5])
    d = describe(cut)
    assert d["opened_via"] == "scan"
    assert d["damage"]["kind"] == "truncated"


def test_chunk_json_keys_and_data(many: Path) -> None:
    with RrdReader(many) as r:
        info = next(c for c in r.chunks if c.kind == "encoded_image")
        obj = chunk_json(r, info, data=True)
        chunk = r.read_chunk(info)
    assert list(obj) == [
        "offset",
        "size",
        "recording",
        "entity",
        "kind",
        "rows",
        "timeless",
        "row_ids",
        "timelines",
        "columns",
        "codec",
        "data",
    ]
    assert obj["columns"]["encoded_image"] == "large_binary"
    blob = chunk.batch.column("encoded_image")[0].as_py()
    assert obj["data"]["encoded_image"] == [{"base64": base64.b64encode(blob).decode()}]
    assert list(obj["data"]) == chunk.batch.schema.names
    line = dumps(obj)
    assert "\n" not in line and json.loads(line) == obj
    assert dumps(obj) == line  # deterministic


# --- properties over arbitrary valid chunks ------------------------------------------------------
def _rows_by_schema(path: Path) -> dict[tuple[int, str, str, bytes], pa.Table]:
    groups: dict[tuple[int, str, str, bytes], list[pa.RecordBatch]] = {}
    with RrdReader(path) as r:
        for info in r.chunks:
            batch = r.read_chunk(info).batch
            if batch.num_rows:
                key = (info.recording, info.entity, info.kind, batch.schema.serialize().to_pybytes())
                groups.setdefault(key, []).append(batch)
    return {k: pa.Table.from_batches(v).sort_by("row_id").combine_chunks() for k, v in groups.items()}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=chunk_lists(max_chunks=8), chunk_bytes=st.sampled_from([64, 700, 1 << 20]))
def test_tools_keep_arbitrary_chunks(tmp_path_factory: pytest.TempPathFactory, data: Any, chunk_bytes: int) -> None:
    chunks, n_rec = data
    d = tmp_path_factory.mktemp("prop")
    src = d / "src.rrd"
    with RrdWriter(src, application_id="prop", threads=0, chunk_bytes=chunk_bytes, chunk_rows=7) as w:
        for _ in range(n_rec - 1):
            w.add_recording(application_id="prop")
        w.write_chunks(chunks)
    assert verify(src).status == "ok", verify(src).problems
    # recover of a whole file: the same chunks, in the same order
    assert recover(src, d / "rec.rrd").status == "nothing_lost"
    got, want = chunk_list(d / "rec.rrd"), chunk_list(src)
    assert [g[:5] for g in got] == [w_[:5] for w_ in want]
    assert all(g[5].equals(w_[5], check_metadata=True) for g, w_ in zip(got, want, strict=True))
    # compact: other chunk boundaries, the same rows
    compact(src, d / "compact.rrd", chunk_bytes=chunk_bytes * 3, compression="none")
    assert verify(d / "compact.rrd").status == "ok"
    before, after = _rows_by_schema(src), _rows_by_schema(d / "compact.rrd")
    assert before.keys() == after.keys()
    for key, table in before.items():
        assert after[key].equals(table, check_metadata=True)
    # every chunk prints as JSON
    with RrdReader(src) as r:
        for info in r.chunks:
            json.loads(dumps(chunk_json(r, info, data=True)))


def _chunk_rows(path: Path) -> list[tuple[str, str, list[dict[str, Any]]]]:
    with RrdReader(path) as r:
        return [(c.entity, c.kind, r.read_chunk(c).batch.to_pylist()) for c in r.chunks]


@pytest.mark.parametrize("damage", ["flip", "cut"])
def test_damage_anywhere_is_reported_and_recovered(
    sample_rrd: tuple[Path, list[Chunk]], tmp_path: Path, damage: str
) -> None:
    """Damage at bytes spread over the whole file: verify names it, recover keeps only sound chunks."""
    path, _ = sample_rrd
    data = path.read_bytes()
    original = _chunk_rows(path)
    bad, out = tmp_path / "bad.rrd", tmp_path / "out.rrd"
    for pos in range(16, len(data), 29):
        if damage == "flip":
            changed = bytearray(data)
            changed[pos] ^= 0x10
            bad.write_bytes(bytes(changed))
        else:
            bad.write_bytes(data[:pos])
        rep = verify(bad)
        assert rep.status == ("corrupt" if damage == "flip" else "truncated"), pos
        assert rep.problems and rep.damage is not None
        out.unlink(missing_ok=True)
        rec = recover(bad, out)
        if rec.status == "nothing_recoverable":
            assert not out.exists()
            continue
        assert verify(out).status == "ok", pos
        got = _chunk_rows(out)
        assert rec.chunks_recovered == len(got)
        assert all(g in original for g in got), pos
