"""Benchmark of rrquery (the Polars query layer) against pyarrow reading the same values from plain IPC files.

Every rrquery figure is measured in the same run as its baseline: pyarrow reading the
very same Arrow record batches (copied out of the .rrd file) from an Arrow IPC file,
uncompressed and zstd, memory-mapped, then ``pl.from_arrow``. The baselines are given
what rrquery reads from its index for free: which batches hold the wanted frames.

Cases:

1. ``scalars``: all 1,000,000 scalars of ``plot/x`` into a Polars frame
   (``rec.range("plot/x")`` and ``rec.range("plot/x", timeline="frame")``), from two
   files: one logged call by call (``rr.set_time_sequence`` + ``rr.log_scalar``) and one
   logged with one ``rr.log_columns`` call. Target < 50 ms.
2. ``range``: frames 500,000-509,999 of those scalars
   (``rec.range("plot/x", timeline="frame", start=500_000, end=509_999)``), with the
   number of chunk records decoded (``rec.stats``). Target < 5 ms.
3. ``points``: frames 500-509 of 1000 frames x 100,000 points (float32 xyz + uint8 RGB,
   one ``rr.log_points`` per frame): ``rec.range`` on an open recording (target < 20 ms),
   the lazy ``rrquery.scan(path, ...).filter(pl.col("frame").is_between(500, 509))``
   (which opens the file: its index is read in the timing) and the same scan of an open
   recording (``rrquery.scan(rec, ...)``); then the peak memory growth of each way of
   reading, each in a fresh subprocess (target < 100 MiB for the lazy scan).
4. ``export``: ``rrquery.export(path, "export.parquet")`` of the 1,000,000 scalars, opening
   the file included (target < 0.2 s), against pyarrow reading the zstd IPC file and
   writing Parquet (zstd) with its default settings, and with the column encodings the
   export uses.

Timing: wall clock (``time.perf_counter``); one warm-up run, then ``--repeat`` runs (default
5), the variants of a case taking turns, the best run is reported with the median. Range
cases run on a recording already open (``rrquery.open``, whose cost is its own row) and the
baselines on an IPC file already open, so both measure the query. Files are read from the
page cache (they were just written). Memory: each query runs once in a fresh process, which
imports the libraries and warms them up on a tiny table (pyarrow imports pandas at its first
conversion, Polars starts its threads: ~50 MiB, reported apart), resets the kernel's
high-water mark (``/proc/self/clear_refs``), then reports ``VmHWM`` after the query minus
``VmRSS`` before it (``ru_maxrss`` before and after where the reset is not permitted).

Usage::

    python bench/query.py                       # full size: needs about 6 GB free in --out
    python bench/query.py --quick               # smaller sizes, a smoke run
    python bench/query.py --case range --case export --repeat 9
    python bench/query.py --out /tmp/qbench --keep   # keep the files; --reuse on the next run
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from _common import PeakRss, lidar_frames  # bench/ is on sys.path when a script runs

MIB = 1024 * 1024
CASES = ("scalars", "range", "points", "export")
SCALAR_ENTITY = "plot/x"
POINTS_ENTITY = "world/points"
FREE_BYTES_FULL = 6 * 1024**3
EXPORT_FILES = ("export.parquet", "pyarrow.parquet", "pyarrow-enc.parquet")

TARGET_ALL_S = 0.050
TARGET_RANGE_S = 0.005
TARGET_POINTS_S = 0.020
TARGET_SCAN_RSS_MIB = 100.0
TARGET_EXPORT_S = 0.2


@dataclasses.dataclass(frozen=True)
class Sizes:
    scalars: int
    range_start: int
    range_len: int
    frames: int
    points: int
    frame_start: int
    frame_len: int


FULL = Sizes(1_000_000, 500_000, 10_000, 1000, 100_000, 500, 10)
QUICK = Sizes(100_000, 50_000, 10_000, 50, 20_000, 25, 10)


class Times(list[float]):
    """Wall times of the runs; ``cpu`` holds the CPU time of each (all threads, user + system)."""

    def __init__(self) -> None:
        super().__init__()
        self.cpu: list[float] = []


@dataclasses.dataclass
class Row:
    """One line of the table: a measurement, or a heading when ``times`` is empty."""

    case: str
    times: list[float] = dataclasses.field(default_factory=list)
    zstd: float | None = None
    raw: float | None = None
    target: float | None = None
    decoded: str = ""
    note: str = ""

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def cpu(self) -> float | None:
        return min(self.times.cpu) if isinstance(self.times, Times) and self.times.cpu else None

    @property
    def passed(self) -> bool | None:
        return None if self.target is None or not self.times else self.best < self.target


# --- data ------------------------------------------------------------------------------------------
def write_scalars_calls(path: str, n: int) -> None:
    import rrformat as rr

    values = np.random.default_rng(1).normal(size=n).tolist()
    rec = rr.RecordingStream("bench-query", save=path)
    set_time, log_scalar = rr.set_time_sequence, rr.log_scalar
    for i in range(n):
        set_time("frame", i, recording=rec)
        log_scalar(SCALAR_ENTITY, values[i], recording=rec)
    rec.disconnect()


def write_scalars_columns(path: str, n: int) -> None:
    import rrformat as rr

    values = np.random.default_rng(1).normal(size=n)
    rec = rr.RecordingStream("bench-query", save=path)
    rr.log_columns(SCALAR_ENTITY, "scalar", times={"frame": np.arange(n)}, scalar=values, recording=rec)
    rec.disconnect()


def write_points(path: str, frames: int, points: int) -> None:
    import rrformat as rr

    scans = lidar_frames(min(10, frames), points)
    rec = rr.RecordingStream("bench-query", save=path)
    for i in range(frames):
        pos, rgb = scans[i % len(scans)]
        rr.set_time_sequence("frame", i, recording=rec)
        rr.log_points(POINTS_ENTITY, pos, colors=rgb, recording=rec)
    rec.disconnect()


def rrd_batches(path: str) -> Iterator[pa.RecordBatch]:
    """The record batches of an .rrd file in file order, time timelines as timestamp(ns, UTC).

    rrquery returns time timelines as Datetime(ns, UTC): the baseline files hold the same type,
    so that both sides end with the same Polars frame.
    """
    from rrformat.chunk import TimelineKind, timeline_kind_of
    from rrformat.reader import RrdReader

    ts = pa.timestamp("ns", tz="UTC")
    with RrdReader(path) as r:
        for offset in dict.fromkeys(c.record_offset for c in r.chunks):
            batch = r.decode_record(offset)
            fields, arrays = [], []
            for f, a in zip(batch.schema, batch.columns, strict=True):
                if timeline_kind_of(f) is TimelineKind.TIME:
                    fields.append(pa.field(f.name, ts))
                    arrays.append(a.cast(ts))
                else:
                    fields.append(pa.field(f.name, f.type, f.nullable))
                    arrays.append(a)
            yield pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def write_ipc_copies(rrd: str, raw: str, zstd: str) -> None:
    """The batches of ``rrd`` as two IPC files, uncompressed and zstd (level 3, as the .rrd)."""
    writers: list[tuple[pa.NativeFile, pa.ipc.RecordBatchFileWriter]] = []
    try:
        for batch in rrd_batches(rrd):
            if not writers:
                for path, codec in ((raw, None), (zstd, pa.Codec("zstd", 3))):
                    sink = pa.OSFile(path, "wb")
                    opts = pa.ipc.IpcWriteOptions(compression=codec)
                    writers.append((sink, pa.ipc.new_file(sink, batch.schema, options=opts)))
            for _, w in writers:
                w.write_batch(batch)
    finally:
        for sink, w in writers:
            w.close()
            sink.close()


@dataclasses.dataclass
class Files:
    out: str
    sz: Sizes

    def path(self, name: str) -> str:
        return os.path.join(self.out, name)

    @property
    def scalar_sets(self) -> dict[str, str]:
        """Label of each scalar file to its stem."""
        return {"log_scalar calls": "scalars-calls", "log_columns": "scalars-columns"}

    def manifest(self) -> dict[str, Any]:
        return dataclasses.asdict(self.sz)

    def ready(self, names: Sequence[str]) -> bool:
        try:
            with open(self.path("manifest.json")) as f:
                if json.load(f) != self.manifest():
                    return False
        except (OSError, ValueError):
            return False
        return all(os.path.exists(self.path(n)) for n in names)

    def make(self, cases: Sequence[str], reuse: bool) -> None:
        needed: list[tuple[str, Callable[[str], None]]] = []
        n = self.sz.scalars
        if {"scalars", "range", "export"} & set(cases):
            needed.append(("scalars-calls", lambda p: write_scalars_calls(p, n)))
            needed.append(("scalars-columns", lambda p: write_scalars_columns(p, n)))
        if "points" in cases:
            needed.append(("points", lambda p: write_points(p, self.sz.frames, self.sz.points)))
        names = [f"{stem}{ext}" for stem, _ in needed for ext in (".rrd", ".arrow", ".zstd.arrow")]
        if reuse and self.ready(names):
            print(f"reusing the data files in {self.out}")
            return
        for stem, write in needed:
            t0 = time.perf_counter()
            rrd = self.path(stem + ".rrd")
            if os.path.exists(rrd):
                os.remove(rrd)
            write(rrd)
            t1 = time.perf_counter()
            write_ipc_copies(rrd, self.path(stem + ".arrow"), self.path(stem + ".zstd.arrow"))
            sizes = ", ".join(
                f"{ext} {os.path.getsize(self.path(stem + ext)) / 1e6:.1f} MB"
                for ext in (".rrd", ".arrow", ".zstd.arrow")
            )
            print(f"  wrote {stem}: {t1 - t0:.1f} s (.rrd), {time.perf_counter() - t1:.1f} s (IPC copies); {sizes}")
        with open(self.path("manifest.json"), "w") as f:
            json.dump(self.manifest(), f)

    def remove(self) -> None:
        """Remove the files this script writes, and only those (``--out`` may hold others)."""
        stems = [*self.scalar_sets.values(), "points"]
        names = [f"{stem}{ext}" for stem in stems for ext in (".rrd", ".arrow", ".zstd.arrow")]
        names += [*EXPORT_FILES, "manifest.json"]
        for name in names:
            if os.path.exists(self.path(name)):
                os.remove(self.path(name))


# --- timing -----------------------------------------------------------------------------------------
def measure(
    variants: dict[str, Callable[[], object]], repeat: int, before: Callable[[str], None] | None = None
) -> dict[str, Times]:
    """Wall and CPU times of each variant: one warm-up each, then ``repeat`` rounds taking turns."""
    times = {k: Times() for k in variants}
    for rnd in range(repeat + 1):
        for name, fn in variants.items():
            if before is not None:
                before(name)
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            t, c = time.perf_counter() - t0, time.process_time() - c0
            if rnd:
                times[name].append(t)
                times[name].cpu.append(c)
    return times


class IpcFile:
    """An IPC file opened once (memory-mapped), as the baseline reads it."""

    def __init__(self, path: str) -> None:
        self.source = pa.memory_map(path)
        self.reader = pa.ipc.open_file(self.source)

    def all_frame(self) -> pl.DataFrame:
        frame = pl.from_arrow(self.reader.read_all())
        assert isinstance(frame, pl.DataFrame)
        return frame

    def batches_frame(
        self, indices: Sequence[int], column: str | None = None, lo: int = 0, hi: int = 0
    ) -> pl.DataFrame:
        table = pa.Table.from_batches([self.reader.get_batch(i) for i in indices])
        if column is not None:
            col = table.column(column)
            table = table.filter(pc.and_(pc.greater_equal(col, lo), pc.less_equal(col, hi)))
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return frame

    def close(self) -> None:
        self.source.close()


def batch_ranges(ipc: IpcFile, column: str) -> list[tuple[int, int]]:
    """Each batch's min and max on ``column`` (the index pyarrow lacks, given to it for free)."""
    out = []
    for i in range(ipc.reader.num_record_batches):
        mm = pc.min_max(ipc.reader.get_batch(i).column(column))
        out.append((mm["min"].as_py(), mm["max"].as_py()))
    return out


def records_of(rec: Any) -> int:
    return len({c.record_offset for c in rec.index})


def check(ok: bool, what: str) -> None:
    if not ok:
        raise SystemExit(f"wrong result: {what}")


# --- the cases ----------------------------------------------------------------------------------------
def case_scalars(files: Files, repeat: int) -> list[Row]:
    return [row for label, stem in files.scalar_sets.items() for row in scalars_of(files, label, stem, repeat)]


def scalars_of(files: Files, label: str, stem: str, repeat: int) -> list[Row]:
    import rrquery

    rows: list[Row] = []
    n = files.sz.scalars
    rec = rrquery.open(files.path(stem + ".rrd"))
    raw, zstd = IpcFile(files.path(stem + ".arrow")), IpcFile(files.path(stem + ".zstd.arrow"))
    ours = rec.range(SCALAR_ENTITY, timeline="frame")
    theirs = zstd.all_frame()
    check(ours.height == n and ours["scalar"].equals(theirs["scalar"]), f"{label}: range != IPC file")
    check(ours["log_time"].equals(theirs["log_time"]), f"{label}: log_time differs")
    times = measure(
        {
            "range": lambda: rec.range(SCALAR_ENTITY),
            "range_tl": lambda: rec.range(SCALAR_ENTITY, timeline="frame"),
            "zstd": zstd.all_frame,
            "raw": raw.all_frame,
        },
        repeat,
    )
    t_zstd, t_raw = min(times["zstd"]), min(times["raw"])
    nrec = records_of(rec)
    rows.append(Row(f"all {n:,} scalars, {label} file ({nrec} records)"))
    for key, call, timeline in (
        ("range", f'range("{SCALAR_ENTITY}")', None),
        ("range_tl", 'range(..., timeline="frame")', "frame"),
    ):
        rec.stats = rrquery.QueryStats()
        rec.range(SCALAR_ENTITY, timeline=timeline)
        decoded = f"{rec.stats.records_decoded}/{nrec}"
        rows.append(Row(f"  rrquery {call}", times[key], t_zstd, t_raw, TARGET_ALL_S, decoded))
    rows.append(Row("  pyarrow IPC zstd -> pl.from_arrow", times["zstd"], note="baseline"))
    rows.append(
        Row("  pyarrow IPC uncompressed -> pl.from_arrow", times["raw"], note="baseline (memory-mapped, no copy)")
    )
    path = files.path(stem + ".rrd")
    t_open = measure({"open": lambda: rrquery.open(path).close()}, repeat)["open"]
    rows.append(Row(f"  rrquery.open (footer, {len(rec.index)} chunks)", t_open, note="not in the times above"))
    rec.close()
    raw.close()
    zstd.close()
    return rows


def case_range(files: Files, repeat: int) -> list[Row]:
    return [row for label, stem in files.scalar_sets.items() for row in range_of(files, label, stem, repeat)]


def range_of(files: Files, label: str, stem: str, repeat: int) -> list[Row]:
    import rrquery

    rows: list[Row] = []
    sz = files.sz
    lo, hi = sz.range_start, sz.range_start + sz.range_len - 1
    rec = rrquery.open(files.path(stem + ".rrd"))
    raw, zstd = IpcFile(files.path(stem + ".arrow")), IpcFile(files.path(stem + ".zstd.arrow"))
    hits = [i for i, (a, b) in enumerate(batch_ranges(zstd, "frame")) if a <= hi and b >= lo]

    def query() -> pl.DataFrame:
        return rec.range(SCALAR_ENTITY, timeline="frame", start=lo, end=hi)

    ours = query()
    theirs = zstd.batches_frame(hits, "frame", lo, hi)
    check(ours["frame"].to_list() == list(range(lo, hi + 1)), f"{label}: range frames")
    check(ours["scalar"].equals(theirs["scalar"]), f"{label}: range values")
    times = measure(
        {
            "range": query,
            "zstd": lambda: zstd.batches_frame(hits, "frame", lo, hi),
            "raw": lambda: raw.batches_frame(hits, "frame", lo, hi),
        },
        repeat,
    )
    rec.stats = rrquery.QueryStats()
    query()
    nrec = records_of(rec)
    decoded = f"{rec.stats.records_decoded}/{nrec}"
    rows.append(Row(f"frames {lo:,}-{hi:,} ({sz.range_len:,} rows), {label} file"))
    rows.append(
        Row(
            '  rrquery range(..., timeline="frame", start, end)',
            times["range"],
            min(times["zstd"]),
            min(times["raw"]),
            TARGET_RANGE_S,
            decoded,
            f"{rec.stats.chunks_read} chunks read",
        )
    )
    note = f"baseline: reads the {len(hits)} batches holding the frames, filters"
    rows.append(Row("  pyarrow IPC zstd: batches + filter", times["zstd"], decoded=f"{len(hits)}", note=note))
    rows.append(
        Row("  pyarrow IPC uncompressed: batches + filter", times["raw"], decoded=f"{len(hits)}", note="baseline")
    )
    rec.close()
    raw.close()
    zstd.close()
    return rows


def points_query(path: str, how: str, lo: int, hi: int, batches: Sequence[int]) -> pl.DataFrame:
    """One way of reading frames ``lo..hi`` of the point cloud (each from scratch).

    ``batches``: the IPC batches holding those frames (the baseline's free index).
    """
    import rrquery

    if how == "scan":
        return rrquery.scan(path, POINTS_ENTITY, timeline="frame").filter(pl.col("frame").is_between(lo, hi)).collect()
    if how == "range":
        with rrquery.open(path) as rec:
            return rec.range(POINTS_ENTITY, timeline="frame", start=lo, end=hi)
    ipc = IpcFile(path)
    try:
        return ipc.batches_frame(batches, "frame", lo, hi)
    finally:
        ipc.close()


def rss_child(path: str, how: str, lo: int, hi: int, batches: Sequence[int]) -> dict[str, Any]:
    """In a fresh process: the peak RSS growth of one query, after the imports and a warm-up.

    The warm-up touches no file: pyarrow imports pandas at its first conversion and Polars
    starts its thread pool at its first query (about 50 MiB together, reported apart).
    """
    import rrquery  # noqa: F401  # imported before the measurement starts

    warm = PeakRss()
    warm.start()
    pl.from_arrow(pa.table({"x": pa.array(np.zeros(2))}))
    pl.LazyFrame({"x": [1, 2]}).filter(pl.col("x") > 1).collect()
    warm_mib = warm.stop()
    rss = PeakRss()
    rss.start()
    t0 = time.perf_counter()
    frame = points_query(path, how, lo, hi, batches)
    seconds = time.perf_counter() - t0
    grown = rss.stop()
    return {"rss_mib": grown, "warm_mib": warm_mib, "method": rss.method, "rows": frame.height, "seconds": seconds}


def run_rss_child(path: str, how: str, lo: int, hi: int, batches: Sequence[int]) -> dict[str, Any]:
    cmd = [sys.executable, os.path.abspath(__file__), "--rss-child", json.dumps([path, how, lo, hi, list(batches)])]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line[len("RESULT ") :])
            return result
    sys.stderr.write(proc.stdout + proc.stderr)
    raise SystemExit(f"memory measurement {how} failed (exit code {proc.returncode})")


def case_points(files: Files, repeat: int) -> tuple[list[Row], list[tuple[str, dict[str, Any], float | None]]]:
    import rrquery

    sz = files.sz
    lo, hi = sz.frame_start, sz.frame_start + sz.frame_len - 1
    path = files.path("points.rrd")
    rec = rrquery.open(path)
    raw, zstd = IpcFile(files.path("points.arrow")), IpcFile(files.path("points.zstd.arrow"))
    frames = list(range(lo, hi + 1))
    hits = [i for i, (a, b) in enumerate(batch_ranges(zstd, "frame")) if a <= hi and b >= lo]

    def ranged() -> pl.DataFrame:
        return rec.range(POINTS_ENTITY, timeline="frame", start=lo, end=hi)

    scan_stats, open_stats = rrquery.QueryStats(), rrquery.QueryStats()

    def scanned() -> pl.DataFrame:
        lf = rrquery.scan(path, POINTS_ENTITY, timeline="frame", stats=scan_stats)
        return lf.filter(pl.col("frame").is_between(lo, hi)).collect()

    def scanned_open() -> pl.DataFrame:
        lf = rrquery.scan(rec, POINTS_ENTITY, timeline="frame", stats=open_stats)
        return lf.filter(pl.col("frame").is_between(lo, hi)).collect()

    ours, lazy, theirs = ranged(), scanned(), zstd.batches_frame(hits, "frame", lo, hi)
    check(ours["frame"].to_list() == frames and lazy["frame"].to_list() == frames, "points: frames")
    check(ours["positions3d"].equals(theirs["positions3d"]), "points: positions differ from the IPC file")
    check(lazy["colors"].equals(theirs["colors"]), "points: colours differ from the IPC file")
    times = measure(
        {
            "range": ranged,
            "scan": scanned,
            "scan_open": scanned_open,
            "zstd": lambda: zstd.batches_frame(hits, "frame", lo, hi),
            "raw": lambda: raw.batches_frame(hits, "frame", lo, hi),
        },
        repeat,
    )
    t_zstd, t_raw = min(times["zstd"]), min(times["raw"])
    nrec = records_of(rec)
    rec.stats = rrquery.QueryStats()
    ranged()
    decoded = f"{rec.stats.records_decoded}/{nrec}"
    scan_stats.records_decoded = open_stats.records_decoded = 0
    scanned()
    scanned_open()
    t_open = min(measure({"open": lambda: rrquery.open(path).close()}, repeat)["open"])
    mb = theirs.estimated_size() / 1e6
    rows = [
        Row(f"frames {lo}-{hi} of {sz.frames} x {sz.points:,} points ({mb:.0f} MB in Polars)"),
        Row(
            '  rrquery rec.range(..., timeline="frame", start, end)',
            times["range"],
            t_zstd,
            t_raw,
            TARGET_POINTS_S,
            decoded,
        ),
        Row(
            "  rrquery.scan(path).filter(is_between).collect()",
            times["scan"],
            t_zstd,
            t_raw,
            TARGET_POINTS_S,
            decoded=f"{scan_stats.records_decoded}/{nrec}",
            note=f"opens the file: its index read is {t_open * 1e3:.1f} ms of this",
        ),
        Row(
            "  rrquery.scan(rec), the recording already open",
            times["scan_open"],
            t_zstd,
            t_raw,
            TARGET_POINTS_S,
            f"{open_stats.records_decoded}/{nrec}",
        ),
        Row("  pyarrow IPC zstd: get_batch + filter", times["zstd"], decoded=f"{len(hits)}", note="baseline"),
        Row("  pyarrow IPC uncompressed: get_batch + filter", times["raw"], decoded=f"{len(hits)}", note="baseline"),
    ]
    rec.close()
    raw.close()
    zstd.close()
    memory: list[tuple[str, dict[str, Any], float | None]] = []
    for label, how, p, target in (
        ("rrquery.scan(path).filter(...).collect()", "scan", path, TARGET_SCAN_RSS_MIB),
        ("rrquery.open(path).range(...)", "range", path, None),
        ("pyarrow IPC zstd, 10 batches", "ipc", files.path("points.zstd.arrow"), None),
        ("pyarrow IPC uncompressed, 10 batches", "ipc", files.path("points.arrow"), None),
    ):
        memory.append((label, run_rss_child(p, how, lo, hi, hits), target))
    return rows, memory


def parquet_encodings(schema: pa.Schema) -> dict[str, Any]:
    """The column encodings of rrquery's Parquet export for flat columns: delta for 64-bit integers and times."""
    delta = [f.name for f in schema if f.type in (pa.int64(), pa.uint64()) or pa.types.is_timestamp(f.type)]
    return {
        "use_dictionary": [f.name for f in schema if f.name not in delta],
        "column_encoding": dict.fromkeys(delta, "DELTA_BINARY_PACKED"),
    }


def case_export(files: Files, repeat: int) -> list[Row]:
    return [row for label, stem in files.scalar_sets.items() for row in export_of(files, label, stem, repeat)]


def export_of(files: Files, label: str, stem: str, repeat: int) -> list[Row]:
    import rrquery

    rows: list[Row] = []
    n = files.sz.scalars
    out_ours, out_pa, out_pa2 = (files.path(name) for name in EXPORT_FILES)
    outputs = {"export": out_ours, "pa": out_pa, "pa_enc": out_pa2}

    def clean(variant: str | None = None) -> None:
        # Each run writes a new file: none pays for unlinking the previous run's blocks.
        for key, p in outputs.items():
            if variant in (None, key) and os.path.exists(p):
                os.remove(p)

    path, ipc_path = files.path(stem + ".rrd"), files.path(stem + ".zstd.arrow")

    def pyarrow_default() -> None:
        with pa.memory_map(ipc_path) as src:
            pq.write_table(pa.ipc.open_file(src).read_all(), out_pa, compression="zstd")

    def pyarrow_encoded() -> None:
        with pa.memory_map(ipc_path) as src:
            table = pa.ipc.open_file(src).read_all()
            pq.write_table(table, out_pa2, compression="zstd", **parquet_encodings(table.schema))

    times = measure(
        {"export": lambda: rrquery.export(path, out_ours), "pa": pyarrow_default, "pa_enc": pyarrow_encoded},
        repeat,
        before=clean,
    )
    written = pl.read_parquet(out_ours)
    check(written.height == n and written["scalar"].equals(pl.read_parquet(out_pa)["scalar"]), "export content")
    sizes = {p: os.path.getsize(p) / 1e6 for p in (out_ours, out_pa, out_pa2)}
    t_pa = min(times["pa"])
    rows.append(Row(f"export {n:,} scalars to Parquet, {label} file"))
    rows.append(
        Row(
            '  rrquery.export(path, "export.parquet")',
            times["export"],
            t_pa,
            target=TARGET_EXPORT_S,
            note=f"{sizes[out_ours]:.1f} MB, columns {', '.join(written.columns)}",
        )
    )
    rows.append(Row("  pyarrow IPC zstd -> write_table(zstd)", times["pa"], note=f"baseline, {sizes[out_pa]:.1f} MB"))
    rows.append(
        Row(
            "  pyarrow, with the export's encodings",
            times["pa_enc"],
            note=f"{sizes[out_pa2]:.1f} MB (no entity column)",
        )
    )
    clean()
    return rows


# --- report -------------------------------------------------------------------------------------------
def fmt_time(s: float | None) -> str:
    if s is None:
        return ""
    return f"{s * 1e3:.1f} ms" if s < 1.0 else f"{s:.2f} s"


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("PASS" if ok else "FAIL")


def print_table(rows: Sequence[Row]) -> None:
    w = max(len(r.case) for r in rows)
    head = (
        f"{'case':<{w}}  {'best':>9}  {'median':>9}  {'cpu':>9}  {'x zstd':>6}  {'x raw':>6}  {'target':>9}  "
        f"{'result':>6}  {'records':>7}  note"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        if not r.times:
            print(r.case)
            continue
        xz = f"{r.best / r.zstd:.2f}" if r.zstd else ""
        xr = f"{r.best / r.raw:.1f}" if r.raw else ""
        target = f"< {fmt_time(r.target)}" if r.target is not None else ""
        print(
            f"{r.case:<{w}}  {fmt_time(r.best):>9}  {fmt_time(r.median):>9}  {fmt_time(r.cpu):>9}  {xz:>6}  {xr:>6}  "
            f"{target:>9}  "
            f"{verdict(r.passed):>6}  {r.decoded:>7}  {r.note}".rstrip()
        )


def print_memory(memory: Sequence[tuple[str, dict[str, Any], float | None]]) -> None:
    w = max(len(label) for label, _, _ in memory)
    head = f"{'peak RSS growth, fresh process':<{w}}  {'MiB':>6}  {'target':>9}  {'result':>6}  {'time':>9}  note"
    print(head)
    print("-" * len(head))
    for label, m, target in memory:
        t = f"< {target:.0f} MiB" if target is not None else ""
        ok = None if target is None else m["rss_mib"] < target
        print(
            f"{label:<{w}}  {m['rss_mib']:>6.1f}  {t:>9}  {verdict(ok):>6}  {fmt_time(m['seconds']):>9}  "
            f"first query of the process ({m['rows']} rows); {m['method']}, library warm-up before it "
            f"{m['warm_mib']:.0f} MiB"
        )


def machine() -> str:
    import zstandard

    return (
        f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, polars {pl.__version__}, pyarrow {pa.__version__}, "
        f"numpy {np.__version__}, zstandard {zstandard.__version__}"
    )


def scaled_sizes(sz: Sizes, out: str, cases: Sequence[str]) -> Sizes:
    """Fewer frames when the disk is short: the point cloud needs ~3.9 GB at full size."""
    if "points" not in cases:
        return sz
    per_frame = sz.points * 16 * 2.5  # the .rrd, the uncompressed and the zstd IPC copy
    need = sz.frames * per_frame * 1.5 + 200e6
    free = shutil.disk_usage(out).free
    if sz == FULL and free < FREE_BYTES_FULL:
        frames = max(2 * sz.frame_len, int(sz.frames * min(1.0, free / FREE_BYTES_FULL)))
        print(f"NOTE: only {free / 1e9:.1f} GB free in {out}: {frames} point frames instead of {sz.frames}")
        return dataclasses.replace(sz, frames=frames, frame_start=frames // 2)
    if free < need:
        raise SystemExit(f"{out}: {free / 1e9:.1f} GB free, {need / 1e9:.1f} GB needed")
    return sz


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run (targets are for full size)")
    ap.add_argument("--case", action="append", choices=CASES, help="run only this case (may be repeated)")
    ap.add_argument("--out", help="directory for the files (default: a temporary one under /tmp)")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs of each variant after a warm-up (default 5)")
    ap.add_argument("--keep", action="store_true", help="keep the data files at the end")
    ap.add_argument(
        "--reuse", action="store_true", help="reuse data files kept in --out by an earlier run of the same size"
    )
    ap.add_argument("--rss-child", help=argparse.SUPPRESS)  # JSON [path, how, lo, hi], in a child process
    args = ap.parse_args(argv)

    if args.rss_child:
        path, how, lo, hi, batches = json.loads(args.rss_child)
        print("RESULT " + json.dumps(rss_child(path, how, lo, hi, batches)), flush=True)
        return 0

    cases = list(dict.fromkeys(args.case or CASES))
    out = args.out or tempfile.mkdtemp(prefix="rrkit-querybench-", dir="/tmp")
    os.makedirs(out, exist_ok=True)
    sz = scaled_sizes(QUICK if args.quick else FULL, out, cases)
    files = Files(out, sz)
    print(f"date: {date.today().isoformat()}")
    print(f"machine: {machine()}")
    print(f"load average at start: {os.getloadavg()[0]:.2f} (other work on the machine skews the timings)")
    print(f"sizes: {'quick' if args.quick else 'full'} {sz}")
    print(f"disk: {shutil.disk_usage(out).free / 1e9:.1f} GB free in {out}")
    print(flush=True)
    t0 = time.perf_counter()
    files.make(cases, args.reuse)
    print(f"data ready in {time.perf_counter() - t0:.1f} s", flush=True)
    print()

    rows: list[Row] = []
    memory: list[tuple[str, dict[str, Any], float | None]] = []
    try:
        for case in cases:
            t_case = time.perf_counter()
            if case == "scalars":
                rows += case_scalars(files, args.repeat)
            elif case == "range":
                rows += case_range(files, args.repeat)
            elif case == "points":
                point_rows, memory = case_points(files, args.repeat)
                rows += point_rows
            elif case == "export":
                rows += case_export(files, args.repeat)
            print(f"  {case}: {time.perf_counter() - t_case:.1f} s", flush=True)
    finally:
        if not args.keep:
            files.remove()
            if not args.out:
                shutil.rmtree(out, ignore_errors=True)

    print()
    print(f"Query (bench/query.py): {'quick sizes, ' if args.quick else ''}best of {args.repeat} runs after a warm-up")
    print()
    print_table(rows)
    if memory:
        print()
        print_memory(memory)
    print()
    print("x zstd, x raw: best time / best time of the pyarrow baseline reading the same values from a zstd or")
    print("uncompressed IPC file (memory-mapped) into Polars; records: chunk records decoded / in the file;")
    print("cpu: the least CPU time of the runs, all threads (above the wall time when threads ran in parallel).")
    if args.quick:
        print("quick sizes: the targets are for the full sizes, shown for reference only.")
    results = [r.passed for r in rows if r.passed is not None]
    results += [m["rss_mib"] < t for _, m, t in memory if t is not None]
    print(f"targets: {sum(results)} of {len(results)} met")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    if args.keep:
        print(f"files kept in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
