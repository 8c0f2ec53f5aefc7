"""Tests for the ``rrd`` command: output, exit codes and error messages, on real files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cli._common import human_size, parse_size
from cli.rrd import main
from rrformat import _framing as fr
from rrformat.chunk import Chunk
from rrformat.reader import Damage, RrdReader
from rrformat.testing import RecordSpan, make_chunk, record_layout
from rrformat.writer import RrdWriter

JSON_KEYS = [
    "offset",
    "size",
    "recording",
    "entity",
    "kind",
    "rows",
    "timeless",
    "row_ids",
    "timelines",
    "columns",
    "codec",
]


# --- helpers ------------------------------------------------------------------------------------
def write_file(path: Path, *, flushes: int = 6, recording_id: str = "run-a", close: bool = True) -> Path:
    """Each flush writes a record per entity; ``world`` is timeless and ``camera/jpeg`` holds bytes."""
    w = RrdWriter(
        path, application_id="robot", recording_id=recording_id, start_time_ns=1_700_000_000 * 10**9, threads=0
    )
    w.write_chunk(Chunk.build("world", "view_coordinates", row_ids=[0], components={"view_coordinates": ["RDF"]}))
    rid = 1
    for i in range(flushes):
        w.write_chunk(
            make_chunk(
                "world/points",
                "points3d",
                rows=4,
                first_row_id=rid,
                seed=i,
                timelines={"frame": "sequence", "log_time": "time"},
            )
        )
        w.write_chunk(make_chunk("plot/speed", "scalar", rows=3, first_row_id=rid + 4, seed=i, components=["scalar"]))
        w.write_chunk(make_chunk("camera/jpeg", "encoded_image", rows=1, first_row_id=rid + 7, seed=i + 3))
        rid += 8
        w.flush()
    if close:
        w.close()
    else:
        w.abort()
    return path


def chunk_spans(path: Path) -> list[RecordSpan]:
    return [s for s in record_layout(path) if s.kind == fr.RecordKind.CHUNK]


def chunk_count(path: Path) -> int:
    with RrdReader(path) as r:
        return len(r.chunks)


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def whole(tmp_path: Path) -> Path:
    return write_file(tmp_path / "whole.rrd")


@pytest.fixture
def truncated(tmp_path: Path) -> Path:
    src = write_file(tmp_path / "live.rrd", close=False)
    last = chunk_spans(src)[-1]
    cut = tmp_path / "truncated.rrd"
    cut.write_bytes(src.read_bytes()[: last.body_offset + 5])
    return cut


@pytest.fixture
def corrupt(whole: Path, tmp_path: Path) -> Path:
    """A flipped byte inside the body of a chunk record in the middle of the file."""
    spans = chunk_spans(whole)
    victim = spans[len(spans) // 2]
    data = bytearray(whole.read_bytes())
    data[(victim.body_offset + victim.body_end) // 2] ^= 0xFF
    out = tmp_path / "corrupt.rrd"
    out.write_bytes(bytes(data))
    return out


def rrd_script() -> str:
    """The installed console script (next to this interpreter, or on PATH)."""
    here = Path(sys.executable).parent / "rrd"
    found = str(here) if here.exists() else shutil.which("rrd")
    assert found, "the rrd console script is not installed (pip install -e .)"
    return found


# --- help ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["info", "print", "verify", "recover", "compact", "merge"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.stdout and f"rrd {command}" in result.stdout
    assert run("--help").exit_code == 0 and command in run("--help").stdout


# --- info ---------------------------------------------------------------------------------------
def test_info_text(whole: Path) -> None:
    result = run("info", whole)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "run-a" in out and "robot" in out
    assert "world/points" in out and "points3d" in out and "camera/jpeg" in out
    assert "frame" in out and "log_time" in out and "2023-11-14T" in out
    assert f"chunks:       {chunk_count(whole)} " in out
    assert "damage:       none" in out


def test_info_json(whole: Path, truncated: Path) -> None:
    d = json.loads(run("info", "--json", whole).stdout)
    assert d["chunks"] == chunk_count(whole)
    assert d["recordings"][0]["recording_id"] == "run-a"
    assert {e["entity"] for e in d["recordings"][0]["entities"]} == {
        "world",
        "world/points",
        "plot/speed",
        "camera/jpeg",
    }
    result = run("info", "--json", truncated)
    assert result.exit_code == 3
    assert json.loads(result.stdout)["damage"]["kind"] == "truncated"


# --- print --------------------------------------------------------------------------------------
def test_print_text_one_line_per_chunk(whole: Path) -> None:
    result = run("print", whole)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == chunk_count(whole)
    with RrdReader(whole) as r:
        for line, info in zip(lines, r.chunks, strict=True):
            assert line.startswith(f"@{info.record_offset} ")
            assert info.entity in line and f"[{info.kind}]" in line


def test_print_json_lines(whole: Path) -> None:
    result = run("print", "--json", whole)
    assert result.exit_code == 0
    objs = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(objs) == chunk_count(whole)
    assert all(list(o) == JSON_KEYS for o in objs)
    with RrdReader(whole) as r:
        for o, info in zip(objs, r.chunks, strict=True):
            assert (o["offset"], o["entity"], o["kind"], o["rows"]) == (
                info.record_offset,
                info.entity,
                info.kind,
                info.rows,
            )
            assert o["row_ids"] == [info.row_id_min, info.row_id_max]
    points = next(o for o in objs if o["entity"] == "world/points")
    assert points["timelines"]["frame"] == {"kind": "sequence", "min": 0, "max": 3, "sorted": True}
    assert points["columns"]["row_id"] == "uint64" and points["codec"] in ("zstd", "none")
    assert objs[0]["timeless"] and objs[0]["timelines"] == {}
    # deterministic: byte for byte the same on a second run
    assert run("print", "--json", whole).stdout == result.stdout


def test_print_json_data(whole: Path) -> None:
    result = run("print", "--json", "--data", "--entity", "camera/**", whole)
    assert result.exit_code == 0
    objs = [json.loads(line) for line in result.stdout.splitlines()]
    assert objs and all(o["entity"] == "camera/jpeg" for o in objs)
    assert list(objs[0]) == [*JSON_KEYS, "data"]
    data = objs[0]["data"]
    assert list(data) == list(objs[0]["columns"])
    assert set(data["encoded_image"][0]) == {"base64"}
    assert data["row_id"] == list(range(objs[0]["row_ids"][0], objs[0]["row_ids"][1] + 1))


def test_print_entity_pattern(whole: Path) -> None:
    out = run("print", "--json", "--entity", "world/*", whole).stdout
    assert {json.loads(line)["entity"] for line in out.splitlines()} == {"world/points"}
    out = run("print", "--json", "--entity", "world/**", whole).stdout
    assert {json.loads(line)["entity"] for line in out.splitlines()} == {"world", "world/points"}


def test_print_damaged_files(truncated: Path, corrupt: Path) -> None:
    result = run("print", "--json", truncated)
    assert result.exit_code == 3
    last = json.loads(result.stdout.splitlines()[-1])
    assert last["damage"]["kind"] == "truncated" and last["damage"]["offset"] == chunk_spans_of_cut(truncated)
    text = run("print", truncated)
    assert text.exit_code == 3 and text.stdout.splitlines()[-1].startswith("damage: truncated at byte")
    # A flipped body byte is only seen when the body is read, i.e. with --data.
    assert run("print", "--json", corrupt).exit_code == 0
    result = run("print", "--json", "--data", corrupt)
    assert result.exit_code == 1
    last = json.loads(result.stdout.splitlines()[-1])
    assert last["damage"]["kind"] == "corrupt" and "checksum" in last["damage"]["reason"]


def chunk_spans_of_cut(path: Path) -> int:
    with RrdReader(path) as r:
        assert r.damage is not None
        return r.damage.offset


# --- verify -------------------------------------------------------------------------------------
def test_verify_exit_codes(whole: Path, truncated: Path, corrupt: Path) -> None:
    ok = run("verify", whole)
    assert ok.exit_code == 0 and "ok" in ok.stdout.splitlines()[0]
    cut = run("verify", truncated)
    assert cut.exit_code == 3 and "truncated" in cut.stdout
    bad = run("verify", corrupt)
    assert bad.exit_code == 1 and "corrupt" in bad.stdout.splitlines()[0]
    assert "body checksum mismatch" in bad.stdout and "byte " in bad.stdout


# --- recover ------------------------------------------------------------------------------------
def test_recover_exit_codes(whole: Path, truncated: Path, corrupt: Path, tmp_path: Path) -> None:
    assert run("recover", whole, "-o", tmp_path / "a.rrd").exit_code == 0
    assert run("recover", truncated, "-o", tmp_path / "b.rrd").exit_code == 3
    result = run("recover", corrupt, "-o", tmp_path / "c.rrd")
    assert result.exit_code == 3 and "lost: 1 chunk" in result.stdout
    # everything but the damaged chunk, including the chunks after it
    assert chunk_count(tmp_path / "c.rrd") == chunk_count(whole) - 1
    for name in ("a", "b", "c"):
        assert run("verify", tmp_path / f"{name}.rrd").exit_code == 0


def test_recover_nothing_recoverable(whole: Path, tmp_path: Path) -> None:
    cut = tmp_path / "stub.rrd"
    cut.write_bytes(whole.read_bytes()[: chunk_spans(whole)[0].offset + 10])
    result = run("recover", cut, "-o", tmp_path / "out.rrd")
    assert result.exit_code == 1 and "nothing recoverable" in result.stdout
    assert not (tmp_path / "out.rrd").exists()


# --- compact ------------------------------------------------------------------------------------
def test_compact_chunk_size_and_data(whole: Path, tmp_path: Path) -> None:
    big, small = tmp_path / "big.rrd", tmp_path / "small.rrd"
    assert run("compact", whole, "-o", big).exit_code == 0
    assert run("compact", whole, "-o", small, "--chunk-size", "200").exit_code == 0
    assert chunk_count(big) < chunk_count(whole) < chunk_count(small)
    for out in (big, small):
        assert rows(out) == rows(whole)


def rows(path: Path) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Every row per (entity, kind), in row-id order, as Python values."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    with RrdReader(path) as r:
        for info in r.chunks:
            out.setdefault((info.entity, info.kind), []).extend(r.read_chunk(info).batch.to_pylist())
    return {k: sorted(v, key=lambda row: int(row["row_id"])) for k, v in out.items()}


def test_compact_without_compression(whole: Path, tmp_path: Path) -> None:
    out = tmp_path / "hot.rrd"
    result = run("compact", whole, "-o", out, "--compression", "none", "--chunk-size", "4MiB")
    assert result.exit_code == 0, result.output
    with RrdReader(out, use_footer=False) as r:
        headers = [item.header for item in r.walk() if not isinstance(item, Damage)]
    chunks = [h for h in headers if h.kind == fr.RecordKind.CHUNK]
    assert chunks and all(not h.flags & fr.FLAG_BODY_ZSTD for h in chunks)
    assert rows(out) == rows(whole)


@pytest.mark.parametrize(("text", "value"), [("4MiB", 4 << 20), ("512KB", 512_000), ("1000000", 1_000_000)])
def test_sizes(text: str, value: int) -> None:
    assert parse_size(text) == value
    assert human_size(value).split()[1] in ("B", "KiB", "MiB")


# --- merge --------------------------------------------------------------------------------------
def test_merge_recordings(tmp_path: Path) -> None:
    a = write_file(tmp_path / "a.rrd", recording_id="run-a", flushes=2)
    b = write_file(tmp_path / "b.rrd", recording_id="run-b", flushes=3)
    apart, one = tmp_path / "apart.rrd", tmp_path / "one.rrd"
    assert run("merge", a, b, "-o", apart).exit_code == 0
    assert run("merge", a, b, "-o", one, "--as-one").exit_code == 0
    with RrdReader(apart) as r:
        assert [x.recording_id for x in r.recordings] == ["run-a", "run-b"]
        assert {c.recording for c in r.chunks} == {0, 1}
    with RrdReader(one) as r:
        assert [x.recording_id for x in r.recordings] == ["run-a"]
        assert {c.recording for c in r.chunks} == {0}
    assert chunk_count(apart) == chunk_count(one) == chunk_count(a) + chunk_count(b)
    assert run("verify", one).exit_code == 0


# --- bad input ----------------------------------------------------------------------------------
BAD = [
    (["info", "{tmp}/missing.rrd"], "missing.rrd"),
    (["print", "{tmp}/notes.txt"], "not an .rrd file"),
    (["verify", "{tmp}"], "is a directory"),
    (["recover", "{whole}", "-o", "{tmp}/exists.rrd"], "--force"),
    (["recover", "{whole}", "-o", "{tmp}"], "is a directory"),
    (["compact", "{whole}", "-o", "{tmp}/x.rrd", "--chunk-size", "4XB"], "--chunk-size"),
    (["compact", "{whole}", "-o", "{tmp}/x.rrd", "--chunk-size", "0"], "--chunk-size"),
    (["compact", "{whole}", "-o", "{tmp}/x.rrd", "--compression", "lz4"], "--compression"),
    (["merge", "{whole}", "{tmp}/missing.rrd", "-o", "{tmp}/x.rrd"], "missing.rrd"),
    (["merge", "{whole}", "-o", "{whole}", "--force"], "also an input"),
    (["merge", "{whole}", "{whole}", "-o", "{tmp}/x.rrd"], "given twice"),
    (["print", "{whole}", "--entity", 'a/"b'], "--entity"),
    (["recover", "{whole}"], "--output"),
    (["frobnicate"], "frobnicate"),
]


@pytest.mark.parametrize(("args", "needle"), BAD)
def test_bad_input_is_one_line_and_exit_2(args: list[str], needle: str, whole: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a recording")
    (tmp_path / "exists.rrd").write_bytes(b"precious")
    argv = [a.format(tmp=tmp_path, whole=whole) for a in args]
    result = run(*argv)
    assert result.exit_code == 2, result.output
    err = result.stderr.strip()
    assert err.startswith("rrd: error:") and "\n" not in err
    assert needle in err
    assert "Traceback" not in result.output
    assert (tmp_path / "exists.rrd").read_bytes() == b"precious"
    assert not (tmp_path / "x.rrd").exists()


# --- the installed console script ----------------------------------------------------------------
def test_console_script_exit_codes_and_errors(whole: Path, truncated: Path, tmp_path: Path) -> None:
    rrd = rrd_script()
    ok = subprocess.run([rrd, "verify", str(whole)], capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and ok.stderr == ""  # no progress bar on a pipe
    cut = subprocess.run([rrd, "verify", str(truncated)], capture_output=True, text=True, check=False)
    assert cut.returncode == 3
    bad = subprocess.run([rrd, "info", str(tmp_path / "nope.rrd")], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("rrd: error:") and "nope.rrd" in bad.stderr and "Traceback" not in bad.stderr
    out = tmp_path / "fixed.rrd"
    rec = subprocess.run([rrd, "recover", str(truncated), "-o", str(out)], capture_output=True, text=True, check=False)
    assert rec.returncode == 3 and out.exists()


def test_console_script_survives_a_closed_pipe(tmp_path: Path) -> None:
    big = write_file(tmp_path / "big.rrd", flushes=60)
    proc = subprocess.Popen(
        [rrd_script(), "print", "--json", "--data", str(big)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert json.loads(first)["entity"] == "world"
    assert "Traceback" not in err and err == ""
