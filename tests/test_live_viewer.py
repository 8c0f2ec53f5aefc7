"""Live viewing with real windows and real processes: --listen, --save, --follow, spawn and show.

The viewer runs under Xvfb (pytest-xvfb sets DISPLAY, which child processes inherit).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from waiting import wait_for

pytest.importorskip("PyQt6")
pytest.importorskip("vispy")


import rrformat as rr
from rrview.live import LiveServer
from rrview.model import ViewerModel
from rrview.window import MainWindow

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def viewer(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli.rrview", *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def sdk_script(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "robot.py"
    script.write_text("import sys, time\nimport numpy as np\nimport rrformat as rr\n" + textwrap.dedent(body))
    return script


def run_sdk(script: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, str(script), *args], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr
    return done


def rows(path: Path) -> dict[str, list[object]]:
    out: dict[str, list[tuple[int, object]]] = {}
    with rr.RrdReader(path) as r:
        for info in r.chunks:
            batch = r.read_chunk(info).batch
            out.setdefault(info.entity, []).extend(
                zip(batch.column("row_id").to_pylist(), batch.column(batch.schema.names[-1]).to_pylist(), strict=True)
            )
    return {k: [v for _, v in sorted(v, key=lambda x: x[0])] for k, v in out.items()}


STREAMER = """
port, frames, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rr.init("streamer", save=out)
rr.connect(f"127.0.0.1:{port}")
rng = np.random.default_rng(0)
for i in range(frames):
    rr.set_time_sequence("frame", i)
    rr.log_points("world/points", rng.random((500, 3), dtype=np.float32))
    rr.log_scalar("metrics/frame", float(i))
    if i % 100 == 0:
        time.sleep(0.01)
rr.disconnect()
print("stats", rr.get_global_recording().stream_stats)
"""


# --- a viewer process listening -------------------------------------------------------------------------------
def test_sdk_process_streams_1000_frames_to_a_listening_viewer_that_saves_them(tmp_path: Path) -> None:
    port = free_port()
    saved = tmp_path / "saved.rrd"
    proc = viewer("--listen", f"127.0.0.1:{port}", "--save", str(saved))
    try:
        wait_for(lambda: listening(port), 30.0, "the viewer to listen")
        run_sdk(sdk_script(tmp_path, STREAMER), str(port), "1000", str(tmp_path / "sdk.rrd"))
        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)  # like closing the window
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert f"saved {saved}" in err.decode()
    logged = rows(tmp_path / "sdk.rrd")
    assert len(logged["metrics/frame"]) == 1000
    assert rows(saved) == logged
    with rr.RrdReader(saved) as r:
        assert r.opened_via == "footer"


def test_killing_the_viewer_mid_stream_does_not_hold_up_the_robot(tmp_path: Path) -> None:
    port = free_port()
    proc = viewer("--listen", f"127.0.0.1:{port}")
    script = sdk_script(
        tmp_path,
        """
        port, out = sys.argv[1], sys.argv[2]
        rr.init("robot", save=out)
        rr.connect(f"127.0.0.1:{port}")
        for i in range(400):
            rr.set_time_sequence("frame", i)
            rr.log_points("cloud", np.random.default_rng(i).random((5000, 3), dtype=np.float32))
            time.sleep(0.005)
            if i == 100:
                print("halfway", flush=True)
        rr.disconnect()
        print("done", flush=True)
        """,
    )
    try:
        wait_for(lambda: listening(port), 30.0, "the viewer to listen")
        robot = subprocess.Popen(
            [sys.executable, str(script), str(port), str(tmp_path / "robot.rrd")],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert robot.stdout is not None
        assert robot.stdout.readline().strip() == "halfway"
        proc.kill()
        out, err = robot.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert robot.returncode == 0, err
    assert out.strip() == "done"
    assert len(rows(tmp_path / "robot.rrd")["cloud"]) == 400  # the file sink lost nothing


def test_port_in_use_and_bad_options_are_one_line_errors(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "cli.rrview", "--listen", f"127.0.0.1:{port}"],
            cwd=REPO, capture_output=True, text=True, timeout=60,
        )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"rrview: error: cannot listen on 127.0.0.1:{port}: Address already in use (another viewer may be listening "
        "there)"
    ]
    for args, message in (
        (["--save", "x.rrd"], "--save and --drop-at-latency need --listen"),
        (["--listen", "1", "--drop-at-latency", "soon"], "is not a duration"),
        (["--listen", "host:port"], "--listen: got 'host:port'"),
        (["--follow"], "--follow needs the FILE"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "cli.rrview", *args], cwd=REPO, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr, done.stderr


@pytest.mark.timeout(300)
def test_memory_stays_under_the_limit_while_2gb_stream_through(tmp_path: Path) -> None:
    port = free_port()
    limit_mb = 700
    proc = viewer("--listen", f"127.0.0.1:{port}", "--memory-limit", f"{limit_mb}MB")
    script = sdk_script(
        tmp_path,
        """
        port = sys.argv[1]
        rr.init("camera")
        rr.connect(f"127.0.0.1:{port}", )
        rng = np.random.default_rng(0)
        pool = [rng.integers(0, 256, (480, 640, 3), dtype=np.uint8) for _ in range(8)]
        total = 0
        i = 0
        while total < 2_000_000_000:
            rr.set_time_sequence("frame", i)
            rr.log_image("camera/image", pool[i % len(pool)])
            total += pool[0].nbytes
            i += 1
        rr.disconnect()
        print(i, rr.get_global_recording().stream_stats, flush=True)
        """,
    )
    try:
        wait_for(lambda: listening(port), 30.0, "the viewer to listen")
        done = run_sdk(script, str(port), timeout=240)
        time.sleep(1.0)
        status = Path(f"/proc/{proc.pid}/status").read_text()
        peak_kb = int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmHWM")))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    frames = int(done.stdout.split()[0])
    assert frames * 640 * 480 * 3 >= 2_000_000_000
    assert peak_kb * 1024 < limit_mb * 1_000_000, f"peak {peak_kb / 1000:.0f} MB over the {limit_mb} MB limit"


# --- the window, in this process (the `window` fixture: conftest.py) -------------------------------------------
def test_window_listening_opens_a_tab_per_recording_and_follows_new_data(
    window: MainWindow, qtbot: Any
) -> None:
    server = LiveServer("127.0.0.1", 0, bound_process=False)
    window.listen(server)
    assert server.address in window.welcome.text()
    rec = rr.RecordingStream("robot", strict=True, flush_age=0.02)
    rec.connect(server.address)
    rr.log_view_coordinates("world", up="+Z", timeless=True, recording=rec)
    for i in range(10):
        rr.set_time_sequence("frame", i, recording=rec)
        rr.log_points("world/points", np.random.default_rng(i).random((50, 3), dtype=np.float32), recording=rec)
    rec.flush()
    qtbot.waitUntil(lambda: len(window.panes()) == 1, timeout=10_000)
    pane = window.panes()[0]
    assert pane.live and pane.live_label.isVisible()
    qtbot.waitUntil(lambda: pane.time_panel.time == 9, timeout=10_000)
    assert pane.views.handle_for("3d", "world") is not None
    assert "live: 1 connection" in pane.live_label.text()

    # New entities and frames show up; the cursor follows the newest frame.
    for i in range(10, 20):
        rr.set_time_sequence("frame", i, recording=rec)
        rr.log_scalar("metrics/speed", float(i), recording=rec)
    rec.flush()
    qtbot.waitUntil(lambda: pane.time_panel.time == 19, timeout=10_000)
    qtbot.waitUntil(lambda: pane.tree.tree_model.index_of("metrics/speed").isValid(), timeout=10_000)
    qtbot.waitUntil(lambda: pane.views.handle_for("plot", "metrics") is not None, timeout=10_000)

    # Scrubbed back, the cursor stays; sent to the end, it follows again.
    pane.time_panel.set_time(5)
    for i in range(20, 25):
        rr.set_time_sequence("frame", i, recording=rec)
        rr.log_scalar("metrics/speed", float(i), recording=rec)
    rec.flush()
    qtbot.waitUntil(lambda: pane.time_panel.time_range == (0, 24), timeout=10_000)
    assert pane.time_panel.time == 5
    pane.time_panel.go_end()
    rr.set_time_sequence("frame", 25, recording=rec)
    rr.log_scalar("metrics/speed", 25.0, recording=rec)
    rec.flush()
    qtbot.waitUntil(lambda: pane.time_panel.time == 25, timeout=10_000)

    other = rr.RecordingStream("second", strict=True)
    other.connect(server.address)
    rr.log_scalar("x", 1.0, timeless=True, recording=other)
    other.disconnect()
    rec.disconnect()
    qtbot.waitUntil(lambda: len(window.panes()) == 2, timeout=10_000)
    assert {p.model.application_id for p in window.panes()} == {"robot", "second"}


FOLLOWED_WRITER = """
out, frames = sys.argv[1], int(sys.argv[2])
rr.init("writer", save=out, flush_age=0.02)
for i in range(frames):
    rr.set_time_sequence("frame", i)
    rr.log_scalar("metrics/frame", float(i))
    rr.log_points("world/points", np.full((10, 3), i, np.float32))
    rr.flush()
    print(i, flush=True)
    sys.stdin.readline()  # the test says when to write the next frame
rr.disconnect()
"""


def test_follow_shows_frames_a_writer_process_appends(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "growing.rrd"
    writer = subprocess.Popen(
        [sys.executable, str(sdk_script(tmp_path, FOLLOWED_WRITER)), str(path), "6"],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert writer.stdin is not None and writer.stdout is not None
    try:
        assert writer.stdout.readline().strip() == "0"
        pane = window.follow(ViewerModel(path))
        assert not pane.warning_bar.isVisible()
        qtbot.waitUntil(lambda: pane.time_panel.time == 0, timeout=10_000)
        for i in range(1, 6):
            writer.stdin.write("\n")
            writer.stdin.flush()
            assert writer.stdout.readline().strip() == str(i)
            qtbot.waitUntil(lambda i=i: pane.time_panel.time == i, timeout=10_000)
            row = pane.model.latest("metrics/frame", "scalar", "frame", pane.time_panel.time)
            assert row is not None and row.get("scalar") == float(i)
            scene = pane.views.handle_for("3d", "world")
            assert scene is not None
        writer.stdin.write("\n")
        writer.stdin.flush()
        assert writer.wait(timeout=30) == 0
    finally:
        writer.kill()
    window.poll()
    assert pane.model.time_range("frame") == (0, 5)


def test_follow_ignores_a_half_written_record_until_it_completes(
    window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    src = tmp_path / "whole.rrd"
    rec = rr.RecordingStream("w", save=src, strict=True)
    for i in range(4):
        rr.set_time_sequence("frame", i, recording=rec)
        rr.log_scalar("v", float(i), recording=rec)
        rec.flush()
    rec.disconnect()
    with rr.RrdReader(src) as r:
        last = r.record_metas[-1]
        cut = last[0] + last[1] // 2  # the middle of the last chunk record
    data = src.read_bytes()
    path = tmp_path / "torn.rrd"
    path.write_bytes(data[:cut])
    pane = window.follow(ViewerModel(path))
    assert not pane.warning_bar.isVisible()
    assert pane.model.time_range("frame") == (0, 2)
    with open(path, "ab") as f:  # the writer finishes the record
        f.write(data[cut : last[0] + last[1]])
    qtbot.waitUntil(lambda: pane.model.time_range("frame") == (0, 3), timeout=10_000)
    assert pane.time_panel.time == 3


# --- spawn and show -------------------------------------------------------------------------------------------
def test_spawn_starts_a_viewer_and_streams_to_it(tmp_path: Path) -> None:
    port = free_port()
    script = sdk_script(
        tmp_path,
        """
        port = sys.argv[1]
        rr.init("spawned", spawn=False)
        rr.spawn(f"127.0.0.1:{port}")
        rr.log_points("world/points", np.zeros((5, 3), np.float32))
        rr.disconnect()
        print(rr.get_global_recording().stream_stats["sent_records"], flush=True)
        """,
    )
    try:
        done = run_sdk(script, str(port))
        assert int(done.stdout.strip()) >= 1
        assert listening(port)  # the viewer lives on after the program
        assert "Warning" not in done.stderr, done.stderr
    finally:
        subprocess.run(["pkill", "-f", f"cli.rrview --listen 127.0.0.1:{port}"], check=False)


def test_spawn_that_cannot_start_a_viewer_warns_and_logging_goes_on(tmp_path: Path) -> None:
    script = sdk_script(
        tmp_path,
        """
        import warnings
        rr.init("nodisplay", save=sys.argv[2])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            rr.spawn(f"127.0.0.1:{sys.argv[1]}")
        print(caught[0].message)
        rr.log_scalar("x", 1.0, timeless=True)
        rr.disconnect()
        """,
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run(
        [sys.executable, str(script), str(free_port()), str(tmp_path / "x.rrd")],
        cwd=REPO, capture_output=True, text=True, timeout=120, env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "rr.spawn: the viewer exited at start" in done.stdout and "no display" in done.stdout
    assert rows(tmp_path / "x.rrd") == {"x": [1.0]}


def test_show_opens_a_viewer_on_what_was_logged_and_returns_when_it_closes(tmp_path: Path) -> None:
    script = sdk_script(
        tmp_path,
        """
        rr.init("shown")
        rr.log_points("world/points", np.random.default_rng(0).random((20, 3), dtype=np.float32))
        rr.show()
        print("after show", flush=True)
        """,
    )
    env = dict(os.environ, RRVIEW_BENCH_EXIT_AFTER_FIRST_FRAME="1")  # the window closes after its first frame
    done = subprocess.run([sys.executable, str(script)], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env=env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[-1] == "after show"
    assert any(line.startswith("rrview-bench: first-paint") and "world" in line for line in lines), lines
