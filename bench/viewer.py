"""Benchmark of the desktop viewer (``rrview``) on software OpenGL, against its targets.

Every case runs in its own process (this script with ``--run CASE``, or ``rrview`` itself),
over recordings written with the SDK before the timing starts:

1. ``first-frame``: ``rrview FILE`` on the 1000-frame x 100,000-point recording (float32
   xyz + uint8 RGB, one ``log_points("world/points", ...)`` per frame on the ``frame``
   sequence timeline), from the process start (just before ``subprocess.run``) to the end
   of the first paint of every 3D/2D view. The window reports its paints and quits when
   the environment variable ``RRVIEW_BENCH_EXIT_AFTER_FIRST_FRAME=1`` is set (see
   ``rrview/app.py``). A first, uncounted run warms the page cache. Target: < 1.5 s.
2. ``scrub``: the same recording in a ``MainWindow``; the time cursor is set to random
   frames (``TimePanel.set_time``), each timed from the call to the end of the 3D canvas's
   next draw (``canvas.events.draw``, then ``glFinish``). Target: < 150 ms (median; the
   95th percentile is reported too).
3. ``images``: 300 frames of 640x480 RGB images (``log_image``), played through the 2D
   view at 1x (the time panel's playback, 30 frames of a sequence timeline per second):
   frames shown per second (distinct frames drawn / time from play to the last draw).
   Also stepped frame after frame as fast as the viewer draws. Target: >= 25 frames/s.
4. ``memory``: the point recording in a window with ``memory_limit`` 500 MB, stepping
   through every frame, each drawn. The parent polls the child's ``VmRSS`` in
   ``/proc/PID/status``; the child reports its ``VmHWM`` (kernel peak), the RSS of the
   process once the first frame is drawn (the Python + Qt + GL baseline), and the
   ``ChunkStore``'s bytes held. Target: peak RSS < the limit.
5. ``entities``: 10,000 entities ``objects/{i}/box`` (one box each, 10 frames): the time to
   open the recording in a window with its tree until every view has painted (in the
   process, and from the process start with ``rrview``), and to expand the ``objects``
   tree node with its 10,000 children. No target is set for these.

Display: the viewer needs an X display. Without ``DISPLAY`` the script starts its own Xvfb
(1920x1080x24) through ``pyvirtualdisplay``. Rendering is whatever OpenGL the display
offers: Mesa llvmpipe (software) under Xvfb.

Timings are wall clock; "cpu" is the process's CPU time (all threads, llvmpipe's included),
a steadier figure on a busy machine. Other work on the machine skews the timings: run it
on an idle machine and read the medians.

Usage::

    python bench/viewer.py                          # full size (~1.4 GB written; 5-10 minutes)
    python bench/viewer.py --quick                  # small sizes, a smoke run (~1 minute)
    python bench/viewer.py --case scrub --data points.rrd --keep
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import numpy as np

MB = 1e6
CASES = ("first-frame", "scrub", "images", "memory", "entities")
POINTS_ENTITY = "world/points"
IMAGE_ENTITY = "camera/image"
TIMELINE = "frame"
FIRST_PAINT_ENV = "RRVIEW_BENCH_EXIT_AFTER_FIRST_FRAME"
MIN_FREE_BYTES = 6 * 1024**3

TARGET_FIRST_FRAME_S = 1.5
TARGET_SCRUB_S = 0.150
TARGET_FPS = 25.0
DEFAULT_MEMORY_LIMIT = "500MB"
CHILD_TIMEOUT_S = 1800


@dataclasses.dataclass(frozen=True)
class Sizes:
    frames: int
    points: int
    images: int
    height: int
    width: int
    entities: int
    entity_frames: int
    first_frame_runs: int
    moves: int


FULL = Sizes(1000, 100_000, 300, 480, 640, 10_000, 10, 5, 50)
QUICK = Sizes(60, 100_000, 60, 480, 640, 1_000, 10, 2, 10)


@dataclasses.dataclass
class Line:
    """One line of the printed table."""

    case: str
    measure: str
    best: str = ""
    median: str = ""
    p95: str = ""
    target: str = ""
    result: str = ""
    note: str = ""


# --- data -------------------------------------------------------------------------------------------
def write_points(path: str, frames: int, points: int) -> None:
    """``frames`` x ``points`` of a lidar-like street scan (float32 xyz, uint8 RGB), one log_points per frame."""
    import rrformat as rr

    rng = np.random.default_rng(7)
    rings = 64
    cols = math.ceil(points / rings)
    el, az = np.meshgrid(
        np.deg2rad(np.linspace(-24.8, 2.0, rings)), np.linspace(-np.pi, np.pi, cols, endpoint=False), indexing="ij"
    )
    el, az = el.ravel()[:points], az.ravel()[:points]
    d = np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=1)
    with np.errstate(divide="ignore"):
        ground = np.where(d[:, 2] < -1e-3, -1.8 / d[:, 2], np.inf)
    rec = rr.RecordingStream("bench-viewer-points", save=path, strict=True)
    for i in range(frames):
        along = 0.05 * i + 12.0 * d[:, 0]
        facade = 7.0 + 1.5 * np.sign(np.sin(along / 4.0)) + 0.3 * np.sin(along * 1.3)
        with np.errstate(divide="ignore"):
            wall = np.where(np.abs(d[:, 1]) > 1e-3, facade / np.abs(d[:, 1]), np.inf)
        r = np.minimum(np.minimum(ground, wall), 80.0) + rng.normal(0.0, 0.02, points)
        pos = (d * r[:, None]).astype(np.float32)
        h = np.clip((pos[:, 2] + 1.8) / 8.0, 0.0, 1.0)
        rgb = np.empty((points, 3), dtype=np.uint8)
        rgb[:, 0] = (255 * h).astype(np.uint8)
        rgb[:, 1] = (255 * (1.0 - np.abs(2 * h - 1))).astype(np.uint8)
        rgb[:, 2] = (255 * (1.0 - h)).astype(np.uint8)
        rr.set_time_sequence(TIMELINE, i, recording=rec)
        rr.log_points(POINTS_ENTITY, pos, colors=rgb, recording=rec)
    rec.disconnect()


def write_images(path: str, frames: int, height: int, width: int) -> None:
    """``frames`` RGB images: smooth shading, moving blocks and sensor noise (8 distinct noise fields)."""
    import rrformat as rr

    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    noise = [rng.normal(0.0, 3.0, (height, width, 3)).astype(np.float32) for _ in range(8)]
    rec = rr.RecordingStream("bench-viewer-images", save=path, strict=True)
    for i in range(frames):
        img = np.empty((height, width, 3), dtype=np.float32)
        img[..., 0] = 120 + 80 * np.sin((xx + 7 * i) / 90.0)
        img[..., 1] = 110 + 70 * np.cos((yy - 5 * i) / 70.0)
        img[..., 2] = 100 + 60 * np.sin((xx + yy) / 120.0)
        for k in range(6):
            y0, x0 = (37 * k + 11 * i) % (height - 60), (83 * k + 17 * i) % (width - 80)
            img[y0 : y0 + 60, x0 : x0 + 80] = (40 * k) % 255
        img += noise[i % len(noise)]
        rr.set_time_sequence(TIMELINE, i, recording=rec)
        rr.log_image(IMAGE_ENTITY, np.clip(img, 0, 255).astype(np.uint8), recording=rec)
    rec.disconnect()


def write_entities(path: str, entities: int, frames: int) -> None:
    """``entities`` entities ``objects/{i}/box`` with one box each, moving over ``frames`` frames."""
    import rrformat as rr

    rng = np.random.default_rng(11)
    names = [f"objects/{i}/box" for i in range(entities)]
    half = list(rng.uniform(0.1, 1.0, (entities, 3)).astype(np.float32))
    centers = rng.uniform(-50, 50, (frames, entities, 3)).astype(np.float32)
    rec = rr.RecordingStream("bench-viewer-entities", save=path, strict=True)
    for f in range(frames):
        rr.set_time_sequence(TIMELINE, f, recording=rec)
        rows = list(centers[f])
        for i in range(entities):
            rr.log_obb(names[i], half_size=half[i], position=rows[i], recording=rec)
    rec.disconnect()


# --- measuring inside a child ----------------------------------------------------------------------
def _status_kib(key: str, pid: int | str = "self") -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _rss_mb(pid: int | str = "self", key: str = "VmRSS") -> float:
    kib = _status_kib(key, pid)
    return kib * 1024 / MB if kib is not None else math.nan


def _settings(tmp: str) -> Any:
    """A QSettings in a temporary file: the benchmark must not touch the user's recent files."""
    from PyQt6 import QtCore

    return QtCore.QSettings(os.path.join(tmp, "rrview.ini"), QtCore.QSettings.Format.IniFormat)


class Draws:
    """Counts the draws of a vispy canvas; ``wait`` runs the Qt event loop until the next one."""

    def __init__(self, canvas: Any) -> None:
        from vispy.gloo import gl

        self._gl = gl
        self.renderer = ""
        self.count = 0
        self.last = 0.0
        self.hook: Callable[[], None] | None = None
        self._loop: Any = None
        # "last": after the scene has drawn and vispy has flushed its GL commands.
        canvas.events.draw.connect(self._drawn, position="last")

    def _drawn(self, _event: Any) -> None:
        self._gl.glFinish()  # the frame is rendered, not only queued
        if not self.renderer:
            self.renderer = str(self._gl.glGetParameter(self._gl.GL_RENDERER))
        self.count += 1
        self.last = time.perf_counter()
        if self.hook is not None:
            self.hook()
        if self._loop is not None:
            self._loop.quit()

    def wait(self, after: int, timeout: float = 60.0) -> float:
        """Until draw number ``after + 1`` has happened; returns when it ended (``perf_counter``)."""
        from PyQt6 import QtCore

        if self.count > after:
            return self.last
        self._loop = QtCore.QEventLoop()
        timer = QtCore.QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(self._loop.quit)
        timer.start(int(timeout * 1000))
        self._loop.exec()
        timer.stop()
        self._loop = None
        if self.count <= after:
            raise TimeoutError(f"no draw within {timeout:g} s")
        return self.last


def _pump(seconds: float) -> None:
    """Run the Qt event loop for ``seconds`` (layout passes and their repaints settle)."""
    from PyQt6 import QtCore

    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def _open_window(path: str, tmp: str, memory_limit: int | None = None) -> tuple[Any, Any, Any]:
    """(app, window, pane) with ``path`` opened and shown; nothing waited for."""
    from rrview.app import ensure_app
    from rrview.model import ViewerModel

    app = ensure_app()
    from rrview.window import MainWindow

    window = MainWindow(memory_limit=memory_limit, settings=_settings(tmp))
    pane = window.add_model(ViewerModel(path, memory_limit=memory_limit))
    window.show()
    return app, window, pane


def _scene_canvas(pane: Any, kind: str) -> Any:
    handles = [h for h in pane.views.handles if h.kind == kind and h.scene is not None]
    if not handles:
        raise SystemExit(f"no {kind} view in the window")
    return handles[0].scene.canvas


def _stats(values: Sequence[float]) -> dict[str, float]:
    v = sorted(values)
    return {
        "best": v[0],
        "median": statistics.median(v),
        "p95": v[min(len(v) - 1, math.ceil(0.95 * len(v)) - 1)],
        "n": len(v),
    }


def child_scrub(path: str, sz: Sizes, tmp: str) -> dict[str, Any]:
    _app, window, pane = _open_window(path, tmp)
    draws = Draws(_scene_canvas(pane, "3d"))
    draws.wait(0)
    _pump(0.5)
    panel = pane.time_panel
    lo, hi = panel.time_range
    rng = random.Random(1)
    frames = rng.sample(range(lo, hi + 1), min(sz.moves + 2, hi - lo + 1))
    wall, cpu = [], []
    frames = [f for f in frames if f != panel.time]
    for i, f in enumerate(frames):
        c0, t0 = time.process_time(), time.perf_counter()
        t1 = _move(panel, draws, f)
        if i >= 2:  # two warm-up moves: first-time allocations and shader state
            wall.append(t1 - t0)
            cpu.append(time.process_time() - c0)
    row = pane.model.latest(POINTS_ENTITY, "points3d", TIMELINE, frames[-1])
    points = len(row.array("positions3d").values) if row is not None else 0
    size = _canvas_size(pane)
    window.close()
    return {"wall": _stats(wall), "cpu": _stats(cpu), "points": points, "size": size, "renderer": draws.renderer}


def _canvas_size(pane: Any) -> list[int]:
    canvas = _scene_canvas(pane, "3d") if pane.views.views_of("3d") else _scene_canvas(pane, "2d")
    return [int(x) for x in canvas.size]


def _move(panel: Any, draws: Draws, t: int) -> float:
    """Set the time cursor to ``t`` and wait for the view to draw it; returns when the draw ended."""
    if panel.time == t:
        return draws.last  # nothing to draw
    n = draws.count
    panel.set_time(t)
    return draws.wait(n)


def child_images(path: str, sz: Sizes, tmp: str) -> dict[str, Any]:
    from PyQt6 import QtCore

    _app, window, pane = _open_window(path, tmp)
    draws = Draws(_scene_canvas(pane, "2d"))
    draws.wait(0)
    _pump(0.5)
    panel = pane.time_panel
    lo, hi = panel.time_range
    # Stepping: each frame set, then drawn, as fast as the viewer goes.
    _move(panel, draws, lo)
    t0 = time.perf_counter()
    for f in range(lo + 1, hi + 1):
        _move(panel, draws, f)
    step_s = time.perf_counter() - t0
    # Playback at 1x: the time panel's timer moves the cursor; frames it cannot draw in time are skipped.
    _move(panel, draws, lo)
    shown: list[tuple[float, int | None]] = []
    draws.hook = lambda: shown.append((draws.last, panel.time))
    loop = QtCore.QEventLoop()
    poll = QtCore.QTimer()
    poll.timeout.connect(lambda: None if panel.playing else loop.quit())
    poll.start(20)
    t_play = time.perf_counter()
    c_play = time.process_time()
    panel.play()
    loop.exec()
    poll.stop()
    _pump(0.2)  # the last frame's draw
    cpu = time.process_time() - c_play
    draws.hook = None
    distinct = sorted({t for _, t in shown if t is not None})
    play_s = max(shown[-1][0] - t_play, 1e-9) if shown else math.nan
    size = _canvas_size(pane)
    window.close()
    frames = hi - lo + 1
    return {
        "frames": frames,
        "step_s": step_s,
        "step_fps": (frames - 1) / step_s,
        "play_s": play_s,
        "play_shown": len(distinct),
        "play_draws": len(shown),
        "play_fps": len(distinct) / play_s,
        "play_cpu": cpu,
        "size": size,
        "renderer": draws.renderer,
    }


def child_memory(path: str, sz: Sizes, tmp: str, limit: int) -> dict[str, Any]:
    rss_imports_before = _rss_mb()
    _app, window, pane = _open_window(path, tmp, memory_limit=limit)
    draws = Draws(_scene_canvas(pane, "3d"))
    draws.wait(0)
    _pump(0.5)
    rss_first = _rss_mb()
    store = pane.model.store
    panel = pane.time_panel
    lo, hi = panel.time_range
    held_peak = store.bytes_held
    print(f"READY {rss_first:.1f}", flush=True)
    t0 = time.perf_counter()
    for f in range(lo, hi + 1):
        _move(panel, draws, f)
        held_peak = max(held_peak, store.bytes_held)
        if (f - lo) % 50 == 0:
            print(f"PROGRESS {f} {store.bytes_held} {_rss_mb():.1f}", flush=True)
    seconds = time.perf_counter() - t0
    out = {
        "frames": hi - lo + 1,
        "seconds": seconds,
        "rss_start_mb": rss_imports_before,
        "rss_first_frame_mb": rss_first,
        "rss_end_mb": _rss_mb(),
        "hwm_mb": _rss_mb(key="VmHWM"),
        "held_peak": held_peak,
        "held_end": store.bytes_held,
        "decoded": store.decoded,
        "evicted": store.evicted,
        "limit": limit,
        "renderer": draws.renderer,
    }
    window.close()
    return out


def child_entities(path: str, sz: Sizes, tmp: str) -> dict[str, Any]:
    from rrview.app import ensure_app
    from rrview.model import ViewerModel

    app = ensure_app()
    from rrview.window import MainWindow

    t0 = time.perf_counter()
    model = ViewerModel(path)
    t_index = time.perf_counter()
    window = MainWindow(settings=_settings(tmp))
    pane = window.add_model(model)
    t_built = time.perf_counter()
    canvases = [h.scene.canvas for h in pane.views.handles if h.scene is not None]
    waits = [Draws(c) for c in canvases]
    window.show()
    ends = [w.wait(0, timeout=600.0) for w in waits]
    t_shown = max(ends) if ends else time.perf_counter()
    _pump(0.3)
    tree = pane.tree
    index = tree.tree_model.index_of("objects")
    expands = []
    for _ in range(2):  # the first fetches the 10,000 rows; the second shows them again
        tree.collapse(index)
        app.processEvents()
        t = time.perf_counter()
        tree.expand(index)
        app.processEvents()
        viewport = tree.viewport()
        assert viewport is not None
        viewport.repaint()
        expands.append(time.perf_counter() - t)
    children = tree.tree_model.rowCount(index)
    window.close()
    return {
        "entities": len([n for n in model.nodes.values() if n.chunks]),
        "index_s": t_index - t0,
        "build_s": t_built - t_index,
        "paint_s": t_shown - t_built,
        "open_s": t_shown - t0,
        "expand_s": expands,
        "children": children,
    }


def run_child_case(case: str, data: str, sz: Sizes, tmp: str, limit: int) -> dict[str, Any]:
    if case == "scrub":
        return child_scrub(data, sz, tmp)
    if case == "images":
        return child_images(data, sz, tmp)
    if case == "memory":
        return child_memory(data, sz, tmp, limit)
    if case == "entities":
        return child_entities(data, sz, tmp)
    raise SystemExit(f"unknown case {case!r}")


# --- the parent --------------------------------------------------------------------------------------
def rrview_command() -> list[str]:
    """The installed ``rrview`` entry point of this interpreter (not a shell shim in front of it)."""
    script = os.path.join(os.path.dirname(sys.executable), "rrview")
    if os.path.exists(script):
        return [script]
    return [sys.executable, "-m", "cli.rrview"]


def first_paints(path: str, runs: int, tmp: str) -> tuple[list[float], list[str]]:
    """Seconds from process start to the last view's first paint, for ``runs`` runs (after one warm-up)."""
    env = dict(os.environ, **{FIRST_PAINT_ENV: "1", "XDG_CONFIG_HOME": tmp})
    times: list[float] = []
    views: list[str] = []
    for i in range(runs + 1):
        t0 = time.time()
        proc = subprocess.run(
            [*rrview_command(), path], env=env, capture_output=True, text=True, timeout=600, check=False
        )
        paints = [
            line.split(" ", 3) for line in proc.stdout.splitlines() if line.startswith("rrview-bench: first-paint")
        ]
        if proc.returncode != 0 or not paints:
            sys.stderr.write(proc.stdout + proc.stderr)
            raise SystemExit(f"rrview {path} failed (exit code {proc.returncode})")
        t = max(float(p[2]) for p in paints) - t0
        views = [p[3] if len(p) > 3 else "" for p in paints]
        print(f"    run {i}{' (warm-up, not counted)' if i == 0 else ''}: {t:.3f} s", flush=True)
        if i > 0:
            times.append(t)
    return times, views


def spawn(case: str, data: str, args: argparse.Namespace, tmp: str) -> dict[str, Any]:
    """Run a case in a child process of this script; returns its RESULT."""
    cmd = [sys.executable, os.path.abspath(__file__), "--run", case, "--data", data, "--out", tmp]
    cmd += ["--memory-limit", args.memory_limit] + (["--quick"] if args.quick else [])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0.0]
    done = threading.Event()

    def poll() -> None:  # the child's resident memory, as the kernel reports it, every 20 ms
        while not done.is_set():
            peak[0] = max(peak[0], _rss_mb(proc.pid) if proc.poll() is None else 0.0)
            done.wait(0.02)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    watchdog = threading.Timer(CHILD_TIMEOUT_S, proc.kill)  # a hung window must not hang the benchmark
    watchdog.start()
    result: dict[str, Any] | None = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
        elif line.startswith(("PROGRESS", "READY")):
            print(f"    {line.strip()}", flush=True)
    err = proc.stderr.read() if proc.stderr is not None else ""
    proc.wait()
    watchdog.cancel()
    done.set()
    poller.join()
    if result is None or proc.returncode != 0:
        sys.stderr.write(err)
        raise SystemExit(f"case {case} failed (exit code {proc.returncode})")
    result["polled_peak_mb"] = peak[0]
    return result


def fmt_s(s: float) -> str:
    if not math.isfinite(s):
        return ""
    return f"{s * 1e3:.0f} ms" if s < 1.0 else f"{s:.2f} s"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_table(lines: Sequence[Line]) -> None:
    cols = ("case", "measure", "best", "median", "p95", "target", "result")
    widths = {c: max(len(c), *(len(getattr(x, c)) for x in lines)) for c in cols}
    head = "  ".join(f"{c:<{widths[c]}}" for c in cols) + "  note"
    print(head)
    print("-" * len(head))
    for x in lines:
        print("  ".join(f"{getattr(x, c):<{widths[c]}}" for c in cols) + f"  {x.note}")


def machine() -> str:
    import pyarrow as pa

    gl = os.environ.get("DISPLAY", "?")
    return (
        f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, numpy {np.__version__}, "
        f"pyarrow {pa.__version__}, display {gl}"
    )


def ensure_display() -> Any:
    """Start an Xvfb through pyvirtualdisplay when there is no display; returns it (or None)."""
    if os.environ.get("DISPLAY"):
        return None
    from pyvirtualdisplay.display import Display

    display = Display(visible=False, size=(1920, 1080), color_depth=24)
    display.start()  # sets DISPLAY for this process and its children
    return display


def free_space_sizes(sz: Sizes, out: str, need_points: bool) -> Sizes:
    free = shutil.disk_usage(out).free
    print(f"disk: {free / 1e9:.1f} GB free in {out}")
    if need_points and free < MIN_FREE_BYTES:
        frames = max(20, int(sz.frames * free / MIN_FREE_BYTES))
        print(f"NOTE: less than {MIN_FREE_BYTES / 1024**3:.0f} GiB free: {frames} point frames instead of {sz.frames}")
        return dataclasses.replace(sz, frames=frames)
    return sz


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    ap.add_argument("--case", action="append", choices=CASES, help="run only this case (may be repeated)")
    ap.add_argument("--data", help="an existing point recording to use (frames of world/points) instead of writing one")
    ap.add_argument("--out", help="directory for the recordings (default: a temporary one under /tmp)")
    ap.add_argument("--keep", action="store_true", help="keep the recordings written")
    ap.add_argument("--memory-limit", default=DEFAULT_MEMORY_LIMIT, help="the memory case's limit (default 500MB)")
    ap.add_argument("--runs", type=int, help="first-frame runs (default 5, quick 2)")
    ap.add_argument("--moves", type=int, help="scrub: time moves measured (default 50, quick 10)")
    ap.add_argument("--run", help=argparse.SUPPRESS)  # CASE, in a child process
    args = ap.parse_args(argv)
    sz = QUICK if args.quick else FULL
    if args.runs:
        sz = dataclasses.replace(sz, first_frame_runs=args.runs)
    if args.moves:
        sz = dataclasses.replace(sz, moves=args.moves)
    from rrview.store import parse_memory_limit

    limit = parse_memory_limit(args.memory_limit)

    if args.run:
        res = run_child_case(args.run, args.data, sz, args.out or tempfile.gettempdir(), limit)
        print("RESULT " + json.dumps(res), flush=True)
        return 0

    cases = args.case or list(CASES)
    out = args.out or tempfile.mkdtemp(prefix="rrkit-viewerbench-", dir="/tmp")
    os.makedirs(out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="rrkit-viewerbench-settings-", dir="/tmp")
    display = ensure_display()
    written: list[str] = []
    try:
        print(f"date: {date.today().isoformat()}")
        print(f"machine: {machine()}")
        print(f"load average at start: {os.getloadavg()[0]:.2f} (other work on the machine skews the timings)")
        print(f"sizes: {'quick' if args.quick else 'full'} {sz}")
        need_points = any(c in cases for c in ("first-frame", "scrub", "memory")) and not args.data
        sz = free_space_sizes(sz, out, need_points)
        print(flush=True)

        def data(name: str, write: Callable[[str], None]) -> str:
            path = os.path.join(out, name)
            if not (args.keep and os.path.exists(path)):
                t0 = time.perf_counter()
                write(path)
                written.append(path)
                print(
                    f"wrote {path}: {os.path.getsize(path) / MB:.0f} MB in {time.perf_counter() - t0:.1f} s", flush=True
                )
            else:
                print(f"reusing {path} (--keep)", flush=True)
            return path

        points_path = args.data
        if need_points:
            points_path = data(f"points-{sz.frames}x{sz.points}.rrd", lambda p: write_points(p, sz.frames, sz.points))
        lines: list[Line] = []
        results: dict[str, Any] = {}

        if "first-frame" in cases:
            print(f"first-frame: rrview {points_path}", flush=True)
            times, views = first_paints(points_path, sz.first_frame_runs, tmp)
            st = _stats(times)
            results["first-frame"] = {"times": times, "views": views}
            lines.append(
                Line(
                    "first-frame",
                    f"process start to first paint of {', '.join(views)} ({len(times)} runs)",
                    fmt_s(st["best"]),
                    fmt_s(st["median"]),
                    "",
                    f"< {TARGET_FIRST_FRAME_S:g} s",
                    verdict(st["median"] < TARGET_FIRST_FRAME_S),
                    f"{os.path.getsize(points_path) / MB:.0f} MB file",
                )
            )
        if "scrub" in cases:
            print("scrub: random time moves", flush=True)
            r = results["scrub"] = spawn("scrub", points_path, args, tmp)
            w, c = r["wall"], r["cpu"]
            lines.append(
                Line(
                    "scrub",
                    f"set time to frame drawn, {r['points']:,} points ({w['n']} moves)",
                    fmt_s(w["best"]),
                    fmt_s(w["median"]),
                    fmt_s(w["p95"]),
                    f"< {TARGET_SCRUB_S * 1e3:.0f} ms",
                    verdict(w["median"] < TARGET_SCRUB_S),
                    f"p95 {verdict(w['p95'] < TARGET_SCRUB_S)}; cpu median {fmt_s(c['median'])}; "
                    f"3D canvas {r['size'][0]}x{r['size'][1]}",
                )
            )
        if "images" in cases:
            path = data(
                f"images-{sz.images}x{sz.width}x{sz.height}.rrd",
                lambda p: write_images(p, sz.images, sz.height, sz.width),
            )
            print("images: playback", flush=True)
            r = results["images"] = spawn("images", path, args, tmp)
            lines.append(
                Line(
                    "images",
                    f"playback at 1x of {r['frames']} {sz.width}x{sz.height} RGB frames: frames shown/s",
                    "",
                    f"{r['play_fps']:.1f}",
                    "",
                    f">= {TARGET_FPS:g}",
                    verdict(r["play_fps"] >= TARGET_FPS),
                    f"{r['play_shown']} of {r['frames']} frames drawn in {r['play_s']:.2f} s (30 asked per s); "
                    f"cpu {r['play_cpu'] / r['play_s'] * 100:.0f}% of a core",
                )
            )
            lines.append(
                Line(
                    "images",
                    "stepping frame after frame (set, wait for the draw): frames/s",
                    "",
                    f"{r['step_fps']:.1f}",
                    "",
                    "",
                    "",
                    f"{r['frames'] - 1} frames in {r['step_s']:.2f} s, 2D canvas {r['size'][0]}x{r['size'][1]}",
                )
            )
        if "memory" in cases:
            print(f"memory: every frame with --memory-limit {args.memory_limit}", flush=True)
            r = results["memory"] = spawn("memory", points_path, args, tmp)
            peak = max(r["hwm_mb"], r["polled_peak_mb"])
            lines.append(
                Line(
                    "memory",
                    f"peak RSS stepping through {r['frames']} frames",
                    "",
                    f"{peak:.0f} MB",
                    "",
                    f"< {limit / MB:.0f} MB",
                    verdict(peak < limit / MB),
                    f"VmHWM {r['hwm_mb']:.0f} MB, polled VmRSS peak {r['polled_peak_mb']:.0f} MB; "
                    f"{r['frames'] / r['seconds']:.1f} frames/s",
                )
            )
            lines.append(
                Line(
                    "memory",
                    "  of which baseline: RSS with the window and its first frame",
                    "",
                    f"{r['rss_first_frame_mb']:.0f} MB",
                    "",
                    "",
                    "",
                    f"{r['rss_start_mb']:.0f} MB after Python imports, before Qt",
                )
            )
            lines.append(
                Line(
                    "memory",
                    "  ChunkStore bytes held (decoded data)",
                    "",
                    f"{r['held_peak'] / MB:.0f} MB",
                    "",
                    "",
                    "",
                    f"peak; {r['held_end'] / MB:.0f} MB at the end; {r['decoded']} records decoded, "
                    f"{r['evicted']} evicted",
                )
            )
        if "entities" in cases:
            path = data(
                f"entities-{sz.entities}x{sz.entity_frames}.rrd",
                lambda p: write_entities(p, sz.entities, sz.entity_frames),
            )
            print(f"entities: {sz.entities} entities, in the process", flush=True)
            r = results["entities"] = spawn("entities", path, args, tmp)
            print("entities: from the process start, rrview with the first-paint hook", flush=True)
            times, views = first_paints(path, max(1, sz.first_frame_runs // 2), tmp)
            st = _stats(times)
            lines.append(
                Line(
                    "entities",
                    f"open {r['entities']:,} entities: index + window and tree + first paint",
                    "",
                    fmt_s(r["open_s"]),
                    "",
                    "",
                    "(none)",
                    f"index {fmt_s(r['index_s'])}, window {fmt_s(r['build_s'])}, paint {fmt_s(r['paint_s'])}",
                )
            )
            lines.append(
                Line(
                    "entities",
                    f"  the same from process start (rrview, {len(times)} runs)",
                    fmt_s(st["best"]),
                    fmt_s(st["median"]),
                    "",
                    "",
                    "(none)",
                    ", ".join(views),
                )
            )
            lines.append(
                Line(
                    "entities",
                    f"expand the tree node with {r['children']:,} children",
                    "",
                    fmt_s(r["expand_s"][0]),
                    "",
                    "",
                    "(none)",
                    f"again after collapsing: {fmt_s(r['expand_s'][1])}",
                )
            )
        print()
        print(f"load average at the end: {os.getloadavg()[0]:.2f}")
        renderers = {r["renderer"] for r in results.values() if r.get("renderer")}
        print(f"OpenGL renderer: {', '.join(sorted(renderers)) or 'not reported'}")
        print(f"Viewer (bench/viewer.py), {'quick' if args.quick else 'full'} sizes")
        print()
        print_table(lines)
        print()
        print("time targets are judged on the median; wall-clock times, cpu = the process's CPU time (all threads)")
        failed = [x for x in lines if x.result == "FAIL"]
        return 1 if failed else 0
    finally:
        if display is not None:
            display.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        if not args.keep:
            for p in written:
                if os.path.exists(p):
                    os.remove(p)
            if not args.out:
                shutil.rmtree(out, ignore_errors=True)
        else:
            print(f"recordings kept in {out}")


if __name__ == "__main__":
    sys.exit(main())
