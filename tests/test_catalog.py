"""rrquery.catalog and ``rrquery catalog``: recordings listed from their indexes, cached next to them."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from test_fleet import FRAMES, N_RECORDINGS, app_of, run_id, write_fleet, write_run

import rrquery
import rrquery._many as many_module
import rrquery._recording as recording_module
from cli.rrquery import main
from rrquery._catalog import CACHE_NAME, scan_directory


@pytest.fixture(scope="module")
def fleet_src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fleet-src")
    write_fleet(root)
    return root


@pytest.fixture
def runs(fleet_src: Path, tmp_path: Path) -> Path:
    """A fresh copy of the fleet (tests change files and the cache)."""
    dst = tmp_path / "runs"
    shutil.copytree(fleet_src, dst)
    return dst


def test_catalog_lists_every_recording_from_its_index(runs: Path) -> None:
    table = rrquery.catalog(runs)
    assert table.height == N_RECORDINGS
    assert table.get_column("recording_id").to_list() == [run_id(k) for k in range(N_RECORDINGS)]
    assert table.get_column("application_id").to_list() == [app_of(k) for k in range(N_RECORDINGS)]
    assert table.get_column("path").to_list()[0] == str(runs / "day1" / "run-00.rrd")
    row = table.row(3, named=True)
    assert (row["frame_min"], row["frame_max"], row["frame_duration"]) == (0, FRAMES - 1, FRAMES - 1)
    assert table.schema["sensor_time_duration"] == pl.Duration("ns")
    assert row["sensor_time_duration"].total_seconds() == pytest.approx((FRAMES - 1) * 0.01)
    assert table.schema["start_time"] == pl.Datetime("ns", "UTC")
    assert row["entities"] == ["camera/image", "robot/mass", "robot/speed"]
    assert table.row(4, named=True)["entities"] == ["camera/image", "lidar/points", "robot/mass", "robot/speed"]
    assert row["size"] == (runs / "day1" / "run-03.rrd").stat().st_size
    assert set(table.get_column("status")) == {"ok"}
    with rrquery.open(runs / "day1" / "run-03.rrd") as rec:
        assert row["chunks"] == len(rec.index)
        assert row["rows"] == sum(c.rows for c in rec.index)
        assert row["start_time"].timestamp() == pytest.approx(rec.start_time_ns / 1e9)


def test_the_cache_is_refreshed_when_files_change(runs: Path) -> None:
    first = scan_directory(runs)
    assert (first.read, first.files, first.cache_written) == (N_RECORDINGS, N_RECORDINGS, True)
    cache = json.loads((runs / CACHE_NAME).read_text())
    assert len(cache["files"]) == N_RECORDINGS and "day1/run-00.rrd" in cache["files"]
    again = scan_directory(runs)
    assert again.read == 0 and not again.cache_written
    assert rrquery.catalog(runs).equals(rrquery.catalog(runs, cache=False))

    # A recording written again (other content), one removed, one added.
    target = runs / "day1" / "run-02.rrd"
    target.unlink()
    write_run(target, 5)  # now holds recording run-05's content
    (runs / "day2" / "run-19.rrd").unlink()
    write_run(runs / "day2" / "extra.rrd", 19)
    changed = scan_directory(runs)
    assert changed.read == 2 and changed.cache_written
    table = rrquery.catalog(runs)
    by_path = dict(zip(table.get_column("path"), table.get_column("recording_id"), strict=True))
    assert by_path[str(target)] == run_id(5)
    assert str(runs / "day2" / "run-19.rrd") not in by_path
    assert by_path[str(runs / "day2" / "extra.rrd")] == run_id(19)
    # Growing a file (a recording still being written) changes its size: it is read again.
    with open(runs / "day1" / "run-01.rrd", "ab") as f:
        f.write(b"\0" * 8)
    assert scan_directory(runs).read == 1
    assert scan_directory(runs, refresh=True).read == N_RECORDINGS


def test_a_damaged_cache_is_rebuilt(runs: Path) -> None:
    scan_directory(runs)
    (runs / CACHE_NAME).write_text("{not json")
    assert scan_directory(runs).read == N_RECORDINGS
    cache = json.loads((runs / CACHE_NAME).read_text())
    cache["files"]["day1/run-00.rrd"]["recordings"] = "garbage"
    (runs / CACHE_NAME).write_text(json.dumps(cache))
    assert scan_directory(runs).read == 1


def test_damaged_files_are_listed(runs: Path) -> None:
    data = (runs / "day1" / "run-01.rrd").read_bytes()
    (runs / "day1" / "cut.rrd").write_bytes(data[: len(data) // 2])
    (runs / "day1" / "notes.rrd").write_text("hello")
    table = rrquery.catalog(runs).filter(pl.col("path").str.contains("cut|notes"))
    cut, notes = table.rows(named=True)
    assert cut["status"] == "truncated" and "bytes unreadable" in cut["problem"]
    assert cut["recording_id"] == run_id(1) and cut["chunks"] > 0
    assert notes["status"] == "unreadable" and "not an .rrd file" in notes["problem"]
    assert notes["recording_id"] is None and notes["size"] == 5
    cached = rrquery.catalog(runs).filter(pl.col("path").str.contains("cut|notes"))
    assert cached.equals(table)


class _Opens:
    """Counts the files whose index is read, through the reader both modules use."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[str] = []
        real = recording_module.RrdReader

        def counting(path: Any, *args: Any, **kwargs: Any) -> Any:
            self.paths.append(os.fspath(path))
            return real(path, *args, **kwargs)

        monkeypatch.setattr(recording_module, "RrdReader", counting)
        monkeypatch.setattr(many_module, "RrdReader", counting)


def test_open_many_uses_a_fresh_cache_to_leave_files_unopened(runs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rrquery.catalog(runs)
    opens = _Opens(monkeypatch)
    rs = rrquery.open_many(str(runs / "**/*.rrd"), application_id="sorter")
    assert len(rs) == N_RECORDINGS // 2 and opens.paths == []
    # Only the recordings holding the entity, in the time range, are opened.
    with pytest.raises(ValueError, match="no entity matches 'lidar/points' in any recording"):
        rs.range("lidar/points")  # only "picker" recordings (every fourth) have points
    assert rs.range("robot/speed", timeline="frame", start=1000, end=2000).height == 0
    assert opens.paths == []
    speed = rs.range("robot/speed", timeline="frame", start=0, end=4)
    assert sorted(opens.paths) == sorted(str(m.path) for m in rs.members)
    late = [k for k in range(1, N_RECORDINGS, 2) if k % 3 == 0]  # no speed before frame 10
    assert speed.height == 5 * (N_RECORDINGS // 2 - len(late))
    # A changed file is not trusted to its cache entry: its footer is read.
    opens.paths.clear()
    touched = runs / "day1" / "run-01.rrd"
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    rrquery.open_many(str(runs / "**/*.rrd"), application_id="sorter")
    assert opens.paths == [str(runs / "day1" / "run-01.rrd")]


# --- the command --------------------------------------------------------------------------------------
def test_cli_catalog(runs: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["catalog", str(runs)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = ["path", "application", "recording", "start", "frame", "sensor_time", "log_time", "entities", "size"]
    assert lines[0].split() == header
    assert lines[1].split()[:3] == ["day1/run-00.rrd", "picker", run_id(0)]
    assert lines[1].split()[4] == f"0..{FRAMES - 1}"
    assert lines[-1].startswith(f"{N_RECORDINGS} recordings in {N_RECORDINGS} files")
    assert lines[-1].endswith(f"({N_RECORDINGS} indexes read; 0 from the cache)")
    result = runner.invoke(main, ["catalog", str(runs)])
    assert result.stdout.splitlines()[-1].endswith(f"(0 indexes read; {N_RECORDINGS} from the cache)")
    csv = runner.invoke(main, ["catalog", str(runs), "--format", "csv", "--pattern", "day2/*.rrd"]).stdout
    frame = pl.read_csv(csv.encode())
    assert frame.height == N_RECORDINGS // 2 and frame.get_column("entities")[0].startswith('["camera/image"')
    assert frame.get_column("sensor_time_duration")[0] == "PT0.29S"
    out = runs.parent / "catalog.parquet"
    assert runner.invoke(main, ["catalog", str(runs), "-o", str(out)]).exit_code == 0
    assert pl.read_parquet(out).height == N_RECORDINGS
    (runs / "day1" / "notes.rrd").write_text("hello")
    result = runner.invoke(main, ["catalog", str(runs)])
    assert result.exit_code == 0
    assert "unreadable" in result.stdout and "rrquery: warning:" in result.stderr and "notes.rrd" in result.stderr


def test_cli_catalog_bad_input_and_help(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["catalog", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rrquery: error: ") and "does not exist" in lines[0]
    result = runner.invoke(main, ["catalog", str(tmp_path)])
    assert result.exit_code == 0 and "no file matches" in result.stdout
    text = runner.invoke(main, ["catalog", "--help"]).stdout
    assert "Example:" in text and "rrquery catalog runs/" in text and CACHE_NAME in text
