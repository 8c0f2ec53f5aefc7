"""The SDK's lifecycle: init and save, disconnect, exit of the process, enabling, several recordings, batching."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

import rrformat as rr

CHILD = Path(__file__).parent / "scripts" / "sdk_child.py"


# --- helpers -------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def no_global_recording() -> Iterator[None]:
    """Each test starts and ends without a global recording (rr.init sets one)."""
    rr.set_global_recording(None)
    yield
    rr.disconnect()
    rr.set_global_recording(None)


def entity_values(path: Path, component: str = "scalar") -> dict[str, list[object]]:
    """Every entity's values of ``component``, in file order."""
    out: dict[str, list[object]] = {}
    with rr.RrdReader(path) as r:
        for info in r.chunks:
            batch = r.read_chunk(info).batch
            if component in batch.schema.names:
                out.setdefault(info.entity, []).extend(batch.column(component).to_pylist())
    return out


def frames_in(path: Path) -> list[int]:
    """The ``frame`` values of the ``counter`` rows written by the child script."""
    frames: list[int] = []
    with rr.RrdReader(path) as r:
        for info in r.chunks:
            if info.entity == "counter":
                frames.extend(r.read_chunk(info).batch.column("frame").to_pylist())
    return frames


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RRKIT_")}
    env.update(extra)
    return env


def run_child(*args: str, env: dict[str, str] | None = None, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHILD), *args],
        env=env or child_env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- init / save / disconnect ------------------------------------------------------------------
def test_init_streams_to_the_file_from_the_first_call(tmp_path: Path) -> None:
    path = tmp_path / "run.rrd"
    rr.init("app", save=path, strict=True)
    assert path.exists()  # created by init itself, before anything is logged
    for i in range(5):
        rr.set_time_sequence("frame", i)
        rr.log_scalar("sensor/temp", float(i))
    rr.flush()
    # The file is still open: a reader rebuilds the index by a scan and sees every row.
    with rr.RrdReader(path) as r:
        assert r.opened_via == "scan"
        assert r.damage is None
        assert sum(c.rows for c in r.chunks if c.entity == "sensor/temp") == 5
        assert r.recordings[0].application_id == "app"
    rr.disconnect()
    with rr.RrdReader(path) as r:
        assert r.opened_via == "footer"
        assert r.footer_problem is None
    assert entity_values(path) == {"sensor/temp": [0.0, 1.0, 2.0, 3.0, 4.0]}


def test_disconnect_twice_and_logging_after_disconnect_are_harmless(tmp_path: Path) -> None:
    path = tmp_path / "run.rrd"
    rec = rr.RecordingStream("app", save=path, strict=True)
    rr.log_scalar("a", 1.0, recording=rec)
    rec.disconnect()
    rec.disconnect()
    rr.log_scalar("a", 2.0, recording=rec)  # a no-op: the file is closed
    rr.flush(recording=rec)
    assert entity_values(path) == {"a": [1.0]}
    with rr.RrdReader(path) as r:
        assert r.opened_via == "footer"


@pytest.mark.parametrize(
    ("where", "reason"),
    [
        ("missing-dir/x.rrd", "No such file or directory"),
        ("file.txt/x.rrd", "Not a directory"),
        ("a-directory", "Is a directory"),
    ],
)
def test_init_on_an_unwritable_path_raises_oserror_naming_path_and_reason(
    tmp_path: Path, where: str, reason: str
) -> None:
    (tmp_path / "file.txt").write_text("a regular file")
    (tmp_path / "a-directory").mkdir()
    path = tmp_path / where
    with pytest.raises(OSError) as info:
        rr.init("app", save=path)
    assert str(path) in str(info.value)
    assert reason in str(info.value)
    assert info.value.errno is not None
    assert rr.get_global_recording() is None  # a failed init leaves no half-made recording
    with pytest.raises(OSError, match=reason):
        rr.RecordingStream("app", save=path)


def test_save_after_init_writes_what_was_logged_before(tmp_path: Path) -> None:
    path = tmp_path / "late.rrd"
    rr.init("app", strict=True)
    for i in range(3):
        rr.log_scalar("early", float(i))
    rr.flush()  # the early rows are now chunks held in memory
    rr.log_scalar("early", 3.0)  # and this one is still buffered
    rr.save(path)
    rr.log_scalar("late", 10.0)
    rr.disconnect()
    assert entity_values(path) == {"early": [0.0, 1.0, 2.0, 3.0], "late": [10.0]}
    with rr.RrdReader(path) as r:
        assert r.opened_via == "footer"
        ids = [i for info in r.chunks for i in r.read_chunk(info).batch.column("row_id").to_pylist()]
    assert len(ids) == len(set(ids)) == 5


# --- exit of the interpreter ---------------------------------------------------------------------
def test_normal_end_of_script_flushes_and_writes_the_footer(tmp_path: Path) -> None:
    path = tmp_path / "normal.rrd"
    done = run_child("normal", str(path), "500", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with rr.RrdReader(path) as r:
        assert r.opened_via == "footer"
        assert r.damage is None
    assert frames_in(path) == list(range(500))


def test_uncaught_exception_still_flushes_and_writes_the_footer(tmp_path: Path) -> None:
    path = tmp_path / "exception.rrd"
    done = run_child("exception", str(path), "300", cwd=tmp_path)
    assert done.returncode == 1
    assert "the robot fell over" in done.stderr
    with rr.RrdReader(path) as r:
        assert r.opened_via == "footer"
    assert frames_in(path) == list(range(300))


def test_sigterm_while_logging_closes_the_file_and_dies_of_sigterm(tmp_path: Path) -> None:
    path = tmp_path / "sigterm.rrd"
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), "loop", str(path), "200"],
        env=child_env(),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        flushed = -1
        for _ in range(3):
            line = proc.stdout.readline()
            assert line, "the child ended before logging"
            flushed = int(line)
        proc.send_signal(signal.SIGTERM)
        try:
            status = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail("the child did not exit after SIGTERM (deadlock while closing?)")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    assert status == -signal.SIGTERM
    with rr.RrdReader(path) as r:
        assert r.opened_via == "footer", r.footer_problem
        assert r.damage is None
    frames = frames_in(path)
    # Everything up to the last flush before the signal is there, with no gap.
    assert frames == list(range(len(frames)))
    assert len(frames) > flushed


# --- enabled or not -----------------------------------------------------------------------------------
def test_default_enabled_false_makes_every_call_a_no_op(tmp_path: Path) -> None:
    path = tmp_path / "off.rrd"
    rr.init("app", save=path, default_enabled=False, strict=True)
    assert not rr.is_enabled()
    rr.set_time_sequence("frame", 1)
    rr.log_scalar("a", 1.0)
    rr.log_points("p", [[0, 0, 0]])
    rr.log_point("q", "not even a point")  # not checked either: disabled calls do nothing
    rr.flush()
    rr.save(tmp_path / "off2.rrd")
    rr.disconnect()
    assert not path.exists()
    assert not (tmp_path / "off2.rrd").exists()


def test_env_rrkit_enabled_0_disables_and_1_enables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RRKIT_ENABLED", "0")
    off = rr.RecordingStream("app", save=tmp_path / "off.rrd", strict=True)
    rr.log_scalar("a", 1.0, recording=off)
    off.disconnect()
    assert not (tmp_path / "off.rrd").exists()
    assert not rr.is_enabled(recording=off)

    monkeypatch.setenv("RRKIT_ENABLED", "1")
    on = rr.RecordingStream("app", save=tmp_path / "on.rrd", default_enabled=False, strict=True)
    rr.log_scalar("a", 1.0, recording=on)
    on.disconnect()
    assert entity_values(tmp_path / "on.rrd") == {"a": [1.0]}


def test_env_rrkit_enabled_0_in_a_real_process(tmp_path: Path) -> None:
    path = tmp_path / "off.rrd"
    done = run_child("quiet", str(path), "10", env=child_env(RRKIT_ENABLED="0"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not path.exists()


def test_env_rrkit_log_debug_prints_debug_lines_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "debug.rrd"
    done = run_child("quiet", str(path), "10", env=child_env(RRKIT_LOG="debug"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    debug = [line for line in done.stderr.splitlines() if line.startswith("[rrkit DEBUG")]
    assert any(str(path) in line for line in debug), done.stderr
    assert any("closed" in line for line in debug), done.stderr
    assert done.stdout == ""
    quiet = run_child("quiet", str(tmp_path / "quiet.rrd"), "10", cwd=tmp_path)
    assert "[rrkit" not in quiet.stderr


# --- live viewing (the full tests are in test_live.py and test_live_viewer.py) ---------------------------------
def test_live_viewing_calls_are_no_ops_without_a_recording_or_when_disabled(tmp_path: Path) -> None:
    rr.set_global_recording(None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "nothing is recorded: call rr.init"
        rr.connect("127.0.0.1:1")  # nothing recorded: nothing to stream, no error
        rr.spawn("127.0.0.1:1")
        rr.show()
    off = rr.RecordingStream("off", default_enabled=False)
    off.connect("127.0.0.1:1")
    off.spawn("127.0.0.1:1")
    off.show()
    assert off.stream_stats == {"sent_records": 0, "dropped_records": 0, "dropped_bytes": 0}


# --- several recordings ------------------------------------------------------------------------------------
def test_two_recordings_get_their_own_rows_in_their_own_files(tmp_path: Path) -> None:
    a = rr.RecordingStream("robot_a", save=tmp_path / "a.rrd", strict=True)
    b = rr.RecordingStream("robot_b", save=tmp_path / "b.rrd", strict=True)
    rr.init("global", save=tmp_path / "g.rrd", strict=True)
    for i in range(10):
        rr.set_time_sequence("frame", i, recording=a)
        rr.set_time_sequence("frame", 100 + i, recording=b)
        rr.log_scalar("x", float(i), recording=a)
        rr.log_scalar("x", float(-i), recording=b)
        rr.log_scalar("g", float(i))  # module level: the global recording
    a.disconnect()
    b.disconnect()
    rr.disconnect()
    assert entity_values(tmp_path / "a.rrd") == {"x": [float(i) for i in range(10)]}
    assert entity_values(tmp_path / "b.rrd") == {"x": [float(-i) for i in range(10)]}
    assert entity_values(tmp_path / "g.rrd") == {"g": [float(i) for i in range(10)]}
    with rr.RrdReader(tmp_path / "a.rrd") as r:
        assert r.recordings[0].application_id == "robot_a"
        assert r.read_chunk(r.chunks[0]).batch.column("frame").to_pylist() == list(range(10))
    with rr.RrdReader(tmp_path / "b.rrd") as r:
        assert r.recordings[0].application_id == "robot_b"
        assert r.read_chunk(r.chunks[0]).batch.column("frame").to_pylist() == list(range(100, 110))
    with rr.RrdReader(tmp_path / "g.rrd") as r:
        # Time set on recording a or b does not leak into the global recording.
        assert "frame" not in r.read_chunk(r.chunks[0]).batch.schema.names


def test_init_twice_closes_the_first_global_recording(tmp_path: Path) -> None:
    first = rr.init("app", save=tmp_path / "first.rrd", strict=True)
    rr.log_scalar("a", 1.0)
    second = rr.init("app", save=tmp_path / "second.rrd", strict=True)
    assert rr.get_global_recording() is second
    assert first is not second
    # The first file is complete (footer) while the process still runs.
    with rr.RrdReader(tmp_path / "first.rrd") as r:
        assert r.opened_via == "footer"
    rr.log_scalar("a", 2.0)
    rr.log_scalar("a", 3.0, recording=first)  # closed: a no-op
    rr.disconnect()
    assert entity_values(tmp_path / "first.rrd") == {"a": [1.0]}
    assert entity_values(tmp_path / "second.rrd") == {"a": [2.0]}


def test_recording_stream_as_context_manager(tmp_path: Path) -> None:
    with rr.RecordingStream("app", save=tmp_path / "ctx.rrd", strict=True) as rec:
        rr.log_scalar("a", 1.0, recording=rec)
    with rr.RrdReader(tmp_path / "ctx.rrd") as r:
        assert r.opened_via == "footer"


# --- batching ---------------------------------------------------------------------------------------------
def test_flush_age_makes_a_row_visible_without_an_explicit_flush(tmp_path: Path) -> None:
    path = tmp_path / "age.rrd"
    rec = rr.RecordingStream("app", save=path, flush_age=0.05, strict=True)
    rr.log_scalar("a", 42.0, recording=rec)
    deadline = time.monotonic() + 10.0
    seen = 0
    while time.monotonic() < deadline:
        with rr.RrdReader(path) as r:
            seen = sum(c.rows for c in r.chunks)
        if seen:
            break
        time.sleep(0.01)
    assert seen == 1
    rec.disconnect()
    assert entity_values(path) == {"a": [42.0]}


def test_small_flush_bytes_makes_several_chunks(tmp_path: Path) -> None:
    path = tmp_path / "bytes.rrd"
    rec = rr.RecordingStream("app", save=path, flush_bytes=400, flush_age=60.0, strict=True)
    for i in range(200):
        rr.log_scalar("a", float(i), recording=rec)
    rec.disconnect()
    with rr.RrdReader(path) as r:
        chunks = [c for c in r.chunks if c.entity == "a"]
    assert len(chunks) >= 5
    assert all(c.rows < 200 for c in chunks)
    assert entity_values(path) == {"a": [float(i) for i in range(200)]}


def test_small_max_bytes_in_flight_applies_backpressure_without_losing_rows(tmp_path: Path) -> None:
    path = tmp_path / "pressure.rrd"
    rec = rr.RecordingStream("app", save=path, max_bytes_in_flight=2_000, strict=True)
    for i in range(5_000):
        rr.set_time_sequence("frame", i, recording=rec)
        rr.log_scalar("a", float(i), recording=rec)
        if i % 10 == 0:
            rr.log_points("p", [[i, 0.0, 0.0]] * 20, recording=rec)
    rec.disconnect()
    values = entity_values(path)
    assert values["a"] == [float(i) for i in range(5_000)]
    assert len(entity_values(path, "positions3d")["p"]) == 500
