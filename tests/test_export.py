"""Tests for ``rrquery.export``: every format read back and compared to ``Recording.range``."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

import rrformat as rr
import rrquery
from rrformat import _framing as fr
from rrformat.testing import record_layout
from rrquery import _export
from rrquery._export import ExportError, OutputExistsError, _file_names, entity_file_name, output_format

START_S = 1_767_225_600  # 2026-01-01T00:00:00Z
FRAMES = 12
NO_BINARY = ["plot/**", "world/**", "robot/**", "logs/**"]


def write_recording(path: Path) -> Path:
    """Six entities logged on ``frame`` and ``sensor_time`` (0.5 s apart), one record per frame.

    ``world`` is timeless; ``camera/image`` (an image every 4 frames) holds binary data;
    ``logs/"my log"`` has a quoted part.
    """
    rec = rr.RecordingStream("export-test", save=path, strict=True)
    rr.log_view_coordinates("world", xyz="RUB", timeless=True, recording=rec)
    for i in range(FRAMES):
        rr.set_time_sequence("frame", i, recording=rec)
        rr.set_time_seconds("sensor_time", START_S + i * 0.5, recording=rec)
        rr.log_scalar("plot/speed", i * 1.5, recording=rec)
        pts = np.arange(3 * (i % 3 + 1), dtype=np.float32).reshape(-1, 3) + i
        rr.log_points("world/points", pts, recording=rec)
        rr.log_rigid3("robot/pose", parent_from_child=([i, 0, 0], [0, 0, 0, 1]), recording=rec)
        if i % 4 == 0:
            rr.log_image("camera/image", np.full((4, 5, 3), i, dtype=np.uint8), recording=rec)
            rr.log_text_entry('logs/"my log"', f"frame {i}", recording=rec)
        rec.flush()
    rec.disconnect()
    return path


@pytest.fixture(scope="module")
def rrd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_recording(tmp_path_factory.mktemp("export") / "run.rrd")


@pytest.fixture(scope="module")
def rec(rrd: Path) -> rrquery.Recording:
    return rrquery.open(rrd)


def by_row(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("row_id")


def same_columns(got: pl.DataFrame, want: pl.DataFrame) -> pl.DataFrame:
    """``got`` restricted to ``want``'s columns; the columns ``got`` has in addition must be all null."""
    for extra in set(got.columns) - set(want.columns):
        assert got.get_column(extra).null_count() == got.height, extra
    return got.select(want.columns)


# --- names and formats ---------------------------------------------------------------------------
def test_output_format_from_suffix(tmp_path: Path) -> None:
    assert output_format("a.parquet") == "parquet"
    assert output_format("a.CSV") == "csv"
    assert [output_format(f"a.{s}") for s in ("arrow", "ipc", "feather")] == ["arrow"] * 3
    assert output_format("a.ndjson") == output_format("a.jsonl") == "ndjson"
    assert output_format("out/") is None
    assert output_format(tmp_path / "plain") is None
    (tmp_path / "dir.parquet").mkdir()
    assert output_format(tmp_path / "dir.parquet") is None  # an existing directory
    with pytest.raises(ExportError, match=r"unknown output format '\.txt'.*\.parquet"):
        output_format("a.txt")


def test_entity_file_names() -> None:
    assert entity_file_name("world/points") == "world__points"
    assert entity_file_name('logs/"my log"') == "logs__%22my%20log%22"
    assert entity_file_name('a/"x/y"') == "a__%22x%2Fy%22"
    assert entity_file_name("cam/#3/12") == "cam__#3__12"
    assert entity_file_name("") == "_root"
    long = "/".join(["part"] * 80)
    assert len(entity_file_name(long)) <= 200
    names = _file_names(["a/b", "a__b", "A/b"])
    assert names == {"a/b": "a__b.parquet", "a__b": "a__b~2.parquet", "A/b": "A__b~3.parquet"}


# --- single-file exports -------------------------------------------------------------------------
def test_parquet_holds_every_column_type(rec: rrquery.Recording, tmp_path: Path) -> None:
    out = tmp_path / "all.parquet"
    result = rrquery.export(rec, out, entities="**")
    want = rec.range("**")
    assert result.format == "parquet" and result.files == {out: want.height}
    table = pq.read_table(out)
    schema = table.schema
    assert schema.field("frame").type == pa.int64()
    assert schema.field("sensor_time").type == pa.timestamp("ns", tz="UTC")
    positions = schema.field("positions3d").type
    assert pa.types.is_large_list(positions) and positions.value_type == pa.list_(pa.float32(), 3)
    tensor = schema.field("tensor").type
    assert pa.types.is_struct(tensor)
    assert {tensor.field(i).name for i in range(tensor.num_fields)} == {"shape", "names", "dtype", "data"}
    assert pa.types.is_large_binary(tensor.field("data").type)
    got = pl.read_parquet(out)
    assert by_row(got).equals(by_row(want.select(got.columns)))
    assert set(got.columns) == set(want.columns)
    # The image bytes survive as one C-order buffer with its shape.
    images = rrquery.to_numpy(got.filter(pl.col("entity") == "camera/image").get_column("tensor").sort())
    assert images.shape == (3, 4, 5, 3) and sorted(int(v) for v in images[:, 0, 0, 0]) == [0, 4, 8]


@pytest.mark.parametrize("suffix", [".arrow", ".ipc", ".feather"])
def test_arrow_ipc_file(rec: rrquery.Recording, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"run{suffix}"
    rrquery.export(rec, out, entities=["camera/*", "world/points"], timeline="frame", start=2, end=9)
    want = rec.range(["camera/*", "world/points"], timeline="frame", start=2, end=9)
    table = feather.read_table(out)  # also opens it as an Arrow IPC file
    assert table.num_rows == want.height
    assert table.schema.field("sensor_time").type == pa.timestamp("ns", tz="UTC")
    got = pl.read_ipc(out)
    assert by_row(same_columns(got, want)).equals(by_row(want))


def test_csv_writes_nested_columns_as_json(rec: rrquery.Recording, tmp_path: Path) -> None:
    out = tmp_path / "run.csv"
    rrquery.export(rec, out, entities=NO_BINARY, timeline="frame")
    want = by_row(rec.range(NO_BINARY, timeline="frame"))
    times = {"sensor_time": pl.Datetime("ns", "UTC"), "log_time": pl.Datetime("ns", "UTC")}
    got = by_row(pl.read_csv(out, schema_overrides=times))
    assert got.height == want.height == 12 * 3 + 3 + 1  # world's timeless row included
    nested = ["positions3d", "translation", "rotation"]
    flat = [c for c in want.columns if c not in nested]
    assert got.select(flat).equals(want.select(flat).with_columns(pl.col("row_id").cast(pl.Int64)))
    for col in nested:
        decoded = [None if v is None else json.loads(v) for v in got.get_column(col).to_list()]
        assert decoded == want.get_column(col).to_list(), col
    text = out.read_text().splitlines()
    assert text[0].split(",")[:5] == ["entity", "row_id", "frame", "sensor_time", "log_time"]


def test_ndjson(rec: rrquery.Recording, tmp_path: Path) -> None:
    out = tmp_path / "run.jsonl"
    rrquery.export(rec, out, entities=["world/points", "robot/pose"], timeline="sensor_time")
    want = rec.range(["world/points", "robot/pose"], timeline="sensor_time")
    lines = out.read_text().splitlines()
    assert len(lines) == want.height
    got = pl.read_ndjson(out, schema=want.schema)
    assert by_row(got).equals(by_row(want))


def test_text_formats_refuse_images(rec: rrquery.Recording, tmp_path: Path) -> None:
    for name, fmt in (("x.csv", "CSV"), ("x.ndjson", "JSON")):
        with pytest.raises(ExportError) as info:
            rrquery.export(rec, tmp_path / name, entities="**")
        message = str(info.value)
        assert "'tensor'" in message and "camera/image" in message
        assert f"which {fmt} cannot hold" in message and ".parquet" in message
        assert not (tmp_path / name).exists()
    assert os.listdir(tmp_path) == []  # nothing half-written
    with pytest.raises(ExportError, match=r"'camera/image:tensor'.*CSV"):
        rrquery.export(rec, tmp_path / "wide.csv", entities="camera/*", wide=True, index="frame")


# --- bounds -------------------------------------------------------------------------------------
def test_sequence_bounds(rec: rrquery.Recording, tmp_path: Path) -> None:
    out = tmp_path / "b.parquet"
    rrquery.export(rec, out, entities="plot/speed", timeline="frame", start=3, end=7)
    got = pl.read_parquet(out)
    assert got.get_column("frame").to_list() == [3, 4, 5, 6, 7]
    assert got.get_column("scalar").to_list() == [i * 1.5 for i in range(3, 8)]


def test_iso_time_bounds(rec: rrquery.Recording, tmp_path: Path) -> None:
    out = tmp_path / "t.parquet"
    # 2026-01-01T00:00:01Z .. 00:00:02.5Z holds frames 2..5 (0.5 s apart).
    rrquery.export(
        rec, out, entities="plot/speed", timeline="sensor_time", start="2026-01-01T00:00:01Z", end=START_S + 2.5
    )
    got = pl.read_parquet(out)
    assert got.get_column("frame").to_list() == [2, 3, 4, 5]
    want = rec.range("plot/speed", timeline="sensor_time", start="2026-01-01T00:00:01Z", end=START_S + 2.5)
    assert got.equals(want)


def test_bad_arguments(rec: rrquery.Recording, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"no entity matches 'nope/\*'; entities: camera/image"):
        rrquery.export(rec, tmp_path / "x.parquet", entities=["plot/*", "nope/*"])
    with pytest.raises(ValueError, match="unknown timeline 'tick'; the recording has: frame, sensor_time"):
        rrquery.export(rec, tmp_path / "x.parquet", timeline="tick")
    with pytest.raises(ValueError, match="is after end"):
        rrquery.export(rec, tmp_path / "x.parquet", timeline="frame", start=5, end=2)
    with pytest.raises(ExportError, match="need a timeline"):
        rrquery.export(rec, tmp_path / "x.parquet", start=5)
    with pytest.raises(ExportError, match="wide"):
        rrquery.export(rec, tmp_path / "x.parquet", sample=10)
    with pytest.raises(ExportError, match="one table"):
        rrquery.export(rec, tmp_path / "dir", wide=True, index="frame")
    assert os.listdir(tmp_path) == []


def test_overwrite(rec: rrquery.Recording, tmp_path: Path) -> None:
    out = tmp_path / "x.parquet"
    out.write_bytes(b"old")
    with pytest.raises(OutputExistsError):
        rrquery.export(rec, out, entities="plot/speed")
    assert out.read_bytes() == b"old"
    rrquery.export(rec, out, entities="plot/speed", overwrite=True)
    assert pl.read_parquet(out).height == FRAMES
    assert sorted(os.listdir(tmp_path)) == ["x.parquet"]  # no temporary file left


# --- directories ----------------------------------------------------------------------------------
def test_directory_one_file_per_entity(rec: rrquery.Recording, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = rrquery.export(rec, str(out) + "/", entities="**")
    names = sorted(os.listdir(out))
    assert names == [
        "camera__image.parquet",
        "logs__%22my%20log%22.parquet",
        "plot__speed.parquet",
        "robot__pose.parquet",
        "world.parquet",
        "world__points.parquet",
    ]
    assert result.format == "parquet" and len(result.files) == 6 and result.skipped == ()
    for entity in rec.entities().get_column("entity").unique().to_list():
        got = pl.read_parquet(out / f"{entity_file_name(entity)}.parquet")
        want = rec.range(entity)
        assert got.get_column("entity").unique().to_list() == [entity]
        assert same_columns(got, want).equals(want), entity
    # Existing files are refused without overwrite, replaced with it.
    with pytest.raises(OutputExistsError):
        rrquery.export(rec, out, entities="plot/*")
    rrquery.export(rec, out, entities="plot/*", timeline="frame", start=0, end=1, overwrite=True)
    assert pl.read_parquet(out / "plot__speed.parquet").height == 2


def test_directory_skips_entities_without_rows(rec: rrquery.Recording, tmp_path: Path) -> None:
    result = rrquery.export(rec, tmp_path / "d", entities="**", timeline="frame", start=1, end=3)
    # camera/image and the logs have rows at frames 0, 4, 8 only; world is timeless (kept).
    assert set(result.skipped) == {"camera/image", 'logs/"my log"'}
    assert sorted(p.name for p in result.files) == [
        "plot__speed.parquet",
        "robot__pose.parquet",
        "world.parquet",
        "world__points.parquet",
    ]
    world = pl.read_parquet(tmp_path / "d" / "world.parquet")
    assert world.get_column("view_coordinates").to_list() == ["RUB"]


# --- wide -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs",
    [
        {"index": "frame"},
        {"index": "frame", "start": 2, "end": 8, "fill": None},
        {"index": "frame", "sample": 3},
        {"index": "sensor_time", "sample": 4, "start": "2026-01-01T00:00:01Z"},
    ],
)
def test_wide_equals_dataset(rec: rrquery.Recording, tmp_path: Path, kwargs: dict[str, Any]) -> None:
    out = tmp_path / "wide.parquet"
    rrquery.export(rec, out, entities=["robot/**", "plot/*", "camera/*"], wide=True, **kwargs)
    want = rec.dataset(columns=["camera/image", "plot/speed", "robot/pose"], **kwargs)
    got = pl.read_parquet(out)
    assert got.equals(want)
    assert "camera/image:tensor" in got.columns and "robot/pose:translation" in got.columns


def test_wide_csv(rec: rrquery.Recording, tmp_path: Path) -> None:
    out = tmp_path / "wide.csv"
    rrquery.export(rec, out, entities="plot/speed", wide=True, timeline="frame", start=1, end=4)
    got = pl.read_csv(out)
    assert got.columns == ["frame", "plot/speed:scalar"]
    assert got.rows() == [(1, 1.5), (2, 3.0), (3, 4.5), (4, 6.0)]


# --- streaming ---------------------------------------------------------------------------------------
def test_small_pieces_give_the_same_file(
    rec: rrquery.Recording, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one chunk per piece, the export streams chunk by chunk and still equals range()."""
    monkeypatch.setattr(_export, "PIECE_BYTES", 1)
    calls: list[tuple[int, int]] = []
    for timeline in (None, "frame", "sensor_time"):
        calls.clear()
        out = tmp_path / f"{timeline}.parquet"
        rrquery.export(rec, out, entities="**", timeline=timeline, progress=lambda d, t: calls.append((d, t)))
        want = rec.range("**", timeline=timeline)
        got = pl.read_parquet(out)
        # Grouped by entity, each entity in range() order.
        for entity in want.get_column("entity").unique().to_list():
            part = got.filter(pl.col("entity") == entity)
            assert part.equals(want.filter(pl.col("entity") == entity).select(got.columns)), (timeline, entity)
        assert got.height == want.height
        total = calls[-1][1]
        assert len(calls) > 10 and calls[0] == (0, total) and calls[-1] == (total, total)
        assert [d for d, _ in calls] == sorted(d for d, _ in calls)


# --- truncated files -----------------------------------------------------------------------------------
def test_truncated_file_exports_its_prefix(rrd: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.rrd"
    data = rrd.read_bytes()
    chunks = [s for s in record_layout(rrd) if s.kind == fr.RecordKind.CHUNK]
    last = chunks[-1]
    cut.write_bytes(data[: (last.offset + last.end) // 2])  # a crash in the middle of the last chunk record
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = rrquery.export(cut, tmp_path / "cut.parquet", entities="plot/speed")
    assert [w.category for w in caught] == [rrquery.TruncatedRecordingWarning]
    got = pl.read_parquet(tmp_path / "cut.parquet")
    assert 0 < result.rows == got.height <= FRAMES
    assert got.get_column("frame").to_list() == list(range(got.height))
