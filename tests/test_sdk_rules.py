"""The SDK's rules: one data kind per path, bad input dropped with a warning (or raised), many threads at once."""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rrformat as rr

POINTS = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float32)


def kinds_by_entity(path: Path) -> dict[str, set[str]]:
    out: dict[str, set[str]] = collections.defaultdict(set)
    with rr.RrdReader(path) as r:
        for info in r.chunks:
            out[info.entity].add(info.kind)
    return dict(out)


def row_counts(path: Path) -> dict[str, int]:
    out: collections.Counter[str] = collections.Counter()
    with rr.RrdReader(path) as r:
        for info in r.chunks:
            out[info.entity] += r.read_chunk(info).rows
    return dict(out)


# --- one kind per path --------------------------------------------------------------------------------
def test_a_path_keeps_its_data_kind_strict(tmp_path: Path) -> None:
    rec = rr.RecordingStream("rules", save=tmp_path / "k.rrd", strict=True)
    rr.log_scalar("robot/a", 1.0, recording=rec)
    rec.flush()  # the rule holds across flushes, for the recording's whole life
    with pytest.raises(rr.RecordingError) as info:
        rr.log_points("robot/a", POINTS, recording=rec)
    message = str(info.value)
    assert "log_points" in message and "'robot/a'" in message
    assert "scalar" in message and "points3d" in message
    rr.log_points("robot/b", POINTS, recording=rec)
    with pytest.raises(rr.RecordingError, match=r"'robot/b'.*points3d.*points2d"):
        rr.log_points("robot/b", POINTS[:, :2], recording=rec)
    rec.disconnect()
    assert kinds_by_entity(tmp_path / "k.rrd") == {"robot/a": {"scalar"}, "robot/b": {"points3d"}}


def test_a_path_keeps_its_data_kind_warning(tmp_path: Path) -> None:
    rec = rr.RecordingStream("rules", save=tmp_path / "k.rrd")
    rr.log_scalar("robot/a", 1.0, recording=rec)
    with pytest.warns(rr.RecordingWarning, match=r"log_points: argument 'entity_path'.*'robot/a'.*scalar"):
        rr.log_points("robot/a", POINTS, recording=rec)
    rr.log_scalar("robot/a", 2.0, recording=rec)  # the path still takes its own kind
    rec.disconnect()
    assert kinds_by_entity(tmp_path / "k.rrd") == {"robot/a": {"scalar"}}
    assert row_counts(tmp_path / "k.rrd") == {"robot/a": 2}


def test_the_kind_rule_is_per_recording_and_per_canonical_path(tmp_path: Path) -> None:
    a = rr.RecordingStream("rules", save=tmp_path / "a.rrd", strict=True)
    b = rr.RecordingStream("rules", save=tmp_path / "b.rrd", strict=True)
    rr.log_scalar("x", 1.0, recording=a)
    rr.log_points("x", POINTS, recording=b)  # another recording: its own paths
    with pytest.raises(rr.RecordingError, match="scalar"):
        rr.log_points("/x", POINTS, recording=a)  # the same path written differently
    a.disconnect()
    b.disconnect()
    assert kinds_by_entity(tmp_path / "a.rrd") == {"x": {"scalar"}}
    assert kinds_by_entity(tmp_path / "b.rrd") == {"x": {"points3d"}}


@pytest.mark.skipif(not hasattr(rr, "log_rigid3"), reason="log_rigid3 is not exported yet")
def test_side_kinds_may_share_a_path_with_data(tmp_path: Path) -> None:
    rec = rr.RecordingStream("rules", save=tmp_path / "side.rrd", strict=True)
    rr.log_points("world/robot", POINTS, recording=rec)
    rr.log_rigid3(  # type: ignore[attr-defined]
        "world/robot", parent_from_child=([1.0, 2.0, 3.0], [0.0, 0.0, 0.0, 1.0]), recording=rec
    )
    rr.log_points("world/robot", POINTS, recording=rec)
    rec.disconnect()
    assert kinds_by_entity(tmp_path / "side.rrd") == {"world/robot": {"points3d", "rigid3"}}


# --- bad input ---------------------------------------------------------------------------------------
BAD_CALLS: list[tuple[str, str, Callable[..., Any]]] = [
    ("log_points", "entity_path", lambda rec: rr.log_points("world/a b", POINTS, recording=rec)),
    ("log_points", "entity_path", lambda rec: rr.log_points('world/"open', POINTS, recording=rec)),
    ("log_points", "entity_path", lambda rec: rr.log_points("", POINTS, recording=rec)),
    ("log_points", "positions", lambda rec: rr.log_points("p", np.zeros((3, 4)), recording=rec)),
    ("log_points", "positions", lambda rec: rr.log_points("p", np.zeros((2, 3, 3)), recording=rec)),
    ("log_points", "positions", lambda rec: rr.log_points("p", [[np.nan, 0.0, 0.0]], recording=rec)),
    ("log_points", "positions", lambda rec: rr.log_points("p", [["a", "b", "c"]], recording=rec)),
    ("log_points", "colors", lambda rec: rr.log_points("p", POINTS, colors=[300, 0, 0], recording=rec)),
    ("log_points", "colors", lambda rec: rr.log_points("p", POINTS, colors=[1.5, 0.0, 0.0], recording=rec)),
    ("log_points", "colors", lambda rec: rr.log_points("p", POINTS, colors=[[255, 0, 0]] * 2, recording=rec)),
    ("log_points", "radii", lambda rec: rr.log_points("p", POINTS, radii=[0.1, 0.2], recording=rec)),
    ("log_points", "labels", lambda rec: rr.log_points("p", POINTS, labels=["a", "b"], recording=rec)),
    ("log_point", "position", lambda rec: rr.log_point("p", [1.0, 2.0, 3.0, 4.0], recording=rec)),
    ("log_scalar", "scalar", lambda rec: rr.log_scalar("s", "high", recording=rec)),  # type: ignore[arg-type]
    ("log_scalar", "color", lambda rec: rr.log_scalar("s", 1.0, color=[0, 0, 256], recording=rec)),
]
BAD_IDS = [f"{func}-{arg}-{i}" for i, (func, arg, _) in enumerate(BAD_CALLS)]


@pytest.mark.parametrize(("func", "arg", "call"), BAD_CALLS, ids=BAD_IDS)
def test_bad_input_warns_naming_function_and_argument_and_drops_only_that_call(
    tmp_path: Path, func: str, arg: str, call: Callable[..., Any]
) -> None:
    path = tmp_path / "bad.rrd"
    rec = rr.RecordingStream("rules", save=path)
    rr.log_points("p", POINTS, recording=rec)
    rr.log_scalar("s", 1.0, recording=rec)
    with pytest.warns(rr.RecordingWarning) as caught:
        assert call(rec) is None
    assert len(caught) == 1
    message = str(caught[0].message)
    assert message.startswith(f"{func}: argument {arg!r}: got ")
    assert "; expected " in message and message.endswith("The call was dropped.")
    rr.log_points("p", POINTS, recording=rec)
    rr.log_scalar("s", 2.0, recording=rec)
    rec.disconnect()
    assert row_counts(path) == {"p": 2, "s": 2}


@pytest.mark.parametrize(("func", "arg", "call"), BAD_CALLS, ids=BAD_IDS)
def test_bad_input_raises_when_strict(tmp_path: Path, func: str, arg: str, call: Callable[..., Any]) -> None:
    path = tmp_path / "bad.rrd"
    rec = rr.RecordingStream("rules", save=path, strict=True)
    rr.log_points("p", POINTS, recording=rec)
    with pytest.raises(rr.RecordingError, match=f"^{func}: argument {arg!r}"):
        call(rec)
    assert isinstance(rr.RecordingError("x"), ValueError)
    rec.disconnect()
    assert row_counts(path) == {"p": 1}


def test_a_wrong_keyword_is_dropped_with_a_warning(tmp_path: Path) -> None:
    rec = rr.RecordingStream("rules", save=tmp_path / "kw.rrd")
    with pytest.warns(rr.RecordingWarning, match="log_points: TypeError"):
        rr.log_points("p", POINTS, colour=[255, 0, 0], recording=rec)  # type: ignore[call-arg]
    strict = rr.RecordingStream("rules", save=tmp_path / "kw2.rrd", strict=True)
    with pytest.raises(TypeError):
        rr.log_points("p", POINTS, colour=[255, 0, 0], recording=strict)  # type: ignore[call-arg]
    rec.disconnect()
    strict.disconnect()


# --- threads -----------------------------------------------------------------------------------------
def test_eight_threads_lose_no_row(tmp_path: Path) -> None:
    path = tmp_path / "threads.rrd"
    rec = rr.RecordingStream("threads", save=path, strict=True)
    threads_n, per_thread = 8, 5_000
    start = threading.Barrier(threads_n)

    def worker(k: int) -> None:
        start.wait()
        for i in range(per_thread):
            rr.set_time_sequence("i", i, recording=rec)
            rr.log_scalar(f"thread/#{k}", float(i), recording=rec)
            rr.log_scalar("shared", float(k * 1_000_000 + i), recording=rec)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rec.disconnect()

    own: dict[str, list[float]] = collections.defaultdict(list)
    shared: list[tuple[float, int]] = []
    row_ids: list[int] = []
    with rr.RrdReader(path) as r:
        assert r.opened_via == "footer"
        for info in r.chunks:
            batch = r.read_chunk(info).batch
            row_ids.extend(batch.column("row_id").to_pylist())
            values = batch.column("scalar").to_pylist()
            if info.entity == "shared":
                shared.extend(zip(values, batch.column("i").to_pylist(), strict=True))
            else:
                own[info.entity].extend(values)
    assert len(row_ids) == 2 * threads_n * per_thread
    assert len(set(row_ids)) == len(row_ids)
    # Each thread's own entity: every value once, in the order the thread logged them.
    assert own == {f"thread/#{k}": [float(i) for i in range(per_thread)] for k in range(threads_n)}
    # The shared entity: every (thread, i) exactly once, stamped with that thread's own time.
    counts = collections.Counter(v for v, _ in shared)
    assert counts == collections.Counter(float(k * 1_000_000 + i) for k in range(threads_n) for i in range(per_thread))
    assert all(int(v) % 1_000_000 == i for v, i in shared)
