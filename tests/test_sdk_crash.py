"""Crashes of a recording process: SIGKILL mid-run, and the disk filling up mid-run."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import rrformat as rr

CHILD = Path(__file__).parent / "scripts" / "sdk_child.py"


def child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("RRKIT_")}


def verify_status(path: Path) -> int | None:
    """Exit status of ``rrd verify PATH``, or None while the command does not exist."""
    try:
        rrd = importlib.import_module("cli.rrd")
    except ImportError:
        return None
    from click.testing import CliRunner

    result = CliRunner().invoke(rrd.main, ["verify", str(path)])
    if result.exit_code == 2 and ("No such command" in result.output or "not part of this release" in result.output):
        return None
    return result.exit_code


def read_everything(path: Path) -> tuple[rr.RrdReader, dict[str, list[int]]]:
    """Open the file, read every chunk of its index; returns the reader and each entity's frames."""
    frames: dict[str, list[int]] = {}
    r = rr.RrdReader(path)
    for info in r.chunks:
        batch = r.read_chunk(info).batch
        assert batch.num_rows == info.rows
        frames.setdefault(info.entity, []).extend(batch.column("frame").to_pylist())
    return r, frames


def test_sigkill_mid_run_keeps_every_flushed_frame(tmp_path: Path) -> None:
    path = tmp_path / "killed.rrd"
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), "loop", str(path), "50"],
        env=child_env(),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        flushed = -1
        for _ in range(5):
            line = proc.stdout.readline()
            assert line, "the child ended before logging"
            flushed = int(line)
        proc.kill()
        assert proc.wait(timeout=60) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
    r, frames = read_everything(path)
    with r:
        assert r.opened_via == "scan"  # no footer: the process never closed the file
        assert r.damage is None or r.damage.kind == "truncated", r.damage
        assert r.recordings and r.recordings[0].application_id == "child"
    counter = frames["counter"]
    # Every frame flushed before the kill is there, each once, in order, with no gap.
    assert counter == list(range(len(counter)))
    assert len(counter) > flushed
    assert verify_status(path) in (None, 0, 3)


def test_disk_full_mid_run_warns_once_and_keeps_the_file_readable(tmp_path: Path) -> None:
    path = tmp_path / "full.rrd"
    limit = 300_000
    done = subprocess.run(
        [sys.executable, str(CHILD), "diskfull", str(path), str(limit)],
        env=child_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "warnings=1", done.stdout + done.stderr
    assert lines[1].startswith(("RuntimeWarning: ", "RecordingWarning: "))
    assert str(path) in lines[1] and "failed" in lines[1]
    assert os.path.getsize(path) <= limit
    r, frames = read_everything(path)
    with r:
        assert r.damage is None or r.damage.kind == "truncated", r.damage
        assert r.opened_via == "scan"
    # The file holds a prefix of the frames: whole chunks up to the failure.
    cloud = frames.get("cloud", [])
    assert cloud == list(range(len(cloud)))
    assert 0 < len(cloud) < 200
    assert verify_status(path) in (None, 0, 3)


@pytest.mark.parametrize("limit", [100, 2_000])
def test_disk_full_from_the_first_chunk_still_exits_cleanly(tmp_path: Path, limit: int) -> None:
    """A limit below what init wrote, or hit inside the first records: one warning, exit 0."""
    path = tmp_path / "tiny.rrd"
    done = subprocess.run(
        [sys.executable, str(CHILD), "diskfull", str(path), str(limit)],
        env=child_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "warnings=1", done.stdout + done.stderr
    r, frames = read_everything(path)
    with r:
        assert r.damage is None or r.damage.kind == "truncated", r.damage
        assert r.recordings[0].application_id == "child"
    assert frames.get("cloud", []) == list(range(len(frames.get("cloud", []))))
