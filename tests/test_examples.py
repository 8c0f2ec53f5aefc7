"""The examples run end to end, as their users run them, and write files that verify and hold their story.

Each example runs in a process of its own (small sizes), its output passes ``rrd verify``
(exit code 0), and the recording is read back to check what it claims: the entities and
timelines, and for the robot vacuum the bug itself (the believed pose leaves the true one
when localization stops, and at the collision the "door" the robot sees is a wall).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest

import rrformat as rr
import rrquery
from rrformat.reader import RrdReader
from rrformat.tools import verify

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
sys.path.insert(0, str(EXAMPLES))
from vacuum_sim import DOOR, WALL  # noqa: E402

SMALL = "64x48"


def run_example(script: str, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout}\n{proc.stderr}"
    assert "Warning" not in proc.stderr, proc.stderr  # no call was dropped for bad input
    return proc


def rrd_verify(path: Path) -> None:
    """The ``rrd verify`` command accepts the file (exit code 0)."""
    proc = subprocess.run([sys.executable, "-m", "cli.rrd", "verify", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok, the file is whole" in proc.stdout


def screenshot(path: Path, out: Path, *args: str) -> None:
    """Render the viewer's default layout off screen, as on a machine without a display."""
    pytest.importorskip("vispy")
    pytest.importorskip("PIL")
    from rrview.render import gl_unavailable_reason

    reason = gl_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    cmd = [sys.executable, "-m", "cli.rrview", str(path), "--screenshot", str(out), "--size", "640x360", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr
    from PIL import Image

    with Image.open(out) as img:
        assert img.size == (640, 360)
        colors = img.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colors is not None and len(colors) > 200  # views with content, not an empty grid


# --- demo and minimal ----------------------------------------------------------------------------
def test_demo_records_a_file_that_verifies(tmp_path: Path) -> None:
    out = tmp_path / "demo.rrd"
    proc = run_example("demo.py", out, "--no-view", cwd=tmp_path)
    assert "world/lidar" in proc.stdout  # rrd info lists the entities
    assert verify(out).status == "ok"
    with RrdReader(out) as r:
        entities = {c.entity for c in r.chunks}
        assert {"world/map", "world/robot", "world/lidar", "robot/battery"} <= entities
        assert any(c.timeless for c in r.chunks if c.entity == "world/map")


def test_minimal_writes_its_points_where_it_runs(tmp_path: Path) -> None:
    proc = run_example("minimal.py", cwd=tmp_path)
    out = tmp_path / "minimal.rrd"
    assert "rrview minimal.rrd" in proc.stdout
    rrd_verify(out)
    with rrquery.open(out) as rec:
        points = rec.range("world/points")
    assert points.height == 1 and len(points["positions3d"][0]) == 10


# --- the robot vacuum ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def vacuum(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """robot_vacuum.rrd at a small camera size, and the collision frame the script reports."""
    tmp = tmp_path_factory.mktemp("vacuum")
    out = tmp / "robot_vacuum.rrd"
    proc = run_example("robot_vacuum.py", out, "--size", SMALL, cwd=tmp)
    m = re.search(r"hits the wall at frame (\d+)", proc.stdout)
    assert m is not None, proc.stdout
    assert f"rrview {out} --timeline frame --time {m.group(1)}" in proc.stdout
    return out, int(m.group(1))


def test_robot_vacuum_verifies_and_holds_every_stream(vacuum: tuple[Path, int]) -> None:
    path, _ = vacuum
    rrd_verify(path)
    with rrquery.open(path) as rec:
        assert set(rec.timelines()["name"]) == {"frame", "sensor_time", "log_time"}
        kinds = {(row["entity"], row["kind"]): row["timeless"] for row in rec.entities().iter_rows(named=True)}
        # The map and everything else that does not change is timeless.
        for entity, kind in [
            ("world", "view_coordinates"),
            ("world", "annotation_context"),
            ("world/map/walls", "boxes3d"),
            ("world/map/furniture", "boxes3d"),
            ("world/robot/body", "mesh3d"),
            ("world/robot/camera", "rigid3"),
            ("world/robot/camera/image", "pinhole"),
            ("world/robot/camera/depth", "pinhole"),
        ]:
            assert kinds.get((entity, kind)) is True, (entity, kind)
        for entity, kind in [
            ("world/robot", "rigid3"),
            ("world/ground_truth", "rigid3"),
            ("world/robot/camera/image", "image"),
            ("world/robot/camera/depth", "depth_image"),
            ("world/robot/camera/image/segmentation", "segmentation_image"),
            ("world/robot/camera/image/detections", "rects2d"),
            ("world/robot/lidar", "points3d"),
            ("world/detections", "boxes3d"),
            ("detector/confidence/door", "scalar"),
            ("detector/confidence/furniture", "scalar"),
            ("localization/position_error_m", "scalar"),
            ("logs/planner", "text_entry"),
            ("logs/bumper", "text_entry"),
        ]:
            assert kinds.get((entity, kind)) is False, (entity, kind)

        world = rec.latest_at("frame", 0, "world")
        assert world.filter(pl.col("kind") == "view_coordinates")["view_coordinates"][0] == "RFU"  # up = +Z
        context = world.filter(pl.col("kind") == "annotation_context")["class_descriptions"][0]
        assert {"wall", "floor", "door", "obstacle"} <= {c["label"] for c in context}
        camera = rec.latest_at("frame", 0, "world/robot/camera")
        assert camera["view_coordinates"][0] == "RDF"

        # Lidar points are coloured by range: near and far points get different colours.
        scan = rec.range("world/robot/lidar", timeline="frame", start=10, end=10)
        pts = np.asarray(scan["positions3d"][0].to_list())
        cols = np.asarray(scan["colors"][0].to_list())
        near, far = np.argmin(np.linalg.norm(pts[:, :2], axis=1)), np.argmax(np.linalg.norm(pts[:, :2], axis=1))
        assert not np.array_equal(cols[near], cols[far])


def poses(rec: rrquery.Recording, entity: str) -> pl.DataFrame:
    return rec.range(entity, timeline="frame").select("frame", pl.col("translation").alias(entity))


def test_robot_vacuum_believed_pose_drifts_from_the_truth(vacuum: tuple[Path, int]) -> None:
    path, collision = vacuum
    with rrquery.open(path) as rec:
        logs = rec.range("logs/**", timeline="frame")
        both = poses(rec, "world/robot").join(poses(rec, "world/ground_truth"), on="frame").sort("frame")
    # The localization log says when the robot fell back on odometry: the drift starts there.
    paused = logs.filter(pl.col("text").str.contains("Scan matcher paused"))
    assert paused.height == 1 and paused["level"][0] == "WARN"
    drift_start = paused["frame"][0]

    believed = np.asarray(both["world/robot"].to_list())
    true = np.asarray(both["world/ground_truth"].to_list())
    frames = both["frame"].to_numpy()
    error = np.linalg.norm(believed - true, axis=1)
    assert error[frames <= drift_start].max() < 1e-6  # the belief was right until then
    assert error[frames == drift_start + 50][0] > 0.05
    assert error[frames == collision][0] > 0.4  # tens of centimetres off when the bumper fires
    assert np.all(np.diff(error[(frames > drift_start) & (frames <= collision)]) > -0.02)  # it only grows

    # The story in the text log: "Going through doorway", then the bumper, at the collision frame.
    going = logs.filter(pl.col("text") == "Going through doorway")
    bumps = logs.filter(pl.col("entity") == "logs/bumper")
    assert going.height == 1 and going["frame"][0] < collision
    assert bumps["frame"][0] == collision and set(bumps["level"]) == {"WARN"}


def test_robot_vacuum_sees_a_wall_where_it_expects_the_door(vacuum: tuple[Path, int]) -> None:
    path, collision = vacuum
    with rrquery.open(path) as rec:
        at = rec.latest_at("frame", collision, "world/robot/camera/image/**")
    detections = at.filter(pl.col("entity") == "world/robot/camera/image/detections")
    labels = detections["labels"][0].to_list()
    door = [i for i, label in enumerate(labels) if label.startswith("door")]
    assert len(door) == 1
    x, y, w, h = (round(v) for v in detections["rects"][0].to_list()[door[0]])
    segmentation = at.filter(pl.col("entity") == "world/robot/camera/image/segmentation")
    classes = np.asarray(rrquery.to_numpy(segmentation["tensor"]))[0]
    inside = classes[y : y + h, x : x + w]
    assert inside.size > 0
    assert np.mean(inside == WALL) > 0.5 and np.mean(inside == DOOR) < 0.1


def test_robot_vacuum_screenshot_at_the_collision(vacuum: tuple[Path, int], tmp_path: Path) -> None:
    path, collision = vacuum
    screenshot(path, tmp_path / "collision.png", "--timeline", "frame", "--time", str(collision))


def test_dataset_export_reads_back_numpy_batches(vacuum: tuple[Path, int], tmp_path: Path) -> None:
    path, _ = vacuum
    out = tmp_path / "train.parquet"
    proc = run_example("dataset_export.py", path, "-o", out, "--batch-size", "100", cwd=tmp_path)
    table = pq.read_table(out)
    assert table.column_names == ["sensor_time", "image", "position", "rotation", "segmentation", "true_position"]
    times = table.column("sensor_time").to_numpy().astype("datetime64[ns]").astype(np.int64)
    assert np.all(np.diff(times) == 100_000_000)  # a fixed 10 Hz grid
    assert f"read back {table.num_rows} samples" in proc.stdout
    assert "batch 0: image (100, 48, 64, 3) float32, segmentation (100, 48, 64) uint8" in proc.stdout
    frame = pl.from_arrow(table.slice(0, 5))
    assert isinstance(frame, pl.DataFrame)
    assert np.asarray(rrquery.to_numpy(frame["image"])).shape == (5, 48, 64, 3)

    cmd = [sys.executable, str(EXAMPLES / "dataset_export.py"), str(tmp_path / "nope.rrd")]
    missing = subprocess.run(cmd, capture_output=True, text=True)
    assert missing.returncode == 2 and "robot_vacuum.py" in missing.stderr


# --- two cameras and the gallery -----------------------------------------------------------------
def test_two_cameras(tmp_path: Path) -> None:
    out = tmp_path / "two.rrd"
    run_example("two_cameras.py", out, "--frames", "3", "--size", SMALL, cwd=tmp_path)
    rrd_verify(out)
    with rrquery.open(out) as rec:
        listing = rec.entities()
        kinds = set(zip(listing["entity"], listing["kind"], strict=True))
        for i in (0, 1):
            assert (f"world/camera/#{i}", "rigid3") in kinds
            assert (f"world/camera/#{i}/image", "pinhole") in kinds
            assert (f"world/camera/#{i}/image", "image") in kinds
            rects = {e for e, k in kinds if e.startswith(f"world/camera/#{i}/image/detection/#") and k == "rects2d"}
            assert rects, f"camera {i} detected nothing"
        assert ("world/camera/#0/image/detection", "clear") in kinds
        assert set(rec.timelines()["name"]) == {"frame", "log_time"}


def test_gallery_uses_every_log_function_and_renders(tmp_path: Path) -> None:
    source = (EXAMPLES / "gallery.py").read_text()
    unused = [name for name in rr.__all__ if name.startswith("log_") and f"rr.{name}(" not in source]
    assert not unused, f"gallery.py does not show {unused}"

    out = tmp_path / "gallery.rrd"
    run_example("gallery.py", out, cwd=tmp_path)
    rrd_verify(out)
    with RrdReader(out) as r:
        kinds = {c.kind for c in r.chunks}
    assert kinds == {
        "points3d", "points2d", "boxes3d", "rects2d", "line_strips3d", "line_strips2d", "arrows3d", "mesh3d",
        "mesh_file", "image", "depth_image", "segmentation_image", "encoded_image", "tensor", "scalar",
        "text_entry", "rigid3", "pinhole", "view_coordinates", "unknown_transform", "annotation_context", "clear",
        "extension",
    }  # fmt: skip
    screenshot(out, tmp_path / "gallery.png", "--timeline", "frame", "--time", "1")
