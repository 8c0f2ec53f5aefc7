"""The viewer's window under Xvfb (pytest-qt, pytest-xvfb): real windows over recordings written by the SDK.

What is checked goes through the viewer's state, never the pixels or the timings: the
time cursor, the entities the tree lists, the visuals the scenes hold (their transforms
and visibility), the selection panel's values, the ray drawn for a hovered image pixel.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("PyQt6")
pytest.importorskip("vispy")
pytest.importorskip("pyqtgraph")

from click.testing import CliRunner
from PyQt6 import QtCore, QtGui, QtWidgets

import rrformat as rr
from cli.rrview import main as rrview_main
from rrview.model import ViewerModel
from rrview.spaces import camera_at
from rrview.widgets.plot_view import MAX_CURVES
from rrview.widgets.time_panel import SEQUENCE_FPS, format_time
from rrview.widgets.view_area import ViewHandle
from rrview.window import MainWindow, RecordingPane

FRAMES = 6
W, H = 16, 12
CAMERA = "world/robot/camera/image"  # the pinhole: the image space's root


def write_robot(path: Path) -> Path:
    """A small robot run: a moving base with a lidar, a detection, a camera (RGB + depth), metrics, logs."""
    rec = rr.RecordingStream("robot", save=path, strict=True)
    rr.log_annotation_context("world", [(1, "chair", (200, 120, 40))], timeless=True, recording=rec)
    rr.log_view_coordinates("world", up="+Z", timeless=True, recording=rec)
    for i in range(FRAMES):
        rr.set_time_sequence("frame", i, recording=rec)
        rr.set_time_seconds("sim_time", i * 0.1, recording=rec)
        rr.log_rigid3("world/robot", parent_from_child=([i * 0.5, 0, 0], [0, 0, 0, 1]), recording=rec)
        pts = np.random.default_rng(i).normal(size=(10, 3)).astype(np.float32)
        pts[:, 0] += 3
        rr.log_points("world/robot/lidar", pts, recording=rec)
        rr.log_obbs(
            "world/detections",
            half_sizes=[[0.5, 0.5, 0.5]],
            positions=[[4, 1, 0.5]],
            labels=["chair"],
            class_ids=[1],
            recording=rec,
        )
        rr.log_extension_components("world/detections/score", {"confidence": [0.5 + 0.1 * i]}, recording=rec)
        rr.log_rigid3(
            "world/robot/camera", parent_from_child=([0, 0, 1], [0.5, -0.5, 0.5, -0.5]), xyz="RDF", recording=rec
        )
        rr.log_pinhole(CAMERA, focal_length_px=10, width=W, height=H, recording=rec)
        img = np.zeros((H, W, 3), np.uint8)
        img[:, : i + 1] = (255, 0, 0)
        rr.log_image(f"{CAMERA}/rgb", img, recording=rec)
        rr.log_depth_image(f"{CAMERA}/depth", np.full((H, W), 1000 + 250 * i, np.uint16), meter=1000, recording=rec)
        rr.log_scalar("metrics/battery", 100.0 - i, recording=rec)
        rr.log_scalar("metrics/speed", float(np.sin(i)), recording=rec)
        rr.log_text_entry("logs/planner", f"step {i}", level="WARN" if i % 3 == 0 else "INFO", recording=rec)
    rec.disconnect()
    return path


@pytest.fixture(scope="module")
def robot_rrd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_robot(tmp_path_factory.mktemp("rec") / "robot.rrd")


def open_pane(window: MainWindow, path: Path) -> RecordingPane:
    pane = window.open_path(path)
    assert pane is not None, window.last_error
    assert pane.views.errors == []
    return pane


def view(pane: RecordingPane, kind: str, root: str) -> ViewHandle:
    handle = pane.views.handle_for(kind, root)
    assert handle is not None and handle.scene is not None, [h.view for h in pane.views.handles]
    return handle


def origin_of(scene: Any, entity: str) -> np.ndarray:
    """Where the entity's origin is drawn in its view (through the visual's transform)."""
    visuals = scene.visuals_for(entity)
    assert visuals, f"nothing drawn for {entity}"
    return np.asarray(visuals[0].transform.map([0, 0, 0, 1]))[:3]


def goto(pane: RecordingPane, t: int) -> None:
    pane.time_panel.set_time(t)
    pane.redraw()


# --- opening ------------------------------------------------------------------------------------------
def test_open_lists_entities_and_builds_the_views(window: MainWindow, robot_rrd: Path) -> None:
    pane = open_pane(window, robot_rrd)
    assert window.tabs.count() == 1 and window.isVisible()
    assert "robot.rrd" in window.windowTitle()
    tm = pane.tree.tree_model
    assert [tm.index(r, 0).data() for r in range(tm.rowCount())] == ["logs", "metrics", "world"]
    lidar = tm.index_of("world/robot/lidar")
    assert lidar.isValid() and lidar.siblingAtColumn(1).data() == "points3d"
    assert lidar.siblingAtColumn(2).data() == str(FRAMES)
    assert tm.index_of(CAMERA).siblingAtColumn(1).data() == "pinhole"
    # Data of a kind no view draws is listed in the tree (in italics) and skipped by the views.
    score = tm.index_of("world/detections/score")
    assert score.siblingAtColumn(1).data() == "extension"
    assert score.siblingAtColumn(1).data(QtCore.Qt.ItemDataRole.FontRole).italic()
    assert all("world/detections/score" not in h.view.entities for h in pane.views.handles)

    kinds = sorted((h.kind, h.view.root) for h in pane.views.handles)
    assert kinds == [("2d", CAMERA), ("3d", "world"), ("plot", "metrics"), ("text", "logs")]
    assert pane.timeline == "frame" and pane.time == FRAMES - 1  # starts at the end: the latest state
    assert not pane.warning_bar.isVisibleTo(pane)
    assert window.recent_files()[0] == str(robot_rrd)
    # The 3D views orbit by default; View > Fly Camera moves through the scene instead.
    scene = view(pane, "3d", "world").scene
    window.fly_action.setChecked(True)
    assert scene.camera_mode == "fly"
    window.fly_action.setChecked(False)
    assert scene.camera_mode == "turntable"


def test_open_errors_are_message_boxes(window: MainWindow, tmp_path: Path) -> None:
    assert window.open_path(tmp_path / "missing.rrd") is None
    assert window.error_box is not None and window.error_box.isVisible()
    assert "no such file" in (window.last_error or "")
    window.error_box.close()
    bad = tmp_path / "notes.rrd"
    bad.write_text("hello, not a recording\n")
    assert window.open_path(bad) is None
    assert "not an .rrd file" in (window.last_error or "")
    assert window.tabs.count() == 0 and window.stack.currentWidget() is window.welcome


def test_truncated_file_opens_with_a_warning_bar(window: MainWindow, robot_rrd: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.rrd"
    data = robot_rrd.read_bytes()
    cut.write_bytes(data[: int(len(data) * 0.7)])
    pane = open_pane(window, cut)
    assert pane.model.damage is not None
    assert pane.warning_bar.isVisibleTo(pane)
    assert f"{pane.model.damage.lost_bytes} bytes could not be read" in pane.warning_bar.text or "KiB could not" in (
        pane.warning_bar.text
    )
    assert "ends early" in pane.warning_bar.text
    assert pane.tree.tree_model.rowCount() > 0  # what was before the cut is shown


def test_several_recordings_one_tab_each_and_drop(
    window: MainWindow, robot_rrd: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    second = write_robot(tmp_path / "second.rrd")
    # File > Open: the dialog's choice is opened.
    chosen = ([str(robot_rrd)], "Recordings (*.rrd)")
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileNames", lambda *a, **k: chosen)
    window.open_dialog()
    assert window.tabs.count() == 1
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(second))])
    drop = QtGui.QDropEvent(
        QtCore.QPointF(50, 50),
        QtCore.Qt.DropAction.CopyAction,
        mime,
        QtCore.Qt.MouseButton.LeftButton,
        QtCore.Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(drop)
    assert window.tabs.count() == 2
    assert window.tabs.tabText(1) == "second.rrd" and window.tabs.currentIndex() == 1
    # Each recording keeps its own time cursor.
    first, other = window.panes()
    goto(first, 1)
    assert other.time == FRAMES - 1
    # Opening a file that is open shows its tab.
    assert window.open_path(robot_rrd) is first and window.tabs.count() == 2
    assert window.recent_files()[:2] == [str(second), str(robot_rrd)]
    window._fill_recent()
    assert [a.text() for a in window.recent_menu.actions()][:2] == [str(second), str(robot_rrd)]
    window.close_tab(0)
    assert window.panes() == [other]


# --- time ---------------------------------------------------------------------------------------------
def test_scrubbing_moves_the_robot(window: MainWindow, robot_rrd: Path, qtbot: Any) -> None:
    pane = open_pane(window, robot_rrd)
    scene = view(pane, "3d", "world").scene
    bar = pane.time_panel.scrub_bar
    y = bar.height() // 2
    qtbot.mouseClick(bar, QtCore.Qt.MouseButton.LeftButton, pos=QtCore.QPoint(round(bar.x_of(1)), y))
    assert pane.time == 1
    qtbot.waitUntil(lambda: scene.time == 1)
    assert origin_of(scene, "world/robot/lidar")[0] == pytest.approx(0.5)
    qtbot.mouseClick(bar, QtCore.Qt.MouseButton.LeftButton, pos=QtCore.QPoint(round(bar.x_of(4)), y))
    qtbot.waitUntil(lambda: scene.time == 4)
    assert origin_of(scene, "world/robot/lidar")[0] == pytest.approx(2.0)
    # The 2D view follows too: the red band of the image grows by one column a frame.
    scene2d = view(pane, "2d", CAMERA).scene
    assert scene2d.time == 4 and scene2d.probe(4.5, 5.5)["value"] == [255, 0, 0]
    assert scene2d.probe(5.5, 5.5)["value"] == [0, 0, 0]
    # The scrub bar draws a lane of marks per entity with data on the timeline.
    assert {name for name, _ in bar.lanes} >= {"world/robot/lidar", "metrics/speed"}


def test_play_step_and_loop(window: MainWindow, robot_rrd: Path, qtbot: Any) -> None:
    pane = open_pane(window, robot_rrd)
    tp = pane.time_panel
    tp.go_start()
    tp.play()
    assert tp.playing
    qtbot.waitUntil(lambda: (tp.time or 0) > 0, timeout=10_000)
    tp.pause()
    assert not tp.playing
    # Playback speed: at 1x a sequence plays SEQUENCE_FPS frames a second.
    tp.set_time(0)
    tp.advance(1.0 / SEQUENCE_FPS)
    assert tp.time == 1
    tp.speed_combo.setCurrentIndex(tp.speed_combo.findData(2.0))
    tp.advance(1.0 / SEQUENCE_FPS)
    assert tp.time == 3
    tp.step_back()
    assert tp.time == 2
    tp.step_forward()
    assert tp.time == 3
    # At the end: stop, or wrap around with loop on.
    tp.play()
    tp.set_time(FRAMES - 1)
    tp.advance(1.0)
    assert tp.time == FRAMES - 1 and not tp.playing
    tp.loop_button.setChecked(True)
    tp.play()  # from the end: restarts at the start
    assert tp.time == 0
    tp.set_time(FRAMES - 1)
    tp.advance(1.0)
    assert tp.time == 0 and tp.playing
    tp.pause()


def test_switching_timelines(window: MainWindow, robot_rrd: Path, qtbot: Any) -> None:
    pane = open_pane(window, robot_rrd)
    tp = pane.time_panel
    names = [tp.timeline_combo.itemData(i) for i in range(tp.timeline_combo.count())]
    assert names == ["frame", "log_time", "sim_time"]
    tp.timeline_combo.setCurrentIndex(names.index("sim_time"))
    assert pane.timeline == "sim_time"
    assert pane.time == 500_000_000  # the end of sim_time: 0.5 s
    assert "0.500 s" in tp.time_label.text()
    pane.redraw()
    scene = view(pane, "3d", "world").scene
    assert scene.timeline == "sim_time" and origin_of(scene, "world/robot/lidar")[0] == pytest.approx(2.5)
    # Plots are in seconds on a time timeline.
    plot = view_widget(pane, "plot")
    x, _ = plot.curves["metrics/battery"].getData()
    assert x[-1] == pytest.approx(0.5)
    assert plot.cursor_line.value() == pytest.approx(0.5)
    # Steps on a time timeline are one frame at SEQUENCE_FPS; the time is clamped to the range.
    tp.step_back()
    assert pane.time == 500_000_000 - round(1e9 / SEQUENCE_FPS)
    tp.step_forward()
    tp.step_forward()
    assert pane.time == 500_000_000
    tp.set_timeline("frame")
    assert tp.timeline_combo.currentData() == "frame" and pane.time == FRAMES - 1


def view_widget(pane: RecordingPane, kind: str) -> Any:
    (handle,) = pane.views.views_of(kind)
    return handle.widget


def test_history_is_passed_to_the_scenes(window: MainWindow, robot_rrd: Path) -> None:
    pane = open_pane(window, robot_rrd)
    scene = view(pane, "3d", "world").scene
    goto(pane, 4)
    markers = scene.visuals_for("world/robot/lidar")[0]
    assert len(markers._data) == 10  # one frame of points
    pane.time_panel.history_spin.setValue(2)
    assert pane.time_panel.history == 2
    pane.redraw()
    assert len(markers._data) == 30  # frames 2, 3 and 4
    pane.time_panel.set_timeline("sim_time")
    pane.time_panel.history_spin.setValue(0.15)
    assert pane.time_panel.history == 150_000_000  # seconds on a time timeline, in its nanoseconds


def test_keyboard_shortcuts(window: MainWindow, robot_rrd: Path, qtbot: Any) -> None:
    pane = open_pane(window, robot_rrd)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    pane.time_panel.play_button.setFocus()
    goto(pane, 2)
    key = QtCore.Qt.Key
    qtbot.keyClick(window, key.Key_Right)
    assert pane.time == 3
    qtbot.keyClick(window, key.Key_Left)
    qtbot.keyClick(window, key.Key_Left)
    assert pane.time == 1
    qtbot.keyClick(window, key.Key_End)
    assert pane.time == FRAMES - 1
    qtbot.keyClick(window, key.Key_Home)
    assert pane.time == 0
    qtbot.keyClick(window, key.Key_Space)
    assert pane.time_panel.playing
    qtbot.keyClick(window, key.Key_Space)
    assert not pane.time_panel.playing
    qtbot.keyClick(window, key.Key_L)
    assert pane.time_panel.loop_button.isChecked()
    # With the tree focused, arrows navigate the tree and leave the time alone.
    pane.tree.setFocus()
    goto(pane, 2)
    qtbot.keyClick(pane.tree, key.Key_Right)
    assert pane.time == 2


# --- entities -----------------------------------------------------------------------------------------
def test_visibility_hides_an_entity_and_its_subtree(window: MainWindow, robot_rrd: Path) -> None:
    pane = open_pane(window, robot_rrd)
    scene = view(pane, "3d", "world").scene
    tm = pane.tree.tree_model
    assert scene.visuals_for("world/robot/lidar")
    checked, unchecked = QtCore.Qt.CheckState.Checked, QtCore.Qt.CheckState.Unchecked
    lidar = tm.index_of("world/robot/lidar")
    assert lidar.data(QtCore.Qt.ItemDataRole.CheckStateRole) == checked
    tm.setData(lidar, unchecked.value, QtCore.Qt.ItemDataRole.CheckStateRole)
    assert not pane.model.nodes["world/robot/lidar"].visible
    pane.redraw()
    assert scene.visuals_for("world/robot/lidar") == []
    assert scene.visuals_for("world/detections")  # the others stay
    assert "world/robot/lidar" not in {name for name, _ in pane.time_panel.scrub_bar.lanes}
    tm.setData(lidar, checked.value, QtCore.Qt.ItemDataRole.CheckStateRole)
    pane.redraw()
    assert scene.visuals_for("world/robot/lidar")
    # Hiding a parent hides its children.
    tm.setData(tm.index_of("world/robot"), unchecked.value, QtCore.Qt.ItemDataRole.CheckStateRole)
    pane.redraw()
    assert scene.visuals_for("world/robot/lidar") == []
    # Plots and logs follow too.
    tm.setData(tm.index_of("metrics/speed"), unchecked.value, QtCore.Qt.ItemDataRole.CheckStateRole)
    plot = view_widget(pane, "plot")
    assert not plot.curves["metrics/speed"].isVisible() and plot.curves["metrics/battery"].isVisible()
    tm.setData(tm.index_of("logs"), unchecked.value, QtCore.Qt.ItemDataRole.CheckStateRole)
    assert view_widget(pane, "text").visible_entries() == []


def test_selecting_an_entity_shows_its_values_at_the_time(window: MainWindow, robot_rrd: Path, qtbot: Any) -> None:
    pane = open_pane(window, robot_rrd)
    goto(pane, 2)
    tree = pane.tree
    idx = tree.tree_model.index_of("world/detections")
    rect = tree.visualRect(idx)
    qtbot.mouseClick(tree.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=rect.center())
    assert pane.selection.selected == "world/detections"
    values = pane.selection.values()["boxes3d"]
    assert values["labels"] == "chair"
    assert values["class_ids"] == "1 (chair)"  # the annotation context's label
    assert values["half_sizes"] == "(0.5, 0.5, 0.5)"
    assert "world/detections" in pane.selection.title.text() and "#2" in pane.selection.title.text()
    # The confidence logged beside the detection, and values that change with time.
    tree.setCurrentIndex(tree.tree_model.index_of("world/detections/score"))
    assert pane.selection.values()["extension"]["confidence"] == "0.7"
    goto(pane, 4)
    assert pane.selection.values()["extension"]["confidence"] == "0.9"
    tree.setCurrentIndex(tree.tree_model.index_of(f"{CAMERA}/rgb"))
    assert pane.selection.values()["image"]["tensor"].startswith("uint8 12x16x3")


def test_hovering_an_image_pixel_draws_its_ray_in_3d(window: MainWindow, robot_rrd: Path, qtbot: Any) -> None:
    pane = open_pane(window, robot_rrd)
    goto(pane, 2)
    view2d, view3d = view(pane, "2d", CAMERA), view(pane, "3d", "world")
    widget = view2d.widget
    pos = (widget.width() // 2, widget.height() // 2)
    uv = view2d.scene.pixel_at(pos)
    assert uv is not None
    qtbot.mouseMove(widget, QtCore.QPoint(*pos))
    qtbot.waitUntil(lambda: view3d.scene.ray.visible)
    origin, direction = camera_at(pane.model, CAMERA, "frame", 2).ray(*uv)
    drawn = np.asarray(view3d.scene.ray.pos)
    assert drawn[0] == pytest.approx(origin, abs=1e-5)
    assert origin == pytest.approx([1.0, 0, 1])  # the robot at frame 2, the camera 1 m above it
    step = drawn[1] - drawn[0]
    assert step / np.linalg.norm(step) == pytest.approx(direction, abs=1e-5)
    # The probe: depth in metres in the status bar, the hovered entity in the selection panel.
    message = window.statusBar().currentMessage()
    # The RGB image is on top: its value, and the depth of the depth image under it.
    assert f"{CAMERA}/rgb" in message and "value (0, 0, 0)" in message and "depth 1.500 m" in message
    assert pane.selection.hovered == f"{CAMERA}/rgb"
    assert pane.selection.values()["pixel"]["depth_m"] == "1.5"
    # Playing on moves the ray with the camera.
    goto(pane, 4)
    assert np.asarray(view3d.scene.ray.pos)[0] == pytest.approx([2.0, 0, 1], abs=1e-5)
    # Leaving the image clears the ray and the hover.
    QtWidgets.QApplication.sendEvent(view2d.widget, QtCore.QEvent(QtCore.QEvent.Type.Leave))
    assert not view3d.scene.ray.visible
    assert pane.selection.hovered is None and window.statusBar().currentMessage() == ""
    # A click selects the entity under the mouse.
    assert pane.views.click(view2d, pos) == f"{CAMERA}/rgb"
    assert pane.selection.selected == f"{CAMERA}/rgb"


def test_text_log_follows_time_and_filters_levels(window: MainWindow, robot_rrd: Path) -> None:
    pane = open_pane(window, robot_rrd)
    log = view_widget(pane, "text")
    goto(pane, 4)
    entry = log.current_entry()
    assert entry is not None and entry.text == "step 4" and entry.time == 4
    log.set_level("WARN")
    assert [e.text for e in log.visible_entries()] == ["step 0", "step 3"]
    current = log.current_entry()
    assert current is not None and current.text == "step 3"  # the last shown entry at or before the time
    # Clicking an entry moves the time cursor to it.
    first = log.proxy.index(0, 3)
    log.table.clicked.emit(first)
    assert pane.time == 0
    assert pane.selection.selected == "logs/planner"


def test_plot_curves_and_cursor(window: MainWindow, robot_rrd: Path) -> None:
    pane = open_pane(window, robot_rrd)
    plot = view_widget(pane, "plot")
    x, y = plot.curves["metrics/battery"].getData()
    assert list(x) == list(range(FRAMES)) and list(y) == [100.0 - i for i in range(FRAMES)]
    goto(pane, 3)
    assert plot.cursor_line.value() == 3
    # Dragging the cursor line moves the time.
    plot.cursor_line.setValue(1.2)
    plot.cursor_line.sigDragged.emit(plot.cursor_line)
    assert pane.time == 1


# --- many entities, failures --------------------------------------------------------------------------
def test_many_entities_load_lazily(window: MainWindow, tmp_path: Path) -> None:
    path = tmp_path / "many.rrd"
    rec = rr.RecordingStream("many", save=path, strict=True)
    rr.set_time_sequence("frame", 0, recording=rec)
    n = 1500
    for i in range(n):
        rr.log_scalar(f"sensors/s{i}", float(i), recording=rec)
    rec.disconnect()
    pane = open_pane(window, path)
    tm = pane.tree.tree_model
    top = tm.index(0, 0)
    assert top.data() == "sensors" and tm.rowCount(top) == 0 and tm.canFetchMore(top)
    pane.tree.expand(top)
    assert tm.rowCount(top) == n
    assert [tm.index(r, 0, top).data() for r in range(3)] == ["s0", "s1", "s2"]  # natural order
    assert tm.index(10, 0, top).data() == "s10"
    plot = view_widget(pane, "plot")
    assert len(plot.curves) == MAX_CURVES and "showing" in plot.note.toPlainText()


def test_timeless_only_and_empty_recordings(window: MainWindow, tmp_path: Path) -> None:
    static = tmp_path / "static.rrd"
    rec = rr.RecordingStream("static", save=static, strict=True)
    rr.log_points("world/map", [[0, 0, 0], [1, 1, 0]], timeless=True, recording=rec)
    rec.disconnect()
    empty = tmp_path / "empty.rrd"
    rr.RecordingStream("empty", save=empty, strict=True).disconnect()
    pane = open_pane(window, static)
    assert pane.timeline is None and pane.time is None
    assert view(pane, "3d", "world").scene.visuals_for("world/map")  # timeless data is always shown
    pane.time_panel.play()
    pane.time_panel.step_forward()
    assert not pane.time_panel.playing and pane.time is None
    pane = open_pane(window, empty)
    assert pane.views.handles == [] and pane.tree.tree_model.rowCount() == 0


def test_a_corrupt_chunk_is_reported_not_fatal(window: MainWindow, robot_rrd: Path, tmp_path: Path) -> None:
    bad = tmp_path / "flipped.rrd"
    data = bytearray(robot_rrd.read_bytes())
    (info,) = [c for c in rr.RrdReader(robot_rrd).chunks if c.entity == "world/robot/lidar"]
    data[info.record_offset + info.record_size // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    pane = window.open_path(bad)
    assert pane is not None
    assert any("world (3d)" in e and "Corrupt" in e for e in pane.views.errors), pane.views.errors
    assert "Corrupt" in window.statusBar().currentMessage()
    scene = view(pane, "3d", "world").scene
    goto(pane, 2)  # the window carries on: the other views still follow the time
    assert view_widget(pane, "plot").cursor_line.value() == 2
    pane.select("world/robot/lidar")
    assert "Cannot show world/robot/lidar" in pane.selection.title.text()
    assert scene is not None


def test_a_view_that_cannot_be_built_leaves_the_others(qtbot: Any, robot_rrd: Path, tmp_path: Path) -> None:
    def broken_factory(kind: str, model: ViewerModel, view: Any, size: tuple[int, int]) -> Any:
        """A test double: a scene that fails to build."""
        raise RuntimeError("no GL here")

    settings = QtCore.QSettings(str(tmp_path / "s.ini"), QtCore.QSettings.Format.IniFormat)
    w = MainWindow(settings=settings, scene_factory=broken_factory)
    qtbot.addWidget(w)
    pane = w.open_path(robot_rrd)
    assert pane is not None
    assert len(pane.views.errors) == 2 and all("no GL here" in e for e in pane.views.errors)
    handle = pane.views.handle_for("3d", "world")
    assert handle is not None and isinstance(handle.widget, QtWidgets.QLabel) and "no GL here" in handle.widget.text()
    goto(pane, 1)  # the plots and logs still follow the time
    assert view_widget(pane, "plot").cursor_line.value() == 1


def test_run_opens_the_files_at_the_given_time(qtbot: Any, robot_rrd: Path) -> None:
    from rrview.app import run

    seen: dict[str, Any] = {}

    def look_and_close() -> None:
        (w,) = [w for w in QtWidgets.QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        pane = w.current_pane()
        assert pane is not None
        seen.update(timeline=pane.timeline, time=pane.time, limit=pane.model.store.memory_limit, tabs=w.tabs.count())
        w.close()

    QtCore.QTimer.singleShot(0, look_and_close)
    assert run([robot_rrd], memory_limit=5_000_000, timeline="sim_time", time="0.2") == 0
    assert seen == {"timeline": "sim_time", "time": 200_000_000, "limit": 5_000_000, "tabs": 1}


def test_format_time() -> None:
    assert format_time(rr.TimelineKind.SEQUENCE, 12) == "#12"
    assert format_time(rr.TimelineKind.TIME, 3_250_000_000) == "3.250 s"
    assert format_time(rr.TimelineKind.TIME, 1_700_000_000_123_456_000) == "2023-11-14 22:13:20.123456"
    assert format_time(rr.TimelineKind.TIME, None) == "timeless"


# --- the command line ---------------------------------------------------------------------------------
def run_cli(*args: str) -> Any:
    return CliRunner().invoke(rrview_main, list(args))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{missing}"], "no such file"),
        (["{notrrd}"], "not an .rrd file"),
        (["{rrd}", "--memory-limit", "lots"], "is not a size"),
        (["{rrd}", "--timeline", "nope"], "no timeline 'nope'"),
        (["{rrd}", "--time", "abc"], "expected an integer"),
        (["{rrd}", "--screenshot", "{out}", "--size", "big"], "WIDTHxHEIGHT"),
        (["{rrd}", "{rrd}", "--screenshot", "{out}"], "renders one recording"),
        (["{rrd}", "--screenshot", "{out}", "--timeline", "nope"], "no timeline 'nope'"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(args: list[str], message: str, robot_rrd: Path, tmp_path: Path) -> None:
    notrrd = tmp_path / "x.rrd"
    notrrd.write_text("not a recording")
    values = {"missing": tmp_path / "missing.rrd", "notrrd": notrrd, "rrd": robot_rrd, "out": tmp_path / "o.png"}
    result = run_cli(*[a.format(**values) for a in args])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rrview: error: ") and message in lines[0], result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o.png").exists()


def test_cli_subprocess_errors_without_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.run(
        [sys.executable, "-m", "cli.rrview", str(tmp_path / "missing.rrd")], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("rrview: error: ") and "no such file" in proc.stderr
    # No display: said in one line, not a Qt abort.
    path = write_robot(tmp_path / "r.rrd")
    proc = subprocess.run([sys.executable, "-m", "cli.rrview", str(path)], capture_output=True, text=True, env=env)
    assert proc.returncode == 2 and "no display" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_help() -> None:
    result = run_cli("--help")
    assert result.exit_code == 0
    for text in ("Examples:", "--memory-limit", "--screenshot", "--timeline", "--time", "rrview run.rrd"):
        assert text in result.output


def test_cli_screenshot(robot_rrd: Path, tmp_path: Path) -> None:
    pytest.importorskip("PIL")
    out = tmp_path / "shot.png"
    # A process of its own, with no display, as on a headless machine: the render is off-screen.
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    args = [str(robot_rrd), "--screenshot", str(out), "--size", "320x200", "--time", "2"]
    proc = subprocess.run([sys.executable, "-m", "cli.rrview", *args], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"wrote {out} (320x200)"
    from PIL import Image

    with Image.open(out) as img:
        assert img.size == (320, 200)
