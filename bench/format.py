"""Benchmark of the file format against the raw pyarrow + zstd limit.

Runs, in one process and on the very same Arrow record batches:

1. writing a lidar-like point cloud (``--frames`` frames of ``--points`` points, one
   row per frame) with :class:`rrformat.writer.RrdWriter` and with a pyarrow IPC
   stream, both zstd level 3; both uncompressed, and both zstd to /dev/null (the
   encoding alone, without the page cache), for reference;
2. opening the resulting file through its footer;
3. opening it by a scan of the record headers (no footer);
4. reading everything back (pyarrow stream, rrformat chunks) and one frame in the
   middle through the index;
5. the many-small-entities case: 10,000 entities x 10 frames of one box each,
   written as one ``write_chunks`` batch per frame.

Usage::

    python bench/format.py                      # full size: 1000 frames x 100,000 points
    python bench/format.py --frames 100 --points 20000 --keep --out /tmp/fmt

Timings are wall-clock (``time.perf_counter``). Each write is timed from opening the
file to closing it, without fsync; dirty pages are flushed with ``os.sync()`` before
each timed write (outside the timing) so that no run pays for an earlier one's
writeback. Every write runs ``--repeat`` times (default 5), alternating the writers,
and the best run is reported. Reads hit the page cache (the files were just written,
and the cache cannot be dropped without root), so they measure CPU cost, not the disk.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import zstandard

from rrformat.chunk import ROW_ID, Chunk, timeline_field
from rrformat.components import COMPONENTS
from rrformat.reader import RrdReader
from rrformat.writer import RrdWriter

MB = 1e6
ENTITY = "lidar/points"
TIMELINE = "frame"
POSITIONS_TYPE = COMPONENTS["positions3d"].column_type
COLORS_TYPE = COMPONENTS["colors"].column_type
MIN_FREE_BYTES = 5 * 1024**3

TARGET_WRITE_RATIO = 1.15
TARGET_FOOTER_S = 0.050
TARGET_SCAN_S = 1.0
TARGET_SMALL_BYTES = 10 * MB
TARGET_SMALL_S = 1.0


@dataclasses.dataclass
class Row:
    """One line of the printed table."""

    case: str
    seconds: float
    mb_per_s: float | None = None
    file_bytes: int | None = None
    note: str = ""


# --- data -------------------------------------------------------------------------------


def point_schema() -> pa.Schema:
    return pa.schema(
        [
            pa.field(ROW_ID, pa.uint64(), nullable=False),
            timeline_field(TIMELINE, "sequence"),
            pa.field("positions3d", POSITIONS_TYPE),
            pa.field("colors", COLORS_TYPE),
        ]
    )


class LidarScene:
    """A spinning 64-beam lidar driving slowly down a street.

    Points are range returns along fixed beam directions: the ground (sensor 1.8 m
    high) or building facades on both sides, whose distance changes along the street,
    plus 2 cm range noise and 1 mm of float noise. Consecutive frames are similar but
    never equal, and the float32 coordinates compress only somewhat, like real scans.
    """

    RINGS = 64

    def __init__(self, points: int, seed: int = 7) -> None:
        self.points = points
        self.rng = np.random.default_rng(seed)
        cols = math.ceil(points / self.RINGS)
        elev = np.deg2rad(np.linspace(-24.8, 2.0, self.RINGS, dtype=np.float64))
        azim = np.linspace(-np.pi, np.pi, cols, endpoint=False)
        el, az = np.meshgrid(elev, azim, indexing="ij")
        el, az = el.ravel()[:points], az.ravel()[:points]
        self.dirs = np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=1)
        self.elev = el
        self.row_of_point = (np.arange(points) // cols).astype(np.uint8)

    def frame(self, i: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint8]]:
        """Positions (N x 3, float32, sensor frame) and RGBA colours (N x 4) of frame ``i``."""
        x_ego = 0.05 * i  # 0.5 m/s at 10 Hz
        d = self.dirs
        with np.errstate(divide="ignore", invalid="ignore"):
            ground = np.where(d[:, 2] < -1e-3, -1.8 / d[:, 2], np.inf)
            # Facade distance varies along the street (set-backs every ~8 m).
            along = x_ego + 12.0 * d[:, 0]
            facade = 7.0 + 1.5 * np.sign(np.sin(along / 4.0)) + 0.3 * np.sin(along * 1.3)
            wall = np.where(np.abs(d[:, 1]) > 1e-3, facade / np.abs(d[:, 1]), np.inf)
        rng_m = np.minimum(np.minimum(ground, wall), 80.0)
        rng_m = rng_m + self.rng.normal(0.0, 0.02, self.points)
        pos = (d * rng_m[:, None]).astype(np.float32)
        pos += self.rng.normal(0.0, 0.001, pos.shape).astype(np.float32)
        # Colour by height (a turbo-like ramp) and beam ring, as a viewer would show it.
        h = np.clip((pos[:, 2] + 1.8) / 8.0, 0.0, 1.0)
        rgba = np.empty((self.points, 4), dtype=np.uint8)
        rgba[:, 0] = (255 * h).astype(np.uint8)
        rgba[:, 1] = (255 * (1.0 - np.abs(2 * h - 1))).astype(np.uint8)
        rgba[:, 2] = (255 * (1.0 - h)).astype(np.uint8) ^ (self.row_of_point & 0x7)
        rgba[:, 3] = 255
        return pos, rgba


def frame_batch(schema: pa.Schema, i: int, pos: npt.NDArray[np.float32], rgba: npt.NDArray[np.uint8]) -> pa.RecordBatch:
    """One row: the frame's point list and colour list."""
    n = len(pos)
    offsets = pa.array([0, n], type=pa.int32())
    pts = pa.FixedSizeListArray.from_arrays(pa.array(pos.ravel()), type=POSITIONS_TYPE.value_type)
    cols = pa.FixedSizeListArray.from_arrays(pa.array(rgba.ravel()), type=COLORS_TYPE.value_type)
    return pa.RecordBatch.from_arrays(
        [
            pa.array([i], type=pa.uint64()),
            pa.array([i], type=pa.int64()),
            pa.ListArray.from_arrays(offsets, pts, type=POSITIONS_TYPE),
            pa.ListArray.from_arrays(offsets, cols, type=COLORS_TYPE),
        ],
        schema=schema,
    )


def build_batches(frames: int, points: int) -> list[pa.RecordBatch]:
    schema = point_schema()
    scene = LidarScene(points)
    return [frame_batch(schema, i, *scene.frame(i)) for i in range(frames)]


# --- writers ----------------------------------------------------------------------------


def write_pyarrow(path: str, batches: Sequence[pa.RecordBatch], compression: str) -> None:
    codec = pa.Codec("zstd", 3) if compression == "zstd" else None
    opts = pa.ipc.IpcWriteOptions(compression=codec)
    sink = pa.OSFile(path, "wb")
    with pa.ipc.new_stream(sink, batches[0].schema, options=opts) as w:
        for b in batches:
            w.write_batch(b)
    sink.close()


def write_rrd(path: str, batches: Sequence[pa.RecordBatch], compression: str) -> None:
    w = RrdWriter(path, application_id="bench", compression="zstd" if compression == "zstd" else "none", overwrite=True)
    for b in batches:
        w.write_chunk(Chunk(ENTITY, "points3d", b))
    w.close()


def timed_write(fn: Callable[[], None]) -> tuple[float, float]:
    """Wall time and CPU time (all threads, user + system) of one write."""
    os.sync()  # flush earlier runs' dirty pages outside the timing
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def remove(path: str) -> None:
    if path != os.devnull and os.path.exists(path):
        os.remove(path)


# --- readers ----------------------------------------------------------------------------


def best_of(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best and median wall time of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def open_index(path: str, use_footer: bool) -> int:
    with RrdReader(path, use_footer=use_footer) as r:
        expected = "footer" if use_footer else "scan"
        if r.opened_via != expected or r.damage is not None:
            raise SystemExit(f"{path}: opened via {r.opened_via}, damage {r.damage}")
        return len(r.chunks)


def read_all_pyarrow(path: str) -> int:
    with pa.OSFile(path, "rb") as f:
        rows: int = pa.ipc.open_stream(f).read_all().num_rows
        return rows


def read_all_rrd(path: str) -> int:
    rows = 0
    with RrdReader(path) as r:
        for info in r.chunks:
            rows += r.read_chunk(info).rows
    return rows


def read_one_frame(path: str, frame: int) -> int:
    with RrdReader(path) as r:
        hits = [c for c in r.chunks if c.overlaps(TIMELINE, frame, frame)]
        chunk = r.read_chunk(hits[0])
        return len(chunk.batch.column("positions3d")[0])


# --- many small entities -------------------------------------------------------------------


def small_entities(out: str, entities: int, frames: int, repeat: int) -> tuple[list[Row], int]:
    """10,000 entities x 10 frames of one box each: one ``write_chunks`` call per frame."""
    path = os.path.join(out, "small.rrd")
    remove(path)
    rng = np.random.default_rng(11)
    schema = pa.schema(
        [
            pa.field(ROW_ID, pa.uint64(), nullable=False),
            timeline_field(TIMELINE, "sequence"),
            pa.field("half_sizes", COMPONENTS["half_sizes"].column_type),
            pa.field("centers", COMPONENTS["centers"].column_type),
        ]
    )
    names = [f"world/boxes/{i:05d}" for i in range(entities)]
    half = rng.uniform(0.1, 1.0, (entities, 3)).astype(np.float32)
    offsets = pa.array(np.arange(entities + 1, dtype=np.int32))

    def batch_for(frame: int) -> pa.RecordBatch:
        centers = rng.uniform(-50, 50, (entities, 3)).astype(np.float32)
        vec3 = COMPONENTS["centers"].column_type
        return pa.RecordBatch.from_arrays(
            [
                pa.array(np.arange(frame * entities, (frame + 1) * entities, dtype=np.uint64)),
                pa.array(np.full(entities, frame, dtype=np.int64)),
                pa.ListArray.from_arrays(
                    offsets, pa.FixedSizeListArray.from_arrays(pa.array(half.ravel()), type=vec3.value_type), type=vec3
                ),
                pa.ListArray.from_arrays(
                    offsets,
                    pa.FixedSizeListArray.from_arrays(pa.array(centers.ravel()), type=vec3.value_type),
                    type=vec3,
                ),
            ],
            schema=schema,
        )

    batches = [batch_for(f) for f in range(frames)]
    total, t_build = math.inf, 0.0
    for _ in range(repeat):
        remove(path)
        os.sync()
        t0 = time.perf_counter()
        w = RrdWriter(path, application_id="bench-small")
        build = 0.0
        for b in batches:
            tb = time.perf_counter()
            chunks = [Chunk(names[i], "boxes3d", b.slice(i, 1)) for i in range(entities)]
            build += time.perf_counter() - tb
            w.write_chunks(chunks)
        w.close()
        t = time.perf_counter() - t0
        if t < total:
            total, t_build = t, build
    size = os.path.getsize(path)
    n_chunks = entities * frames
    best, med = best_of(lambda: open_index(path, True), 3)
    rows = [
        Row(
            f"{entities} entities x {frames} frames, write_chunks",
            total,
            file_bytes=size,
            note=f"{n_chunks} chunks, {total / n_chunks * 1e6:.1f} us/chunk "
            f"(of which {t_build:.2f} s making the Chunk views)",
        ),
        Row(
            f"  open via footer ({n_chunks} index entries)",
            best,
            note=f"median {med * 1e3:.0f} ms",
        ),
    ]
    remove(path)
    return rows, size


# --- report -------------------------------------------------------------------------------


def fmt_time(s: float) -> str:
    return f"{s * 1e3:.1f} ms" if s < 1.0 else f"{s:.2f} s"


def print_table(rows: Sequence[Row]) -> None:
    w_case = max(len(r.case) for r in rows)
    head = f"{'case':<{w_case}}  {'time':>10}  {'MB/s':>7}  {'file MB':>8}  note"
    print(head)
    print("-" * len(head))
    for r in rows:
        mbs = f"{r.mb_per_s:.0f}" if r.mb_per_s is not None else ""
        size = f"{r.file_bytes / MB:.1f}" if r.file_bytes is not None else ""
        print(f"{r.case:<{w_case}}  {fmt_time(r.seconds):>10}  {mbs:>7}  {size:>8}  {r.note}")


def machine() -> str:
    return (
        f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, pyarrow {pa.__version__}, "
        f"zstandard {zstandard.__version__}, numpy {np.__version__}"
    )


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--entities", type=int, default=10_000, help="small-entities case: entities per frame")
    ap.add_argument("--entity-frames", type=int, default=10, help="small-entities case: frames")
    ap.add_argument("--out", help="directory for the files (default: a temporary one under /tmp)")
    ap.add_argument("--repeat", type=int, default=5, help="runs of each write; the best is reported")
    ap.add_argument("--keep", action="store_true", help="keep the files at the end")
    args = ap.parse_args(argv)

    out = args.out or tempfile.mkdtemp(prefix="rrkit-bench-", dir="/tmp")
    os.makedirs(out, exist_ok=True)
    print(f"date: {date.today().isoformat()}")
    print(f"machine: {machine()}")
    print(f"load average at start: {os.getloadavg()[0]:.2f} (other work on the machine skews the timings)")

    frames, points = args.frames, args.points
    raw_estimate = frames * points * 16
    free = shutil.disk_usage(out).free
    # Three files exist at once at worst: the two compressed ones and an uncompressed one.
    need = max(MIN_FREE_BYTES, int(3.2 * raw_estimate))
    if free < need:
        scale = free / need
        frames = max(10, int(frames * scale))
        print(f"NOTE: only {free / 1e9:.1f} GB free in {out}; running {frames} frames instead of {args.frames}")
    print(f"disk: {free / 1e9:.1f} GB free in {out}")
    print()

    t0 = time.perf_counter()
    batches = build_batches(frames, points)
    raw = sum(b.nbytes for b in batches)
    print(
        f"data: {frames} frames x {points} points (float32 xyz + RGBA uint8), one row per frame, "
        f"{raw / MB:.0f} MB of Arrow data, built in {time.perf_counter() - t0:.1f} s"
    )
    print()

    paths = {
        ("pyarrow", "zstd"): os.path.join(out, "points.arrows"),
        ("rrd", "zstd"): os.path.join(out, "points.rrd"),
        ("pyarrow", "none"): os.path.join(out, "points-raw.arrows"),
        ("rrd", "none"): os.path.join(out, "points-raw.rrd"),
        ("pyarrow", "devnull"): os.devnull,
        ("rrd", "devnull"): os.devnull,
    }

    def run_write(lib: str, path: str, compression: str) -> None:
        codec = "none" if compression == "none" else "zstd"
        if lib == "pyarrow":
            write_pyarrow(path, batches, codec)
        else:
            write_rrd(path, batches, codec)

    runs: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    sizes: dict[tuple[str, str], int] = {}
    # zstd to /dev/null: the same encoding work without the page cache, to tell CPU from memory effects.
    for compression in ("zstd", "none", "devnull"):
        for rep in range(args.repeat):
            for lib in ("pyarrow", "rrd"):
                key = (lib, compression)
                path = paths[key]
                remove(path)
                t, c = timed_write(functools.partial(run_write, lib, path, compression))
                print(f"  write {lib:<7} {compression:<7} run {rep + 1}: {t:.2f} s (cpu {c:.2f} s)", flush=True)
                runs.setdefault(key, []).append(t)
                cpu.setdefault(key, []).append(c)
                if compression != "devnull":
                    sizes[key] = os.path.getsize(path)
        if compression == "none":
            remove(paths[("pyarrow", "none")])
            remove(paths[("rrd", "none")])
    print()
    best = {k: min(v) for k, v in runs.items()}

    rows: list[Row] = []
    labels = {
        ("pyarrow", "zstd"): "write pyarrow IPC stream, zstd 3",
        ("rrd", "zstd"): "write RrdWriter, zstd 3",
        ("pyarrow", "none"): "write pyarrow IPC stream, uncompressed",
        ("rrd", "none"): "write RrdWriter, compression=none",
        ("pyarrow", "devnull"): "encode pyarrow zstd 3 to /dev/null",
        ("rrd", "devnull"): "encode RrdWriter zstd 3 to /dev/null",
    }
    write_ratio = best[("rrd", "zstd")] / best[("pyarrow", "zstd")]
    for key, label in labels.items():
        lib, compression = key
        other = best[("pyarrow", compression)]
        note = f"median {fmt_time(statistics.median(runs[key]))}, cpu {min(cpu[key]):.2f} s"
        if key in sizes:
            note = f"{sizes[key] / raw:.3f} of raw; " + note
        if key == ("rrd", "zstd"):
            note += (
                f"; {write_ratio:.2f}x pyarrow (target <= {TARGET_WRITE_RATIO}x: "
                f"{verdict(write_ratio <= TARGET_WRITE_RATIO)}); size {sizes[key] / sizes[('pyarrow', 'zstd')]:.3f}x"
            )
        elif lib == "rrd":
            note += f"; {best[key] / other:.2f}x pyarrow"
        rows.append(Row(label, best[key], raw / MB / best[key], sizes.get(key), note))

    rrd_path, arrows_path = paths[("rrd", "zstd")], paths[("pyarrow", "zstd")]
    n_chunks = open_index(rrd_path, True)
    t_footer, m_footer = best_of(lambda: open_index(rrd_path, True), 7)
    rows.append(
        Row(
            "open via footer (RrdReader + index)",
            t_footer,
            note=f"{n_chunks} chunks; median {m_footer * 1e3:.1f} ms "
            f"(target < {TARGET_FOOTER_S * 1e3:.0f} ms: {verdict(t_footer < TARGET_FOOTER_S)})",
        )
    )
    t_scan, m_scan = best_of(lambda: open_index(rrd_path, False), 5)
    rows.append(
        Row(
            "open by scan (use_footer=False)",
            t_scan,
            note=f"{n_chunks} chunks; median {fmt_time(m_scan)} "
            f"(target < {TARGET_SCAN_S:.0f} s: {verdict(t_scan < TARGET_SCAN_S)})",
        )
    )
    t_pa_read, _ = best_of(lambda: read_all_pyarrow(arrows_path), 2)
    rows.append(Row("read all: pyarrow IPC stream (zstd)", t_pa_read, raw / MB / t_pa_read, note="reference"))
    t_rr_read, _ = best_of(lambda: read_all_rrd(rrd_path), 2)
    rows.append(
        Row(
            "read all: RrdReader.read_chunk (zstd)",
            t_rr_read,
            raw / MB / t_rr_read,
            note=f"{t_rr_read / t_pa_read:.2f}x pyarrow",
        )
    )
    mid = frames // 2
    t_one, m_one = best_of(lambda: read_one_frame(rrd_path, mid), 5)
    rows.append(
        Row(
            f"read frame {mid} via the index",
            t_one,
            note=f"open + lookup + read_chunk of {points} points; median {m_one * 1e3:.1f} ms",
        )
    )

    small_rows, small_size = small_entities(out, args.entities, args.entity_frames, args.repeat)
    rows.extend(small_rows)

    print(f"Format (bench/format.py): {frames} frames x {points} points, {raw / MB:.0f} MB raw Arrow")
    print()
    print_table(rows)
    print()
    print("targets:")
    ok = verdict(write_ratio <= TARGET_WRITE_RATIO)
    print(f"  write time <= {TARGET_WRITE_RATIO}x pyarrow zstd stream: {write_ratio:.2f}x {ok}")
    print(f"  open via footer < 50 ms: {t_footer * 1e3:.1f} ms {verdict(t_footer < TARGET_FOOTER_S)}")
    print(f"  open by scan < 1 s: {fmt_time(t_scan)} {verdict(t_scan < TARGET_SCAN_S)}")
    small_time = small_rows[0].seconds
    print(
        f"  {args.entities} entities x {args.entity_frames} frames (SDK goal < 10 MB, < 1 s): "
        f"{small_size / MB:.1f} MB {verdict(small_size < TARGET_SMALL_BYTES)}, "
        f"{fmt_time(small_time)} {verdict(small_time < TARGET_SMALL_S)}"
    )
    print("MB/s is raw Arrow bytes per second; reads are from the page cache.")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")

    if args.keep:
        print(f"files kept in {out}")
    else:
        for p in paths.values():
            remove(p)
        if not args.out:
            shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
