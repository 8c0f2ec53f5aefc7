"""The main window: one tab per recording, each with its entity tree, views, selection and time panel."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PyQt6 import QtCore, QtGui, QtWidgets

from rrformat.errors import RrdError

from .model import ViewerModel
from .spaces import default_layout
from .widgets.entity_tree import EntityTreeView
from .widgets.selection_panel import SelectionPanel
from .widgets.time_panel import TimePanel
from .widgets.view_area import SceneFactory, ViewArea
from .widgets.warning_bar import WarningBar, damage_message

__all__ = ["MainWindow", "RecordingPane", "MAX_RECENT"]

MAX_RECENT = 10
_RECENT_KEY = "recent_files"
_SHORTCUTS = """\
Space: play / pause
Left / Right: step back / forward
Home / End: go to the start / end
L: loop playback on / off
Ctrl+O: open a recording (or drop .rrd files on the window)
Ctrl+W: close the recording
Hover a camera image: the ray through that pixel is drawn in the 3D view, its value in the status bar"""


class RecordingPane(QtWidgets.QWidget):
    """Everything shown for one recording.

    Parameters
    ----------
    model
        The recording (the pane closes it when it is closed).
    timeline, time
        Where the time cursor starts (default: the model's default timeline, at its end).
    scene_factory
        Builds the 3D/2D scenes (default: :func:`rrview.widgets.view_area.default_scene_factory`).
    """

    status = QtCore.pyqtSignal(str)

    def __init__(
        self,
        model: ViewerModel,
        *,
        timeline: str | None = None,
        time: int | None = None,
        scene_factory: SceneFactory | None = None,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.warning_bar = WarningBar(self)
        self.tree = EntityTreeView(model, self)
        self.selection = SelectionPanel(model, self)
        self.views = ViewArea(model, default_layout(model), scene_factory=scene_factory, parent=self)
        self.time_panel = TimePanel(model, self._scrub_entities, self)
        self.splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(self.views)
        self.splitter.addWidget(self.selection)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([270, 900, 300])
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(2)
        lay.addWidget(self.warning_bar)
        lay.addWidget(self.splitter, 1)
        lay.addWidget(self.time_panel)

        # Time changes arrive in bursts (dragging, playback): draw once per burst.
        self._redraw_timer = QtCore.QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(0)
        self._redraw_timer.timeout.connect(self.redraw)

        self.time_panel.timeChanged.connect(lambda _t: self.request_redraw())
        self.time_panel.timelineChanged.connect(self._on_timeline)
        self.time_panel.historyChanged.connect(self.request_redraw)
        self.tree.tree_model.visibilityChanged.connect(self._on_visibility)
        self.tree.entitySelected.connect(self.select)
        self.views.entityClicked.connect(self._on_view_click)
        self.views.timeRequested.connect(self.time_panel.set_time)
        self.views.hoverChanged.connect(self._on_hover)
        self.views.problem.connect(self.status)

        if model.damage is not None:
            self.warning_bar.show_message(damage_message(model.path, model.damage))
        if timeline is not None and timeline != self.time_panel.timeline:
            self.time_panel.set_timeline(timeline)
        if time is not None:
            self.time_panel.set_time(time)
        self.views.set_timeline(self.time_panel.timeline)
        self.redraw()

    # --- state ----------------------------------------------------------------------
    @property
    def timeline(self) -> str | None:
        return self.time_panel.timeline

    @property
    def time(self) -> int | None:
        return self.time_panel.time

    def _scrub_entities(self) -> list[str]:
        return [n.path for n in self.model.root.walk() if n.chunks and n.is_visible()]

    # --- drawing --------------------------------------------------------------------
    def request_redraw(self) -> None:
        self._redraw_timer.start()

    def redraw(self) -> None:
        """Draw every view and the selection at the current time, now."""
        self._redraw_timer.stop()
        tp = self.time_panel
        self.views.update_time(tp.timeline, tp.time, tp.history)
        self.selection.set_time(tp.timeline, tp.time)

    def _on_timeline(self, name: str) -> None:
        self.views.set_timeline(name)
        self.request_redraw()

    def _on_visibility(self, _path: str) -> None:
        self.views.refresh_visibility()
        self.time_panel.refresh_marks()
        self.request_redraw()

    # --- selection ------------------------------------------------------------------
    def select(self, entity: str) -> None:
        """Show an entity's values in the selection panel (and make it current in the tree)."""
        self.selection.set_selected(entity)

    def _on_view_click(self, entity: str) -> None:
        self.tree.reveal(entity)
        self.select(entity)

    def _on_hover(self, message: str, entity: Any, probe: Any) -> None:
        self.selection.set_hovered(entity if isinstance(entity, str) else None, probe)
        self.status.emit(message)

    def close_model(self) -> None:
        self.time_panel.pause()
        self.views.close_scenes()
        self.model.close()


class MainWindow(QtWidgets.QMainWindow):
    """The viewer's window.

    Parameters
    ----------
    memory_limit
        Bytes of decoded data each recording keeps (None: a quarter of the RAM); the
        process's resident memory is kept under it too (see :mod:`rrview.store`).
    settings
        Where recent files are remembered (default: the user's rrview settings).
    scene_factory
        Builds the 3D/2D scenes of the views.
    """

    def __init__(
        self,
        *,
        memory_limit: int | None = None,
        settings: QtCore.QSettings | None = None,
        scene_factory: SceneFactory | None = None,
    ) -> None:
        super().__init__()
        self.memory_limit = memory_limit
        self.settings = settings if settings is not None else QtCore.QSettings("rrkit", "rrview")
        self.scene_factory = scene_factory
        self.last_error: str | None = None
        self.error_box: QtWidgets.QMessageBox | None = None
        self.setWindowTitle("rrview")
        self.setAcceptDrops(True)
        self.resize(1400, 900)

        self.tabs = QtWidgets.QTabWidget(self)
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.setDocumentMode(True)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        self.tabs.currentChanged.connect(self._on_tab)
        self.welcome = QtWidgets.QLabel(
            "<h2>rrview</h2><p>Open a recording with <b>File &gt; Open</b> (Ctrl+O),<br>"
            "or drop .rrd files on this window.</p>",
            self,
        )
        self.welcome.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.stack = QtWidgets.QStackedWidget(self)
        self.stack.addWidget(self.welcome)
        self.stack.addWidget(self.tabs)
        self.setCentralWidget(self.stack)
        self._build_menus()
        self.statusBar()

    # --- menus ----------------------------------------------------------------------
    def _action(
        self, menu: QtWidgets.QMenu, text: str, slot: Any, shortcut: str | QtGui.QKeySequence.StandardKey | None = None
    ) -> QtGui.QAction:
        act = QtGui.QAction(text, self)
        if shortcut is not None:
            act.setShortcut(QtGui.QKeySequence(shortcut))
        act.triggered.connect(lambda _checked=False: slot())
        menu.addAction(act)
        self.addAction(act)  # shortcuts work with the menu bar hidden too
        return act

    def _build_menus(self) -> None:
        bar = self.menuBar()
        assert bar is not None
        file_menu = bar.addMenu("&File")
        assert file_menu is not None
        self._action(file_menu, "&Open...", self.open_dialog, QtGui.QKeySequence.StandardKey.Open)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        assert self.recent_menu is not None
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self._action(file_menu, "&Close Recording", self._close_current, QtGui.QKeySequence.StandardKey.Close)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QtGui.QKeySequence.StandardKey.Quit)

        view_menu = bar.addMenu("&View")
        assert view_menu is not None
        self._action(view_menu, "Reset &Layout", lambda: self._on_pane(lambda p: p.views.arrange()))
        self._action(view_menu, "Reset &Cameras", lambda: self._on_pane(lambda p: p.views.reset_cameras()))
        self.fly_action = QtGui.QAction("&Fly Camera in 3D (WASD keys)", self)
        self.fly_action.setCheckable(True)
        self.fly_action.toggled.connect(self._set_fly)
        view_menu.addAction(self.fly_action)
        view_menu.addSeparator()
        self.show_tree_action = self._toggle(view_menu, "Entity &Tree", lambda p, on: p.tree.setVisible(on))
        self.show_selection_action = self._toggle(
            view_menu, "&Selection Panel", lambda p, on: p.selection.setVisible(on)
        )

        play_menu = bar.addMenu("&Playback")
        assert play_menu is not None
        self.play_action = self._action(
            play_menu, "&Play / Pause", lambda: self._time(lambda tp: tp.toggle_play()), "Space"
        )
        self._action(play_menu, "Step &Back", lambda: self._time(lambda tp: tp.step_back()), "Left")
        self._action(play_menu, "Step &Forward", lambda: self._time(lambda tp: tp.step_forward()), "Right")
        self._action(play_menu, "Go to &Start", lambda: self._time(lambda tp: tp.go_start()), "Home")
        self._action(play_menu, "Go to &End", lambda: self._time(lambda tp: tp.go_end()), "End")
        self._action(play_menu, "&Loop", lambda: self._time(lambda tp: tp.loop_button.toggle()), "L")

        help_menu = bar.addMenu("&Help")
        assert help_menu is not None
        self._action(
            help_menu,
            "&Keyboard and Mouse",
            lambda: QtWidgets.QMessageBox.information(self, "rrview: keyboard and mouse", _SHORTCUTS),
        )

    def _toggle(self, menu: QtWidgets.QMenu, text: str, apply: Any) -> QtGui.QAction:
        act = QtGui.QAction(text, self)
        act.setCheckable(True)
        act.setChecked(True)
        act.toggled.connect(lambda on: self._each_pane(apply, on))
        menu.addAction(act)
        return act

    def _each_pane(self, apply: Any, on: bool) -> None:
        for pane in self.panes():
            apply(pane, on)

    def _set_fly(self, on: bool) -> None:
        for pane in self.panes():
            pane.views.set_camera_mode("fly" if on else "turntable")

    def _on_pane(self, fn: Any) -> None:
        pane = self.current_pane()
        if pane is not None:
            fn(pane)

    def _time(self, fn: Any) -> None:
        pane = self.current_pane()
        if pane is not None:
            fn(pane.time_panel)

    # --- recordings -----------------------------------------------------------------
    def panes(self) -> list[RecordingPane]:
        out = []
        for i in range(self.tabs.count()):
            w = self.tabs.widget(i)
            assert isinstance(w, RecordingPane)
            out.append(w)
        return out

    def current_pane(self) -> RecordingPane | None:
        w = self.tabs.currentWidget()
        return w if isinstance(w, RecordingPane) else None

    def add_model(self, model: ViewerModel, *, timeline: str | None = None, time: int | None = None) -> RecordingPane:
        """Show an opened recording in a new tab (and make it current)."""
        pane = RecordingPane(model, timeline=timeline, time=time, scene_factory=self.scene_factory)
        pane.status.connect(lambda text: self._status(text))
        if pane.views.errors:  # found while the pane was being built, before it was connected
            self._status(pane.views.errors[-1])
        pane.tree.setVisible(self.show_tree_action.isChecked())
        pane.selection.setVisible(self.show_selection_action.isChecked())
        if self.fly_action.isChecked():
            pane.views.set_camera_mode("fly")
        name = os.path.basename(model.path)
        idx = self.tabs.addTab(pane, name)
        tip = model.path + (f"\napplication: {model.application_id}" if model.application_id else "")
        self.tabs.setTabToolTip(idx, tip)
        self.tabs.setCurrentIndex(idx)
        self.stack.setCurrentWidget(self.tabs)
        self._remember(model.path)
        return pane

    def open_path(self, path: str | os.PathLike[str]) -> RecordingPane | None:
        """Open a file in a new tab (or show its tab if it is open); a problem is shown in a message box."""
        path = os.path.abspath(os.fspath(path))
        for i, pane in enumerate(self.panes()):
            if os.path.abspath(pane.model.path) == path:
                self.tabs.setCurrentIndex(i)
                return pane
        try:
            if not os.path.exists(path):
                raise FileNotFoundError(f"{path}: no such file")
            if os.path.isdir(path):
                raise IsADirectoryError(f"{path} is a directory, not an .rrd file")
            model = ViewerModel(path, memory_limit=self.memory_limit)
        except (RrdError, OSError, ValueError) as exc:
            self._forget(path)
            self.show_error(f"Cannot open {os.path.basename(path)}", str(exc))
            return None
        return self.add_model(model)

    def open_dialog(self) -> None:
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(
            self, "Open recordings", self._last_dir(), "Recordings (*.rrd);;All files (*)"
        )
        for p in paths:
            self.open_path(p)

    def _last_dir(self) -> str:
        recent = self.recent_files()
        return os.path.dirname(recent[0]) if recent else os.getcwd()

    def close_tab(self, index: int) -> None:
        w = self.tabs.widget(index)
        self.tabs.removeTab(index)
        if isinstance(w, RecordingPane):
            w.close_model()
            w.deleteLater()
        if self.tabs.count() == 0:
            self.stack.setCurrentWidget(self.welcome)
            self.setWindowTitle("rrview")

    def _close_current(self) -> None:
        if self.tabs.count():
            self.close_tab(self.tabs.currentIndex())

    def _on_tab(self, index: int) -> None:
        pane = self.current_pane()
        if pane is not None:
            self.setWindowTitle(f"{os.path.basename(pane.model.path)} - rrview")

    def show_error(self, title: str, text: str) -> None:
        """A warning box that does not block (the window stays usable behind it)."""
        self.last_error = text
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning, title, text, parent=self)
        box.setStandardButtons(QtWidgets.QMessageBox.StandardButton.Ok)
        box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        self.error_box = box
        box.open()

    def _status(self, text: str) -> None:
        bar = self.statusBar()
        assert bar is not None
        if text:
            bar.showMessage(text)
        else:
            bar.clearMessage()

    # --- recent files ---------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.settings.value(_RECENT_KEY, [])
        if isinstance(value, str):  # QSettings gives a lone entry back as a string
            value = [value]
        return [str(v) for v in value or []]

    def _remember(self, path: str) -> None:
        path = os.path.abspath(path)
        recent = [p for p in self.recent_files() if p != path]
        self.settings.setValue(_RECENT_KEY, [path, *recent][:MAX_RECENT])
        self.settings.sync()

    def _forget(self, path: str) -> None:
        recent = self.recent_files()
        if path in recent:
            self.settings.setValue(_RECENT_KEY, [p for p in recent if p != path])
            self.settings.sync()

    def _fill_recent(self) -> None:
        assert self.recent_menu is not None
        self.recent_menu.clear()
        recent = self.recent_files()
        for p in recent:
            act = self.recent_menu.addAction(p)
            assert act is not None
            act.triggered.connect(lambda _c=False, p=p: self.open_path(p))
        if not recent:
            act = self.recent_menu.addAction("(none)")
            assert act is not None
            act.setEnabled(False)

    # --- drag and drop --------------------------------------------------------------
    @staticmethod
    def _dropped_files(mime: QtCore.QMimeData | None) -> list[str]:
        if mime is None or not mime.hasUrls():
            return []
        return [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent | None) -> None:
        if event is not None and self._dropped_files(event.mimeData()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QtGui.QDragMoveEvent | None) -> None:
        if event is not None and self._dropped_files(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent | None) -> None:
        if event is None:
            return
        files = self._dropped_files(event.mimeData())
        if files:
            event.acceptProposedAction()
        for f in files:
            self.open_path(Path(f))

    def closeEvent(self, event: QtGui.QCloseEvent | None) -> None:
        for pane in self.panes():
            pane.close_model()
        super().closeEvent(event)
