"""Benchmark of the logging SDK (``import rrformat as rr``) against the raw pyarrow + zstd limit.

Every case runs in its own subprocess (this script with ``--run CASE:VARIANT``), so that
its peak memory is its own. A case is timed from its first call (``rr.init``, or opening
the pyarrow stream) through ``rr.disconnect()`` (the file closed with its footer), or
through closing the pyarrow stream. Data is generated before the timing starts: a few
distinct frames are precomputed and cycled.

Cases (``sdk`` is the SDK, ``pyarrow`` the same data as one zstd level 3 IPC stream,
built from the same numpy arrays inside the timing):

1. ``scalars``: 1,000,000 ``set_time_sequence("frame", i)`` + ``log_scalar("plot/x", x)``
   pairs (the pyarrow row: a Python loop appending to lists, then one batch).
2. ``points``: 1000 frames x 100,000 points (float32 xyz, uint8 RGB), one ``log_points``
   per frame (the pyarrow row: one batch per frame, colours made RGBA like the SDK does).
3. ``images``: 300 RGB images 480x640 uint8, one ``log_image`` per frame (the pyarrow
   row: one ``tensor`` struct row per frame, pixels as one large_binary value).
4. ``boxes``: 10,000 entities ``objects/{i}/box`` x 10 frames, one ``log_obb`` each
   (the pyarrow row: one 10,000-row batch per frame).
5. ``columns``: 1,000,000 scalars through one ``log_columns`` call (the pyarrow row: one
   batch), then a 10,000-frame range read through the file's index.

Not timed: imports, data generation, and the one-time import of pandas that pyarrow
makes at its first array conversion when pandas is installed (0.2-0.4 s; each child
makes one conversion before its timing starts, for both variants alike).

Peak RSS growth: the child resets the kernel's high-water mark (``/proc/self/clear_refs``)
once its data is ready, then reports ``VmHWM`` at the end minus ``VmRSS`` at the start
(falling back to ``ru_maxrss`` when the reset is not permitted).

Usage::

    python bench/sdk.py                 # full size (about 4 GB written, a few minutes)
    python bench/sdk.py --quick         # smaller sizes, a smoke run
    python bench/sdk.py --case points --repeat 3 --out /tmp/sdkbench
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from _common import PeakRss, lidar_frames  # bench/ is on sys.path when a script runs

MIB = 1024 * 1024
MB = 1e6
CASES = ("scalars", "points", "images", "boxes", "columns")
VARIANTS = ("pyarrow", "sdk")
DISTINCT_FRAMES = 10

TARGET_SCALAR_US = 5.0
TARGET_RATIO = 1.15
TARGET_POINTS_RSS_MIB = 300.0
TARGET_BOXES_S = 1.0
TARGET_BOXES_BYTES = 10 * MB
TARGET_COLUMNS_S = 0.1


@dataclasses.dataclass(frozen=True)
class Sizes:
    scalars: int
    frames: int
    points: int
    images: int
    height: int
    width: int
    entities: int
    box_frames: int
    columns: int
    range_start: int
    range_len: int


FULL = Sizes(1_000_000, 1000, 100_000, 300, 480, 640, 10_000, 10, 1_000_000, 500_000, 10_000)
QUICK = Sizes(100_000, 50, 20_000, 30, 480, 640, 2_000, 10, 1_000_000, 500_000, 10_000)


# --- data ---------------------------------------------------------------------------------------
def camera_frames(n_frames: int, height: int, width: int, seed: int = 3) -> list[npt.NDArray[np.uint8]]:
    """``n_frames`` distinct RGB images: smooth shading, a few moving blocks and sensor noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    out = []
    for i in range(n_frames):
        img = np.empty((height, width, 3), dtype=np.float32)
        img[..., 0] = 120 + 80 * np.sin((xx + 7 * i) / 90.0)
        img[..., 1] = 110 + 70 * np.cos((yy - 5 * i) / 70.0)
        img[..., 2] = 100 + 60 * np.sin((xx + yy) / 120.0)
        for k in range(6):
            y0, x0 = (37 * k + 11 * i) % (height - 60), (83 * k + 17 * i) % (width - 80)
            img[y0 : y0 + 60, x0 : x0 + 80] = (40 * k) % 255
        img += rng.normal(0.0, 3.0, img.shape).astype(np.float32)
        out.append(np.clip(img, 0, 255).astype(np.uint8))
    return out


# --- results --------------------------------------------------------------------------------------
@dataclasses.dataclass
class Result:
    case: str
    variant: str
    seconds: float
    items: int
    unit: str
    input_bytes: int = 0
    file_bytes: int = 0
    rss_mib: float = 0.0
    rss_method: str = ""
    cpu_seconds: float = 0.0
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


def _ipc_options() -> pa.ipc.IpcWriteOptions:
    return pa.ipc.IpcWriteOptions(compression=pa.Codec("zstd", 3))


def _write_stream(path: str, batches: Callable[[], Any], schema: pa.Schema) -> None:
    """Write the batches produced by ``batches()`` (a generator, so each is built just in time)."""
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_stream(sink, schema, options=_ipc_options()) as w:
        for b in batches():
            w.write_batch(b)


def _cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


_cpu_used = 0.0  # CPU seconds (all threads) of the last timed run


def _timed(fn: Callable[[], None], rss: PeakRss) -> tuple[float, float]:
    # pyarrow imports pandas (when installed) at its first array conversion, which takes
    # 0.2-0.4 s: a one-time import like pyarrow's own, done here for both variants.
    pa.array(np.zeros(1))
    os.sync()  # earlier runs' dirty pages are written back outside the timing
    global _cpu_used
    rss.start()
    c0 = _cpu_seconds()
    t0 = time.perf_counter()
    fn()
    seconds = time.perf_counter() - t0
    _cpu_used = _cpu_seconds() - c0
    return seconds, rss.stop()


def _schema(*components: tuple[str, str]) -> pa.Schema:
    """The SDK's chunk schema: row_id, frame, log_time, then the components."""
    from rrformat.chunk import ROW_ID, TimelineKind, timeline_field
    from rrformat.components import COMPONENTS

    fields = [
        pa.field(ROW_ID, pa.uint64(), nullable=False),
        timeline_field("frame", TimelineKind.SEQUENCE),
        timeline_field("log_time", TimelineKind.TIME),
    ]
    fields += [pa.field(name, COMPONENTS[name].column_type) for name, _ in components]
    return pa.schema(fields)


def _one_row_list(values: pa.Array, n: int, list_type: pa.DataType) -> pa.Array:
    return pa.ListArray.from_arrays(pa.array([0, n], type=pa.int32()), values, type=list_type)


def _rgba(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """RGB to RGBA as the SDK does it (channel by channel, the fastest way with numpy)."""
    out = np.empty((len(rgb), 4), dtype=np.uint8)
    for k in range(3):
        out[:, k] = rgb[:, k]
    out[:, 3] = 255
    return out


# --- the cases ------------------------------------------------------------------------------------
def case_scalars(variant: str, sz: Sizes, path: str) -> Result:
    import rrformat as rr

    n = sz.scalars
    values = np.random.default_rng(1).normal(size=n).tolist()
    rss = PeakRss()
    if variant == "sdk":

        def run() -> None:
            rr.init("bench-scalars", save=path)
            set_time, log_scalar = rr.set_time_sequence, rr.log_scalar
            for i in range(n):
                set_time("frame", i)
                log_scalar("plot/x", values[i])
            rr.disconnect()

    else:

        def run() -> None:
            frames: list[int] = []
            xs: list[float] = []
            for i in range(n):
                frames.append(i)
                xs.append(values[i])
            schema = pa.schema([pa.field("frame", pa.int64()), pa.field("scalar", pa.float64())])
            batch = pa.record_batch([pa.array(frames, pa.int64()), pa.array(xs, pa.float64())], schema=schema)
            _write_stream(path, lambda: [batch], schema)

    seconds, peak = _timed(run, rss)
    return Result("scalars", variant, seconds, n, "pair", n * 16, os.path.getsize(path), peak, rss.method)


def case_points(variant: str, sz: Sizes, path: str) -> Result:
    import rrformat as rr
    from rrformat.components import COMPONENTS

    frames = lidar_frames(min(DISTINCT_FRAMES, sz.frames), sz.points)
    k = len(frames)
    rss = PeakRss()
    if variant == "sdk":

        def run() -> None:
            rr.init("bench-points", save=path)
            for i in range(sz.frames):
                pos, rgb = frames[i % k]
                rr.set_time_sequence("frame", i)
                rr.log_points("lidar/points", pos, colors=rgb)
            rr.disconnect()

    else:
        schema = _schema(("positions3d", ""), ("colors", ""))
        pos_t, col_t = COMPONENTS["positions3d"].column_type, COMPONENTS["colors"].column_type

        def batches() -> Any:
            for i in range(sz.frames):
                pos, rgb = frames[i % k]
                n = len(pos)
                pts = pa.FixedSizeListArray.from_arrays(pa.array(pos.reshape(-1)), type=pos_t.value_type)
                cols = pa.FixedSizeListArray.from_arrays(pa.array(_rgba(rgb).reshape(-1)), type=col_t.value_type)
                yield pa.record_batch(
                    [
                        pa.array([i], pa.uint64()),
                        pa.array([i], pa.int64()),
                        pa.array([time.time_ns()], pa.int64()),
                        _one_row_list(pts, n, pos_t),
                        _one_row_list(cols, n, col_t),
                    ],
                    schema=schema,
                )

        def run() -> None:
            _write_stream(path, batches, schema)

    seconds, peak = _timed(run, rss)
    size = os.path.getsize(path)
    return Result("points", variant, seconds, sz.frames, "frame", sz.frames * sz.points * 15, size, peak, rss.method)


def case_images(variant: str, sz: Sizes, path: str) -> Result:
    import rrformat as rr
    from rrformat.components import TENSOR_TYPE

    images = camera_frames(min(DISTINCT_FRAMES, sz.images), sz.height, sz.width)
    k = len(images)
    rss = PeakRss()
    if variant == "sdk":

        def run() -> None:
            rr.init("bench-images", save=path)
            for i in range(sz.images):
                rr.set_time_sequence("frame", i)
                rr.log_image("camera/rgb", images[i % k])
            rr.disconnect()

    else:
        schema = _schema(("tensor", ""))
        shape_t, names_t = TENSOR_TYPE.field("shape").type, TENSOR_TYPE.field("names").type

        def batches() -> Any:
            for i in range(sz.images):
                img = np.ascontiguousarray(images[i % k])
                data = pa.LargeBinaryArray.from_buffers(
                    pa.large_binary(), 1, [None, pa.py_buffer(np.array([0, img.nbytes], np.int64)), pa.py_buffer(img)]
                )
                tensor = pa.StructArray.from_arrays(
                    [
                        pa.array([list(img.shape)], shape_t),
                        pa.array([["height", "width", "color"]], names_t),
                        pa.array(["uint8"], pa.utf8()),
                        data,
                    ],
                    fields=list(TENSOR_TYPE),
                )
                yield pa.record_batch(
                    [
                        pa.array([i], pa.uint64()),
                        pa.array([i], pa.int64()),
                        pa.array([time.time_ns()], pa.int64()),
                        tensor,
                    ],
                    schema=schema,
                )

        def run() -> None:
            _write_stream(path, batches, schema)

    seconds, peak = _timed(run, rss)
    nbytes = sz.images * sz.height * sz.width * 3
    return Result("images", variant, seconds, sz.images, "image", nbytes, os.path.getsize(path), peak, rss.method)


def case_boxes(variant: str, sz: Sizes, path: str) -> Result:
    import rrformat as rr
    from rrformat.components import COMPONENTS

    rng = np.random.default_rng(11)
    ne, nf = sz.entities, sz.box_frames
    names = [f"objects/{i}/box" for i in range(ne)]
    half = rng.uniform(0.1, 1.0, (ne, 3)).astype(np.float32)
    centers = rng.uniform(-50, 50, (nf, ne, 3)).astype(np.float32)
    rss = PeakRss()
    if variant == "sdk":
        # One numpy row per call, as a tracker would hand them over; the slicing is not timed.
        half_rows = list(half)
        center_rows = [list(centers[f]) for f in range(nf)]

        def run() -> None:
            rr.init("bench-boxes", save=path)
            log_obb = rr.log_obb
            for f in range(nf):
                rr.set_time_sequence("frame", f)
                rows = center_rows[f]
                for i in range(ne):
                    log_obb(names[i], half_size=half_rows[i], position=rows[i])
            rr.disconnect()

    else:
        vec3 = COMPONENTS["centers"].column_type
        schema = pa.schema([pa.field("entity", pa.utf8()), *_schema(("half_sizes", ""), ("centers", ""))])
        offsets = pa.array(np.arange(ne + 1, dtype=np.int32))

        def batches() -> Any:
            entity = pa.array(names, pa.utf8())
            for f in range(nf):
                yield pa.record_batch(
                    [
                        entity,
                        pa.array(np.arange(f * ne, (f + 1) * ne, dtype=np.uint64)),
                        pa.array(np.full(ne, f, dtype=np.int64)),
                        pa.array(np.full(ne, time.time_ns(), dtype=np.int64)),
                        pa.ListArray.from_arrays(
                            offsets,
                            pa.FixedSizeListArray.from_arrays(pa.array(half.ravel()), type=vec3.value_type),
                            type=vec3,
                        ),
                        pa.ListArray.from_arrays(
                            offsets,
                            pa.FixedSizeListArray.from_arrays(pa.array(centers[f].ravel()), type=vec3.value_type),
                            type=vec3,
                        ),
                    ],
                    schema=schema,
                )

        def run() -> None:
            _write_stream(path, batches, schema)

    seconds, peak = _timed(run, rss)
    n = ne * nf
    return Result("boxes", variant, seconds, n, "box", n * 24, os.path.getsize(path), peak, rss.method)


def case_columns(variant: str, sz: Sizes, path: str) -> Result:
    import rrformat as rr

    n = sz.columns
    frames = np.arange(n)
    values = np.sin(frames / 1000.0) + np.random.default_rng(5).normal(0.0, 0.01, n)
    rss = PeakRss()
    if variant == "sdk":

        def run() -> None:
            rr.init("bench-columns", save=path)
            rr.log_columns("plot/y", "scalar", times={"frame": frames}, scalar=values)
            rr.disconnect()

    else:
        schema = pa.schema([pa.field("frame", pa.int64()), pa.field("scalar", pa.float64())])

        def run() -> None:
            batch = pa.record_batch([pa.array(frames, pa.int64()), pa.array(values, pa.float64())], schema=schema)
            _write_stream(path, lambda: [batch], schema)

    seconds, peak = _timed(run, rss)
    res = Result("columns", variant, seconds, n, "scalar", n * 16, os.path.getsize(path), peak, rss.method)
    if variant == "sdk":
        res.extra = range_read(path, sz.range_start, sz.range_start + sz.range_len - 1)
    return res


def range_read(path: str, start: int, end: int) -> dict[str, Any]:
    """Open the file, pick the chunks whose ``frame`` range overlaps [start, end] and read only those."""
    import rrformat as rr

    t0 = time.perf_counter()
    with rr.RrdReader(path) as r:
        t_open = time.perf_counter() - t0
        chunks = [c for c in r.chunks if c.entity == "plot/y"]
        hits = [c for c in chunks if c.overlaps("frame", start, end)]
        rows = 0
        for info in hits:
            col = r.read_chunk(info).batch.column("frame").to_numpy()
            rows += int(np.count_nonzero((col >= start) & (col <= end)))
    seconds = time.perf_counter() - t0
    if rows != end - start + 1:
        raise SystemExit(f"range read found {rows} rows in [{start}, {end}], expected {end - start + 1}")
    return {
        "range": [start, end],
        "chunks_read": len(hits),
        "chunks_total": len(chunks),
        "rows_read": sum(c.rows for c in hits),
        "rows_in_range": rows,
        "open_s": t_open,
        "seconds": seconds,
    }


CASE_FUNCS: dict[str, Callable[[str, Sizes, str], Result]] = {
    "scalars": case_scalars,
    "points": case_points,
    "images": case_images,
    "boxes": case_boxes,
    "columns": case_columns,
}


# --- the parent: subprocesses and the table ----------------------------------------------------
def run_child(case: str, variant: str, quick: bool, out: str) -> Result:
    cmd = [sys.executable, os.path.abspath(__file__), "--run", f"{case}:{variant}", "--out", out]
    if quick:
        cmd.append("--quick")
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return Result(**json.loads(line[len("RESULT ") :]))
    sys.stderr.write(proc.stdout + proc.stderr)
    raise SystemExit(f"case {case}:{variant} failed (exit code {proc.returncode})")


def per_item(r: Result) -> str:
    us = r.seconds / r.items * 1e6
    if us < 1000:
        return f"{us:.2f} us/{r.unit}"
    return f"{us / 1000:.2f} ms/{r.unit}"


def targets(case: str, sdk: Result, base: Result | None, sz: Sizes) -> list[tuple[str, bool]]:
    """The targets of a case, each as (description with the measured value, met)."""
    out: list[tuple[str, bool]] = []
    ratio = sdk.seconds / base.seconds if base is not None else math.nan
    if case == "scalars":
        us = sdk.seconds / sdk.items * 1e6
        out.append((f"<= {TARGET_SCALAR_US:g} us per pair: {us:.2f} us", us <= TARGET_SCALAR_US))
    elif case == "points":
        out.append((f"<= {TARGET_RATIO}x pyarrow: {ratio:.2f}x", ratio <= TARGET_RATIO))
        out.append(
            (
                f"peak RSS <= {TARGET_POINTS_RSS_MIB:g} MiB above start: {sdk.rss_mib:.0f} MiB",
                sdk.rss_mib <= TARGET_POINTS_RSS_MIB,
            )
        )
    elif case == "images":
        out.append((f"<= {TARGET_RATIO}x pyarrow: {ratio:.2f}x", ratio <= TARGET_RATIO))
    elif case == "boxes":
        scale = sz.entities * sz.box_frames / (FULL.entities * FULL.box_frames)
        t, b = TARGET_BOXES_S * scale, TARGET_BOXES_BYTES * scale
        out.append((f"< {t:g} s: {sdk.seconds:.2f} s", sdk.seconds < t))
        out.append((f"file < {b / MB:g} MB: {sdk.file_bytes / MB:.2f} MB", sdk.file_bytes < b))
    elif case == "columns":
        out.append((f"< {TARGET_COLUMNS_S:g} s: {sdk.seconds:.3f} s", sdk.seconds < TARGET_COLUMNS_S))
        x = sdk.extra
        out.append(
            (
                f"range read touches only overlapping chunks: {x['chunks_read']} of {x['chunks_total']}",
                0 < x["chunks_read"] < x["chunks_total"],
            )
        )
    return out


def print_table(results: Sequence[Result]) -> None:
    base = {r.case: r for r in results if r.variant == "pyarrow"}
    head = (
        f"{'case':<8} {'variant':<8} {'items':>9} {'time':>9} {'per item':>15} {'MB/s':>7} "
        f"{'file MB':>8} {'peak RSS':>9} {'CPU':>8} {'vs pyarrow':>10}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        b = base.get(r.case)
        ratio = f"{r.seconds / b.seconds:.2f}x" if b is not None and r.variant == "sdk" else ""
        mbs = r.input_bytes / MB / r.seconds if r.seconds > 0 else 0.0
        print(
            f"{r.case:<8} {r.variant:<8} {r.items:>9,} {r.seconds:>8.3f}s {per_item(r):>15} {mbs:>7.0f} "
            f"{r.file_bytes / MB:>8.1f} {r.rss_mib:>6.0f}MiB {r.cpu_seconds:>7.2f}s {ratio:>10}"
        )


def machine() -> str:
    import zstandard

    return (
        f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, pyarrow {pa.__version__}, "
        f"numpy {np.__version__}, zstandard {zstandard.__version__}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    ap.add_argument("--case", action="append", choices=CASES, help="run only this case (may be repeated)")
    ap.add_argument("--out", help="directory for the files (default: a temporary one under /tmp)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each case and variant; the fastest is reported")
    ap.add_argument("--keep", action="store_true", help="keep the files")
    ap.add_argument("--run", help=argparse.SUPPRESS)  # CASE:VARIANT, in a child process
    args = ap.parse_args(argv)
    sz = QUICK if args.quick else FULL
    out = args.out or tempfile.mkdtemp(prefix="rrkit-sdkbench-", dir="/tmp")
    os.makedirs(out, exist_ok=True)

    if args.run:
        case, variant = args.run.split(":")
        path = os.path.join(out, f"{case}-{variant}.{'rrd' if variant == 'sdk' else 'arrows'}")
        if os.path.exists(path):
            os.remove(path)
        res = CASE_FUNCS[case](variant, sz, path)
        res.cpu_seconds = _cpu_used
        print("RESULT " + json.dumps(dataclasses.asdict(res)), flush=True)
        return 0

    print(f"date: {date.today().isoformat()}")
    print(f"machine: {machine()}")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    print(f"sizes: {'quick' if args.quick else 'full'} {sz}")
    print(f"disk: {shutil.disk_usage(out).free / 1e9:.1f} GB free in {out}")
    print(flush=True)
    results: list[Result] = []
    for case in args.case or CASES:
        best: dict[str, Result] = {}
        for _ in range(args.repeat):
            for variant in VARIANTS:
                r = run_child(case, variant, args.quick, out)
                if variant not in best or r.seconds < best[variant].seconds:
                    best[variant] = r
                if not args.keep:
                    for name in os.listdir(out):
                        if name.startswith(f"{case}-{variant}."):
                            os.remove(os.path.join(out, name))
        results += [best[v] for v in VARIANTS]
        print(f"  {case}: pyarrow {best['pyarrow'].seconds:.3f} s, sdk {best['sdk'].seconds:.3f} s", flush=True)
    print()
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    print()
    print_table(results)
    print()
    print(
        f"time: wall clock, best of {args.repeat}; CPU: user + system seconds of all threads; "
        f"peak RSS: growth during the case ({results[0].rss_method})"
    )
    all_ok = True
    for case in dict.fromkeys(r.case for r in results):
        sdk = next(r for r in results if r.case == case and r.variant == "sdk")
        base = next((r for r in results if r.case == case and r.variant == "pyarrow"), None)
        if sdk.extra:
            x = sdk.extra
            print(
                f"{case}: range {x['range'][0]}..{x['range'][1]} read {x['chunks_read']} of {x['chunks_total']} chunks "
                f"({x['rows_read']:,} rows, {x['rows_in_range']:,} in range) in {x['seconds'] * 1e3:.1f} ms "
                f"(of which opening {x['open_s'] * 1e3:.1f} ms)"
            )
        for text, ok in targets(case, sdk, base, sz):
            all_ok &= ok
            print(f"  [{'PASS' if ok else 'FAIL'}] {case}: {text}")
    if not args.keep and not args.out:
        shutil.rmtree(out, ignore_errors=True)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
