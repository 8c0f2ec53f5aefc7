"""Headless screenshots of the default layout (``rrview FILE --screenshot OUT.png``).

Small recordings are rendered with :func:`rrview.render.render_layout` and compared with
the golden images in ``tests/golden/`` within a tolerance (software GL renders the same
scene almost, not exactly, the same everywhere). Set ``RRVIEW_UPDATE_GOLDEN=1`` to write
new golden images instead of comparing (see ``tests/golden/README.md``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import rrformat as rr
from rrview.model import ViewerModel

vispy = pytest.importorskip("vispy")

from rrview.render import gl_unavailable_reason, grid_shape, read_png, render_layout, save_png  # noqa: E402

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("RRVIEW_UPDATE_GOLDEN") == "1"
SIZE = (320, 240)
MEAN_DIFF_MAX = 2.0
"""Largest mean absolute difference per channel (0-255)."""
FAR_OFF = 40
FAR_OFF_FRACTION = 0.01
"""At most this fraction of pixels may differ by more than FAR_OFF in some channel."""

Log = Callable[[rr.RecordingStream], None]


@pytest.fixture(scope="module")
def gl() -> None:
    reason = gl_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)


def record(path: Path, log: Log) -> ViewerModel:
    rec = rr.RecordingStream("screenshot-test", save=path, strict=True)
    log(rec)
    rec.disconnect()
    return ViewerModel(path)


# --- the recordings of the golden images ---------------------------------------------------------
def log_points(rec: rr.RecordingStream) -> None:
    rr.log_view_coordinates("world", up="+Z", timeless=True, recording=rec)
    g = np.stack(np.meshgrid(np.linspace(-1, 1, 6), np.linspace(-1, 1, 6), [0.0, 0.6]), -1).reshape(-1, 3)
    colors = np.clip(np.stack([(g[:, 0] + 1) * 127, (g[:, 1] + 1) * 127, 80 + g[:, 2] * 250], 1), 0, 255)
    for frame in range(2):
        rr.set_time_sequence("frame", frame, recording=rec)
        rr.log_points("world/points", g + np.array([0, 0, 0.3 * frame]), colors=colors.astype(np.uint8), radii=0.06,
                      recording=rec)  # fmt: skip


def log_boxes(rec: rr.RecordingStream) -> None:
    rr.log_view_coordinates("world", up="+Z", timeless=True, recording=rec)
    s = np.sin(np.pi / 8)
    c = np.cos(np.pi / 8)
    rr.log_obbs(
        "world/boxes",
        half_sizes=[[1.0, 0.5, 0.5], [0.4, 0.4, 0.8], [0.3, 0.6, 0.2]],
        positions=[[0, 0, 0.5], [2.0, 1.0, 0.8], [-1.5, 1.5, 0.2]],
        rotations_q=[[0, 0, 0, 1], [0, 0, s, c], [s, 0, 0, c]],  # none, 45 deg about z, 45 deg about x
        colors=[[255, 80, 80], [80, 255, 80], [80, 160, 255]],
        recording=rec,
    )
    rr.log_mesh("world/ground", [[-3, -2, 0], [3, -2, 0], [3, 3, 0], [-3, 3, 0]], indices=[[0, 1, 2], [0, 2, 3]],
                albedo_factor=[0.15, 0.15, 0.18], recording=rec)  # fmt: skip


def log_camera(rec: rr.RecordingStream) -> None:
    rr.log_view_coordinates("world", up="+Z", timeless=True, recording=rec)
    rr.log_points("world/points", [[-1, 2, 0], [1, 2, 0], [1, 4, 0], [-1, 4, 0], [0, 3, 1]], colors=[255, 255, 255],
                  radii=0.08, recording=rec)  # fmt: skip
    # A camera 1 m up, looking along +y: RDF camera axes (x right, y down, z forward) in the world.
    s = np.sqrt(0.5)
    rr.log_rigid3("world/camera", parent_from_child=([0, -1, 1], [-s, 0, 0, s]), recording=rec)
    rr.log_pinhole("world/camera/image", focal_length_px=40, width=64, height=48, camera_xyz="RDF", recording=rec)
    img = np.zeros((48, 64, 3), np.uint8)
    img[:, :32] = (230, 60, 40)
    img[:, 32:] = (40, 90, 230)
    img[16:32, 24:40] = (250, 250, 250)
    rr.log_image("world/camera/image", img, recording=rec)


def log_segmentation(rec: rr.RecordingStream) -> None:
    rr.log_annotation_context("cam", [(1, "road", (128, 64, 128)), (2, "car", (0, 200, 255)), (3, "tree")],
                              timeless=True, recording=rec)  # fmt: skip
    yy, xx = np.mgrid[0:60, 0:80]
    rgb = np.stack([xx * 3, yy * 4, np.full_like(xx, 90)], -1).astype(np.uint8)
    seg = np.zeros((60, 80), np.uint8)
    seg[35:, :] = 1
    seg[25:45, 15:40] = 2
    seg[5:25, 55:70] = 3
    rr.log_image("cam/rgb", rgb, recording=rec)
    rr.log_segmentation_image("cam/seg", seg, recording=rec)
    rr.log_rect("cam/car", [15, 25, 25, 20], color=(255, 255, 0), recording=rec)


CASES: dict[str, Log] = {
    "points": log_points,
    "boxes": log_boxes,
    "camera": log_camera,
    "segmentation": log_segmentation,
}


def compare(actual: np.ndarray, name: str, tmp_path: Path) -> None:
    """Compare with ``tests/golden/NAME.png`` (or write it when updating)."""
    golden = GOLDEN / f"{name}.png"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        save_png(actual, golden)
        return
    assert golden.exists(), f"{golden} is missing: run with RRVIEW_UPDATE_GOLDEN=1 to create it"
    expected = read_png(golden)
    assert actual.shape == expected.shape, f"{name}: shape {actual.shape} != golden {expected.shape}"
    diff = np.abs(actual.astype(np.int16) - expected.astype(np.int16))
    mean = diff.reshape(-1, 3).mean(axis=0)
    far = float((diff.max(axis=2) > FAR_OFF).mean())
    if mean.max() >= MEAN_DIFF_MAX or far >= FAR_OFF_FRACTION:
        out = tmp_path / f"{name}-actual.png"
        save_png(actual, out)
        pytest.fail(
            f"{name}: differs from {golden}: mean abs diff per channel {mean.round(2).tolist()} "
            f"(limit {MEAN_DIFF_MAX}), {far:.2%} of pixels off by more than {FAR_OFF} (limit {FAR_OFF_FRACTION:.0%}); "
            f"the rendered image is {out}"
        )


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_layouts(name: str, tmp_path: Path, gl: None) -> None:
    model = record(tmp_path / f"{name}.rrd", CASES[name])
    image = render_layout(model, size=SIZE)
    assert image.shape == (SIZE[1], SIZE[0], 3) and image.dtype == np.uint8
    compare(image, name, tmp_path)


def test_golden_images_show_their_content(gl: None) -> None:
    """Sanity checks on the golden images themselves, so a blank or wrong golden cannot pass unnoticed."""
    seg = read_png(GOLDEN / "segmentation.png")
    # The road colour (blended half over the image), the car rectangle's yellow, the light title text.
    assert (np.abs(seg.astype(int) - [255, 255, 0]).max(axis=2) < 10).sum() > 50
    cam = read_png(GOLDEN / "camera.png")
    # The camera image appears twice: in the 3D view's frustum (top) and in its own 2D view (bottom).
    red = (cam[..., 0] > 200) & (cam[..., 1] < 90) & (cam[..., 2] < 70)
    assert red[: SIZE[1] // 2].sum() > 30 and red[SIZE[1] // 2 :].sum() > 300
    pts = read_png(GOLDEN / "points.png")
    assert len(np.unique(pts.reshape(-1, 3), axis=0)) > 50  # many point colours, not a blank canvas


# --- render_layout behaviour ---------------------------------------------------------------------
def test_time_selects_the_state(tmp_path: Path, gl: None) -> None:
    model = record(tmp_path / "p.rrd", log_points)
    first = render_layout(model, timeline="frame", time=0, size=(160, 120))
    last = render_layout(model, timeline="frame", time=1, size=(160, 120))
    default = render_layout(model, size=(160, 120))  # the end of the default timeline
    assert not np.array_equal(first, last)
    assert np.abs(default.astype(int) - last.astype(int)).mean() < 1.0


def test_layout_grid_and_empty_recording(tmp_path: Path, gl: None) -> None:
    assert grid_shape(1, (1280, 720)) == (1, 1)
    assert grid_shape(2, (1280, 720)) == (2, 1)
    assert grid_shape(4, (1280, 720)) == (2, 2)
    cols, rows = grid_shape(5, (1280, 720))
    assert cols * rows >= 5
    model = record(tmp_path / "ctx.rrd", lambda rec: rr.log_annotation_context("a", [(1, "x")], recording=rec))
    image = render_layout(model, size=(200, 100))
    assert image.shape == (100, 200, 3)
    with pytest.raises(ValueError, match="size"):
        render_layout(model, size=(0, 10))


def test_plots_and_text_views_render(tmp_path: Path, gl: None) -> None:
    def log(rec: rr.RecordingStream) -> None:
        for frame in range(10):
            rr.set_time_sequence("frame", frame, recording=rec)
            rr.log_scalar("metrics/loss", 1.0 / (frame + 1), color=(255, 0, 0), recording=rec)
            rr.log_text_entry("logs", f"step {frame}", level="WARN", recording=rec)

    model = record(tmp_path / "plot.rrd", log)
    image = render_layout(model, size=(320, 120))
    left, right = image[:, :159], image[:, 161:]
    assert ((left[..., 0] > 200) & (left[..., 1] < 50)).sum() > 20  # the red loss curve
    assert ((right[..., 0] > 200) & (right[..., 1] > 130) & (right[..., 2] < 100)).sum() > 5  # WARN text colour


def test_save_png_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (7, 9, 3), dtype=np.uint8)
    save_png(img, tmp_path / "x.png")
    np.testing.assert_array_equal(read_png(tmp_path / "x.png"), img)
    with pytest.raises(ValueError, match="expected"):
        save_png(np.zeros((4, 4)), tmp_path / "bad.png")


def test_renders_without_any_display(tmp_path: Path, gl: None) -> None:
    """A process with no DISPLAY (and no Qt platform) renders through EGL."""
    path = tmp_path / "cam.rrd"
    record(path, log_camera).close()
    out = tmp_path / "shot.png"
    code = textwrap.dedent(
        f"""
        from rrview.model import ViewerModel
        from rrview.render import render_layout, save_png
        save_png(render_layout(ViewerModel({str(path)!r}), size=(200, 100)), {str(out)!r})
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert read_png(out).shape == (100, 200, 3)
