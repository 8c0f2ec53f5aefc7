"""Tests for the ``rrquery`` command: output, files written, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner, Result
from test_export import FRAMES, START_S, write_recording

import cli.rrquery as cli_rrquery
import rrquery
from cli.rrquery import chunk_table, main
from rrformat import _framing as fr
from rrformat.testing import record_layout


@pytest.fixture(scope="module")
def rrd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_recording(tmp_path_factory.mktemp("cli") / "run.rrd")


@pytest.fixture(scope="module")
def cut_rrd(rrd: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The recording cut in the middle of its last chunk record, as a crash leaves it."""
    last = [s for s in record_layout(rrd) if s.kind == fr.RecordKind.CHUNK][-1]
    cut = tmp_path_factory.mktemp("cut") / "cut.rrd"
    cut.write_bytes(rrd.read_bytes()[: (last.offset + last.end) // 2])
    return cut


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def ok(*args: str | Path) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result.stdout


def bad(*args: str | Path) -> str:
    """Run a command expected to fail on bad input: exit 2, one error line, no traceback."""
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rrquery: error: "), result.stderr
    return lines[0]


# --- listing ---------------------------------------------------------------------------------------
def test_ls(rrd: Path) -> None:
    out = ok("ls", rrd)
    lines = out.splitlines()
    assert lines[0].split() == ["entity", "kind", "rows", "frame", "sensor_time", "log_time"]
    speed = next(ln for ln in lines if ln.startswith("plot/speed"))
    assert "scalar" in speed and f" {FRAMES} " in speed and "0..11" in speed
    assert "2026-01-01T00:00:00Z .. 00:00:05.500Z (5.5 s)" in speed
    world = next(ln for ln in lines if ln.startswith("world "))
    assert "view_coordinates (timeless)" in world
    only = ok("ls", rrd, "--entity", "world/**").splitlines()
    assert [ln.split()[0] for ln in only[1:]] == ["world", "world/points"]


def test_timelines(rrd: Path) -> None:
    lines = ok("timelines", rrd).splitlines()
    assert lines[1].split() == ["frame", "sequence", "0", "11", "12", "steps"]
    assert lines[2].split()[:4] == ["sensor_time", "time", "2026-01-01T00:00:00Z", "2026-01-01T00:00:05.500Z"]
    assert lines[3].startswith("log_time")


def test_schema(rrd: Path) -> None:
    out = ok("schema", rrd, "world/points")
    assert out.splitlines()[0] == "world/points  (points3d)"
    assert "positions3d  List(Array(Float32, shape=(3,)))" in out
    assert "sensor_time  Datetime(time_unit='ns', time_zone='UTC')" in out
    every = ok("schema", rrd)
    for entity in ("camera/image  (image)", 'logs/"my log"  (text_entry)', "robot/pose  (rigid3)", "world  "):
        assert entity in every
    assert re.search(r"^  tensor +Struct\(", every, re.MULTILINE)


def test_show(rrd: Path) -> None:
    out = ok("show", rrd, "--entity", "plot/speed", "--timeline", "frame", "--from", "2", "--to", "4")
    assert out.splitlines()[0] == "3 rows"
    assert " 4.5 " in out and " 6.0 " in out and " 1.5 " not in out
    images = ok("show", rrd, "--entity", "camera/*", "--limit", "2")
    assert images.splitlines()[0] == "3 rows, showing the first 2"
    assert "uint8 [4, 5, 3]" in images  # an image is summarised, not dumped
    assert "view_coordinates" not in images  # columns without values are left out


# --- export ------------------------------------------------------------------------------------------
def test_export_parquet_and_csv(rrd: Path, tmp_path: Path) -> None:
    rec = rrquery.open(rrd)
    out = tmp_path / "points.parquet"
    text = ok("export", rrd, "-o", out, "--entity", "world/points", "--timeline", "frame", "--from", "3", "--to", "5")
    assert text.strip() == f"wrote 3 rows to {out}"
    want = rec.range("world/points", timeline="frame", start=3, end=5)
    assert pl.read_parquet(out).equals(want)

    csv = tmp_path / "speed.csv"
    ok(
        "export", rrd, "-o", csv, "--entity", "plot/*", "--timeline", "sensor_time",
        "--from", "2026-01-01T00:00:01Z", "--to", "2026-01-01T00:00:02.000Z",
    )  # fmt: skip
    got = pl.read_csv(csv)
    assert got.get_column("frame").to_list() == [2, 3, 4]
    assert got.get_column("scalar").to_list() == [3.0, 4.5, 6.0]
    # Seconds since the epoch work too.
    ok("export", rrd, "-o", csv, "--force", "--entity", "plot/*", "--timeline", "sensor_time",
       "--from", str(START_S + 1), "--to", str(START_S + 2))  # fmt: skip
    assert pl.read_csv(csv).get_column("frame").to_list() == [2, 3, 4]


def test_export_directory(rrd: Path, tmp_path: Path) -> None:
    out = tmp_path / "all"
    text = ok("export", rrd, "-o", out, "--entity", "**")
    assert text.splitlines()[0] == f"wrote {FRAMES * 3 + 3 + 3 + 1} rows to 6 files in {out}"
    assert "  world.parquet  1 row" in text.splitlines()
    assert sorted(os.listdir(out)) == [
        "camera__image.parquet",
        "logs__%22my%20log%22.parquet",
        "plot__speed.parquet",
        "robot__pose.parquet",
        "world.parquet",
        "world__points.parquet",
    ]
    logs = pl.read_parquet(out / "logs__%22my%20log%22.parquet")
    assert logs.get_column("entity").unique().to_list() == ['logs/"my log"']
    assert logs.get_column("text").to_list() == ["frame 0", "frame 4", "frame 8"]
    line = bad("export", rrd, "-o", out, "--entity", "plot/*")
    assert "plot__speed.parquet exists (pass --force to overwrite it)" in line
    text = ok("export", rrd, "-o", out, "--entity", "**", "--timeline", "frame", "--from", "1", "--to", "2", "--force")
    assert 'no rows in the range (no file): camera/image, logs/"my log"' in text


def test_export_wide(rrd: Path, tmp_path: Path) -> None:
    out = tmp_path / "wide.parquet"
    ok("export", rrd, "-o", out, "--entity", "robot/**", "--entity", "plot/*", "--wide", "--index", "sensor_time",
       "--sample", "4", "--fill", "latest")  # fmt: skip
    want = rrquery.open(rrd).dataset("sensor_time", ["plot/speed", "robot/pose"], sample=4)
    got = pl.read_parquet(out)
    assert got.equals(want) and got.height == 23  # 5.5 s at 4 Hz
    ok("export", rrd, "-o", out, "--force", "--entity", "plot/*", "--wide", "--timeline", "frame",
       "--from", "2", "--to", "6", "--sample", "2", "--fill", "none")  # fmt: skip
    assert pl.read_parquet(out).rows() == [(2, 3.0), (4, 6.0), (6, 9.0)]


def test_csv_refuses_images(rrd: Path, tmp_path: Path) -> None:
    line = bad("export", rrd, "-o", tmp_path / "x.csv", "--entity", "**")
    assert "column 'tensor' (entity camera/image) holds binary data" in line
    assert "which CSV cannot hold" in line and "Parquet (.parquet) or Arrow (.arrow)" in line
    assert not (tmp_path / "x.csv").exists()


# --- sql -----------------------------------------------------------------------------------------------
def test_sql_entity_table(rrd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scanned: list[Any] = []
    real_scan = rrquery.scan

    def spy(path: Any, entities: Any = "**", *args: Any, **kwargs: Any) -> pl.LazyFrame:
        scanned.append(entities)
        return real_scan(path, entities, *args, **kwargs)

    monkeypatch.setattr(cli_rrquery.rrquery, "scan", spy)
    out = ok("sql", rrd, 'SELECT frame, scalar FROM "plot/speed" WHERE frame >= 9 ORDER BY frame', "--format", "csv")
    assert out.splitlines() == ["frame,scalar", "9,13.5", "10,15.0", "11,16.5"]
    assert scanned == ["plot/speed"]  # only the queried entity is registered
    out = ok("sql", rrd, 'SELECT text FROM "logs/""my log""" ORDER BY row_id', "--format", "json")
    assert json.loads(out) == [{"text": "frame 0"}, {"text": "frame 4"}, {"text": "frame 8"}]
    table = ok("sql", rrd, 'SELECT frame, positions3d FROM "world/points" WHERE frame = 1')
    assert "[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]" in table


def test_sql_chunks_table(rrd: Path, tmp_path: Path) -> None:
    query = (
        "SELECT entity, sum(rows) AS rows, min(frame_min) AS first, max(frame_max) AS last "
        "FROM chunks GROUP BY entity ORDER BY entity"
    )
    out = ok("sql", rrd, query, "--format", "csv")
    assert out.splitlines() == [
        "entity,rows,first,last",
        "camera/image,3,0,8",
        '"logs/""my log""",3,0,8',
        "plot/speed,12,0,11",
        "robot/pose,12,0,11",
        "world,1,,",
        "world/points,12,0,11",
    ]
    chunks = chunk_table(rrquery.open(rrd))
    assert chunks.schema["sensor_time_min"] == pl.Datetime("ns", "UTC")
    assert {"record_offset", "record_size", "row_id_min", "row_id_max", "timeless"} <= set(chunks.columns)
    out_file = tmp_path / "chunks.parquet"
    assert ok("sql", rrd, "SELECT * FROM chunks", "-o", out_file).strip() == f"wrote {chunks.height} rows to {out_file}"
    assert pl.read_parquet(out_file).equals(chunks)


# --- bad input ----------------------------------------------------------------------------------------
def bad_cases(rrd: Path, tmp: Path) -> list[tuple[list[Any], str]]:
    notrrd = tmp / "notes.rrd"
    notrrd.write_text("hello, not a recording\n")
    exists = tmp / "exists.parquet"
    exists.write_bytes(b"x")
    return [
        (["ls", tmp / "missing.rrd"], "missing.rrd: no such file"),
        (["show", notrrd, "--entity", "**"], "not an .rrd file"),
        (["show", rrd, "--entity", "nope/*"], "no entity matches 'nope/*'; entities: camera/image, "),
        (["ls", rrd, "--entity", "nope"], "no entity matches 'nope'"),
        (["schema", rrd, "nope"], "no entity matches 'nope'"),
        (["show", rrd, "--entity", "a//b"], "invalid entity path pattern"),
        (["show", rrd, "--entity", "**", "--timeline", "tick"], "unknown timeline 'tick'; the recording has: frame"),
        (["export", rrd, "-o", tmp / "a.parquet", "--entity", "**", "--timeline", "tick"], "unknown timeline 'tick'"),
        (
            ["show", rrd, "--entity", "**", "--timeline", "frame", "--from", "5", "--to", "2"],
            "--from 5 is after --to 2",
        ),
        (
            [
                "export",
                rrd,
                "-o",
                tmp / "a.parquet",
                "--entity",
                "**",
                "--timeline",
                "sensor_time",
                "--from",
                "2026-01-01T00:00:05Z",
                "--to",
                "2026-01-01T00:00:01Z",
            ],
            "--from 2026-01-01T00:00:05Z is after --to 2026-01-01T00:00:01Z",
        ),
        (["show", rrd, "--entity", "**", "--timeline", "frame", "--from", "1.5"], "expected an integer"),
        (["show", rrd, "--entity", "**", "--timeline", "sensor_time", "--to", "noon"], "expected seconds or an ISO"),
        (["show", rrd, "--entity", "**", "--from", "1"], "--from/--to need --timeline"),
        (["export", rrd, "-o", exists, "--entity", "**"], "exists.parquet exists (pass --force to overwrite it)"),
        (["export", rrd, "-o", tmp / "a.txt", "--entity", "**"], "unknown output format '.txt'"),
        (["export", rrd, "-o", tmp / "a.parquet", "--entity", "**", "--sample", "2"], "--sample applies to --wide"),
        (["export", rrd, "-o", tmp / "a.parquet", "--entity", "**", "--wide"], "--wide needs --index"),
        (
            ["export", rrd, "-o", tmp / "a.parquet", "--entity", "**", "--wide", "--index", "frame", "--sample", "-1"],
            "must be a positive number",
        ),
        (["sql", rrd, "SELEC 1"], "bad SQL query: sql parser error"),
        (["sql", rrd, "SELECT * FROM world_points"], 'tables: chunks, "camera/image", "logs/""my log"""'),
        (["sql", rrd, 'SELECT nope FROM "plot/speed"'], 'unable to find column "nope"'),
        (["sql", rrd, 'SELECT * FROM "camera/image"', "--format", "csv"], "column 'tensor' holds binary data"),
        (["sql", rrd, "SELECT * FROM chunks", "-o", exists], "exists (pass --force"),
    ]


def test_bad_input_is_one_line_and_exit_2(rrd: Path, tmp_path: Path) -> None:
    for args, message in bad_cases(rrd, tmp_path):
        line = bad(*args)
        assert message in line, (args, line)
    assert sorted(os.listdir(tmp_path)) == ["exists.parquet", "notes.rrd"]  # nothing was written


def test_installed_script(rrd: Path, tmp_path: Path) -> None:
    """The console script, in a real process: a good export, then bad input without a traceback."""
    exe = shutil.which("rrquery") or str(Path(sys.executable).parent / "rrquery")
    assert Path(exe).exists()
    out = tmp_path / "speed.parquet"
    good = subprocess.run(
        [exe, "export", str(rrd), "-o", str(out), "--entity", "plot/*"], capture_output=True, text=True
    )
    assert good.returncode == 0, good.stderr
    assert pl.read_parquet(out).height == FRAMES
    failed = subprocess.run(
        [exe, "show", str(rrd), "--entity", "**", "--timeline", "frame", "--from", "9", "--to", "1"],
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 2
    assert failed.stderr == "rrquery: error: --from 9 is after --to 1\n"
    assert failed.stdout == ""


# --- truncated files -----------------------------------------------------------------------------------
def test_truncated_file_warns_once(cut_rrd: Path, tmp_path: Path) -> None:
    for args in (
        ["ls", cut_rrd],
        ["export", cut_rrd, "-o", tmp_path / "cut.parquet", "--entity", "**"],
        ["sql", cut_rrd, 'SELECT count(*) AS n FROM "plot/speed"', "--format", "csv"],
    ):
        result = run(*args)
        assert result.exit_code == 0, result.output
        warnings = [ln for ln in result.stderr.splitlines() if ln]
        assert len(warnings) == 1, result.stderr
        assert warnings[0].startswith("rrquery: warning: ") and "truncated" in warnings[0]
        assert "bytes at the end could not be read" in warnings[0]
    exported = pl.read_parquet(tmp_path / "cut.parquet")
    assert 0 < exported.height < FRAMES * 3 + 3 + 3 + 1
    speed = exported.filter(pl.col("entity") == "plot/speed").get_column("frame").to_list()
    assert speed == list(range(len(speed)))


# --- help -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [[], ["ls"], ["timelines"], ["schema"], ["show"], ["export"], ["sql"]])
def test_help(command: list[str]) -> None:
    text = ok(*command, "--help")
    assert "Example:" in text and "rrquery" in text
    if command == ["export"]:
        assert "JSON text" in text and "world__points.parquet" in text and "%22" in text
    if command == ["sql"]:
        assert '"world/points"' in text and "frame_min" in text
