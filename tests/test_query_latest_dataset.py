"""Recording.latest_at and Recording.dataset on files the SDK writes with known content."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import query_helpers as qh

import rrformat as rr
import rrquery


# --- latest_at --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def latest(tmp_path_factory: pytest.TempPathFactory) -> rrquery.Recording:
    """``world/pts``: timeless points; colours once at frame 2, positions only later (5, 8).
    ``s``: logged twice at frame 5 (1.0 then 2.0) and once at 9. ``still``: timeless only."""

    def log(rec: rr.RecordingStream) -> None:
        rr.log_points("world/pts", [[9, 9, 9]], colors=[1, 2, 3], timeless=True, recording=rec)
        rr.log_scalar("still", 5.0, timeless=True, recording=rec)
        rr.set_time_sequence("frame", 2, recording=rec)
        rr.log_points("world/pts", [[0, 0, 0]], colors=[255, 0, 0], recording=rec)
        rr.set_time_sequence("frame", 5, recording=rec)
        rr.log_points("world/pts", [[1, 1, 1], [2, 2, 2]], recording=rec)
        rr.log_scalar("s", 1.0, recording=rec)
        rr.log_scalar("s", 2.0, recording=rec)  # same frame: logged later, wins
        rr.set_time_sequence("frame", 8, recording=rec)
        rr.log_points("world/pts", [[3, 3, 3]], recording=rec)
        rr.set_time_sequence("frame", 9, recording=rec)
        rr.log_scalar("s", 3.0, recording=rec)

    return rrquery.open(qh.record(tmp_path_factory.mktemp("latest") / "latest.rrd", log))


def by_entity(df: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {row["entity"]: row for row in df.iter_rows(named=True)}


def test_latest_at_before_the_data_gives_only_timeless_entities(latest: rrquery.Recording) -> None:
    got = by_entity(latest.latest_at("frame", 1))
    assert set(got) == {"still", "world/pts"}
    assert got["still"]["scalar"] == 5.0
    assert got["still"]["frame"] is None
    assert got["world/pts"]["positions3d"] == [[9.0, 9.0, 9.0]]
    assert got["world/pts"]["colors"] == [[1, 2, 3, 255]]
    assert got["world/pts"]["frame"] is None
    # No timeless data in the selection: nothing at all.
    assert latest.latest_at("frame", 1, "s").height == 0


def test_latest_at_exactly_at_a_row_and_between_rows(latest: rrquery.Recording) -> None:
    at = by_entity(latest.latest_at("frame", 2))
    assert at["world/pts"]["frame"] == 2
    assert at["world/pts"]["positions3d"] == [[0.0, 0.0, 0.0]]  # timed data supersedes timeless
    assert at["world/pts"]["colors"] == [[255, 0, 0, 255]]
    between = by_entity(latest.latest_at("frame", 4))
    assert between["world/pts"] == at["world/pts"]
    assert "s" not in between


def test_latest_at_is_per_component(latest: rrquery.Recording) -> None:
    got = by_entity(latest.latest_at("frame", 6))
    assert got["world/pts"]["frame"] == 5
    assert got["world/pts"]["positions3d"] == [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
    assert got["world/pts"]["colors"] == [[255, 0, 0, 255]]  # logged once at frame 2, kept
    assert got["world/pts"]["kind"] == "points3d"


def test_latest_at_ties_are_broken_by_logging_order(latest: rrquery.Recording) -> None:
    assert by_entity(latest.latest_at("frame", 5))["s"]["scalar"] == 2.0
    assert by_entity(latest.latest_at("frame", 8))["s"]["scalar"] == 2.0


def test_dataset_ties_are_broken_by_logging_order(latest: rrquery.Recording) -> None:
    df = latest.dataset("frame", ["s"])
    assert df.rows() == [(5, 2.0), (9, 3.0)]
    assert latest.dataset("frame", ["s"], fill=None).rows() == [(5, 2.0), (9, 3.0)]


def test_latest_at_after_the_data(latest: rrquery.Recording) -> None:
    df = latest.latest_at("frame", 1_000_000)
    assert df["entity"].to_list() == ["s", "still", "world/pts"]
    assert df.columns[:3] == ["entity", "kind", "frame"]
    got = by_entity(df)
    assert (got["s"]["frame"], got["s"]["scalar"]) == (9, 3.0)
    assert (got["world/pts"]["frame"], got["world/pts"]["positions3d"]) == (8, [[3.0, 3.0, 3.0]])
    assert got["world/pts"]["colors"] == [[255, 0, 0, 255]]
    assert by_entity(latest.latest_at("frame", 100, "world/**")).keys() == {"world/pts"}


def test_latest_at_on_a_time_timeline(tmp_path: Path) -> None:
    path = qh.write_mixed(tmp_path / "mixed.rrd")
    rec = rrquery.open(path)
    for t in (qh.sensor_ns(4) + 5_000_000, qh.utc(qh.sensor_ns(4) + 5_000_000), qh.SENSOR_T0 + 0.045):
        got = by_entity(rec.latest_at("sensor_time", t))
        assert got["sensor/value"]["scalar"] == 40.0
        assert got["sensor/value"]["sensor_time"] == qh.utc(qh.sensor_ns(4))
        assert got["world/points"]["positions3d"] == [[3.0, 4.0, 5.0]] * 3
        assert got["calib"]["scalar"] == 42.0
    # The row logged before any timeline was set is not on sensor_time: never the latest.
    assert by_entity(rec.latest_at("sensor_time", qh.sensor_ns(0)))["world/points"]["positions3d"][0] == [0.0, 1.0, 2.0]


# --- dataset ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rates(tmp_path_factory: pytest.TempPathFactory) -> tuple[rrquery.Recording, np.ndarray]:
    path, images = qh.write_rates(tmp_path_factory.mktemp("rates") / "rates.rrd")
    return rrquery.open(path), images


COLS = ["robot/speed:scalar", "lidar/points:positions3d", "camera/image:tensor"]


def test_dataset_has_one_row_per_index_value_with_data(rates: tuple[rrquery.Recording, np.ndarray]) -> None:
    rec, _ = rates
    df = rec.dataset("frame", COLS)
    assert df.columns == ["frame", *COLS]
    assert df["frame"].to_list() == list(range(100))
    sparse = rec.dataset("frame", ["lidar/points:positions3d", "camera/image:tensor"])
    assert sparse["frame"].to_list() == list(range(0, 100, 5))  # points every 10, images every 5
    assert rec.dataset("frame", ["lidar/points"])["frame"].to_list() == list(range(0, 100, 10))


def test_dataset_fill_latest_forward_fills(rates: tuple[rrquery.Recording, np.ndarray]) -> None:
    rec, images = rates
    df = rec.dataset("frame", COLS)
    assert df["robot/speed:scalar"].to_list() == [i / 2 for i in range(100)]
    assert df["lidar/points:positions3d"].to_list() == [[[float(i - i % 10), 0.0, 0.0]] for i in range(100)]
    stacked = rrquery.to_numpy(df["camera/image:tensor"])
    np.testing.assert_array_equal(stacked, images[np.arange(100) // 5])


def test_dataset_fill_none_leaves_nulls(rates: tuple[rrquery.Recording, np.ndarray]) -> None:
    rec, images = rates
    df = rec.dataset("frame", COLS, fill=None)
    assert df["frame"].to_list() == list(range(100))
    pts = df["lidar/points:positions3d"].to_list()
    assert pts == [[[float(i), 0.0, 0.0]] if i % 10 == 0 else None for i in range(100)]
    assert df["camera/image:tensor"].is_null().to_list() == [i % 5 != 0 for i in range(100)]
    tensors = rrquery.to_numpy(df["camera/image:tensor"])
    assert isinstance(tensors, list)
    np.testing.assert_array_equal(tensors[15], images[3])
    with pytest.raises(ValueError, match="fill must be 'latest' or None"):
        rec.dataset("frame", COLS, fill="nearest")


def test_dataset_sample_grid_on_a_sequence(rates: tuple[rrquery.Recording, np.ndarray]) -> None:
    rec, _ = rates
    df = rec.dataset("frame", ["robot/speed:scalar", "lidar/points:positions3d"], sample=3)
    assert df["frame"].to_list() == list(range(0, 100, 3))
    assert df["lidar/points:positions3d"].to_list() == [[[float(i - i % 10), 0.0, 0.0]] for i in range(0, 100, 3)]
    bounded = rec.dataset("frame", ["lidar/points"], sample=7, start=12, end=40)
    assert bounded["frame"].to_list() == [12, 19, 26, 33, 40]
    assert [p[0][0] for p in bounded["lidar/points:positions3d"].to_list()] == [10.0, 10.0, 20.0, 30.0, 40.0]
    assert rec.dataset("frame", ["lidar/points"], sample=np.int64(25))["frame"].to_list() == [0, 25, 50, 75]
    with pytest.raises(ValueError, match="integer step"):
        rec.dataset("frame", ["lidar/points"], sample=2.5)
    with pytest.raises(ValueError, match="sample must be a positive"):
        rec.dataset("frame", ["lidar/points"], sample=0)


def test_dataset_10hz_grid_on_a_time_timeline(rates: tuple[rrquery.Recording, np.ndarray]) -> None:
    rec, _ = rates
    logged = rec.range("robot/speed", timeline="sensor_time")
    times = logged["sensor_time"].cast(pl.Int64).to_list()  # 30 Hz, set with set_time_seconds
    speeds = logged["scalar"].to_list()
    df = rec.dataset("sensor_time", ["robot/speed:scalar", "lidar/points:positions3d"], sample=10)
    assert df.schema["sensor_time"] == pl.Datetime("ns", "UTC")
    grid = df["sensor_time"].cast(pl.Int64).to_list()
    assert grid[0] == times[0]
    assert all(b - a == 100_000_000 for a, b in itertools.pairwise(grid))
    assert grid[-1] <= times[-1] < grid[-1] + 100_000_000
    assert len(grid) == (times[-1] - times[0]) // 100_000_000 + 1 == 34  # 99 frames at 30 Hz: 3.3 s
    for t, speed in zip(grid, df["robot/speed:scalar"].to_list(), strict=True):
        expected = max(i for i, logged_t in enumerate(times) if logged_t <= t)
        assert speed == speeds[expected]


def test_dataset_explicit_samples(rates: tuple[rrquery.Recording, np.ndarray]) -> None:
    rec, _ = rates
    df = rec.dataset("frame", ["lidar/points", "robot/mass:scalar"], sample=[57, 3, 200, 3])
    assert df["frame"].to_list() == [3, 57, 200]  # sorted, distinct
    assert [p[0][0] for p in df["lidar/points:positions3d"].to_list()] == [0.0, 50.0, 90.0]
    assert df["robot/mass:scalar"].to_list() == [80.0] * 3
    # Samples outside start/end are left out.
    assert rec.dataset("frame", ["lidar/points"], sample=[5, 50, 95], start=10, end=90)["frame"].to_list() == [50]
    # Explicit times on a time timeline: datetimes, ISO strings, seconds.
    t10 = qh.SENSOR_T0 + 10 / 30
    df = rec.dataset("sensor_time", ["robot/speed"], sample=[qh.utc(round(t10 * 1e9) + 1000), t10])
    assert df["robot/speed:scalar"].to_list() == [5.0, 5.0]
    assert df.height == 2


def test_dataset_timeless_data_fills_every_row_and_makes_none(rates: tuple[rrquery.Recording, np.ndarray]) -> None:
    rec, _ = rates
    df = rec.dataset("frame", ["robot/mass:scalar", "lidar/points"])
    assert df["frame"].to_list() == list(range(0, 100, 10))  # the rows of lidar/points only
    assert df["robot/mass:scalar"].to_list() == [80.0] * 10
    assert rec.dataset("frame", ["robot/mass"]).height == 0  # timeless data makes no rows
    assert rec.dataset("frame", ["robot/mass"], fill=None, sample=[1, 2])["robot/mass:scalar"].to_list() == [80.0, 80.0]
    none = rec.dataset("frame", ["robot/mass", "lidar/points"], fill=None)
    assert none["robot/mass:scalar"].to_list() == [80.0] * 10


def test_dataset_bounds_fill_from_before_start(rates: tuple[rrquery.Recording, np.ndarray]) -> None:
    rec, images = rates
    df = rec.dataset("frame", COLS, start=13, end=17)
    assert df["frame"].to_list() == [13, 14, 15, 16, 17]
    assert df["lidar/points:positions3d"].to_list() == [[[10.0, 0.0, 0.0]]] * 5  # logged at 10, before start
    np.testing.assert_array_equal(rrquery.to_numpy(df["camera/image:tensor"]), images[[2, 2, 3, 3, 3]])
    no_fill = rec.dataset("frame", COLS, start=13, end=17, fill=None)
    assert no_fill["lidar/points:positions3d"].null_count() == 5
    on_time = rec.dataset("sensor_time", ["lidar/points"], start=qh.SENSOR_T0 + 0.5, end=qh.SENSOR_T0 + 1.0)
    assert [p[0][0] for p in on_time["lidar/points:positions3d"].to_list()] == [20.0, 30.0]  # frames 20, 30
    with pytest.raises(ValueError, match="is after end"):
        rec.dataset("frame", COLS, start=20, end=10)


def test_dataset_default_columns_and_bad_names(rates: tuple[rrquery.Recording, np.ndarray]) -> None:
    rec, _ = rates
    df = rec.dataset("frame")
    assert df.columns == [
        "frame",
        "camera/image:tensor",
        "lidar/points:positions3d",
        "robot/mass:scalar",
        "robot/speed:scalar",
    ]
    with pytest.raises(ValueError, match=r"no entity 'robot/wheel'.*entities: camera/image, lidar/points, robot/mass"):
        rec.dataset("frame", ["robot/wheel:scalar"])
    with pytest.raises(ValueError, match="entity 'lidar/points' has no component 'colors'; it has: positions3d"):
        rec.dataset("frame", ["lidar/points:colors"])
    with pytest.raises(ValueError, match="unknown timeline 'tick'"):
        rec.dataset("tick", COLS)
