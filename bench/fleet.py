"""Benchmark of rrquery over many recordings: the catalog, a pruned query across files, Ray Data scaling.

The data: 200 recordings (``--quick``: 20) of 1,000 frames (``--quick``: 200), each frame a
scalar ``robot/speed``, a pose ``robot/pose``, a 500-point lidar scan ``lidar/points``
(float32 xyz + RGB, 2 cm noise per frame) and every 10th frame a 48x64 RGB image
``camera/image``; written by the SDK, two recordings at a time, in two directories.

Cases:

1. ``catalog``: ``rrquery.catalog(dir, refresh=True)``, every recording's summary built from
   its footer, the cache rewritten (target < 1 s); then ``rrquery.catalog(dir)`` answered
   from the cache, and ``rrquery.open_many(glob)`` with and without the cache.
2. ``query``: frames 500-599 of the one entity ``robot/speed`` across all recordings, through
   ``rrquery.scan(glob, "robot/speed", timeline="frame").filter(...)`` (opening included) and
   ``rrquery.open_many(glob).range(...)``. Bytes read are the process's ``rchar`` (every byte
   read by ``read``/``pread``: the catalog cache or the footers, the schemas, the chunk
   records) over the bytes of the files on disk (target < 1%).
3. ``ray``: ``rrquery.ray.read_rrd(dir)`` of every chunk of every recording, with a
   ``map_batches`` that sums each batch (fused into the read tasks, so that the decoded
   rows stay in the workers), on a local Ray of 1 CPU (one worker process) and of 2 CPUs
   (two worker processes), each in a fresh process; the read is planned once before the
   timed runs (its time is reported apart). In as many read tasks as ``read_rrd`` plans
   (4 per CPU), three ways: with Ray Data's per-operator resource reservation on (its
   default: ``DataContext.op_resource_reservation_enabled``, which on a 2-CPU cluster
   lets one read task run at a time), off, and off with one read task per recording (200
   at full size: the number Ray asks for by default; each costs milliseconds of scheduling).
   Target: 2 workers >= 1.6x faster than 1.

Timing: wall clock; one warm-up run, then ``--repeat`` runs (default 5; 3 for ray), the
best is reported with the median. Files are read from the page cache (they were just
written), so the figures measure the work, not the disk.

Usage::

    python bench/fleet.py              # full size: ~1.2 GB written to --out, a few minutes
    python bench/fleet.py --quick      # smaller sizes, a smoke run
    python bench/fleet.py --case ray --out /tmp/fleet --keep   # keep the files; --reuse them next time
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

CASES = ("catalog", "query", "ray")
QUERY_ENTITY = "robot/speed"
TARGET_CATALOG_S = 1.0
TARGET_BYTES_FRACTION = 0.01
TARGET_RAY_SPEEDUP = 1.6
POINTS = 500


@dataclasses.dataclass(frozen=True)
class Sizes:
    recordings: int
    frames: int
    query_start: int
    query_len: int


FULL = Sizes(200, 1000, 500, 100)
QUICK = Sizes(20, 200, 100, 100)


@dataclasses.dataclass
class Row:
    """One line of the table: a measurement, or a heading when ``times`` is empty."""

    case: str
    times: list[float] = dataclasses.field(default_factory=list)
    target: str = ""
    passed: bool | None = None
    note: str = ""

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


# --- data ------------------------------------------------------------------------------------------------
def write_recording(path: str, k: int, frames: int) -> int:
    import rrformat as rr

    rng = np.random.default_rng(k)
    n = POINTS
    az = np.linspace(-np.pi, np.pi, n, endpoint=False)
    base = np.stack([10 * np.cos(az), 10 * np.sin(az), rng.uniform(-1.5, 1.5, n)], axis=1).astype(np.float32)
    colors = rng.integers(0, 256, (n, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:48, 0:64]
    rec = rr.RecordingStream("picker" if k % 2 == 0 else "sorter", recording_id=f"run-{k:04d}", save=path)
    rr.log_scalar("robot/mass", 80.0 + k % 7, timeless=True, recording=rec)
    for i in range(frames):
        rr.set_time_sequence("frame", i, recording=rec)
        rr.set_time_nanos("sensor_time", 1_700_000_000_000_000_000 + k * 10**12 + i * 33_000_000, recording=rec)
        rr.log_scalar(QUERY_ENTITY, 1.5 + np.sin(i / 50) + 0.01 * rng.normal(), recording=rec)
        t = (0.01 * i, 0.02 * k, 0.0)
        rr.log_rigid3("robot/pose", parent_from_child=(t, (0.0, 0.0, np.sin(i / 200), np.cos(i / 200))), recording=rec)
        scan = base + rng.normal(0.0, 0.02, (n, 3)).astype(np.float32)
        rr.log_points("lidar/points", scan, colors=colors, recording=rec)
        if i % 10 == 0:
            image = np.stack([(xx + i) % 256, (yy * 4) % 256, np.full_like(xx, k % 256)], axis=2).astype(np.uint8)
            image += rng.integers(0, 8, image.shape, dtype=np.uint8)
            rr.log_image("camera/image", image, recording=rec)
    rec.disconnect()
    return os.path.getsize(path)


def make_fleet(root: str, sz: Sizes, reuse: bool) -> list[str]:
    paths = [
        os.path.join(root, "day1" if k < sz.recordings // 2 else "day2", f"run-{k:04d}.rrd")
        for k in range(sz.recordings)
    ]
    marker = os.path.join(root, "sizes.json")
    if reuse and os.path.exists(marker) and all(os.path.exists(p) for p in paths):
        with open(marker) as f:
            if json.load(f) == dataclasses.asdict(sz):
                return paths
    shutil.rmtree(root, ignore_errors=True)
    for p in paths:
        os.makedirs(os.path.dirname(p), exist_ok=True)
    with ProcessPoolExecutor(max(1, min(2, os.cpu_count() or 1))) as pool:
        list(pool.map(write_recording, paths, range(sz.recordings), [sz.frames] * sz.recordings))
    with open(marker, "w") as f:
        json.dump(dataclasses.asdict(sz), f)
    return paths


# --- measuring ----------------------------------------------------------------------------------------------
def rchar() -> int:
    """Bytes this process has read so far (read/pread calls, whether from the page cache or the disk)."""
    with open("/proc/self/io") as f:
        for line in f:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    raise RuntimeError("/proc/self/io has no rchar")


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    result = fn()  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return times, result


def fmt_time(s: float) -> str:
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def fmt_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("PASS" if ok else "FAIL")


# --- cases ----------------------------------------------------------------------------------------------------
def case_catalog(root: str, paths: list[str], repeat: int) -> list[Row]:
    import rrquery
    from rrquery._catalog import CACHE_NAME

    n = len(paths)
    rows = [Row(f"catalog of {n} recordings ({fmt_bytes(sum(os.path.getsize(p) for p in paths))})")]
    times, table = timed(lambda: rrquery.catalog(root, refresh=True), repeat)
    cache_kib = os.path.getsize(os.path.join(root, CACHE_NAME)) // 1024
    rows.append(
        Row(
            "  rrquery.catalog(dir, refresh=True): every footer",
            times,
            f"< {fmt_time(TARGET_CATALOG_S)}",
            min(times) < TARGET_CATALOG_S,
            f"{table.height} rows, {table.width} columns; cache {cache_kib} KiB",
        )
    )
    times, _ = timed(lambda: rrquery.catalog(root), repeat)
    rows.append(Row("  rrquery.catalog(dir): from the cache", times, note="stat of each file, no file opened"))
    pattern = os.path.join(root, "**", "*.rrd")
    times, _ = timed(lambda: rrquery.open_many(pattern, use_catalog=False).close(), repeat)
    rows.append(Row("  rrquery.open_many(glob, use_catalog=False)", times, note="every footer read"))
    times, _ = timed(lambda: rrquery.open_many(pattern).close(), repeat)
    rows.append(Row("  rrquery.open_many(glob): fresh catalog cache", times, note="no file opened"))
    return rows


def case_query(root: str, paths: list[str], sz: Sizes, repeat: int) -> list[Row]:
    import rrquery

    on_disk = sum(os.path.getsize(p) for p in paths)
    lo, hi = sz.query_start, sz.query_start + sz.query_len - 1
    pattern = os.path.join(root, "**", "*.rrd")
    rows = [Row(f"{QUERY_ENTITY}, frames {lo}-{hi}, across {len(paths)} recordings ({fmt_bytes(on_disk)} on disk)")]
    for label, use_catalog in (("catalog cache", True), ("footers", False)):

        def scan(use_catalog: bool = use_catalog) -> tuple[pl.DataFrame, int, rrquery.QueryStats]:
            stats = rrquery.QueryStats()
            before = rchar()
            rs = rrquery.open_many(pattern, use_catalog=use_catalog)
            frame = rrquery.scan(rs, QUERY_ENTITY, timeline="frame", stats=stats)
            frame = frame.filter(pl.col("frame").is_between(lo, hi)).collect()
            read = rchar() - before
            rs.close()
            return frame, read, stats

        times, (frame, read, stats) = timed(scan, repeat)
        assert frame.height == len(paths) * sz.query_len, frame.height
        share = read / on_disk
        rows.append(
            Row(
                f"  rrquery.scan(open_many(glob), ...).filter(...), {label}",
                times,
                f"< {TARGET_BYTES_FRACTION:.0%} read",
                share < TARGET_BYTES_FRACTION,
                f"{fmt_bytes(read)} read = {share:.3%} of the files; {stats.records_decoded} records decoded "
                f"in {stats.files_read} files; {frame.height} rows",
            )
        )

    def ranged() -> tuple[pl.DataFrame, int]:
        before = rchar()
        with rrquery.open_many(pattern) as rs:
            frame = rs.range(QUERY_ENTITY, timeline="frame", start=lo, end=hi)
        return frame, rchar() - before

    times, (frame, read) = timed(ranged, repeat)
    rows.append(
        Row(
            "  rrquery.open_many(glob).range(...), catalog cache",
            times,
            note=f"{fmt_bytes(read)} read = {read / on_disk:.3%} of the files; {frame.height} rows",
        )
    )
    return rows


def _batch_sums(batch: pa.Table) -> pa.Table:
    """What a job does with the rows it decoded: a count and a sum per batch."""
    scalar = batch.column("scalar") if "scalar" in batch.column_names else pa.array([], pa.float64())
    total = pa.compute.sum(scalar).as_py() or 0.0
    return pa.table({"rows": [batch.num_rows], "sum": [float(total)]})


def ray_child(root: str, cpus: int, repeat: int, blocks: int | None, reserve: bool) -> dict[str, Any]:
    """In a fresh process: a local Ray of ``cpus`` CPUs reading every chunk of the fleet
    (in ``blocks`` read tasks, or as many as Ray asks for; ``reserve``: Ray Data's
    per-operator resource reservation, on by default)."""
    import ray

    import rrquery.ray as rq

    t = time.perf_counter()
    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    init_s = time.perf_counter() - t
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.op_resource_reservation_enabled = reserve
        t = time.perf_counter()
        source = rq.RrdDatasource(root, tensors="struct")
        plan_s = time.perf_counter() - t

    def job() -> tuple[int, int]:
        # The number of tasks read_rrd asks for, unless told.
        ds = ray.data.read_datasource(source, override_num_blocks=blocks or rq._default_tasks(source.records))
        ds = ds.map_batches(_batch_sums, batch_format="pyarrow", batch_size=None)
        out = ds.take_all()
        return sum(r["rows"] for r in out), len(out)

    times, (rows, blocks) = timed(job, repeat)
    ray.shutdown()
    return {"times": times, "rows": rows, "blocks": blocks, "init_s": init_s, "plan_s": plan_s}


def _spin(n: int) -> float:
    t = time.perf_counter()
    x = 0
    for i in range(n):
        x += i * i
    return time.perf_counter() - t


def machine_parallelism(n: int = 10_000_000) -> float:
    """How much faster two processes spinning finish than one doing both: what the machine
    gives two Ray workers at this moment (2.0 on an idle 2-core machine)."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.map(_spin, [1000, 1000])  # the workers are up before the timing
        t = time.perf_counter()
        _spin(n)
        _spin(n)
        serial = time.perf_counter() - t
        t = time.perf_counter()
        pool.map(_spin, [n, n])
        return serial / (time.perf_counter() - t)


def case_ray(root: str, paths: list[str], repeat: int) -> list[Row]:
    on_disk = sum(os.path.getsize(p) for p in paths)
    rows = [Row(f"Ray Data: every chunk of {len(paths)} recordings ({fmt_bytes(on_disk)}), local Ray")]
    layouts: list[tuple[str, int | None, bool]] = [
        ("Ray Data's reservation on", None, True),
        ("reservation off", None, False),
        (f"reservation off, {len(paths)} tasks", len(paths), False),
    ]
    for label, blocks, reserve in layouts:
        results = {}
        spare = machine_parallelism()
        for cpus in (1, 2):
            arg = json.dumps([root, cpus, repeat, blocks, reserve])
            proc = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "--ray-child", arg], capture_output=True, text=True
            )
            line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
            if proc.returncode != 0 or line is None:
                raise RuntimeError(f"ray child failed:\n{proc.stdout}\n{proc.stderr}")
            results[cpus] = json.loads(line[len("RESULT ") :])
        speedup = min(results[1]["times"]) / min(results[2]["times"])
        for cpus, r in results.items():
            note = (
                f"{r['blocks']} blocks, {r['rows']:,} rows; read planned from the footers in "
                f"{fmt_time(r['plan_s'])}; ray.init {fmt_time(r['init_s'])}"
            )
            workers = "1 worker" if cpus == 1 else "2 workers"
            case = f"  read_rrd(dir).map_batches(sums), {label}, {workers}"
            if cpus == 1:
                rows.append(Row(case, r["times"], note=note))
            else:
                ok = speedup >= TARGET_RAY_SPEEDUP
                note = f"{speedup:.2f}x the 1-worker time (two spinning processes: {spare:.2f}x); {note}"
                rows.append(Row(case, r["times"], f">= {TARGET_RAY_SPEEDUP}x", ok, note))
    return rows


# --- output ---------------------------------------------------------------------------------------------------
def print_table(rows: Sequence[Row]) -> None:
    w = max(len(r.case) for r in rows)
    head = f"{'case':<{w}}  {'best':>9}  {'median':>9}  {'target':>12}  {'result':>6}  note"
    print(head)
    print("-" * len(head))
    for r in rows:
        if not r.times:
            print(r.case)
            continue
        print(
            f"{r.case:<{w}}  {fmt_time(r.best):>9}  {fmt_time(r.median):>9}  {r.target:>12}  "
            f"{verdict(r.passed):>6}  {r.note}".rstrip()
        )


def machine() -> str:
    import ray
    import zstandard

    return (
        f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, polars {pl.__version__}, pyarrow {pa.__version__}, "
        f"zstandard {zstandard.__version__}, ray {ray.__version__}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run (targets are for full size)")
    ap.add_argument("--case", action="append", choices=CASES, help="run only this case (may be repeated)")
    ap.add_argument("--out", help="directory for the files (default: a temporary one under /tmp)")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs after a warm-up (default 5; ray: at most 3)")
    ap.add_argument("--keep", action="store_true", help="keep the recordings at the end")
    ap.add_argument("--reuse", action="store_true", help="reuse recordings kept in --out by a run of the same size")
    ap.add_argument("--ray-child", help=argparse.SUPPRESS)  # JSON [root, cpus, repeat, blocks, reserve]: a child
    args = ap.parse_args(argv)

    if args.ray_child:
        root, cpus, repeat, blocks, reserve = json.loads(args.ray_child)
        print("RESULT " + json.dumps(ray_child(root, cpus, repeat, blocks, reserve)), flush=True)
        return 0

    cases = list(dict.fromkeys(args.case or CASES))
    sz = QUICK if args.quick else FULL
    out = args.out or tempfile.mkdtemp(prefix="rrkit-fleetbench-", dir="/tmp")
    root = os.path.join(out, "runs")
    print(f"date: {date.today().isoformat()}")
    print(f"machine: {machine()}")
    print(f"load average at start: {os.getloadavg()[0]:.2f} (other work on the machine skews the timings)")
    print(f"sizes: {'quick' if args.quick else 'full'} {sz}")
    print(flush=True)
    t0 = time.perf_counter()
    paths = make_fleet(root, sz, args.reuse)
    size = sum(os.path.getsize(p) for p in paths)
    print(f"{len(paths)} recordings, {fmt_bytes(size)}, ready in {time.perf_counter() - t0:.1f} s", flush=True)

    rows: list[Row] = []
    try:
        for case in cases:
            t_case = time.perf_counter()
            if case == "catalog":
                rows += case_catalog(root, paths, args.repeat)
            elif case == "query":
                if not glob.glob(os.path.join(root, ".rrcatalog.json")):
                    import rrquery

                    rrquery.catalog(root)
                rows += case_query(root, paths, sz, args.repeat)
            elif case == "ray":
                rows += case_ray(root, paths, min(3, args.repeat))
            print(f"  {case}: {time.perf_counter() - t_case:.1f} s", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(out if not args.out else root, ignore_errors=True)

    print()
    print(f"Fleet (bench/fleet.py): {'quick sizes, ' if args.quick else ''}best of {args.repeat} runs after a warm-up")
    print()
    print_table(rows)
    print()
    if args.quick:
        print("quick sizes: the targets are for the full sizes, shown for reference only.")
    results = [r.passed for r in rows if r.passed is not None]
    print(f"targets: {sum(results)} of {len(results)} met")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    if args.keep:
        print(f"files kept in {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
