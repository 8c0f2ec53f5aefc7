"""rrquery.open (what a recording holds), Recording.range and to_numpy, on files the SDK writes."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import query_helpers as qh

import rrformat as rr
import rrquery

POINTS = pl.List(pl.Array(pl.Float32, 3))
COLORS = pl.List(pl.Array(pl.UInt8, 4))
TIME = pl.Datetime("ns", "UTC")


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return qh.write_mixed(tmp_path_factory.mktemp("mixed") / "mixed.rrd")


@pytest.fixture(scope="module")
def rec(mixed: Path) -> rrquery.Recording:
    return rrquery.open(mixed)


# --- open: what a recording holds ------------------------------------------------------------
def test_open_reports_ids_and_timelines(rec: rrquery.Recording) -> None:
    assert rec.application_id == "query_app"
    assert rec.recording_id == "mixed-1"
    tl = rec.timelines()
    assert tl.columns == ["name", "kind", "min", "max"]
    assert tl["name"].to_list() == ["frame", "sensor_time", "log_time"]
    assert tl["kind"].to_list() == ["sequence", "time", "time"]
    rows = {r["name"]: r for r in tl.iter_rows(named=True)}
    assert (rows["frame"]["min"], rows["frame"]["max"]) == (0, 9)
    assert (rows["sensor_time"]["min"], rows["sensor_time"]["max"]) == (qh.sensor_ns(0), qh.sensor_ns(9))
    assert rows["log_time"]["min"] <= rows["log_time"]["max"]


def test_entities_lists_kinds_components_rows_and_timeless(rec: rrquery.Recording) -> None:
    ents = rec.entities()
    assert ents.columns == ["entity", "kind", "components", "rows", "timeless"]
    got = {
        r["entity"]: (r["kind"], sorted(r["components"]), r["rows"], r["timeless"]) for r in ents.iter_rows(named=True)
    }
    assert got == {
        "calib": ("scalar", ["scalar"], 1, True),
        "sensor/value": ("scalar", ["scalar"], 10, False),
        "world/points": ("points3d", ["colors", "positions3d"], 5, False),
    }
    assert rec.entities("world/**")["entity"].to_list() == ["world/points"]
    assert rec.entities("sensor/*")["entity"].to_list() == ["sensor/value"]


def test_schema_gives_query_columns_and_types(rec: rrquery.Recording) -> None:
    schema = rec.schema("world/points")
    assert list(schema) == ["entity", "row_id", "frame", "sensor_time", "log_time", "positions3d", "colors"]
    assert schema["positions3d"] == POINTS
    assert schema["colors"] == COLORS
    assert schema["sensor_time"] == TIME
    assert schema["row_id"] == pl.UInt64
    assert rec.schema("calib") == {"entity": pl.String, "row_id": pl.UInt64, "scalar": pl.Float64}


def test_unknown_entity_or_timeline_is_a_value_error_listing_what_exists(rec: rrquery.Recording) -> None:
    listing = "calib, sensor/value, world/points"
    with pytest.raises(ValueError, match=f"no entity matches 'robot/\\*\\*'; entities: {listing}"):
        rec.entities("robot/**")
    with pytest.raises(ValueError, match=f"entities: {listing}"):
        rec.range("robot/**", timeline="frame")
    with pytest.raises(ValueError, match=f"entities: {listing}"):
        rec.schema("world")
    with pytest.raises(ValueError, match="unknown timeline 'tick'; the recording has: frame, sensor_time, log_time"):
        rec.range("**", timeline="tick")
    with pytest.raises(ValueError, match="unknown timeline 'tick'"):
        rec.latest_at("tick", 3)
    with pytest.raises(ValueError, match="no 'radii' in the matching entities; they have: positions3d, colors"):
        rec.range("world/points", components=["radii"])


def test_a_file_with_two_recordings_needs_recording(tmp_path: Path) -> None:
    path = qh.write_two_recordings(tmp_path)
    with pytest.raises(ValueError, match=r"holds 2 recordings \(rec-a, rec-b\); choose one with recording="):
        rrquery.open(path)
    choices: list[tuple[str | int, str, str, float]] = [
        ("rec-a", "app_a", "a", 1.0),
        (1, "app_b", "b", 2.0),
        ("rec-b", "app_b", "b", 2.0),
    ]
    for choice, app, entity, value in choices:
        r = rrquery.open(path, recording=choice)
        assert r.application_id == app
        assert r.entities()["entity"].to_list() == [entity]
        assert r.range(timeline="frame")["scalar"].to_list() == [value]
    with pytest.raises(ValueError, match="no recording 'rec-c'; the file holds: rec-a, rec-b"):
        rrquery.open(path, recording="rec-c")


def test_a_truncated_file_warns_once_and_queries_its_sound_prefix(tmp_path: Path) -> None:
    full = qh.write_many_chunks(tmp_path / "full.rrd", n=50_000)  # 4 records of at most 16,384 rows
    with rrquery.open(full) as whole:
        sig = sorted((c for c in whole.index if c.entity == "sig"), key=lambda c: c.record_offset)
        assert len({c.record_offset for c in sig}) == 4
    offset, lost = qh.cut_mid_record(full, tmp_path / "cut.rrd", 2)
    kept = [c for c in sig if c.record_offset < offset]
    last_frame = max(c.timelines["frame"].max for c in kept if c.timelines["frame"].max is not None)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cut = rrquery.open(tmp_path / "cut.rrd")
    assert [w.category for w in caught] == [rrquery.TruncatedRecordingWarning]
    message = str(caught[0].message)
    assert f"{lost} bytes at the end could not be read" in message
    assert f"before byte {offset}" in message
    assert caught[0].filename == __file__  # points at the caller

    frames = cut.range("sig", timeline="frame")
    assert frames["frame"].to_list() == list(range(last_frame + 1))
    assert frames["scalar"].to_list() == [float(i) for i in range(last_frame + 1)]
    assert cut.timelines().row(0) == ("frame", "sequence", 0, last_frame)
    assert cut.latest_at("frame", 10**9, "sig")["scalar"].to_list() == [float(last_frame)]
    assert cut.range("sig", timeline="frame", start=last_frame + 1).height == 0


# --- range ------------------------------------------------------------------------------------
def test_range_bounds_are_inclusive_at_both_ends(rec: rrquery.Recording) -> None:
    df = rec.range("sensor/value", timeline="frame", start=3, end=6)
    assert df["frame"].to_list() == [3, 4, 5, 6]
    assert df["scalar"].to_list() == [30.0, 40.0, 50.0, 60.0]
    assert rec.range("sensor/value", timeline="frame", start=4, end=4)["frame"].to_list() == [4]
    assert rec.range("sensor/value", timeline="frame", start=7)["frame"].to_list() == [7, 8, 9]
    assert rec.range("sensor/value", timeline="frame", end=1)["frame"].to_list() == [0, 1]
    assert rec.range("sensor/value", timeline="frame", start=10, end=20).height == 0


def test_range_output_columns_and_types(rec: rrquery.Recording) -> None:
    df = rec.range("world/**", timeline="frame", start=0, end=9)
    assert df.columns == ["entity", "row_id", "frame", "sensor_time", "log_time", "positions3d", "colors"]
    assert df.schema["positions3d"] == POINTS
    assert df.schema["colors"] == COLORS
    assert df.schema["sensor_time"] == TIME
    assert df.schema["log_time"] == TIME
    assert df.schema["frame"] == pl.Int64
    assert df["frame"].to_list() == [0, 3, 6, 9]
    assert df["positions3d"][1].to_list() == [[3.0, 4.0, 5.0]] * 3
    assert df["colors"][0].to_list() == [[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255]]
    assert df["colors"][1:].to_list() == [None, None, None]
    assert df["sensor_time"].cast(pl.Int64).to_list() == [qh.sensor_ns(i) for i in (0, 3, 6, 9)]
    assert df["row_id"].is_sorted()


def test_rows_without_the_timeline_are_left_out_when_a_timeline_is_given(rec: rrquery.Recording) -> None:
    on_frame = rec.range("world/points", timeline="frame")
    assert on_frame["frame"].null_count() == 0
    assert [-1.0, -1.0, -1.0] not in [p[0] for p in on_frame["positions3d"].to_list()]
    every = rec.range("world/points")  # no timeline: every row, in logging order
    assert every.height == 5
    assert every["positions3d"][0].to_list() == [[-1.0, -1.0, -1.0]]
    assert every["frame"].to_list() == [None, 0, 3, 6, 9]
    assert every["log_time"].null_count() == 0  # log_time is set even off the user timelines
    with pytest.raises(ValueError, match="start/end need a timeline="):
        rec.range("world/points", start=1)


def test_timeless_rows_come_first_with_null_times(rec: rrquery.Recording) -> None:
    df = rec.range("**", timeline="frame", start=2, end=3)
    assert df["entity"].to_list() == ["calib", "sensor/value", "sensor/value", "world/points"]
    assert df.row(0, named=True) | {"row_id": None} == {
        "entity": "calib",
        "row_id": None,
        "frame": None,
        "sensor_time": None,
        "log_time": None,
        "positions3d": None,
        "colors": None,
        "scalar": 42.0,
    }
    assert df["frame"].to_list() == [None, 2, 3, 3]
    # A window with no timed rows still holds the timeless ones, with every column.
    empty = rec.range("**", timeline="frame", start=100, end=200)
    assert empty["entity"].to_list() == ["calib"]
    assert empty.columns == df.columns


def test_components_projection(rec: rrquery.Recording) -> None:
    df = rec.range("world/points", timeline="frame", components=["positions3d"])
    assert df.columns == ["entity", "row_id", "frame", "sensor_time", "log_time", "positions3d"]
    assert df.height == 4
    df = rec.range("**", timeline="frame", start=0, end=0, components=["scalar"])
    assert df.columns == ["entity", "row_id", "frame", "sensor_time", "log_time", "scalar"]
    assert df["scalar"].to_list() == [42.0, 0.0, None]  # calib, sensor/value, then world/points (no scalar)
    # An empty window keeps the columns: code indexing them works on every window.
    none = rec.range("sensor/value", timeline="frame", start=50, end=60, components=["scalar"])
    assert none.height == 0
    assert none.schema["scalar"] == pl.Float64


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (qh.sensor_ns(2), qh.sensor_ns(5)),  # integer nanoseconds
        # Float seconds near 2023 resolve to ~240 ns: bounds between the rows.
        (qh.SENSOR_T0 + 0.015, qh.SENSOR_T0 + 0.055),
        ("2023-11-14T22:13:20.020Z", "2023-11-14T22:13:20.050+00:00"),  # ISO-8601
        ("2023-11-14T23:13:20.020+01:00", "2023-11-14 22:13:20.050"),  # other zone; naive is UTC
        (qh.utc(qh.sensor_ns(2)), qh.utc(qh.sensor_ns(5))),  # aware datetimes
        (qh.utc(qh.sensor_ns(2)).replace(tzinfo=None), qh.utc(qh.sensor_ns(5)).replace(tzinfo=None)),  # naive
        (np.datetime64(qh.sensor_ns(2), "ns"), np.datetime64(qh.sensor_ns(5), "ns")),
    ],
)
def test_time_timeline_bounds_in_every_form(rec: rrquery.Recording, start: object, end: object) -> None:
    df = rec.range("sensor/value", timeline="sensor_time", start=start, end=end)  # type: ignore[arg-type]
    assert df["frame"].to_list() == [2, 3, 4, 5]
    assert df["sensor_time"].cast(pl.Int64).to_list() == [qh.sensor_ns(i) for i in range(2, 6)]


def test_a_time_logged_in_float_seconds_is_found_by_the_same_float(tmp_path: Path) -> None:
    path, _ = qh.write_rates(tmp_path / "rates.rrd", frames=20)
    rec = rrquery.open(path)
    for i in (0, 7, 19):
        t = qh.SENSOR_T0 + i / 30  # what set_time_seconds was given
        assert rec.range("robot/speed", timeline="sensor_time", start=t, end=t)["frame"].to_list() == [i]


def test_bad_bounds_are_value_errors(rec: rrquery.Recording) -> None:
    with pytest.raises(ValueError, match=r"start \(5\) is after end \(2\)"):
        rec.range("**", timeline="frame", start=5, end=2)
    with pytest.raises(ValueError, match="is after end"):
        rec.range("**", timeline="sensor_time", start="2023-11-14T22:13:21Z", end="2023-11-14T22:13:20Z")
    with pytest.raises(ValueError, match="'frame' is a sequence; expected an integer"):
        rec.range("**", timeline="frame", start="yesterday")
    with pytest.raises(ValueError, match="expected seconds or an ISO-8601 time"):
        rec.range("**", timeline="sensor_time", start="yesterday")
    with pytest.raises(ValueError, match="must be a number or a time"):
        rec.range("**", timeline="frame", start=True)


def test_to_pandas_works_on_every_result(mixed: Path, rec: rrquery.Recording) -> None:
    pytest.importorskip("pandas")
    results = [
        rec.range("**", timeline="frame"),
        rec.range("**"),
        rec.latest_at("frame", 4),
        rec.dataset("frame"),
        rrquery.scan(mixed, "**", timeline="frame").filter(pl.col("frame") < 5).collect(),
    ]
    for df in results:
        pdf = df.to_pandas()
        assert list(pdf.columns) == df.columns
        assert len(pdf) == df.height > 0
    pdf = results[0].to_pandas()
    assert str(pdf["sensor_time"].dtype) == "datetime64[ns, UTC]"
    assert list(pdf["positions3d"].dropna().iloc[0][0]) == [0.0, 1.0, 2.0]


# --- images and tensors to numpy ---------------------------------------------------------
@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> tuple[rrquery.Recording, dict[str, np.ndarray]]:
    rng = np.random.default_rng(3)
    arrays: dict[str, np.ndarray] = {
        "rgb": rng.integers(0, 256, (5, 6, 8, 3), dtype=np.uint8),
        "depth": rng.integers(0, 65536, (5, 6, 8), dtype=np.uint16),
        "tensor": rng.standard_normal((5, 2, 3, 4)).astype(np.float32),
    }

    def log(r: rr.RecordingStream) -> None:
        for i in range(5):
            rr.set_time_sequence("frame", i, recording=r)
            rr.log_image("camera/image", arrays["rgb"][i], recording=r)
            rr.log_depth_image("camera/depth", arrays["depth"][i], meter=1000.0, recording=r)
            rr.log_tensor("features", arrays["tensor"][i], recording=r)

    path = qh.record(tmp_path_factory.mktemp("images") / "images.rrd", log)
    return rrquery.open(path), arrays


def test_images_come_back_as_one_array_equal_to_what_was_logged(
    images: tuple[rrquery.Recording, dict[str, np.ndarray]],
) -> None:
    rec, arrays = images
    for entity, key in [("camera/image", "rgb"), ("camera/depth", "depth"), ("features", "tensor")]:
        got = rrquery.to_numpy(rec.range(entity, timeline="frame")["tensor"])
        assert isinstance(got, np.ndarray)
        assert got.dtype == arrays[key].dtype
        assert got.shape == arrays[key].shape
        np.testing.assert_array_equal(got, arrays[key])
    # A window that starts inside a chunk, and a slice of a column.
    got = rrquery.to_numpy(rec.range("camera/image", timeline="frame", start=1, end=3)["tensor"])
    np.testing.assert_array_equal(got, arrays["rgb"][1:4])
    column = rec.range("camera/image", timeline="frame")["tensor"].slice(2, 2)
    np.testing.assert_array_equal(rrquery.to_numpy(column), arrays["rgb"][2:4])


def test_tensors_with_nulls_or_mixed_shapes_come_back_as_lists(
    images: tuple[rrquery.Recording, dict[str, np.ndarray]],
) -> None:
    rec, arrays = images
    column = rec.range("camera/image", timeline="frame")["tensor"]
    with_null = pl.concat([column.slice(0, 1), pl.Series("tensor", [None], dtype=column.dtype), column.slice(2, 1)])
    got = rrquery.to_numpy(with_null)
    assert isinstance(got, list)
    np.testing.assert_array_equal(got[0], arrays["rgb"][0])
    assert got[1] is None
    np.testing.assert_array_equal(got[2], arrays["rgb"][2])
    both = pl.concat([rec.range("camera/image")["tensor"], rec.range("features")["tensor"]])
    mixed = rrquery.to_numpy(both)
    assert isinstance(mixed, list)
    assert [a.shape for a in mixed] == [(6, 8, 3)] * 5 + [(2, 3, 4)] * 5  # type: ignore[union-attr]


def test_points_and_colors_to_numpy(rec: rrquery.Recording) -> None:
    df = rec.range("world/points", timeline="frame")
    pts = rrquery.to_numpy(df["positions3d"])
    assert isinstance(pts, np.ndarray)
    assert pts.shape == (4, 3, 3)
    assert pts.dtype == np.float32
    np.testing.assert_array_equal(pts[:, 0], [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]])
    colors = rrquery.to_numpy(df["colors"])  # a null row: a list with None
    assert isinstance(colors, list)
    assert colors[1:] == [None, None, None]
    np.testing.assert_array_equal(colors[0], [[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255]])


def test_encoded_images_decode_with_pillow(tmp_path: Path) -> None:
    image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    smooth = np.repeat(np.repeat(pixels[:, ::8, ::8], 8, axis=1), 8, axis=2)  # JPEG keeps flat blocks well

    def encode(a: np.ndarray, fmt: str) -> bytes:
        buf = io.BytesIO()
        options = {"quality": 95} if fmt == "JPEG" else {}
        image.fromarray(a).save(buf, format=fmt, **options)
        return buf.getvalue()

    def log(r: rr.RecordingStream) -> None:
        for i in range(3):
            rr.set_time_sequence("frame", i, recording=r)
            rr.log_image_file("camera/png", img_bytes=encode(pixels[i], "PNG"), recording=r)
            rr.log_image_file("camera/jpeg", img_bytes=encode(smooth[i], "JPEG"), recording=r)

    rec = rrquery.open(qh.record(tmp_path / "encoded.rrd", log))
    png = rec.range("camera/png", timeline="frame")
    assert png["image_format"].to_list() == ["png"] * 3
    decoded = rrquery.to_numpy(png["encoded_image"], decode=True)
    assert len(decoded) == 3
    for got, want in zip(decoded, pixels, strict=True):
        np.testing.assert_array_equal(got, want)  # PNG is lossless
    jpeg = rrquery.to_numpy(rec.range("camera/jpeg", timeline="frame")["encoded_image"], decode=True)
    for got, want in zip(jpeg, smooth, strict=True):
        assert got is not None and got.shape == (16, 16, 3) and got.dtype == np.uint8
        assert np.abs(got.astype(int) - want.astype(int)).mean() < 8
    raw = rrquery.to_numpy(png["encoded_image"])  # without decode=True: the bytes
    assert isinstance(raw, np.ndarray)
    assert raw[0] == encode(pixels[0], "PNG")
