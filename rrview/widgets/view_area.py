"""The views of one recording, laid out as dock widgets the user can move, stack and float.

Each :class:`SpaceView` of the layout gets one view: a vispy canvas for 3D and 2D spaces
(the scenes are built by :mod:`rrview.scene3d` and :mod:`rrview.scene2d`), a plot for
scalars and a table for text logs. Hovering a pixel of a camera image shows the ray
through it in the 3D views holding that camera.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from PyQt6 import QtCore, QtWidgets

from ..model import ViewerModel
from ..spaces import SpaceView, camera_at
from .text_log import TextLogView

if TYPE_CHECKING:
    # Imported when a plot view is made: pyqtgraph takes ~0.15 s to load, before the first frame.
    from .plot_view import PlotView

__all__ = ["ViewArea", "ViewHandle", "SceneFactory", "default_scene_factory", "probe_message"]

log = logging.getLogger("rrview")

SceneFactory = Callable[[str, ViewerModel, SpaceView, tuple[int, int]], Any]
"""Builds the scene of a "3d" or "2d" view: ``factory(kind, model, view, size)``; the scene has
a ``canvas`` (a vispy SceneCanvas whose ``native`` widget is shown)."""

_CLICK_SLOP = 3  # pixels the mouse may move between press and release and still be a click


def default_scene_factory(kind: str, model: ViewerModel, view: SpaceView, size: tuple[int, int]) -> Any:
    """The vispy scene of a 3D or 2D view, drawn in a Qt canvas."""
    # Imported on first use: the window opens (and plots and logs work) without GL scenes.
    from vispy import scene as vscene

    if kind == "3d":
        from ..scene3d import Scene3D

        # The canvas names its backend: a process may also hold headless (egl) canvases.
        return Scene3D(model, view, size=size, canvas=vscene.SceneCanvas(app="pyqt6", keys=None, size=size))
    from ..scene2d import Scene2D

    return Scene2D(model, view, size=size, canvas=vscene.SceneCanvas(app="pyqt6", keys=None, size=size))


def probe_message(u: float, v: float, probe: dict[str, Any]) -> str:
    """The status-bar line for a hovered image pixel."""
    parts = [f"pixel ({math.floor(u)}, {math.floor(v)})"]
    if probe.get("entity"):
        parts.insert(0, str(probe["entity"]))
    value = probe.get("value")
    if value is not None:
        parts.append(f"value {tuple(value) if isinstance(value, (list, tuple)) else value}")
    depth = probe.get("depth_m")
    if depth is not None:
        parts.append(f"depth {float(depth):.3f} m")
    if probe.get("class_id") is not None:
        label = probe.get("label")
        parts.append(f"class {probe['class_id']}" + (f" ({label})" if label else ""))
    return "   ".join(parts)


@dataclass(eq=False)
class ViewHandle:
    """One view: its space view, its widget, its dock and (3D/2D) its scene."""

    view: SpaceView
    widget: QtWidgets.QWidget
    dock: QtWidgets.QDockWidget
    scene: Any = None
    failed: bool = False
    press: tuple[float, float] | None = field(default=None, repr=False)

    @property
    def kind(self) -> str:
        return self.view.kind

    @property
    def timed(self) -> PlotView | TextLogView | None:
        """The plot or text log widget (they follow the time cursor themselves), else None."""
        return cast("PlotView | TextLogView", self.widget) if self.kind in ("plot", "text") else None


class _LeaveFilter(QtCore.QObject):
    """Calls back when the mouse leaves a widget (vispy reports no leave event)."""

    def __init__(self, callback: Callable[[], None], parent: QtCore.QObject) -> None:
        super().__init__(parent)
        self._callback = callback

    def eventFilter(self, obj: QtCore.QObject | None, event: QtCore.QEvent | None) -> bool:
        if event is not None and event.type() == QtCore.QEvent.Type.Leave:
            self._callback()
        return False


class ViewArea(QtWidgets.QMainWindow):
    """The views of a layout as docks in a grid: spatial views on top, plots and logs below.

    Signals
    -------
    timeRequested(int)
        A view asks to move the time cursor (a dragged plot cursor, a clicked log line).
    entityClicked(str)
        An entity was clicked in a view.
    hoverChanged(str, object, object)
        Status text, hovered entity (or None) and the probe dict (or None).
    """

    timeRequested = QtCore.pyqtSignal(object)
    entityClicked = QtCore.pyqtSignal(str)
    hoverChanged = QtCore.pyqtSignal(str, object, object)
    problem = QtCore.pyqtSignal(str)

    def __init__(
        self,
        model: ViewerModel,
        layout: list[SpaceView],
        *,
        scene_factory: SceneFactory | None = None,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowFlags(QtCore.Qt.WindowType.Widget)  # a main window used as a widget, for its docks
        self.setDockNestingEnabled(True)
        self.setDockOptions(
            QtWidgets.QMainWindow.DockOption.AllowNestedDocks
            | QtWidgets.QMainWindow.DockOption.AllowTabbedDocks
            | QtWidgets.QMainWindow.DockOption.AnimatedDocks
        )
        self.model = model
        self.layout_views = layout
        self.scene_factory = scene_factory or default_scene_factory
        self.timeline: str | None = None
        self.time: int | None = None
        self.history: int | None = None
        self.errors: list[str] = []
        self._reported: set[str] = set()
        self.ray: tuple[str, Any, Any] | None = None  # (camera entity, origin, direction) shown now
        self.handles: list[ViewHandle] = [self._make(v) for v in layout]
        if not self.handles:
            empty = QtWidgets.QLabel("Nothing to show: the recording holds no data a view can draw.", self)
            empty.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
            self.setCentralWidget(empty)
        self.arrange()

    # --- construction -------------------------------------------------------------------
    def _make(self, view: SpaceView) -> ViewHandle:
        dock = QtWidgets.QDockWidget(view.title, self)
        dock.setObjectName(f"view:{view.kind}:{view.root}")
        dock.setFeatures(
            QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        scene: Any = None
        failed = False
        widget: QtWidgets.QWidget
        if view.kind == "plot":
            from .plot_view import PlotView

            plot = PlotView(self.model, view, dock)
            plot.timeRequested.connect(self.timeRequested)
            plot.entityClicked.connect(self.entityClicked)
            widget = plot
        elif view.kind == "text":
            text = TextLogView(self.model, view, dock)
            text.timeRequested.connect(self.timeRequested)
            text.entityClicked.connect(self.entityClicked)
            widget = text
        else:
            try:
                scene = self.scene_factory(view.kind, self.model, view, (640, 480))
                widget = scene.canvas.native
            except Exception as exc:  # a view that cannot be built must not stop the others
                if os.environ.get("RRD_DEBUG"):
                    raise
                log.exception("cannot build the %s view of %r", view.kind, view.root)
                self.errors.append(f"{view.title}: {exc}")
                widget = QtWidgets.QLabel(f"This {view.kind.upper()} view cannot be shown:\n{exc}", dock)
                widget.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
                widget.setWordWrap(True)
                scene, failed = None, True
        dock.setWidget(widget)
        handle = ViewHandle(view, widget, dock, scene, failed)
        if scene is not None:
            self._connect_scene(handle)
        return handle

    def _connect_scene(self, handle: ViewHandle) -> None:
        canvas = handle.scene.canvas
        if handle.kind == "2d":
            canvas.events.mouse_move.connect(lambda ev, h=handle: self.hover_image(h, ev.pos))
            handle.widget.installEventFilter(_LeaveFilter(functools.partial(self.leave_image, handle), handle.widget))
        canvas.events.mouse_press.connect(lambda ev, h=handle: self._press(h, ev.pos))
        canvas.events.mouse_release.connect(lambda ev, h=handle: self._release(h, ev.pos))

    def arrange(self) -> None:
        """Lay the views out afresh: spatial views in a grid on top, plots and logs in a row below."""
        for h in self.handles:
            self.removeDockWidget(h.dock)
        spatial = [h for h in self.handles if h.kind in ("3d", "2d")]
        other = [h for h in self.handles if h.kind not in ("3d", "2d")]
        cols = max(1, math.ceil(math.sqrt(len(spatial)))) if spatial else 1
        rows = [spatial[i : i + cols] for i in range(0, len(spatial), cols)]
        if other:
            rows.append(other)
        # Each row is stacked in its area and then split across: rows span the whole width.
        for i, row in enumerate(rows):
            area = (
                QtCore.Qt.DockWidgetArea.BottomDockWidgetArea
                if other and i == len(rows) - 1
                else QtCore.Qt.DockWidgetArea.TopDockWidgetArea
            )
            self.addDockWidget(area, row[0].dock, QtCore.Qt.Orientation.Vertical)
            prev = row[0].dock
            for h in row[1:]:
                self.splitDockWidget(prev, h.dock, QtCore.Qt.Orientation.Horizontal)
                prev = h.dock
        for h in self.handles:
            h.dock.show()
        self._sizes(rows, bool(spatial and other))
        # Sizes only stick once the docks are laid out in a shown window: set them again then.
        QtCore.QTimer.singleShot(0, lambda: self._sizes(rows, bool(spatial and other)))

    def _sizes(self, rows: list[list[ViewHandle]], split: bool) -> None:
        for row in rows:
            self.resizeDocks([h.dock for h in row], [1000] * len(row), QtCore.Qt.Orientation.Horizontal)
        if split:
            # Spatial views get most of the height.
            height = max(400, self.height())
            docks = [row[0].dock for row in rows]
            sizes = [int(height * 0.7 / (len(rows) - 1))] * (len(rows) - 1) + [int(height * 0.3)]
            self.resizeDocks(docks, sizes, QtCore.Qt.Orientation.Vertical)

    # --- lookups ------------------------------------------------------------------------
    def views_of(self, kind: str) -> list[ViewHandle]:
        return [h for h in self.handles if h.kind == kind]

    def handle_for(self, kind: str, root: str) -> ViewHandle | None:
        for h in self.handles:
            if h.kind == kind and h.view.root == root:
                return h
        return None

    # --- time ---------------------------------------------------------------------------
    def set_timeline(self, timeline: str | None) -> None:
        self.timeline = timeline
        for h in self.handles:
            if h.timed is not None:
                with self._guard(h):
                    h.timed.set_timeline(timeline)

    def update_time(self, timeline: str | None, t: int | None, history: int | None) -> None:
        """Draw every view at time ``t``; ``history`` (timeline units) also draws what came before."""
        if timeline != self.timeline:
            self.set_timeline(timeline)
        self.time, self.history = t, history
        for h in self.handles:
            with self._guard(h):
                if h.timed is not None:
                    h.timed.set_time(t)
                elif h.scene is not None and not h.failed:
                    h.scene.update(timeline, t, history=history)
                    for note in h.scene.notes:
                        self._report(f"{h.view.title}: {note}")
        if self.ray is not None:
            self._reproject_ray()

    @contextlib.contextmanager
    def _guard(self, h: ViewHandle) -> Iterator[None]:
        """Report a view's failure (e.g. a corrupt chunk) and carry on with the others.

        An exception escaping a Qt slot would end the whole application.
        """
        try:
            yield
        except Exception as exc:
            if os.environ.get("RRD_DEBUG"):
                raise
            log.exception("drawing the %s view of %r failed", h.kind, h.view.root)
            self._report(f"{h.view.title}: {type(exc).__name__}: {exc}", error=True)

    def _report(self, message: str, *, error: bool = False) -> None:
        """Tell the user once about something a view could not draw."""
        if message in self._reported:
            return
        self._reported.add(message)
        if error:
            self.errors.append(message)
        self.problem.emit(message)

    def refresh_visibility(self) -> None:
        """After an entity was shown or hidden: plots and logs follow; scenes are redrawn by update_time."""
        for h in self.handles:
            if h.timed is not None:
                with self._guard(h):
                    h.timed.refresh_visibility()

    # --- hovering and clicking ----------------------------------------------------------
    def hover_image(self, handle: ViewHandle, pos: Any) -> dict[str, Any] | None:
        """The mouse is at canvas position ``pos`` of a 2D view: probe the pixel, show its ray in 3D."""
        with self._guard(handle):
            return self._hover(handle, pos)
        return None

    def _hover(self, handle: ViewHandle, pos: Any) -> dict[str, Any] | None:
        scene = handle.scene
        uv = scene.pixel_at((float(pos[0]), float(pos[1])))
        if uv is None:
            self.leave_image(handle)
            return None
        u, v = float(uv[0]), float(uv[1])
        probe = dict(scene.probe(u, v) or {})
        # The topmost image names the pixel; a depth or segmentation image under it still tells
        # its depth and class (an RGB camera over its depth map is the usual stack).
        for layer in probe.get("layers", [])[1:]:
            for key in ("depth_m", "meter", "class_id", "label"):
                if layer.get(key) is not None:
                    probe.setdefault(key, layer[key])
        self._show_ray(handle.view.root, u, v)
        probe.setdefault("u", u)
        probe.setdefault("v", v)
        self.hoverChanged.emit(probe_message(u, v, probe), probe.get("entity"), probe)
        return probe

    def leave_image(self, handle: ViewHandle) -> None:
        self.clear_ray()
        self.hoverChanged.emit("", None, None)

    def _show_ray(self, camera: str, u: float, v: float) -> None:
        node = self.model.nodes.get(camera)
        if node is None or "pinhole" not in node.chunks:
            self.clear_ray()
            return
        cam = camera_at(self.model, camera, self.timeline, self.time)
        if cam is None:
            self.clear_ray()
            return
        origin, direction = cam.ray(u, v)
        self.ray = (camera, (u, v), (origin, direction))
        for h in self.views_of("3d"):
            if h.scene is not None and camera in h.view.cameras:
                h.scene.show_ray(origin, direction)

    def _reproject_ray(self) -> None:
        # The camera may move while the mouse rests on the image (playback): follow it.
        assert self.ray is not None
        camera, (u, v), _ = self.ray
        self._show_ray(camera, u, v)

    def clear_ray(self) -> None:
        if self.ray is None:
            return
        self.ray = None
        for h in self.views_of("3d"):
            if h.scene is not None:
                h.scene.clear_ray()

    def _press(self, handle: ViewHandle, pos: Any) -> None:
        handle.press = (float(pos[0]), float(pos[1]))

    def _release(self, handle: ViewHandle, pos: Any) -> None:
        start, handle.press = handle.press, None
        if start is None or abs(pos[0] - start[0]) + abs(pos[1] - start[1]) > _CLICK_SLOP:
            return  # a drag (pan, orbit), not a click
        self.click(handle, (float(pos[0]), float(pos[1])))

    def click(self, handle: ViewHandle, pos: tuple[float, float]) -> str | None:
        """A click at canvas position ``pos``: selects the entity drawn under it, else the view's space.

        The scenes pick by projecting what they draw to the screen (``scene.pick``: points and
        lines within a few pixels, then meshes, rectangles and images under the mouse).
        """
        entity: str | None = None
        with self._guard(handle):
            pick = getattr(handle.scene, "pick", None)
            hit = pick(pos) if pick is not None else None
            entity = hit.entity if hit is not None else None
        if entity is None and handle.kind == "2d":
            uv = handle.scene.pixel_at(pos)
            if uv is not None:
                entity = (handle.scene.probe(float(uv[0]), float(uv[1])) or {}).get("entity")
        if entity is None and handle.view.root:
            entity = handle.view.root
        if entity:
            self.entityClicked.emit(entity)
        return entity

    def reset_cameras(self) -> None:
        for h in self.handles:
            if h.scene is not None:
                h.scene.reset_camera()

    def set_camera_mode(self, mode: str) -> None:
        """Orbit ("turntable") or move through ("fly") the 3D views."""
        for h in self.views_of("3d"):
            if h.scene is not None:
                h.scene.set_camera_mode(mode)

    def close_scenes(self) -> None:
        """Release the scenes' canvases (the recording is being closed)."""
        for h in self.handles:
            if h.scene is not None:
                h.scene.close()
                h.scene = None
