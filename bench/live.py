"""Benchmark of live streaming: latency from ``log_*`` to the viewer's model, and TCP throughput.

Every party is its own process, as in use: the robot (this script with ``--send-...``)
and the viewer's receiving side (this script with ``--receive``: ``rrview.live.LiveServer``
and the viewer's poll loop, every 50 ms like the window, without drawing).

1. Latency: 640x480 RGB images at 30 Hz plus scalars at 100 Hz, logged in real time for
   a few seconds with default settings (``rr.connect`` lowers the flush age to 50 ms). For
   every row the receiver notes when its model first sees it (the poll that indexes its
   chunk) minus its ``log_time`` (the wall clock at the log call; same machine, same
   clock). Target: median under 100 ms.
2. Throughput: 100,000-point frames (float32 xyz, uint8 RGB), as fast as possible, timed
   from ``rr.init`` through ``rr.disconnect()``: to a file sink alone, to a TCP sink alone
   (the receiver must get every row), and the raw limits: the same arrays as one pyarrow
   zstd IPC stream to a file and to a socket. Target: TCP at least 80% of the file
   sink's throughput.

Usage::

    python bench/live.py            # full size (a minute or two)
    python bench/live.py --quick    # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np
import pyarrow as pa
from _common import lidar_frames  # bench/ is on sys.path when a script runs

HERE = os.path.abspath(__file__)
POLL_SECONDS = 0.05  # the window's poll interval (rrview.window._POLL_MS)


# --- the receiving side -----------------------------------------------------------------------------------
def receive(port: int, out: str) -> None:
    from rrview.live import LiveServer
    from rrview.store import ChunkStore

    server = LiveServer("127.0.0.1", port, bound_process=False)
    print("listening", flush=True)
    stop = False

    def on_term(_s: int, _f: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    sources: list[Any] = []
    stores: list[ChunkStore] = []
    latencies: dict[str, list[float]] = {}
    rows: dict[str, int] = {}
    while not stop:
        time.sleep(POLL_SECONDS)
        for src in server.take_new():
            sources.append(src)
            stores.append(ChunkStore(src, 2 << 30, bound_process=False))
        for src, store in zip(sources, stores, strict=True):
            new = src.refresh()
            seen = time.time_ns()
            for info in new:
                rows[info.entity] = rows.get(info.entity, 0) + info.rows
                tr = info.timelines.get("log_time")
                if tr is None or tr.min is None:
                    continue
                if info.rows == 1:  # the index holds its log time: nothing to decode
                    latencies.setdefault(info.entity, []).append((seen - tr.min) / 1e6)
                else:  # several rows (scalars): their log times are in the chunk
                    lt = store.chunk(info).batch.column("log_time").to_numpy()
                    latencies.setdefault(info.entity, []).extend(((seen - lt) / 1e6).tolist())
    stats = {s.recording_id: {"records": s.stats.records, "dropped": s.stats.dropped_records} for s in sources}
    server.close()
    with open(out, "w") as f:
        json.dump({"latency_ms": latencies, "rows": rows, "stats": stats}, f)


class Receiver:
    def __init__(self, workdir: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.out = os.path.join(workdir, f"recv-{self.port}.json")
        self.proc = subprocess.Popen(
            [sys.executable, HERE, "--receive", str(self.port), self.out], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "listening"

    def finish(self) -> dict[str, Any]:
        time.sleep(0.5)  # the last polls
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(60)
        with open(self.out) as f:
            result: dict[str, Any] = json.load(f)
        return result


# --- the robot side -----------------------------------------------------------------------------------------
def send_latency(port: int, seconds: float) -> None:
    import rrformat as rr

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (480, 640, 3), dtype=np.uint8) for _ in range(4)]
    rr.init("latency")
    rr.connect(f"127.0.0.1:{port}")
    start = time.monotonic()
    next_image = next_scalar = start
    i = j = 0
    while time.monotonic() - start < seconds:
        now = time.monotonic()
        if now >= next_image:
            rr.set_time_sequence("frame", i)
            rr.log_image("camera/image", images[i % len(images)])
            i += 1
            next_image += 1 / 30
        if now >= next_scalar:
            rr.set_time_seconds("sensor_time", now - start)
            rr.log_scalar("imu/accel", float(np.sin(j / 10)))
            j += 1
            next_scalar += 1 / 100
        time.sleep(max(0.0, min(next_image, next_scalar) - time.monotonic()))
    rr.disconnect()


def send_points(target: str, frames: int, points: int) -> None:
    """Log ``frames`` lidar frames to ``file:PATH`` or ``tcp:PORT``; prints the seconds taken."""
    import rrformat as rr

    data = lidar_frames(8, points)
    kind, _, where = target.partition(":")
    t0 = time.perf_counter()
    if kind == "file":
        rr.init("points", save=where)
    else:
        rr.init("points")
        rr.connect(f"127.0.0.1:{where}")
    for i in range(frames):
        pos, rgb = data[i % len(data)]
        rr.set_time_sequence("frame", i)
        rr.log_points("lidar/points", pos, colors=rgb)
    rec = rr.get_global_recording()
    rr.disconnect()
    dt = time.perf_counter() - t0
    stats = rec.stream_stats if rec is not None else {}
    print(json.dumps({"seconds": dt, **stats}), flush=True)


def _frame_batch(pos: np.ndarray, rgb: np.ndarray) -> pa.RecordBatch:
    n = len(pos)
    rgba = np.concatenate([rgb, np.full((n, 1), 255, np.uint8)], axis=1)
    p = pa.FixedSizeListArray.from_arrays(pa.array(pos.reshape(-1)), 3)
    c = pa.FixedSizeListArray.from_arrays(pa.array(rgba.reshape(-1)), 4)
    return pa.record_batch([p, c], names=["positions", "colors"])


def send_raw(target: str, frames: int, points: int) -> None:
    """The limit: the same arrays as one pyarrow zstd IPC stream, to a file or a socket."""
    data = lidar_frames(8, points)
    kind, _, where = target.partition(":")
    t0 = time.perf_counter()
    opts = pa.ipc.IpcWriteOptions(compression=pa.Codec("zstd", 3))
    if kind == "file":
        sink: Any = pa.OSFile(where, "wb")
    else:
        sock = socket.create_connection(("127.0.0.1", int(where)))
        sink = sock.makefile("wb")
    writer = None
    for i in range(frames):
        batch = _frame_batch(*data[i % len(data)])
        if writer is None:
            writer = pa.ipc.new_stream(sink, batch.schema, options=opts)
        writer.write_batch(batch)
    assert writer is not None
    writer.close()
    sink.close()
    if kind != "file":
        sock.close()
    print(json.dumps({"seconds": time.perf_counter() - t0}), flush=True)


def drain(port_file: str) -> None:
    """A plain socket reader for the raw TCP limit: reads until the peer closes."""
    srv = socket.create_server(("127.0.0.1", 0))
    with open(port_file, "w") as f:
        f.write(str(srv.getsockname()[1]))
    conn, _ = srv.accept()
    buf = bytearray(1 << 20)
    while conn.recv_into(buf):
        pass


# --- the orchestrator ------------------------------------------------------------------------------------------
def child(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, HERE, *args], capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    ap.add_argument("--receive", nargs=2, metavar=("PORT", "OUT"), help=argparse.SUPPRESS)
    ap.add_argument("--send-latency", nargs=2, metavar=("PORT", "SECONDS"), help=argparse.SUPPRESS)
    ap.add_argument("--send-points", nargs=3, metavar=("TARGET", "FRAMES", "POINTS"), help=argparse.SUPPRESS)
    ap.add_argument("--send-raw", nargs=3, metavar=("TARGET", "FRAMES", "POINTS"), help=argparse.SUPPRESS)
    ap.add_argument("--drain", metavar="PORT_FILE", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.receive:
        return receive(int(args.receive[0]), args.receive[1])
    if args.send_latency:
        return send_latency(int(args.send_latency[0]), float(args.send_latency[1]))
    if args.send_points:
        return send_points(args.send_points[0], int(args.send_points[1]), int(args.send_points[2]))
    if args.send_raw:
        return send_raw(args.send_raw[0], int(args.send_raw[1]), int(args.send_raw[2]))
    if args.drain:
        return drain(args.drain)

    seconds, frames, points = (3.0, 40, 100_000) if args.quick else (10.0, 300, 100_000)
    load = os.getloadavg()[0]
    print(f"# bench/live.py{' --quick' if args.quick else ''}: {os.cpu_count()} cores, load {load:.2f}")
    with tempfile.TemporaryDirectory(prefix="rrlive-") as tmp:
        # 1. latency
        recv = Receiver(tmp)
        subprocess.run([sys.executable, HERE, "--send-latency", str(recv.port), str(seconds)], check=True)
        got = recv.finish()
        print(f"\n## Latency: log_* to the viewer's model ({seconds:g} s of 30 Hz 640x480 images + 100 Hz scalars)")
        print(f"{'stream':<22}{'rows':>8}{'median ms':>12}{'p99 ms':>10}{'max ms':>10}")
        for entity, label in (("camera/image", "images 30 Hz"), ("imu/accel", "scalars 100 Hz")):
            lat = got["latency_ms"].get(entity, [])
            print(f"{label:<22}{len(lat):>8}{pct(lat, 50):>12.1f}{pct(lat, 99):>10.1f}{max(lat, default=0):>10.1f}")
        every = [v for vals in got["latency_ms"].values() for v in vals]
        print(f"{'all rows':<22}{len(every):>8}{pct(every, 50):>12.1f}{pct(every, 99):>10.1f}{max(every):>10.1f}"
              f"   target: median < 100 ms")

        # 2. throughput
        path = os.path.join(tmp, "points.rrd")
        raw_path = os.path.join(tmp, "raw.arrows")
        file_run = child("--send-points", f"file:{path}", str(frames), str(points))
        size = os.path.getsize(path)
        recv = Receiver(tmp)
        tcp_run = child("--send-points", f"tcp:{recv.port}", str(frames), str(points))
        got = recv.finish()
        raw_file = child("--send-raw", f"file:{raw_path}", str(frames), str(points))
        port_file = os.path.join(tmp, "drain.port")
        drainer = subprocess.Popen([sys.executable, HERE, "--drain", port_file])
        while not os.path.exists(port_file) or not _read(port_file):
            time.sleep(0.02)
        raw_tcp = child("--send-raw", f"tcp:{_read(port_file)}", str(frames), str(points))
        drainer.wait(60)
        mb = frames * points * 16 / 1e6  # xyz float32 + rgba per point, as logged
        print(f"\n## Throughput: {frames} frames x {points:,} points ({mb:,.0f} MB of arrays; "
              f"file {size / 1e6:,.0f} MB)")
        print(f"{'sink':<38}{'seconds':>9}{'MB/s':>9}{'vs file sink':>14}")
        base = file_run["seconds"]
        for label, run in (
            ("rrformat file sink (save=)", file_run),
            ("rrformat TCP sink (connect) -> viewer", tcp_run),
            ("pyarrow zstd IPC stream -> file", raw_file),
            ("pyarrow zstd IPC stream -> socket", raw_tcp),
        ):
            s = run["seconds"]
            print(f"{label:<38}{s:>9.2f}{mb / s:>9.0f}{base / s:>13.2f}x")
        received = got["rows"].get("lidar/points", 0)
        print(f"TCP: the viewer received {received} of {frames} frames; the SDK dropped "
              f"{tcp_run.get('dropped_records', 0)} records.   target: TCP >= 0.80x the file sink")


if __name__ == "__main__":
    main()
