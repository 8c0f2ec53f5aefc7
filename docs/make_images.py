"""Regenerate the pictures of the README (docs/images/*.png) with ``rrview --screenshot``.

Run it from anywhere: ``python docs/make_images.py``. It records the examples at full size
in a temporary directory, then renders the viewer's default layout of each, off screen
(no display needed), at the moments the README talks about.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
SIZE = "1600x900"
APPROACH = 14
"""The second picture of the robot is this many frames (1.4 s) before the collision."""


def run(*args: str | Path) -> str:
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, args))}\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def screenshot(recording: Path, name: str, *args: str) -> None:
    out = IMAGES / name
    run(sys.executable, "-m", "cli.rrview", recording, "--screenshot", out, "--size", SIZE, *args)
    print(f"wrote {out.relative_to(ROOT)}")


def main() -> int:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        vacuum = Path(tmp) / "robot_vacuum.rrd"
        stdout = run(sys.executable, ROOT / "examples" / "robot_vacuum.py", vacuum)
        m = re.search(r"hits the wall at frame (\d+)", stdout)
        if m is None:
            sys.exit(f"robot_vacuum.py reported no collision:\n{stdout}")
        collision = int(m.group(1))
        run(sys.executable, "-m", "cli.rrd", "verify", vacuum)
        screenshot(vacuum, "robot_vacuum_collision.png", "--timeline", "frame", "--time", str(collision))
        screenshot(vacuum, "robot_vacuum_approach.png", "--timeline", "frame", "--time", str(collision - APPROACH))

        cameras = Path(tmp) / "two_cameras.rrd"
        run(sys.executable, ROOT / "examples" / "two_cameras.py", cameras)
        screenshot(cameras, "two_cameras.png", "--timeline", "frame", "--time", "20")

        gallery = Path(tmp) / "gallery.rrd"
        run(sys.executable, ROOT / "examples" / "gallery.py", gallery)
        screenshot(gallery, "gallery.png", "--timeline", "frame", "--time", "1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
