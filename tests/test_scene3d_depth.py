"""Lines and points just above a surface are not hidden by it (depth precision of the 3D cameras)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("vispy")

import rrformat as rr
from rrview.model import ViewerModel


def red_pixels(path: Path, *, floor: bool) -> int:
    from rrview.render import render_layout

    rec = rr.RecordingStream("depth", save=path, strict=True)
    rr.log_view_coordinates("world", up="+Z", timeless=True, recording=rec)
    # A 9 x 6 m floor, as in the robot-vacuum example, and a line 5 cm above it.
    floor_xyz = np.array([[0, 0, 0], [9, 0, 0], [9, 6, 0], [0, 6, 0]], np.float32)
    if floor:
        rr.log_mesh(
            "world/floor",
            floor_xyz,
            indices=np.array([[0, 1, 2], [0, 2, 3]]),
            albedo_factor=(0.3, 0.3, 0.3, 1.0),
            timeless=True,
            recording=rec,
        )
    else:  # the same extent without a surface: the camera frames the scene alike
        rr.log_points("world/corners", floor_xyz, radii=0.001, colors=(40, 40, 40), timeless=True, recording=rec)
    rr.log_line_strip(
        "world/line",
        np.array([[1, 1, 0.05], [8, 1, 0.05], [8, 5, 0.05]], np.float32),
        color=(255, 0, 0),
        timeless=True,
        recording=rec,
    )
    rec.disconnect()
    model = ViewerModel(path)
    try:
        img = render_layout(model, timeline=None, time=None, size=(640, 480))
    finally:
        model.close()
    red = (img[..., 0] > 200) & (img[..., 1] < 80) & (img[..., 2] < 80)
    return int(red.sum())


def test_a_line_5cm_above_a_floor_mesh_is_drawn_whole(tmp_path: Path) -> None:
    try:
        alone = red_pixels(tmp_path / "alone.rrd", floor=False)
    except Exception as exc:  # no GL at all on this machine
        pytest.skip(f"no headless GL: {exc}")
    over_floor = red_pixels(tmp_path / "floor.rrd", floor=True)
    assert alone > 300
    assert over_floor >= 0.9 * alone, (over_floor, alone)
