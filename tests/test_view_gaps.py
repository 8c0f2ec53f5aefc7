"""Stroke widths, keypoint skeletons, picking, tensors and 2D transforms in the viewer's scenes.

Recordings are written with the SDK and drawn off screen (vispy's EGL backend): assertions
read the scenes' visuals and picks, and golden images (``tests/golden/gaps_*.png``, compared
like ``tests/test_screenshot.py`` does, ``RRVIEW_UPDATE_GOLDEN=1`` to regenerate) check what
is drawn. One window test clicks a point in a real 3D view under Xvfb.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rrformat as rr
from rrview.colormaps import AnnotationContext
from rrview.keypoints import keypoint_labels, skeleton_segments
from rrview.model import ViewerModel
from rrview.picking import Pick, best_pick
from rrview.spaces import SpaceView, default_layout, is_image_shape
from rrview.strokes import DEFAULT_WIDTH_PX, MAX_GROUPS, MAX_WIDTH_PX, segment_widths, width_groups, width_px

vispy = pytest.importorskip("vispy")

from rrview.render import gl_unavailable_reason, offscreen_canvas, read_png, render_layout, save_png  # noqa: E402
from rrview.scene2d import Scene2D  # noqa: E402
from rrview.scene3d import BATCH_LINE_ENTITIES, Scene3D  # noqa: E402

LATEST = ("log_time", 2**62)
"""Rows logged with no time set still have a log_time: the end of that timeline shows them."""
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("RRVIEW_UPDATE_GOLDEN") == "1"
Log = Callable[[rr.RecordingStream], None]

PERSON = rr.ClassDescription(
    info=rr.AnnotationInfo(1, "person", (255, 200, 0)),
    keypoint_annotations=[
        rr.AnnotationInfo(0, "head"),
        rr.AnnotationInfo(1, "neck"),
        rr.AnnotationInfo(2, "l_hand", (0, 255, 0)),
        rr.AnnotationInfo(3, "r_hand"),
        rr.AnnotationInfo(4, "hip"),
    ],
    keypoint_connections=[(0, 1), (1, 2), (1, 3), (1, 4)],
)
BODY_2D = [[40, 10], [40, 22], [22, 30], [58, 30], [40, 45]]
BODY_3D = [[0, 0, 1.8], [0, 0, 1.5], [-0.5, 0, 1.2], [0.5, 0, 1.2], [0, 0, 0.9]]


@pytest.fixture(scope="module")
def gl() -> None:
    reason = gl_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)


def record(path: Path, log: Log) -> ViewerModel:
    rec = rr.RecordingStream("view-gaps-test", save=path, strict=True)
    log(rec)
    rec.disconnect()
    return ViewerModel(path)


@pytest.fixture
def scenes(tmp_path: Path, gl: None) -> Iterator[Callable[..., Any]]:
    """``scenes(log, kind, root=None)``: the 3D or 2D scene of a new recording's view, updated to the latest state."""
    made: list[Any] = []

    def make(
        log: Log,
        kind: str = "3d",
        *,
        root: str | None = None,
        view: SpaceView | None = None,
        size: tuple[int, int] = (200, 150),
    ) -> Any:
        model = record(tmp_path / f"r{len(made)}.rrd", log)
        if view is None:
            view = next(v for v in default_layout(model) if v.kind == kind and root in (None, v.root))
        cls = Scene3D if kind == "3d" else Scene2D
        scene = cls(model, view, canvas=offscreen_canvas(size))
        made.append(scene)
        scene.update(*LATEST)
        scene.reset_camera()
        return scene

    yield make
    for s in made:
        s.close()


def named(scene: Any, entity: str) -> dict[str, Any]:
    """The visuals drawn for an entity, by role (the part of the name after ``#``)."""
    return {v.name.split("#", 1)[1]: v for v in scene.visuals_for(entity)}


def compare(actual: np.ndarray, name: str, tmp_path: Path) -> None:
    """Compare with ``tests/golden/NAME.png`` within the tolerance of tests/golden/README.md."""
    golden = GOLDEN / f"{name}.png"
    if UPDATE:
        save_png(actual, golden)
        return
    assert golden.exists(), f"{golden} is missing: run with RRVIEW_UPDATE_GOLDEN=1 to create it"
    expected = read_png(golden)
    assert actual.shape == expected.shape
    diff = np.abs(actual.astype(np.int16) - expected.astype(np.int16))
    mean = diff.reshape(-1, 3).mean(axis=0)
    far = float((diff.max(axis=2) > 40).mean())
    if mean.max() >= 2.0 or far >= 0.01:
        out = tmp_path / f"{name}-actual.png"
        save_png(actual, out)
        pytest.fail(f"{name}: differs from {golden} (mean {mean.round(2).tolist()}, {far:.2%} far off); see {out}")


# --- 1. stroke widths ----------------------------------------------------------------------------
def log_strokes(rec: rr.RecordingStream) -> None:
    rr.log_view_coordinates("world", up="+Z", timeless=True, recording=rec)
    rr.log_obbs("world/boxes", half_sizes=[[0.5, 0.5, 0.5]] * 2, positions=[[-1, 0, 0.5], [1, 0, 0.5]],
                colors=[[255, 80, 80], [80, 255, 80]], stroke_widths=[0.02, 0.2], recording=rec)  # fmt: skip
    rr.log_line_strips_3d("world/path", [[[-2, -1.5, 0], [0, -1.5, 0.5], [2, -1.5, 0]]], stroke_widths=0.1,
                          colors=[255, 255, 0], recording=rec)  # fmt: skip
    rr.log_arrow("world/arrow", [-0.6, 0, 1.3], [1.2, 0, 0], color=[80, 160, 255], width_scale=0.15, recording=rec)
    rr.log_image("img", np.full((40, 60, 3), 40, np.uint8), recording=rec)
    rr.log_line_strips_2d("img/lines", [np.array([[5, 10], [55, 10]]), np.array([[5, 30], [55, 30]])],
                          stroke_widths=[0.5, 4], colors=[[255, 0, 255], [0, 255, 255]], recording=rec)  # fmt: skip


def test_width_helpers() -> None:
    w = segment_widths(np.array([0.5, np.nan, -1.0, 2.0], np.float32), [2, 1, 1, 3])
    assert np.isnan(w[2:4]).all() and w.tolist()[:2] == [0.5, 0.5] and w.tolist()[4:] == [2.0] * 3
    assert np.isnan(segment_widths(None, [2, 2])).all()
    groups = width_groups(w)
    assert np.isnan(groups[0][0]) and groups[0][1].tolist() == [2, 3]  # the default first
    assert [(g[0], g[1].tolist()) for g in groups[1:]] == [(0.5, [0, 1]), (2.0, [4, 5, 6])]
    many = width_groups(np.geomspace(0.01, 1.0, 100))
    assert len(many) <= MAX_GROUPS and sum(len(i) for _, i in many) == 100
    assert width_px(float("nan"), 10.0) == DEFAULT_WIDTH_PX and width_px(0.5, 10.0) == 5.0
    assert width_px(0.0, 10.0) == 1.0 and width_px(100.0, 10.0) == MAX_WIDTH_PX and width_px(1.0, None) == 2.0


def test_stroke_widths_in_3d_follow_the_zoom(scenes: Callable[..., Any]) -> None:
    scene = scenes(log_strokes, "3d")
    ppu = scene.pixels_per_unit
    assert ppu is not None and ppu > 1
    boxes = named(scene, "world/boxes")
    assert set(boxes) == {"boxes", "boxes:1"}  # one Line per width
    thin, thick = boxes["boxes"], boxes["boxes:1"]
    assert len(thin.pos) == len(thick.pos) == 24  # each box's 12 edges
    assert np.asarray(thin.pos)[:, 0].max() <= 0 and np.asarray(thick.pos)[:, 0].min() >= 0  # left box thin
    assert thin.width == pytest.approx(max(1.0, 0.02 * ppu)) and thick.width == pytest.approx(0.2 * ppu)
    assert named(scene, "world/path")["lines"].width == pytest.approx(0.1 * ppu)
    assert named(scene, "world/arrow")["arrows"].width == pytest.approx(0.15 * ppu)
    # Zooming in (the camera halves its distance) doubles the widths in pixels.
    scene.viewbox.camera.scale_factor /= 2
    assert scene.pixels_per_unit == pytest.approx(2 * ppu, rel=0.05)
    assert thick.width == pytest.approx(0.2 * scene.pixels_per_unit)


def test_stroke_widths_in_a_batch_and_default_width(scenes: Callable[..., Any]) -> None:
    def log(rec: rr.RecordingStream) -> None:
        for i in range(BATCH_LINE_ENTITIES):
            rr.log_obb(f"world/b{i}", half_size=[0.2, 0.2, 0.2], position=[i % 8, i // 8, 0],
                       stroke_width=0.1 if i % 2 else None, recording=rec)  # fmt: skip

    scene = scenes(log, "3d")
    batch = {v.name: v for v in scene.visuals_for("world/b0")}
    assert set(batch) == {"#batch:lines", "#batch:lines:1"}
    assert batch["#batch:lines"].width == DEFAULT_WIDTH_PX  # no width logged: the default
    assert len(batch["#batch:lines"].pos) == len(batch["#batch:lines:1"].pos) == 32 * 24
    assert batch["#batch:lines:1"].width == pytest.approx(max(1.0, 0.1 * scene.pixels_per_unit))


def test_stroke_widths_in_2d_are_image_pixels(scenes: Callable[..., Any]) -> None:
    scene = scenes(log_strokes, "2d", root="img")
    lines = named(scene, "img/lines")
    ppu = scene.pixels_per_unit
    assert ppu == pytest.approx(200 / 60, rel=0.02)  # the 60 px wide image fills the 200 px canvas
    assert lines["lines"].width == pytest.approx(max(1.0, 0.5 * ppu))
    assert lines["lines:1"].width == pytest.approx(4 * ppu)
    scene.viewbox.camera.zoom(0.5)  # zoom in twice
    assert lines["lines:1"].width == pytest.approx(8 * ppu, rel=0.02)


def test_golden_strokes(tmp_path: Path, gl: None) -> None:
    image = render_layout(record(tmp_path / "s.rrd", log_strokes), size=(320, 240))
    compare(image, "gaps_strokes", tmp_path)
    # The 2D view (bottom): the 4-pixel cyan line is drawn much wider than the magenta one.
    bottom = image[120:]
    cyan = (bottom[..., 0] < 60) & (bottom[..., 1] > 200) & (bottom[..., 2] > 200)
    magenta = (bottom[..., 0] > 200) & (bottom[..., 1] < 60) & (bottom[..., 2] > 200)
    assert cyan.sum() > 6 * magenta.sum() > 0


# --- 2. keypoint skeletons ------------------------------------------------------------------------
def log_keypoints(rec: rr.RecordingStream) -> None:
    rr.log_annotation_context("cam", PERSON, timeless=True, recording=rec)
    rr.log_annotation_context("world", PERSON, timeless=True, recording=rec)
    rr.log_view_coordinates("world", up="+Z", timeless=True, recording=rec)
    rr.log_image("cam/rgb", np.full((60, 80, 3), 30, np.uint8), recording=rec)
    rr.log_points("cam/person", BODY_2D, class_ids=1, keypoint_ids=[0, 1, 2, 3, 4], radii=2, recording=rec)
    rr.log_points("world/person", BODY_3D, class_ids=1, keypoint_ids=[0, 1, 2, 3, 4], radii=0.05, recording=rec)


def test_skeleton_segments_helper() -> None:
    ctx = AnnotationContext(colors={1: (1, 2, 3, 255)}, connections={1: [(0, 1), (1, 2), (2, 9)], 5: [(0, 1)]})
    pos = np.array([[0, 0], [1, 0], [2, 0], [3, 0], [np.nan, 0]], np.float32)
    ends, colors = skeleton_segments(ctx, pos, np.array([1, 1, 1, 5, 5]), np.array([0, 1, 2, 0, 1]))
    # Class 1: 0-1 and 1-2 (9 is missing); class 5: keypoint 1 has no position.
    assert ends.tolist() == [[0, 0], [1, 0], [1, 0], [2, 0]]
    assert colors.tolist() == [[1, 2, 3, 255]] * 4
    # No class ids: class 0; a repeated keypoint id joins its first point; no keypoints: nothing.
    ctx0 = AnnotationContext(connections={0: [(0, 1)]})
    ends, _ = skeleton_segments(ctx0, pos[:3], None, np.array([0, 1, 1]))
    assert ends.tolist() == [[0, 0], [1, 0]]
    assert len(skeleton_segments(ctx0, pos, None, None)[0]) == 0
    ctx.keypoint_labels[(1, 2)] = "hand"
    ctx.labels[1] = "person"
    assert keypoint_labels(ctx, np.array([1, 1, 7]), np.array([2, 0, 0])) == ["hand", "person", ""]


def test_skeleton_in_2d_and_3d(scenes: Callable[..., Any]) -> None:
    pairs = [(0, 1), (1, 2), (1, 3), (1, 4)]
    for kind, root, body in (("2d", "cam", BODY_2D), ("3d", "world", BODY_3D)):
        scene = scenes(log_keypoints, kind, root=root)
        entity = f"{root}/person"
        drawn = named(scene, entity)
        assert {"points", "skeleton", "labels"} <= set(drawn)
        skeleton = drawn["skeleton"]
        expected = np.array([body[i] for pair in pairs for i in pair], np.float64)
        np.testing.assert_allclose(np.asarray(skeleton.pos, np.float64)[:, : len(body[0])], expected)
        np.testing.assert_allclose(skeleton.color, [[1.0, 200 / 255, 0.0, 1.0]] * 8, atol=1e-6)  # the class colour
        assert list(drawn["labels"].text) == ["head", "neck", "l_hand", "r_hand", "hip"]  # keypoint labels
        # A keypoint's own colour wins over its class's.
        np.testing.assert_allclose(drawn["points"]._data["a_bg_color"][2], [0, 1, 0, 1], atol=1e-6)


def test_golden_keypoints(tmp_path: Path, gl: None) -> None:
    image = render_layout(record(tmp_path / "k.rrd", log_keypoints), size=(320, 240))
    compare(image, "gaps_keypoints", tmp_path)
    for half in (image[:120], image[120:]):  # the skeleton's class colour in both views
        gold = (half[..., 0] > 220) & (np.abs(half[..., 1].astype(int) - 200) < 30) & (half[..., 2] < 60)
        assert gold.sum() > 40


# --- 3. picking -----------------------------------------------------------------------------------
def log_pickable(rec: rr.RecordingStream) -> None:
    rr.log_view_coordinates("world", up="+Z", timeless=True, recording=rec)
    rr.log_points("world/points", [[0, 0, 1], [1, 0, 1], [0, 1, 0.5]], colors=[255, 0, 0], radii=0.08,
                  recording=rec)  # fmt: skip
    rr.log_points("world/hidden", [[0.5, 0.5, -1]], colors=[0, 0, 255], recording=rec)  # under the ground
    rr.log_obb("world/box", half_size=[0.3, 0.3, 0.3], position=[-1.5, -1, 0.3], color=(0, 255, 0), recording=rec)
    rr.log_mesh("world/ground", [[-3, -3, 0], [3, -3, 0], [3, 3, 0], [-3, 3, 0]], indices=[[0, 1, 2], [0, 2, 3]],
                albedo_factor=[0.2, 0.2, 0.2], recording=rec)  # fmt: skip


def test_pick_in_3d(scenes: Callable[..., Any]) -> None:
    scene = scenes(log_pickable, "3d")
    rendered = scene.canvas.render()
    xy = scene.screen_position("world/points", [[1, 0, 1]])[0]
    # The projection is where the point is drawn: its pixel is red.
    r, g, b = rendered[int(np.rint(xy[1])), int(np.rint(xy[0])), :3]
    assert r > 200 and g < 80 and b < 80
    hit = scene.pick(tuple(xy))
    assert hit is not None and (hit.entity, hit.instance) == ("world/points", 1)
    assert scene.pick((xy[0] + 3, xy[1] - 2)).entity == "world/points"  # within a few pixels
    # A box edge (its top corner), the ground under nothing else, a point hidden under the ground.
    corner = scene.screen_position("world/box", [[-1.2, -0.7, 0.6]])[0]
    assert scene.pick(tuple(corner)).entity == "world/box"
    ground = scene.screen_position("world/ground", [[2.5, -2.5, 0]])[0]
    on_ground = scene.pick(tuple(ground))
    assert on_ground is not None and (on_ground.entity, on_ground.surface) == ("world/ground", True)
    hidden = scene.screen_position("world/hidden", [[0.5, 0.5, -1]])[0]
    assert scene.pick(tuple(hidden)).entity == "world/ground"
    # Nothing there: the view's corner.
    assert scene.pick((1.0, 1.0)) is None


def test_pick_the_frustum_selects_the_camera(scenes: Callable[..., Any]) -> None:
    def log(rec: rr.RecordingStream) -> None:
        rr.log_points("world/p", [[0, 3, 0], [1, 4, 1]], recording=rec)
        s = np.sqrt(0.5)
        rr.log_rigid3("world/cam", parent_from_child=([0, 0, 0], [-s, 0, 0, s]), recording=rec)
        rr.log_pinhole("world/cam/image", focal_length_px=20, width=40, height=30, recording=rec)

    scene = scenes(log, "3d")
    cam = scene._cameras["world/cam/image"]
    ends = np.asarray(cam.segments, np.float64)
    mid = scene.screen_position("world", [(ends[0] + ends[1]) / 2])[0]  # halfway along a frustum ray
    assert scene.pick(tuple(mid)).entity == "world/cam/image"


def test_best_pick_rules() -> None:
    near_line = Pick("line", None, 2.0, 5.0)
    on_point = Pick("point", 0, 0.0, 9.0)
    wall = Pick("wall", None, 0.0, 4.0, surface=True)
    far = Pick("far", None, 20.0, 1.0)
    assert best_pick([near_line, on_point, far]) == on_point  # nearest the click first
    assert best_pick([near_line, on_point, wall]) == wall  # both behind the wall
    assert best_pick([Pick("line", None, 2.0, 3.0), wall]).entity == "line"  # in front of it
    assert best_pick([far]) is None


def test_pick_in_2d_shapes_then_images(scenes: Callable[..., Any]) -> None:
    def log(rec: rr.RecordingStream) -> None:
        rr.log_image("cam/rgb", np.zeros((60, 80, 3), np.uint8), recording=rec)
        rr.log_rects("cam/dets", [[10, 10, 30, 20], [14, 12, 10, 8]], recording=rec)
        rr.log_points("cam/pts", [[60, 40]], recording=rec)
        rr.log_line_strips_2d("cam/lane", [np.array([[0, 55], [80, 55]])], recording=rec)

    scene = scenes(log, "2d")
    at = lambda e, p: tuple(scene.screen_position(e, [p])[0])  # noqa: E731
    assert scene.pick(at("cam/pts", [60, 40])) == Pick("cam/pts", 0, 0.0, scene.pick(at("cam/pts", [60, 40])).depth)
    assert scene.pick(at("cam/lane", [40, 55.5])).entity == "cam/lane"
    inner = scene.pick(at("cam/dets", [19, 16]))  # inside both rectangles, away from edges: the smaller one
    assert (inner.entity, inner.instance, inner.surface) == ("cam/dets", 1, True)
    assert scene.pick(at("cam/dets", [25, 29.8])).instance == 0  # on the big one's bottom edge
    assert scene.pick(at("cam/rgb", [70, 10])).entity == "cam/rgb"
    assert scene.pick(at("cam/rgb", [200, 200])) is None


def test_clicking_a_point_in_a_3d_window_selects_it(qtbot: Any, tmp_path: Path) -> None:
    pytest.importorskip("pyqtgraph")
    from PyQt6 import QtCore

    from rrview.window import MainWindow

    path = tmp_path / "pick.rrd"
    record(path, log_pickable).close()
    w = MainWindow(settings=QtCore.QSettings(str(tmp_path / "s.ini"), QtCore.QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.resize(1000, 700)
    w.show()
    qtbot.waitExposed(w)
    pane = w.open_path(path)
    assert pane is not None, w.last_error
    handle = pane.views.handle_for("3d", "world")
    assert handle is not None and handle.scene is not None
    qtbot.wait(50)  # the docks' final sizes
    pane.redraw()
    scene = handle.scene
    x, y = scene.screen_position("world/points", [[1, 0, 1]])[0]
    pos = QtCore.QPoint(int(np.rint(x)), int(np.rint(y)))
    qtbot.mouseClick(handle.widget, QtCore.Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: pane.selection.selected == "world/points")
    values = pane.selection.values()["points3d"]
    assert values["positions3d"].startswith("[3]") and "(1, 0, 1)" in values["positions3d"]
    # A click on empty space selects the view's space.
    qtbot.mouseClick(handle.widget, QtCore.Qt.MouseButton.LeftButton, pos=QtCore.QPoint(3, 3))
    qtbot.waitUntil(lambda: pane.selection.selected == "world")


# --- 4. tensors -----------------------------------------------------------------------------------
def log_tensors(rec: rr.RecordingStream) -> None:
    yy, xx = np.mgrid[0:30, 0:40]
    rgb = np.stack([xx * 6, yy * 8, np.full_like(xx, 120)], -1).astype(np.uint8)
    rr.log_tensor("t/rgb", rgb, recording=rec)
    rr.log_tensor("mask", (xx > 20)[..., None], recording=rec)
    rr.log_tensor("features", np.zeros((8, 16, 16), np.float32), names=["channel", "y", "x"], recording=rec)


def test_image_like_tensors_get_a_2d_view(scenes: Callable[..., Any], tmp_path: Path) -> None:
    assert is_image_shape([3, 4]) and is_image_shape([3, 4, 1]) and is_image_shape([3, 4, 4])
    assert not is_image_shape([8, 16, 16]) and not is_image_shape([4]) and not is_image_shape([0, 4])
    model = record(tmp_path / "t.rrd", log_tensors)
    views = [(v.kind, v.root, v.entities) for v in default_layout(model)]
    assert views == [("2d", "mask", ["mask"]), ("2d", "t", ["t/rgb"])]  # the feature map has no view
    assert model.nodes["features"].data_kind == "tensor"
    scene = scenes(log_tensors, "2d", root="t")
    rgb = np.asarray(named(scene, "t/rgb")["image"]._data)
    assert rgb.shape == (30, 40, 4) and rgb[29, 39].tolist() == [234, 232, 120, 255]
    assert scene.probe(39.5, 29.5)["value"] == [234, 232, 120]
    masked = scenes(log_tensors, "2d", root="mask")
    mask = np.asarray(named(masked, "mask")["image"]._data)
    assert mask[0, 0, 0] == 0 and mask[0, 39, 0] == 255  # a boolean mask in black and white
    assert masked.probe(39.5, 0.5)["value"] == [True]


def test_a_tensor_that_stops_being_an_image_is_a_note(scenes: Callable[..., Any]) -> None:
    def log(rec: rr.RecordingStream) -> None:
        rr.set_time_sequence("frame", 0, recording=rec)
        rr.log_tensor("t/x", np.zeros((4, 5), np.uint8), recording=rec)
        rr.set_time_sequence("frame", 1, recording=rec)
        rr.log_tensor("t/x", np.zeros((2, 3, 4, 5), np.uint8), recording=rec)

    # The layout follows the latest shape (no view): draw it in a view made by hand.
    model_scene = scenes(log, "2d", view=SpaceView("2d", "t", ["t/x"]))
    model_scene.update("frame", 0)
    assert "image" in named(model_scene, "t/x")
    model_scene.update("frame", 1)
    assert named(model_scene, "t/x") == {}
    assert any("t/x" in n and "2x3x4x5" in n for n in model_scene.notes)


def test_selection_summary_of_a_tensor(tmp_path: Path) -> None:
    pytest.importorskip("PyQt6")
    from rrview.widgets.selection_panel import summarize

    model = record(tmp_path / "t.rrd", log_tensors)
    row = model.latest("features", "tensor", *LATEST)
    assert row is not None
    assert summarize(row.array("tensor")) == ("float32 8x16x16 [channel, y, x] (8.0 KiB)", [])


def test_golden_tensor(tmp_path: Path, gl: None) -> None:
    compare(render_layout(record(tmp_path / "t.rrd", log_tensors), size=(240, 120)), "gaps_tensor", tmp_path)


# --- 5. transforms inside 2D spaces ---------------------------------------------------------------
def log_transform2d(rec: rr.RecordingStream) -> None:
    img = np.zeros((60, 80, 3), np.uint8)
    img[:, :40] = (200, 60, 40)
    rr.log_pinhole("cam", focal_length_px=50, width=80, height=60, recording=rec)
    rr.log_image("cam/rgb", img, recording=rec)
    rr.log_rigid3("cam/crop", parent_from_child=([30, 25, 0], [0, 0, 0, 1]), recording=rec)
    rr.log_rect("cam/crop/det", [0, 0, 20, 10], color=(255, 255, 0), recording=rec)
    rr.log_points("cam/crop/pts", [[0, 0], [20, 10]], colors=[0, 255, 0], recording=rec)


def test_rigid_transforms_move_2d_data(scenes: Callable[..., Any]) -> None:
    scene = scenes(log_transform2d, "2d")
    det = named(scene, "cam/crop/det")["rects"]
    np.testing.assert_allclose(det.transform.map([0, 0])[:2], [30, 25])
    np.testing.assert_allclose(det.transform.map([20, 10])[:2], [50, 35])
    assert scene.extent() == (0.0, 0.0, 80.0, 60.0)
    hit = scene.pick(tuple(scene.screen_position("cam/crop/pts", [[20, 10]])[0]))
    assert hit is not None and hit.entity == "cam/crop/pts"
    inside = scene.screen_position("cam/crop/det", [[5, 5]])[0]  # at (35, 30) in the image
    assert scene.pick(tuple(inside)).entity == "cam/crop/det"
    assert scene.notes == []


def test_out_of_plane_and_transformed_images(scenes: Callable[..., Any]) -> None:
    s = np.sqrt(0.5)

    def log(rec: rr.RecordingStream) -> None:
        rr.log_image("cam/base", np.zeros((10, 10), np.uint8), recording=rec)
        rr.log_rigid3("cam/moved", parent_from_child=([10, 0, 0], [0, 0, s, s]), recording=rec)  # 90 deg about z
        rr.log_image("cam/moved", np.arange(100, dtype=np.uint8).reshape(10, 10), recording=rec)
        rr.log_rigid3("cam/tilted", parent_from_child=([0, 0, 0], [s, 0, 0, s]), recording=rec)
        rr.log_points("cam/tilted", [[1, 1]], recording=rec)

    scene = scenes(log, "2d")
    # The moved image covers x 0..10 (rotated about its origin, then shifted by 10): (u, v) -> its pixel (v, 10 - u).
    assert scene.extent() == pytest.approx((0.0, 0.0, 10.0, 10.0))
    probe = scene.probe(7.5, 2.5)
    assert probe["entity"] == "cam/moved" and (probe["u"], probe["v"]) == (2, 2) and probe["value"] == 22
    assert any("cam/tilted" in n and "image plane" in n for n in scene.notes)


def test_golden_transform2d(tmp_path: Path, gl: None) -> None:
    image = render_layout(record(tmp_path / "x.rrd", log_transform2d), size=(160, 120))
    compare(image, "gaps_transform2d", tmp_path)
    # The yellow rectangle's top-left corner at image pixel (30, 25): canvas (60, 50) at 2x.
    yellow = (image[..., 0] > 200) & (image[..., 1] > 200) & (image[..., 2] < 80)
    ys, xs = np.nonzero(yellow)
    assert abs(int(xs.min()) - 60) <= 2 and abs(int(ys.min()) - 50) <= 2
    assert abs(int(xs.max()) - 100) <= 2 and abs(int(ys.max()) - 70) <= 2
