"""rrquery.scan: lazy frames whose timeline and entity filters skip the chunks they exclude."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import query_helpers as qh
from polars.testing import assert_frame_equal

import rrformat as rr
import rrquery

N = 200_000


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return qh.write_many_chunks(tmp_path_factory.mktemp("many") / "many.rrd", n=N)


@pytest.fixture(scope="module")
def records(many: Path) -> int:
    with rrquery.open(many) as rec:
        return len({c.record_offset for c in rec.index})


def collect(path: Path, expr: pl.Expr | None = None, **kwargs: object) -> tuple[pl.DataFrame, rrquery.QueryStats]:
    stats = rrquery.QueryStats()
    lf = rrquery.scan(path, "**", timeline="frame", stats=stats)
    if expr is not None:
        lf = lf.filter(expr)
    return lf.collect(), stats


def test_the_file_has_many_chunk_records(records: int) -> None:
    assert records >= 13  # 200,000 rows in records of at most 16,384, and the timeless one


def test_a_full_scan_reads_every_record(many: Path, records: int) -> None:
    df, stats = collect(many)
    assert df.height == N + 1
    assert stats.records_decoded == records
    assert stats.chunks_read == records
    assert stats.bytes_read > N * 8


@pytest.mark.parametrize(
    ("expr", "frames"),
    [
        (pl.col("frame").is_between(100_000, 100_999), range(100_000, 101_000)),
        ((pl.col("frame") >= 100_000) & (pl.col("frame") <= 100_999), range(100_000, 101_000)),
        ((pl.col("frame") > 99_999) & (pl.col("frame") < 101_000), range(100_000, 101_000)),
        (pl.col("frame").is_between(100_000, 101_000, closed="left"), range(100_000, 101_000)),
        ((pl.col("frame") <= 100_999) & (pl.col("frame") >= 100_000), range(100_000, 101_000)),
        ((pl.lit(100_000) <= pl.col("frame")) & (pl.col("frame") <= 100_999), range(100_000, 101_000)),
        (pl.col("frame") == 123_456, range(123_456, 123_457)),
        (pl.col("frame") >= N - 10, range(N - 10, N)),
        (pl.col("frame") < 5, range(5)),
    ],
)
def test_timeline_filters_skip_the_records_outside(many: Path, expr: pl.Expr, frames: range) -> None:
    df, stats = collect(many, expr)
    assert df["frame"].to_list() == list(frames)
    assert df["scalar"].to_list() == [float(f) for f in frames]
    assert df["entity"].unique().to_list() == ["sig"]  # a bound on frame drops the timeless row
    assert 1 <= stats.records_decoded <= 2


def test_filters_that_cannot_be_pushed_down_still_filter(many: Path, records: int) -> None:
    either = (pl.col("frame") < 3) | (pl.col("frame") > N - 3)
    df, stats = collect(many, either)
    assert df["frame"].to_list() == [0, 1, 2, N - 2, N - 1]
    assert stats.records_decoded == records  # an `or` is not used for pruning, never wrong
    df, _ = collect(many, pl.col("scalar") == 7.0)
    assert df["frame"].to_list() == [7]


@pytest.mark.parametrize(
    ("expr", "frames"),
    [
        (pl.col("frame").is_not_null() & (pl.col("frame") < 3), [0, 1, 2]),
        (~(pl.col("frame") >= 2), [0, 1]),
        (pl.col("frame").is_null(), [None]),  # the timeless row
        (pl.col("scalar").is_nan().not_() & (pl.col("frame") == 4), [4]),
        (pl.col("frame").is_in([3, N - 1]), [3, N - 1]),
    ],
)
def test_any_filter_polars_can_apply_works(many: Path, expr: pl.Expr, frames: list[int | None]) -> None:
    df, _ = collect(many, expr)
    assert df["frame"].to_list() == frames


def test_entity_filters_and_projections(many: Path) -> None:
    stats = rrquery.QueryStats()
    lf = rrquery.scan(many, "**", timeline="frame", stats=stats)
    still = lf.filter(pl.col("entity") == "sig/still").collect()
    assert still["scalar"].to_list() == [-1.0]
    assert still["frame"].to_list() == [None]
    assert stats.records_decoded == 1
    stats.records_decoded = 0
    df = lf.filter((pl.col("entity") == "sig") & pl.col("frame").is_between(10, 12)).select("frame", "scalar").collect()
    assert df.columns == ["frame", "scalar"]
    assert df.rows() == [(10, 10.0), (11, 11.0), (12, 12.0)]
    assert stats.records_decoded == 1
    assert lf.filter(pl.col("entity") == "nothing/here").collect().height == 0
    only = rrquery.scan(many, "sig/**", timeline="frame").filter(pl.col("frame") == 3).select("entity").collect()
    assert only["entity"].to_list() == ["sig"]
    assert rrquery.scan(many, "sig/still").collect()["scalar"].to_list() == [-1.0]
    # Entities none of which is on the scan's timeline: the timeline is still a column.
    timeless_only = rrquery.scan(many, "sig/still", timeline="frame")
    assert timeless_only.collect_schema()["frame"] == pl.Int64
    assert timeless_only.filter(pl.col("frame") < 3).collect().height == 0
    assert timeless_only.collect()["frame"].to_list() == [None]


def test_head_and_n_rows_stop_early(many: Path, records: int) -> None:
    stats = rrquery.QueryStats()
    df = rrquery.scan(many, "**", timeline="frame", stats=stats).head(5).collect()
    assert df["frame"].to_list() == [0, 1, 2, 3, 4]
    assert stats.records_decoded == 1
    stats = rrquery.QueryStats()
    df = rrquery.scan(many, "**", timeline="frame", stats=stats).filter(pl.col("scalar") > 10).head(3).collect()
    assert df["frame"].to_list() == [11, 12, 13]
    assert 1 <= stats.records_decoded < records


def test_scan_results_equal_range(tmp_path: Path) -> None:
    path = qh.write_mixed(tmp_path / "mixed.rrd")
    rec = rrquery.open(path)
    lf = rrquery.scan(path, "**", timeline="frame")
    for lo, hi in [(0, 9), (2, 6), (3, 3), (7, 100)]:
        scanned = lf.filter(pl.col("frame").is_between(lo, hi)).collect().sort("row_id")
        ranged = rec.range("**", timeline="frame", start=lo, end=hi).filter(pl.col("frame").is_not_null())
        assert_frame_equal(scanned.select(ranged.columns), ranged.sort("row_id"))
    # The same on the time timeline, with datetime bounds.
    t_lo, t_hi = qh.utc(qh.sensor_ns(2)), qh.utc(qh.sensor_ns(6))
    lazy = rrquery.scan(path, "**", timeline="sensor_time").filter(pl.col("sensor_time").is_between(t_lo, t_hi))
    ranged = rec.range("**", timeline="sensor_time", start=t_lo, end=t_hi).filter(pl.col("sensor_time").is_not_null())
    assert_frame_equal(lazy.collect().sort("row_id").select(ranged.columns), ranged.sort("row_id"))
    # Without a filter a scan on a timeline holds what range does, timeless rows included.
    everything = lf.collect().sort("row_id")
    ranged = rec.range("**", timeline="frame")
    assert_frame_equal(everything.select(ranged.columns), ranged.sort("row_id"))


def test_scan_on_a_time_timeline_prunes_with_datetime_literals(tmp_path: Path) -> None:
    def log(rec: rr.RecordingStream) -> None:
        t = qh.SENSOR_T0 + np.arange(60_000) / 1000  # 1 kHz for a minute
        rr.log_columns("imu", "scalar", times={"sensor_time": t}, scalar=np.arange(60_000.0), recording=rec)

    path = qh.record(tmp_path / "imu.rrd", log)
    stats = rrquery.QueryStats()
    start = dt.datetime.fromtimestamp(qh.SENSOR_T0 + 30, tz=dt.timezone.utc)
    lf = rrquery.scan(path, "imu", timeline="sensor_time", stats=stats)
    df = lf.filter(pl.col("sensor_time").is_between(start, start + dt.timedelta(milliseconds=99))).collect()
    assert df["scalar"].to_list() == [float(i) for i in range(30_000, 30_100)]
    assert stats.records_decoded == 1
    with rrquery.open(path) as rec:
        assert len({c.record_offset for c in rec.index}) >= 4


def test_scan_errors(many: Path) -> None:
    with pytest.raises(ValueError, match="unknown timeline 'tick'; the recording has: frame, log_time"):
        rrquery.scan(many, "**", timeline="tick")
    with pytest.raises(ValueError, match="no entity matches 'robot/\\*\\*'; entities: sig, sig/still"):
        rrquery.scan(many, "robot/**")


# --- the predicate reading behind pruning, on expressions as users write them ---------------
T = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
T_NS = 1_767_225_600_000_000_000


@pytest.mark.parametrize(
    ("expr", "time", "entities"),
    [
        (pl.col("frame").is_between(3, 9), {"frame": (3, 9)}, None),
        (pl.col("frame").is_between(3, 9, closed="none"), {"frame": (4, 8)}, None),
        (pl.col("frame").is_between(3, 9, closed="right"), {"frame": (4, 9)}, None),
        ((pl.col("frame") > 3) & (pl.col("frame") < 9), {"frame": (4, 8)}, None),
        ((pl.col("frame") >= 3.5) & (pl.col("frame") <= 8.5), {"frame": (4, 8)}, None),
        ((pl.col("frame") > 3.5) & (pl.col("frame") < 8.5), {"frame": (4, 8)}, None),
        (pl.col("frame") == 5.5, {"frame": (6, 5)}, None),  # no integer: prunes everything, rightly
        ((pl.lit(3) < pl.col("frame")) & (pl.lit(9) >= pl.col("frame")), {"frame": (4, 9)}, None),
        ((pl.col("frame") >= 3) & (pl.col("frame") >= 5) & (pl.col("frame") <= 20), {"frame": (5, 20)}, None),
        (pl.col("t") >= T, {"t": (T_NS, None)}, None),
        (pl.col("t") < pl.lit(T, dtype=pl.Datetime("ms", "UTC")), {"t": (None, T_NS - 1)}, None),
        (pl.col("frame").is_not_null() & (pl.col("frame") <= 7), {"frame": (None, 7)}, None),
        ((pl.col("entity") == "a") & (pl.col("frame") <= 2), {"frame": (None, 2)}, {"a"}),
        ((pl.col("entity") == "a") & (pl.col("entity") == "b"), {}, set()),
        ((pl.col("frame") < 3) | (pl.col("frame") > 9), {}, None),  # an `or` says nothing
        (~(pl.col("frame") < 3), {}, None),
        (pl.col("frame") != 3, {}, None),
        (pl.col("scalar") > 3, {}, None),  # not a timeline
        (pl.col("frame").is_in([1, 2]), {}, None),
        (pl.col("frame") + 1 == 5, {}, None),
    ],
)
def test_predicate_bounds(
    expr: pl.Expr, time: dict[str, tuple[int | None, int | None]], entities: set[str] | None
) -> None:
    from rrquery._scan import predicate_bounds

    bounds = predicate_bounds(expr, ["frame", "t"])
    assert bounds.time == time
    assert bounds.entities == entities
    assert predicate_bounds(None, ["frame"]).time == {}
