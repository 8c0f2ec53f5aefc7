"""The examples run end to end and write files that verify."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rrformat.reader import RrdReader
from rrformat.tools import verify

ROOT = Path(__file__).resolve().parent.parent


def test_demo_records_a_file_that_verifies(tmp_path: Path) -> None:
    out = tmp_path / "demo.rrd"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py"), str(out), "--no-view"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "world/lidar" in proc.stdout  # rrd info lists the entities
    assert verify(out).status == "ok"
    with RrdReader(out) as r:
        entities = {c.entity for c in r.chunks}
        assert {"world/map", "world/robot", "world/lidar", "robot/battery"} <= entities
        assert any(c.timeless for c in r.chunks if c.entity == "world/map")
