"""Time in the SDK: timelines per thread, removing and resetting them, units, log_time, timeless rows."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rrformat as rr
from rrformat.chunk import TimelineKind, timeline_kind_of


def rows(path: Path, entity: str) -> list[dict[str, Any]]:
    """The rows of one entity as dicts, in row-id order; timelines a row lacks are None."""
    out: list[dict[str, Any]] = []
    with rr.RrdReader(path) as r:
        for info in r.chunks:
            if info.entity == entity:
                out.extend(r.read_chunk(info).batch.to_pylist())
    names = {k for row in out for k in row}
    filled = [{k: row.get(k) for k in names} for row in out]
    return sorted(filled, key=lambda row: row["row_id"])


def timeline_kinds(path: Path) -> dict[str, TimelineKind]:
    kinds: dict[str, TimelineKind] = {}
    with rr.RrdReader(path) as r:
        for info in r.chunks:
            for f in r.read_chunk(info).batch.schema:
                kind = timeline_kind_of(f)
                if kind is not None:
                    kinds[f.name] = kind
    return kinds


def stream(tmp_path: Path, *, strict: bool = True) -> rr.RecordingStream:
    return rr.RecordingStream("time", save=tmp_path / "t.rrd", strict=strict)


# --- per thread ---------------------------------------------------------------------------------
def test_each_thread_has_its_own_time(tmp_path: Path) -> None:
    rec = stream(tmp_path)
    n = 200
    turn = threading.Barrier(2)

    def worker(k: int) -> None:
        # Each thread sets its time once; the other thread's sets must not reach it.
        rr.set_time_sequence("frame", k, recording=rec)
        if k == 1:
            rr.set_time_seconds("only_one", 5.0, recording=rec)
        for _ in range(n):
            turn.wait()  # the two threads log in lock step: their rows interleave
            rr.log_scalar("shared", float(k), recording=rec)

    threads = [threading.Thread(target=worker, args=(k,)) for k in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rr.log_scalar("shared", 0.0, recording=rec)  # the main thread set no time
    rec.disconnect()
    got = rows(tmp_path / "t.rrd", "shared")
    assert len(got) == 2 * n + 1
    for row in got[:-1]:
        assert row["frame"] == int(row["scalar"])
        assert row["only_one"] == (5_000_000_000 if row["scalar"] == 1.0 else None)
    # The rows really interleave (not all of one thread, then all of the other).
    switches = sum(1 for a, b in itertools.pairwise(got[:-1]) if a["scalar"] != b["scalar"])
    assert switches > n // 2
    assert got[-1]["frame"] is None and got[-1]["only_one"] is None


def test_none_removes_a_timeline(tmp_path: Path) -> None:
    rec = stream(tmp_path)
    rr.set_time_sequence("frame", 1, recording=rec)
    rr.set_time_seconds("sensor_time", 2.0, recording=rec)
    rr.set_time_nanos("sim_time", 3, recording=rec)
    rr.log_scalar("a", 1.0, recording=rec)
    rr.set_time_sequence("frame", None, recording=rec)
    rr.log_scalar("a", 2.0, recording=rec)
    rr.set_time_seconds("sensor_time", None, recording=rec)
    rr.set_time_nanos("sim_time", None, recording=rec)
    rr.log_scalar("a", 3.0, recording=rec)
    rec.disconnect()
    got = rows(tmp_path / "t.rrd", "a")
    assert [(r["frame"], r["sensor_time"], r["sim_time"]) for r in got] == [
        (1, 2_000_000_000, 3),
        (None, 2_000_000_000, 3),
        (None, None, None),
    ]
    assert all(r["log_time"] is not None for r in got)


def test_reset_time_clears_every_timeline_but_log_time(tmp_path: Path) -> None:
    rec = stream(tmp_path)
    rr.set_time_sequence("frame", 7, recording=rec)
    rr.set_time_seconds("sensor_time", 1.0, recording=rec)
    assert rec.current_time() == {"frame": 7, "sensor_time": 1_000_000_000}
    rr.log_scalar("a", 1.0, recording=rec)
    rr.reset_time(recording=rec)
    assert rec.current_time() == {}
    rr.log_scalar("a", 2.0, recording=rec)
    rr.set_time_sequence("frame", 8, recording=rec)  # and timelines can be set again after
    rr.log_scalar("a", 3.0, recording=rec)
    rec.disconnect()
    got = rows(tmp_path / "t.rrd", "a")
    assert [(r["frame"], r["sensor_time"]) for r in got] == [(7, 1_000_000_000), (None, None), (8, None)]
    assert all(isinstance(r["log_time"], int) for r in got)


# --- units ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("seconds", "nanos"),
    [(1.5, 1_500_000_000), (0.1, 100_000_000), (-2.25, -2_250_000_000), (0, 0), (np.float32(0.5), 500_000_000)],
)
def test_set_time_seconds_is_stored_as_integer_nanoseconds(tmp_path: Path, seconds: float, nanos: int) -> None:
    rec = stream(tmp_path)
    rr.set_time_seconds("sensor_time", seconds, recording=rec)
    rr.log_scalar("a", 1.0, recording=rec)
    rec.disconnect()
    (row,) = rows(tmp_path / "t.rrd", "a")
    assert row["sensor_time"] == nanos
    assert type(row["sensor_time"]) is int
    assert timeline_kinds(tmp_path / "t.rrd")["sensor_time"] is TimelineKind.TIME


def test_set_time_seconds_keeps_nanosecond_scale_of_epoch_times(tmp_path: Path) -> None:
    rec = stream(tmp_path)
    rr.set_time_seconds("sensor_time", 1_700_000_000.25, recording=rec)
    rr.log_scalar("a", 1.0, recording=rec)
    rec.disconnect()
    (row,) = rows(tmp_path / "t.rrd", "a")
    # A float64 holds an epoch time to about 0.25 us: the stored value is within that.
    assert abs(row["sensor_time"] - 1_700_000_000_250_000_000) < 1_000


def test_set_time_nanos_and_sequence_take_integers(tmp_path: Path) -> None:
    rec = stream(tmp_path)
    rr.set_time_nanos("sim_time", 123, recording=rec)
    rr.set_time_sequence("frame", np.int64(2**40), recording=rec)  # type: ignore[arg-type]
    rr.log_scalar("a", 1.0, recording=rec)
    rr.set_time_nanos("sim_time", np.uint32(7), recording=rec)  # type: ignore[arg-type]
    rr.set_time_sequence("frame", -3, recording=rec)
    rr.log_scalar("a", 2.0, recording=rec)
    rec.disconnect()
    got = rows(tmp_path / "t.rrd", "a")
    assert [(r["sim_time"], r["frame"]) for r in got] == [(123, 2**40), (7, -3)]
    kinds = timeline_kinds(tmp_path / "t.rrd")
    assert kinds == {"sim_time": TimelineKind.TIME, "frame": TimelineKind.SEQUENCE, "log_time": TimelineKind.TIME}


def test_every_timed_row_has_log_time_close_to_the_wall_clock(tmp_path: Path) -> None:
    rec = stream(tmp_path)
    before = time.time_ns()
    for i in range(50):
        rr.set_time_sequence("frame", i, recording=rec)
        rr.log_scalar("a", float(i), recording=rec)
        rr.log_points("p", [[i, 0, 0]], recording=rec)
    after = time.time_ns()
    rec.disconnect()
    for entity in ("a", "p"):
        got = rows(tmp_path / "t.rrd", entity)
        assert len(got) == 50
        stamps = [r["log_time"] for r in got]
        assert all(before <= t <= after for t in stamps)
        assert stamps == sorted(stamps)  # one thread: stamps follow the calls


# --- refused timelines and values ------------------------------------------------------------------------
def test_a_timeline_keeps_its_kind(tmp_path: Path) -> None:
    rec = stream(tmp_path, strict=False)
    rr.set_time_sequence("t", 5, recording=rec)
    with pytest.warns(rr.RecordingWarning, match=r"set_time_seconds: timeline 't' is a sequence timeline"):
        rr.set_time_seconds("t", 1.0, recording=rec)
    with pytest.warns(rr.RecordingWarning, match=r"set_time_nanos: timeline 't' is a sequence"):
        rr.set_time_nanos("t", 1, recording=rec)
    rr.log_scalar("a", 1.0, recording=rec)
    rr.set_time_seconds("s", 1.0, recording=rec)
    with pytest.warns(rr.RecordingWarning, match=r"timeline 's' is a time timeline"):
        rr.set_time_sequence("s", 1, recording=rec)
    rec.disconnect()
    (row,) = rows(tmp_path / "t.rrd", "a")
    assert row["t"] == 5  # the refused call changed nothing

    strict = rr.RecordingStream("time", save=tmp_path / "strict.rrd", strict=True)
    rr.set_time_sequence("t", 5, recording=strict)
    with pytest.raises(rr.RecordingError, match="'t' is a sequence timeline"):
        rr.set_time_seconds("t", 1.0, recording=strict)
    strict.disconnect()


@pytest.mark.parametrize(
    ("call", "value", "arg"),
    [
        (rr.set_time_sequence, "seven", "sequence"),
        (rr.set_time_sequence, 1.5, "sequence"),
        (rr.set_time_sequence, True, "sequence"),
        (rr.set_time_seconds, "seven", "seconds"),
        (rr.set_time_seconds, float("nan"), "seconds"),
        (rr.set_time_seconds, float("inf"), "seconds"),
        (rr.set_time_nanos, "seven", "nanos"),
        (rr.set_time_nanos, 2.5, "nanos"),
    ],
)
def test_bad_time_values_warn_and_change_nothing(tmp_path: Path, call: Any, value: Any, arg: str) -> None:
    rec = stream(tmp_path, strict=False)
    call("tl", 1, recording=rec)
    with pytest.warns(rr.RecordingWarning) as caught:
        call("tl", value, recording=rec)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert call.__name__ in message
    assert repr(arg) in message
    rr.log_scalar("a", 1.0, recording=rec)
    rec.disconnect()
    (row,) = rows(tmp_path / "t.rrd", "a")
    assert row["tl"] in (1, 1_000_000_000)  # still the value set before the bad call

    strict = rr.RecordingStream("time", save=tmp_path / "strict.rrd", strict=True)
    with pytest.raises(rr.RecordingError, match=call.__name__):
        call("tl", value, recording=strict)
    strict.disconnect()


@pytest.mark.parametrize("timeline", ["", "log_time", 3])
def test_bad_timeline_names_are_refused(tmp_path: Path, timeline: Any) -> None:
    rec = stream(tmp_path, strict=False)
    with pytest.warns(rr.RecordingWarning, match="set_time_sequence"):
        rr.set_time_sequence(timeline, 1, recording=rec)
    rr.log_scalar("a", 1.0, recording=rec)
    rec.disconnect()
    (row,) = rows(tmp_path / "t.rrd", "a")
    assert set(row) == {"row_id", "log_time", "scalar"}


# --- timeless ------------------------------------------------------------------------------------------
def test_timeless_rows_have_no_timeline_columns(tmp_path: Path) -> None:
    rec = stream(tmp_path)
    rr.set_time_sequence("frame", 3, recording=rec)
    rr.set_time_seconds("sensor_time", 1.0, recording=rec)
    rr.log_points("world/street", [[0, 0, 0], [1, 1, 0]], timeless=True, recording=rec)
    rr.log_points("world/street", [[2, 2, 0]], recording=rec)
    rec.disconnect()
    with rr.RrdReader(tmp_path / "t.rrd") as r:
        infos = [c for c in r.chunks if c.entity == "world/street"]
        timeless = [c for c in infos if c.timeless]
        timed = [c for c in infos if not c.timeless]
        assert len(timeless) == 1 and len(timed) == 1
        assert timeless[0].timelines == {}
        batch = r.read_chunk(timeless[0]).batch
        assert batch.schema.names == ["row_id", "positions3d"]
        assert batch.column("positions3d").to_pylist() == [[[0, 0, 0], [1, 1, 0]]]
        assert set(timed[0].timelines) == {"frame", "sensor_time", "log_time"}
        assert r.read_chunk(timeless[0]).timeless
