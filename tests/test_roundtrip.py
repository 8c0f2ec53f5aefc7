"""Round trips: whatever valid chunks are written is read back exactly, via the footer and via a scan."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rrformat import _framing as fr
from rrformat import testing as rt
from rrformat.chunk import Chunk, ChunkInfo, TimeRange, timeline_kind_of
from rrformat.components import COMPONENTS, DATA_KINDS, TENSOR_TYPE
from rrformat.errors import SchemaError
from rrformat.reader import RecordView, RrdReader
from rrformat.writer import Compression, RecordingInfo, RrdWriter

# (chunk_bytes, chunk_rows): the defaults, small bounds that split and pack, and bounds so
# small that every row becomes its own record.
BOUNDS = [(1 << 20, 16_384), (2048, 7), (300, 64), (1, 2)]

Key = tuple[int, str, str]


def _write(
    path: Path,
    chunks: Sequence[Chunk],
    recordings: int,
    *,
    compression: Compression = "zstd",
    bounds: tuple[int, int] = BOUNDS[0],
    threads: int = 2,
    calls: Sequence[int] = (),
) -> list[RecordingInfo]:
    """Write ``chunks`` in several ``write_chunks`` calls (split at ``calls``); return the recordings."""
    with RrdWriter(
        path,
        application_id="roundtrip",
        compression=compression,
        chunk_bytes=bounds[0],
        chunk_rows=bounds[1],
        threads=threads,
        overwrite=True,
    ) as w:
        for k in range(1, recordings):
            assert w.add_recording(application_id=f"roundtrip-{k}") == k
        cuts = sorted({0, len(chunks), *(min(c, len(chunks)) for c in calls)})
        for a, b in itertools.pairwise(cuts):
            w.write_chunks(chunks[a:b])
        return w.recordings


def _runs(chunks: Sequence[Chunk]) -> dict[Key, list[pa.Table]]:
    """Per (recording, entity, kind): its rows in order, one table per run of one schema."""
    groups: dict[Key, list[tuple[pa.Schema, list[pa.RecordBatch]]]] = defaultdict(list)
    for c in chunks:
        runs = groups[(c.recording, c.entity, c.kind)]
        if runs and runs[-1][0].equals(c.batch.schema, check_metadata=True):
            runs[-1][1].append(c.batch)
        else:
            runs.append((c.batch.schema, [c.batch]))
    return {k: [pa.Table.from_batches(bs, schema=s) for s, bs in v] for k, v in groups.items()}


def _expected_ranges(chunk: Chunk) -> dict[str, TimeRange]:
    """The index's time ranges, computed from the data in plain Python (spec 5.1)."""
    out = {}
    for f, col in zip(chunk.batch.schema, chunk.batch.columns, strict=True):
        kind = timeline_kind_of(f)
        if kind is None:
            continue
        values = col.to_pylist()
        present = [v for v in values if v is not None]
        is_sorted = None not in values and all(a <= b for a, b in itertools.pairwise(values))
        out[f.name] = TimeRange(kind, min(present, default=None), max(present, default=None), is_sorted)
    return out


def _check_entry(info: ChunkInfo, chunk: Chunk) -> None:
    """An index entry describes exactly the chunk it points at."""
    assert (chunk.entity, chunk.kind, chunk.recording) == (info.entity, info.kind, info.recording)
    assert chunk.rows == info.rows
    ids = chunk.batch.column(0).to_pylist()
    assert (info.row_id_min, info.row_id_max) == ((ids[0], ids[-1]) if ids else (None, None))
    assert info.timeless == (not any(timeline_kind_of(f) for f in chunk.batch.schema))
    assert dict(info.timelines) == _expected_ranges(chunk)


def _check_records(index: Sequence[ChunkInfo], chunk_rows: int) -> None:
    """The chunks of a record tile its rows, in order, and no record exceeds the row bound."""
    by_record: dict[int, list[ChunkInfo]] = defaultdict(list)
    for info in index:
        by_record[info.record_offset].append(info)
    for infos in by_record.values():
        starts = [i.row_start for i in infos]
        assert starts == list(itertools.accumulate([0] + [i.rows for i in infos[:-1]]))
        assert infos[-1].row_start + infos[-1].rows == infos[0].record_rows
        assert infos[0].record_rows <= chunk_rows
        assert len({i.schema_id for i in infos}) == 1 and len({i.recording for i in infos}) == 1


def check_round_trip(
    path: Path, written: Sequence[Chunk], recordings: Sequence[RecordingInfo], chunk_rows: int
) -> list[Chunk]:
    """Read ``path`` via footer and via scan and check both against ``written``; return the chunks read."""
    with RrdReader(path) as by_footer, RrdReader(path, use_footer=False) as by_scan:
        assert by_footer.opened_via == "footer" and by_scan.opened_via == "scan"
        assert by_footer.damage is None and by_scan.damage is None
        assert by_footer.chunks == by_scan.chunks
        assert by_footer.record_metas == by_scan.record_metas
        assert by_footer.schema_offsets == by_scan.schema_offsets
        assert by_footer.recordings == by_scan.recordings == list(recordings)
        assert by_footer.header == by_scan.header
        assert len(set(by_footer.schema_offsets)) == len({c.batch.schema.serialize().to_pybytes() for c in written})
        _check_records(by_footer.chunks, chunk_rows)
        read = [by_footer.read_chunk(info) for info in by_footer.chunks]
        scanned = [by_scan.read_chunk(info) for info in by_scan.chunks]
    for info, chunk, other in zip(by_footer.chunks, read, scanned, strict=True):
        chunk.validate()
        assert chunk.equals(other)
        _check_entry(info, chunk)
    # Splitting and packing may re-cut chunks, but never reorder or change rows.
    expected, got = _runs(written), _runs(read)
    assert got.keys() == expected.keys()
    for key, tables in expected.items():
        assert len(got[key]) == len(tables), key
        for a, b in zip(got[key], tables, strict=True):
            assert a.equals(b, check_metadata=True), key
    return read


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    data=rt.chunk_lists(),
    compression=st.sampled_from(["zstd", "none"]),
    bounds=st.sampled_from(BOUNDS),
    threads=st.sampled_from([0, 2]),
    calls=st.lists(st.integers(0, 10), max_size=3),
)
def test_arbitrary_chunks_round_trip(
    tmp_path: Path,
    data: tuple[list[Chunk], int],
    compression: Compression,
    bounds: tuple[int, int],
    threads: int,
    calls: list[int],
) -> None:
    chunks, recordings = data
    path = tmp_path / "rt.rrd"
    infos = _write(path, chunks, recordings, compression=compression, bounds=bounds, threads=threads, calls=calls)
    check_round_trip(path, chunks, infos, bounds[1])


def _kind_of(name: str) -> str:
    return next(k.name for k in DATA_KINDS.values() if name in k.components)


@pytest.mark.parametrize("compression", ["zstd", "none"])
@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_component_known_value_round_trip(tmp_path: Path, name: str, compression: Compression) -> None:
    t = COMPONENTS[name].column_type
    values: list[Any] = [rt.known_value(t, i) for i in range(5)] + [None]
    kind = _kind_of(name)
    others = {r: rt.known_column(COMPONENTS[r].column_type, 6) for r in DATA_KINDS[kind].required if r != name}
    chunk = Chunk.build(
        "world/thing",
        kind,
        row_ids=range(10, 16),
        timelines={"frame": ("sequence", [5, 3, None, 7, 7, 8])},
        components={**others, name: pa.array(values, type=t)},
    )
    path = tmp_path / "one.rrd"
    check_round_trip(path, [chunk], _write(path, [chunk], 1, compression=compression), 16_384)
    with RrdReader(path) as r:
        (info,) = r.chunks
        got = r.read_chunk(info).batch.column(name)
        assert got.type == t
        assert got.to_pylist() == values
        assert info.timelines == {"frame": TimeRange(rt.TIMELINES[0][1], 3, 8, False)}
        assert (info.row_id_min, info.row_id_max, info.timeless) == (10, 15, False)
    if t == TENSOR_TYPE:
        # A tensor's buffer reads back as the array it was made from.
        tensor = got[2].as_py()
        array = np.frombuffer(tensor["data"], dtype=tensor["dtype"]).reshape(tensor["shape"])
        assert array.tolist() == [[2, 3], [4, 5], [6, 7]]


@pytest.mark.parametrize("t", rt.EXTENSION_TYPES, ids=str)
def test_extension_component_round_trip(tmp_path: Path, t: pa.DataType) -> None:
    values = pa.array([rt.known_value(t, i) for i in range(5)] + [None], type=t)
    chunk = Chunk.build("ext", "extension", row_ids=range(6), components={"user.value": values, "Ωmega": values})
    path = tmp_path / "ext.rrd"
    check_round_trip(path, [chunk], _write(path, [chunk], 1), 16_384)
    with RrdReader(path) as r:
        (info,) = r.chunks
        assert info.timeless and info.timelines == {}
        got = r.read_chunk(info).batch
        assert got.column("user.value").type == t
        assert got.column("Ωmega").to_pylist() == values.to_pylist()


def test_large_chunk_is_split_and_small_chunks_are_packed(tmp_path: Path) -> None:
    big = rt.make_chunk("big", "scalar", rows=1000, null_every=7, shuffled=True, seed=3)
    small = [rt.make_chunk(f"small/{k}", "scalar", rows=2, first_row_id=2000 + 2 * k, seed=k) for k in range(10)]
    path = tmp_path / "split.rrd"
    infos = _write(path, [big, *small], 1, bounds=(1 << 20, 100))
    read = check_round_trip(path, [big, *small], infos, 100)
    assert [c.rows for c in read if c.entity == "big"] == [100] * 10
    with RrdReader(path) as r:
        small_records = {i.record_offset for i in r.chunks if i.entity.startswith("small")}
        assert len(small_records) == 1, "ten small chunks of one schema share one record"
        assert len({i.record_offset for i in r.chunks}) == 11


def test_row_larger_than_the_byte_bound_stands_alone(tmp_path: Path) -> None:
    blob = pa.array([bytes(5000), b"x", bytes(3000)], type=pa.large_binary())
    chunk = Chunk.build(
        "mesh", "mesh_file", row_ids=[0, 1, 2], components={"mesh_blob": blob, "mesh_format": ["glb", "obj", "gltf"]}
    )
    path = tmp_path / "big_rows.rrd"
    infos = _write(path, [chunk], 1, bounds=(1024, 100))
    read = check_round_trip(path, [chunk], infos, 100)
    assert [c.rows for c in read] == [1, 1, 1]


def test_dictionary_columns_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    """A record body cannot carry Arrow dictionaries: such a chunk must fail at write, not at read."""
    words = pa.array(["a", "b", "a"]).dictionary_encode()
    path = tmp_path / "dict.rrd"
    with pytest.raises(SchemaError, match="dictionary"):
        Chunk.build("ext", "extension", row_ids=[0, 1, 2], components={"words": words})
    nested = pa.StructArray.from_arrays([words], names=["w"])
    chunk = Chunk(
        "ext",
        "extension",
        pa.RecordBatch.from_arrays([pa.array([0, 1, 2], pa.uint64()), nested], names=["row_id", "nested"]),
    )
    with RrdWriter(path, application_id="dict") as w:
        with pytest.raises(SchemaError, match="dictionary"):
            w.write_chunk(chunk)
        w.write_chunk(rt.make_chunk("ok", "scalar", rows=2))
    with RrdReader(path) as r:
        assert [r.read_chunk(i).entity for i in r.chunks] == ["ok"]


@pytest.mark.parametrize("packed", [True, False], ids=["packed", "alone"])
def test_time_ranges_at_the_int64_extremes(tmp_path: Path, packed: bool) -> None:
    """Sortedness must not come from a difference of two int64 values, which can overflow."""
    lo, hi = -(1 << 63), (1 << 63) - 1
    columns = [[hi, lo], [lo, hi], [lo, lo], [hi, 0, lo], [lo + 1, 0, hi], [hi, None], [None], []]
    chunks, first = [], 0
    for k, values in enumerate(columns):
        n = len(values)
        chunks.append(
            Chunk.build(
                f"e/{k}",
                "scalar",
                row_ids=range(first, first + n),
                timelines={"t": ("time", pa.array(values, pa.int64()))},
                components={"scalar": [0.5] * n},
            )
        )
        first += n
    path = tmp_path / "extremes.rrd"
    # Packed: the first seven chunks share a record (an empty chunk would take the writer off
    # its packed-record path, so it goes alone).
    infos = _write(path, chunks, 1, calls=[7] if packed else range(len(chunks)))
    check_round_trip(path, chunks, infos, 16_384)
    with RrdReader(path) as r:
        assert len({i.record_offset for i in r.chunks}) == (2 if packed else len(chunks))
        got = {i.entity: (i.timelines["t"].min, i.timelines["t"].max, i.timelines["t"].sorted) for i in r.chunks}
    assert got == {
        "e/0": (lo, hi, False),
        "e/1": (lo, hi, True),
        "e/2": (lo, lo, True),
        "e/3": (lo, hi, False),
        "e/4": (lo + 1, hi, True),
        "e/5": (hi, hi, False),
        "e/6": (None, None, False),
        "e/7": (None, None, True),
    }


def test_many_packed_chunks_get_a_compressed_meta(tmp_path: Path) -> None:
    """A record's meta over 4 KiB is stored as a zstd frame; scans and footers read it alike."""
    chunks = [
        rt.make_chunk(f"fleet/robot_{k}/battery", "scalar", rows=1, first_row_id=k, components=["scalar"], seed=k)
        for k in range(80)
    ]
    path = tmp_path / "packed.rrd"
    check_round_trip(path, chunks, _write(path, chunks, 1), 16_384)
    with RrdReader(path, use_footer=False) as r:
        (record,) = [v for v in r.walk() if isinstance(v, RecordView) and v.header.kind == fr.RecordKind.CHUNK]
        assert record.header.flags & fr.FLAG_META_ZSTD
        assert len(record.meta["chunks"]) == 80
