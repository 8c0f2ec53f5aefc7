"""The main window: one tab per recording, each with its entity tree, views, selection and time panel."""

from __future__ import annotations

import os
import time
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
_POLL_MS = 50
"""How often live recordings and followed files are checked for new data."""
_RELAYOUT_SECONDS = 1.0
_MARKS_SECONDS = 1.0
_RECENT_KEY = "recent_files"
_SHORTCUTS = """\
Space: play / pause
Left / Right: step back / forward
Home / End: go to the start / end
L: loop playback on / off
Ctrl+O: open a recording (or drop .rrd files on the window)
Ctrl+W: close the recording
Ctrl+Shift+S: recordings side by side / one at a time in tabs
Click in a view: select what is under the mouse (its values show in the selection panel)
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
        self.scene_factory = scene_factory
        self.warning_bar = WarningBar(self)
        self.tree = EntityTreeView(model, self)
        self.selection = SelectionPanel(model, self)
        self.time_panel = TimePanel(model, self._scrub_entities, self)
        self.live_label = QtWidgets.QLabel(self)
        self.live_label.setVisible(False)
        self.splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.tree)
        self._install_views(default_layout(model))
        self.splitter.addWidget(self.selection)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([270, 900, 300])
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(2)
        lay.addWidget(self.warning_bar)
        lay.addWidget(self.splitter, 1)
        lay.addWidget(self.live_label)
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

        # Live data (a followed file, a TCP stream): see poll().
        self.live = False
        self._node_count = len(model.nodes)
        self._last_relayout = 0.0
        self._layout_stale = False
        self._last_marks = 0.0

        if model.damage is not None:
            self.warning_bar.show_message(damage_message(model.path, model.damage))
        if timeline is not None and timeline != self.time_panel.timeline:
            self.time_panel.set_timeline(timeline)
        if time is not None:
            self.time_panel.set_time(time)
        self.views.set_timeline(self.time_panel.timeline)
        self.redraw()

    def _install_views(self, layout: list[Any]) -> None:
        """Build the views of ``layout`` (replacing the current ones, if any)."""
        views = ViewArea(self.model, layout, scene_factory=self.scene_factory, parent=self)
        views.entityClicked.connect(self._on_view_click)
        views.timeRequested.connect(self.time_panel.set_time)
        views.hoverChanged.connect(self._on_hover)
        views.problem.connect(self.status)
        old: ViewArea | None = getattr(self, "views", None)
        if old is None:
            self.splitter.addWidget(views)
        else:
            sizes = self.splitter.sizes()
            self.splitter.replaceWidget(self.splitter.indexOf(old), views)
            self.splitter.setSizes(sizes)
            old.close_scenes()
            old.deleteLater()
            views.set_timeline(self.time_panel.timeline)
        self.views = views

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

    # --- live data ------------------------------------------------------------------
    def poll(self) -> bool:
        """Take new data of a live recording or a followed file; returns whether anything changed.

        A time cursor at the end of the timeline stays at the end (following the newest
        data); one the user moved back stays where it is.
        """
        tp = self.time_panel
        following = tp.following
        changed = self.model.refresh()
        source_stats = getattr(self.model.reader, "stats", None)
        if source_stats is not None:
            self.live_label.setText(source_stats.describe())
        now = time.monotonic()
        if self._layout_stale and now - self._last_relayout > _RELAYOUT_SECONDS:
            self._relayout(now)
        if not changed:
            return False
        if len(self.model.nodes) != self._node_count:
            self._node_count = len(self.model.nodes)
            self.tree.reload()
        self._layout_stale = True  # a new entity, or a new kind of data (a pinhole) may need new views
        if self._layout_stale and now - self._last_relayout > _RELAYOUT_SECONDS:
            self._relayout(now)
        marks = now - self._last_marks > _MARKS_SECONDS
        if marks:
            self._last_marks = now
        tp.refresh_range(follow=following, marks=marks)
        damage = self.model.damage
        if self.warning_bar.isVisible() and (damage is None or damage.kind == "truncated"):
            self.warning_bar.hide()  # the end of a file being written is not damage
        self.request_redraw()
        return True

    def _relayout(self, now: float) -> None:
        # New entities or spaces: views are rebuilt, at most once a second (it costs GL contexts).
        self._layout_stale = False
        layout = default_layout(self.model)
        if layout != self.views.layout_views:
            self._last_relayout = now
            self._install_views(layout)
            self.request_redraw()

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
        # Side by side: the same panes, moved from the tabs into a splitter (View menu).
        self.side = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal, self)
        self.side.setChildrenCollapsible(False)
        self.stack.addWidget(self.side)
        self._panes: list[RecordingPane] = []
        self._current: RecordingPane | None = None
        app = QtWidgets.QApplication.instance()
        if isinstance(app, QtWidgets.QApplication):
            app.focusChanged.connect(self._on_focus)
        self.setCentralWidget(self.stack)
        self._build_menus()
        self.statusBar()
        self.servers: list[Any] = []  # rrview.live.LiveServer
        self._poll_timer = QtCore.QTimer(self)
        self._poll_timer.setInterval(_POLL_MS)
        self._poll_timer.timeout.connect(self.poll)

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
        self.side_by_side_action = QtGui.QAction("Recordings Side by &Side", self)
        self.side_by_side_action.setCheckable(True)
        self.side_by_side_action.setShortcut(QtGui.QKeySequence("Ctrl+Shift+S"))
        self.side_by_side_action.toggled.connect(self.set_side_by_side)
        view_menu.addAction(self.side_by_side_action)
        self.addAction(self.side_by_side_action)
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
        """The open recordings, in the order they are shown."""
        if self.side_by_side:
            return [w for i in range(self.side.count()) if isinstance(w := self.side.widget(i), RecordingPane)]
        return [w for i in range(self.tabs.count()) if isinstance(w := self.tabs.widget(i), RecordingPane)]

    def current_pane(self) -> RecordingPane | None:
        """The recording the menus and keys act on: the current tab, or side by side the one last used."""
        if self.side_by_side:
            if self._current in self._panes:
                return self._current
            return self._panes[0] if self._panes else None
        w = self.tabs.currentWidget()
        return w if isinstance(w, RecordingPane) else None

    @property
    def side_by_side(self) -> bool:
        return self.stack.currentWidget() is self.side

    def set_side_by_side(self, on: bool) -> None:
        """Show every recording side by side (True) or one at a time in tabs (False)."""
        if self.side_by_side_action.isChecked() != on:
            self.side_by_side_action.setChecked(on)  # comes back here through the signal
            return
        if on == self.side_by_side and (self._panes or not on):
            return
        panes = self.panes()
        current = self.current_pane()
        for pane in panes:
            if on:
                self.tabs.removeTab(self.tabs.indexOf(pane))
                self.side.addWidget(pane)
                pane.show()  # the tabs hid all but the current one
            else:
                self._add_tab(pane)
        if on:
            self.side.setSizes([1000] * len(panes))
            self._current = current
        elif current is not None:
            self.tabs.setCurrentWidget(current)
        self._show_panes()

    def _show_panes(self) -> None:
        if not self._panes:
            self.stack.setCurrentWidget(self.welcome)
            self.setWindowTitle("rrview")
        else:
            self.stack.setCurrentWidget(self.side if self.side_by_side_action.isChecked() else self.tabs)
            self._on_tab(0)

    def _on_focus(self, _old: QtWidgets.QWidget | None, new: QtWidgets.QWidget | None) -> None:
        w: QtCore.QObject | None = new
        while w is not None and not isinstance(w, RecordingPane):
            w = w.parent()
        if isinstance(w, RecordingPane):
            self._current = w
            self._on_tab(0)

    def _add_tab(self, pane: RecordingPane) -> None:
        model = pane.model
        idx = self.tabs.addTab(pane, os.path.basename(model.path))
        tip = model.path + (f"\napplication: {model.application_id}" if model.application_id else "")
        self.tabs.setTabToolTip(idx, tip)

    def show_pane(self, pane: RecordingPane) -> None:
        """Make a recording the current one."""
        if self.side_by_side:
            self._current = pane
            pane.setFocus()
        else:
            self.tabs.setCurrentWidget(pane)

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
        self._panes.append(pane)
        if self.side_by_side_action.isChecked():
            self.side.addWidget(pane)
            self.side.setSizes([1000] * self.side.count())
        else:
            self._add_tab(pane)
        self._show_panes()
        self.show_pane(pane)
        if not model.live:
            self._remember(model.path)
        return pane

    # --- live data ------------------------------------------------------------------
    def follow(self, model: ViewerModel, **start: Any) -> RecordingPane:
        """Show a recording that is still being written, and keep reading what is appended."""
        pane = self.add_model(model, **start)
        pane.live = True
        if model.damage is not None and model.damage.kind == "truncated":
            pane.warning_bar.hide()  # the writer is in the middle of a record
        self._poll_timer.start()
        return pane

    def listen(self, server: Any) -> None:
        """Show every recording that arrives on a :class:`rrview.live.LiveServer`, each in a tab."""
        self.servers.append(server)
        self.welcome.setText(
            f"<h2>rrview</h2><p>Listening on <b>{server.address}</b> for recordings:<br>"
            f"<code>rr.connect(\"{server.address}\")</code> in the program that logs.</p>"
        )
        self._status(f"listening on {server.address}")
        self._poll_timer.start()

    def poll(self) -> None:
        """Open new live recordings and let every live pane take its new data."""
        from .live import LiveSource

        for server in self.servers:
            for source in server.take_new():
                assert isinstance(source, LiveSource)
                pane = self.follow(ViewerModel(source=source, memory_limit=self.memory_limit))
                pane.live_label.setVisible(True)
                saved = server.saved.get(source.recording_id)
                if saved:
                    self._status(f"saving {source.recording_id} to {saved}")
            while server.events:
                self._status(server.events.popleft())
        for pane in self.panes():
            if pane.live:
                pane.poll()

    def open_path(self, path: str | os.PathLike[str]) -> RecordingPane | None:
        """Open a file in a new tab (or show its tab if it is open); a problem is shown in a message box."""
        path = os.path.abspath(os.fspath(path))
        for pane in self.panes():
            if os.path.abspath(pane.model.path) == path:
                self.show_pane(pane)
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
        if isinstance(w, RecordingPane):
            self.close_pane(w)

    def close_pane(self, pane: RecordingPane) -> None:
        """Close a recording (its tab, or its place side by side)."""
        if pane not in self._panes:
            return
        self._panes.remove(pane)
        idx = self.tabs.indexOf(pane)
        if idx >= 0:
            self.tabs.removeTab(idx)
        pane.setParent(None)  # type: ignore[call-overload]  # out of the splitter too
        pane.close_model()
        pane.deleteLater()
        if self._current is pane:
            self._current = None
        self._show_panes()

    def _close_current(self) -> None:
        pane = self.current_pane()
        if pane is not None:
            self.close_pane(pane)

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
        self._poll_timer.stop()
        for pane in self.panes():
            pane.close_model()
        for server in self.servers:
            server.close()
        super().closeEvent(event)
