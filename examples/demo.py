"""Record a small simulated robot run, inspect and verify the file, and open it in the viewer.

Run it with ``make demo`` or ``python examples/demo.py [OUT.rrd] [--no-view]``. Without a
display, the viewer's default layout is rendered to ``OUT.png`` instead of a window.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import rrformat as rr


def record(path: Path, *, frames: int = 200) -> None:
    rr.init("demo_robot", save=path)
    rng = np.random.default_rng(7)
    room = rng.uniform([-5, -5, 0], [5, 5, 2.5], size=(2000, 3))
    rr.log_points("world/map", room, colors=[180, 180, 180], radii=0.02, timeless=True)
    for frame in range(frames):
        t = frame / 20.0
        rr.set_time_sequence("frame", frame)
        rr.set_time_seconds("sensor_time", 1_700_000_000 + t)
        pose = np.array([2 * np.cos(t / 3), 2 * np.sin(t / 3), 0.1])
        rr.log_point("world/robot", pose, radius=0.2, color=[255, 80, 0])
        angles = np.linspace(0, 2 * np.pi, 360, endpoint=False)
        ranges = 3.0 + 0.3 * np.sin(5 * angles + t)
        scan = pose + np.stack([ranges * np.cos(angles), ranges * np.sin(angles), np.zeros_like(angles)], axis=1)
        rr.log_points("world/lidar", scan, colors=[0, 160, 255], radii=0.03)
        rr.log_scalar("robot/battery", 100.0 - 0.05 * frame)
        rr.log_scalar("robot/speed", 2.0 / 3.0 + 0.05 * float(rng.normal()))
    rr.disconnect()


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    out = Path(args[0]) if args else Path("demo.rrd")
    record(out)
    print(f"recorded {out}\n")

    def command(name: str) -> str:
        # The command installed beside this interpreter (a virtual environment's bin/).
        path = Path(sys.executable).with_name(name)
        return str(path) if path.exists() else name

    subprocess.run([command("rrd"), "info", str(out)], check=True)
    status = subprocess.run([command("rrd"), "verify", str(out)]).returncode
    if status != 0 or "--no-view" in sys.argv:
        return status
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return subprocess.run([command("rrview"), str(out)]).returncode
    shot = out.with_suffix(".png")
    print(f"\nno display: rendering the viewer's default layout to {shot}")
    return subprocess.run([command("rrview"), str(out), "--screenshot", str(shot), "--size", "1280x720"]).returncode


if __name__ == "__main__":
    raise SystemExit(main())
