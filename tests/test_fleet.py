"""Many recordings as one dataset: rrquery.open_many, multi-file scans, exports and the CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

import rrformat as rr
import rrquery
from cli.rrquery import main
from rrformat import _framing as fr
from rrformat.errors import CorruptFileError
from rrformat.testing import record_layout

N_RECORDINGS = 20
FRAMES = 30
LATE = 10
"""In every third recording ``robot/speed`` starts at this frame (to see that filling never crosses)."""


def app_of(k: int) -> str:
    return "picker" if k % 2 == 0 else "sorter"


def run_id(k: int) -> str:
    return f"run-{k:02d}"


def write_run(path: Path, k: int) -> Path:
    """Recording ``k`` of the fleet: frames 0..29 of a scalar, an image every 5 frames, points
    every 10 frames in every fourth recording, a timeless mass."""
    rec = rr.RecordingStream(app_of(k), recording_id=run_id(k), save=path, strict=True)
    try:
        rr.log_scalar("robot/mass", 80.0 + k, timeless=True, recording=rec)
        for i in range(FRAMES):
            rr.set_time_sequence("frame", i, recording=rec)
            rr.set_time_nanos("sensor_time", 1_700_000_000_000_000_000 + k * 10**12 + i * 10**7, recording=rec)
            if not (k % 3 == 0 and i < LATE):
                rr.log_scalar("robot/speed", 1000.0 * k + i, recording=rec)
            if i % 5 == 0:
                rr.log_image("camera/image", np.full((4, 6, 3), (k * 7 + i) % 256, np.uint8), recording=rec)
            if k % 4 == 0 and i % 10 == 0:
                rr.log_points("lidar/points", [[float(i), float(k), 0.0]], recording=rec)
    finally:
        rec.disconnect()
    return path


def write_fleet(root: Path) -> list[Path]:
    """20 recordings in two directories (``day1/``, ``day2/``)."""
    paths = []
    for k in range(N_RECORDINGS):
        sub = root / ("day1" if k < N_RECORDINGS // 2 else "day2")
        sub.mkdir(parents=True, exist_ok=True)
        paths.append(write_run(sub / f"{run_id(k)}.rrd", k))
    return paths


def flip_chunk_body(src: Path, dst: Path, record_index: int = 0) -> int:
    """Copy ``src`` to ``dst`` with one byte of a chunk record's body flipped (the footer stays
    intact, so the damage is found only when the chunk is read). Returns the record's offset."""
    spans = [s for s in record_layout(src) if s.kind == fr.RecordKind.CHUNK]
    span = spans[record_index]
    data = bytearray(src.read_bytes())
    data[(span.body_offset + span.body_end) // 2] ^= 0xFF
    dst.write_bytes(bytes(data))
    return span.offset


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    root = tmp_path_factory.mktemp("fleet")
    return root, write_fleet(root)


def per_file(paths: list[Path], query: str, *args: object, **kwargs: object) -> pl.DataFrame:
    """A query run on each file alone, with the id columns added: what a fleet query must equal."""
    frames = []
    for p in paths:
        with rrquery.open(p) as rec:
            try:
                frame = getattr(rec, query)(*args, **kwargs)
            except ValueError:
                continue  # the entity (or timeline) is not in this recording
            frames.append(
                frame.select(
                    pl.lit(rec.application_id).alias("application_id"),
                    pl.lit(rec.recording_id).alias("recording_id"),
                    pl.all(),
                )
            )
    return pl.concat(frames, how="diagonal_relaxed")


# --- paths -------------------------------------------------------------------------------------------
def test_globs_directories_and_lists(fleet: tuple[Path, list[Path]]) -> None:
    root, paths = fleet
    assert len(rrquery.open_many(str(root / "**" / "*.rrd"))) == N_RECORDINGS
    assert len(rrquery.open_many(root)) == N_RECORDINGS
    assert len(rrquery.open_many(root / "day1")) == N_RECORDINGS // 2
    assert len(rrquery.open_many([paths[0], paths[3], paths[0]])) == 2  # named twice: kept once
    with pytest.raises(FileNotFoundError, match="no file matches"):
        rrquery.open_many(str(root / "nope*" / "*.rrd"))
    with pytest.raises(FileNotFoundError, match="no such file"):
        rrquery.open_many([paths[0], root / "missing.rrd"])


def test_a_single_file_keeps_its_one_recording_scan(fleet: tuple[Path, list[Path]]) -> None:
    _, paths = fleet
    single = rrquery.scan(paths[1], "robot/speed", timeline="frame").collect()
    assert "recording_id" not in single.columns
    with rrquery.open(paths[1]) as rec:
        assert_frame_equal(single, rrquery.scan(rec, "robot/speed", timeline="frame").collect())
    many = rrquery.scan([paths[1]], "robot/speed", timeline="frame").collect()
    assert many.columns[:2] == ["application_id", "recording_id"]
    assert_frame_equal(many.drop("application_id", "recording_id"), single)


# --- the rows equal those of each file --------------------------------------------------------------
def test_range_equals_each_file(fleet: tuple[Path, list[Path]]) -> None:
    root, paths = fleet
    rs = rrquery.open_many(str(root / "**/*.rrd"))
    for kwargs in (
        {"timeline": "frame", "start": 12, "end": 17},
        {"timeline": None},
        {"timeline": "sensor_time", "start": None, "end": 1_700_000_005_000_000_000},
    ):
        got = rs.range("robot/**", **kwargs)  # type: ignore[arg-type]
        assert_frame_equal(got, per_file(paths, "range", "robot/**", **kwargs))
    assert rs.range("robot/**").get_column("recording_id").unique(maintain_order=True).to_list() == [
        run_id(k) for k in range(N_RECORDINGS)
    ]
    images = rs.range("camera/image", timeline="frame", components=["tensor"])
    assert images.height == N_RECORDINGS * FRAMES // 5
    arrays = rrquery.to_numpy(images.get_column("tensor"))
    assert isinstance(arrays, np.ndarray) and arrays.shape == (images.height, 4, 6, 3)


def test_scan_equals_each_file_and_prunes(fleet: tuple[Path, list[Path]]) -> None:
    root, paths = fleet
    stats = rrquery.QueryStats()
    lf = rrquery.scan(str(root / "**/*.rrd"), "robot/speed", timeline="frame", stats=stats)
    got = lf.filter(pl.col("frame").is_between(20, 22)).collect()
    expected = per_file(paths, "range", "robot/speed", timeline="frame", start=20, end=22)
    assert_frame_equal(got, expected)
    assert stats.files_read == N_RECORDINGS
    assert stats.records_decoded == N_RECORDINGS  # one record of scalars per file, nothing else

    # Equality on the ids is pushed down: one file is read.
    stats = rrquery.QueryStats()
    lf = rrquery.scan(str(root / "**/*.rrd"), "**", timeline="frame", stats=stats)
    one = lf.filter((pl.col("recording_id") == run_id(5)) & (pl.col("frame") < 3)).collect()
    assert set(one.get_column("recording_id")) == {run_id(5)}
    assert stats.files_read == 1
    expected = (
        per_file([paths[5]], "range", "**", timeline="frame", start=None, end=2)
        .filter(pl.col("frame").is_not_null())
        .sort("row_id")
    )
    # The scan's columns are those of every recording: lidar points (of others) are null here.
    assert one.get_column("positions3d").null_count() == one.height
    assert_frame_equal(one.sort("row_id").select(expected.columns), expected)


def test_filters_leave_files_and_chunks_unread(fleet: tuple[Path, list[Path]]) -> None:
    root, _ = fleet
    # Entities: lidar/points is only in every fourth recording.
    rs = rrquery.open_many(root)
    points = rs.range("lidar/points", timeline="frame")
    assert sorted(set(points.get_column("recording_id"))) == [run_id(k) for k in range(0, N_RECORDINGS, 4)]
    assert rs.stats.files_read == N_RECORDINGS // 4
    # Ids: the other application's files are never opened for a query.
    picker = rrquery.open_many(root, application_id="picker")
    assert {m.summary.application_id for m in picker.members} == {"picker"}
    picker.range("robot/speed")
    assert picker.stats.files_read == N_RECORDINGS // 2
    assert len(rrquery.open_many(root, recording_id=[run_id(3), run_id(4)])) == 2
    # A time range outside every recording: no chunk is read (timeless rows need no timeline).
    rs = rrquery.open_many(root)
    assert rs.range("robot/speed", timeline="frame", start=1000, end=2000).height == 0
    assert rs.stats.records_decoded == 0
    # A time range inside: only the records overlapping it.
    rs = rrquery.open_many(root)
    rs.range("camera/image", timeline="frame", start=0, end=0)
    with rrquery.open(root / "day1" / "run-00.rrd") as rec:
        per_recording = len({c.record_offset for c in rec.select("camera/image", timeline="frame", start=0, end=0)})
    assert rs.stats.records_decoded == N_RECORDINGS * per_recording


# --- latest-at and filling stay within a recording ---------------------------------------------------
def test_latest_at_never_crosses_recordings(fleet: tuple[Path, list[Path]]) -> None:
    root, paths = fleet
    rs = rrquery.open_many(root)
    got = rs.latest_at("frame", LATE - 5, "robot/**")
    assert_frame_equal(got, per_file(paths, "latest_at", "frame", LATE - 5, "robot/**"))
    late = got.filter(pl.col("recording_id") == run_id(3))
    assert late.get_column("entity").to_list() == ["robot/mass"]  # its speed starts later: no value yet


def test_dataset_fill_never_crosses_recordings(fleet: tuple[Path, list[Path]]) -> None:
    root, paths = fleet
    rs = rrquery.open_many(root)
    columns = ["robot/speed:scalar", "camera/image:tensor", "robot/mass"]
    got = rs.dataset("frame", columns, sample=1)
    expected = per_file(paths, "dataset", "frame", columns, sample=1)
    assert_frame_equal(got, expected)
    for k in (3, 6):
        rows = got.filter(pl.col("recording_id") == run_id(k)).sort("frame")
        speed = rows.get_column("robot/speed:scalar").to_list()
        assert speed[:LATE] == [None] * LATE  # the recording before it has values there: not carried over
        assert speed[LATE] == 1000.0 * k + LATE
    exact = rs.dataset("frame", ["robot/speed:scalar"], fill=None, start=0, end=4)
    assert_frame_equal(exact, per_file(paths, "dataset", "frame", ["robot/speed:scalar"], fill=None, start=0, end=4))
    points = rs.dataset("frame", ["lidar/points"], sample=10)
    assert set(points.get_column("recording_id")) == {run_id(k) for k in range(0, N_RECORDINGS, 4)}
    with pytest.raises(ValueError, match="in no recording"):
        rs.dataset("frame", ["nope/nothing:scalar"])


# --- damaged files among many --------------------------------------------------------------------------
@pytest.fixture
def damaged(fleet: tuple[Path, list[Path]], tmp_path: Path) -> tuple[Path, int]:
    """Six recordings of the fleet, a truncated copy, a file that is not a recording, and one
    whose first chunk record is corrupt (its footer is intact). Returns the directory and the
    corrupt record's offset."""
    _, paths = fleet
    for p in paths[:6]:
        shutil.copy(p, tmp_path / p.name)
    data = paths[6].read_bytes()
    (tmp_path / "cut.rrd").write_bytes(data[: len(data) * 2 // 3])
    (tmp_path / "notes.rrd").write_text("not a recording")
    offset = flip_chunk_body(paths[7], tmp_path / "flipped.rrd")
    return tmp_path, offset


def test_damaged_files_cost_their_rows_not_the_query(damaged: tuple[Path, int]) -> None:
    root, offset = damaged
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rs = rrquery.open_many(root)
    kinds = {w.category: str(w.message) for w in caught}
    assert set(kinds) == {rrquery.SkippedDataWarning, rrquery.TruncatedRecordingWarning}
    assert "notes.rrd at byte 0: not an .rrd file" in kinds[rrquery.SkippedDataWarning]
    assert "cut.rrd is truncated" in kinds[rrquery.TruncatedRecordingWarning]
    assert [p.path for p in rs.problems] == [str(root / "notes.rrd")]
    with pytest.warns(rrquery.SkippedDataWarning, match=rf"flipped\.rrd at byte {offset}"):
        rows = rs.range("**")
    ids = set(rows.get_column("recording_id"))
    assert {run_id(k) for k in range(6)} <= ids
    assert run_id(6) in ids  # the truncated copy: its sound prefix
    with rrquery.open(root / "flipped.rrd") as rec:
        lost = sum(c.rows for c in rec.index if c.record_offset == offset)
        kept = sum(c.rows for c in rec.index) - lost
    assert rows.filter(pl.col("recording_id") == run_id(7)).height == kept
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scanned = rrquery.scan(root, "**").collect()
    skipped = [str(w.message) for w in caught if issubclass(w.category, rrquery.SkippedDataWarning)]
    assert len(skipped) == 2 and "notes.rrd" in skipped[0] and f"flipped.rrd at byte {offset}" in skipped[1]
    assert scanned.height == rows.height
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rrquery.TruncatedRecordingWarning)
        strict = rrquery.open_many(sorted(root.glob("[!n]*.rrd")), on_error="raise")
    with pytest.raises(CorruptFileError, match=r"flipped\.rrd"):
        strict.range("**")


# --- exports and the command line ----------------------------------------------------------------------
def test_export_many(fleet: tuple[Path, list[Path]], tmp_path: Path) -> None:
    root, paths = fleet
    result = rrquery.export(str(root / "**/*.rrd"), tmp_path / "speed.parquet", entities="robot/speed")
    got = pl.read_parquet(tmp_path / "speed.parquet")
    assert result.rows == got.height
    expected = per_file(paths, "range", "robot/speed", timeline=None).drop("log_time", "sensor_time")
    assert_frame_equal(got.select(expected.columns), expected, check_dtypes=False)
    out = tmp_path / "dir"
    rrquery.export(root, out, entities=["robot/speed", "lidar/points"], timeline="frame", start=0, end=9)
    assert sorted(p.name for p in out.iterdir()) == ["lidar__points.parquet", "robot__speed.parquet"]
    lidar = pl.read_parquet(out / "lidar__points.parquet")
    assert set(lidar.get_column("recording_id")) == {run_id(k) for k in range(0, N_RECORDINGS, 4)}
    rrquery.export(root, tmp_path / "wide.parquet", entities="robot/**", wide=True, index="frame", sample=5)
    wide = pl.read_parquet(tmp_path / "wide.parquet")
    expected = per_file(paths, "dataset", "frame", ["robot/mass", "robot/speed"], sample=5)
    assert_frame_equal(wide.select(expected.columns), expected)


def test_cli_export_and_sql_take_many_files(fleet: tuple[Path, list[Path]], tmp_path: Path) -> None:
    root, paths = fleet
    runner = CliRunner()
    out = tmp_path / "speed.parquet"
    args = ["export", str(paths[0]), str(paths[1]), str(root / "day2" / "*.rrd"), "-o", str(out)]
    result = runner.invoke(main, [*args, "--entity", "robot/speed", "--timeline", "frame", "--to", "15"])
    assert result.exit_code == 0, result.output
    chosen = [0, 1, *range(N_RECORDINGS // 2, N_RECORDINGS)]
    rows = sum(16 - (LATE if k % 3 == 0 else 0) for k in chosen)  # frames 0..15
    assert result.stdout.startswith(f"wrote {rows} rows of {len(chosen)} recordings")
    frame = pl.read_parquet(out)
    assert frame.columns[:2] == ["application_id", "recording_id"]
    result = runner.invoke(
        main,
        [
            "sql",
            str(root),
            'SELECT recording_id, count(*) AS n FROM "robot/speed" GROUP BY recording_id ORDER BY recording_id',
            "--format",
            "csv",
            "--application-id",
            "sorter",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "recording_id,n" and len(lines) == 1 + N_RECORDINGS // 2
    assert lines[2] == f"{run_id(3)},{FRAMES - LATE}"
    result = runner.invoke(main, ["sql", str(root), "SELECT count(*) AS n FROM recordings", "--format", "csv"])
    assert result.stdout.splitlines() == ["n", str(N_RECORDINGS)]
    result = runner.invoke(main, ["sql", str(root / "nope*.rrd"), "SELECT 1"])
    assert result.exit_code == 2
    assert result.stderr.startswith("rrquery: error: ") and "no file matches" in result.stderr
    assert "Traceback" not in result.output


def test_nothing_else_imports_ray() -> None:
    code = "import sys, rrformat, rrquery, rrview, cli.rrquery, cli.rrd; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
