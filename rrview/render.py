"""Headless rendering: the default layout of a recording drawn into one image.

This is what ``rrview FILE --screenshot OUT.png`` runs: every view of
:func:`~rrview.spaces.default_layout` (3D and 2D scenes, plus simple scalar plots and text
logs drawn with vispy) is rendered off screen at one time and the views are tiled in a
grid. Rendering uses vispy's ``egl`` backend with a surfaceless EGL platform, so no
display, X server or Qt is needed; when EGL is unavailable it falls back to vispy's
default backend (which needs a display).

The EGL backend is used through its own vispy ``Application`` rather than by selecting
vispy's global backend, so a Qt window in the same process can still use PyQt6. Inside a
running Qt application, hidden Qt canvases are used instead: EGL cannot make its context
current on a thread where Qt's OpenGL context is current.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .colormaps import entity_color
from .model import ViewerModel
from .spaces import SpaceView, default_layout

__all__ = [
    "render_layout",
    "render_view",
    "save_png",
    "read_png",
    "headless_app",
    "offscreen_canvas",
    "gl_unavailable_reason",
    "grid_shape",
]

U8 = npt.NDArray[np.uint8]

_APP: Any = None
_QT_APP: Any = None
_APP_ERROR: str | None = None
TITLE_COLOR = (0.85, 0.85, 0.85, 1.0)
SEPARATOR = np.array([60, 60, 64], np.uint8)
LEVEL_COLORS = {
    "TRACE": (0.6, 0.6, 0.6, 1.0),
    "DEBUG": (0.55, 0.7, 0.9, 1.0),
    "WARN": (1.0, 0.75, 0.2, 1.0),
    "WARNING": (1.0, 0.75, 0.2, 1.0),
    "ERROR": (1.0, 0.35, 0.3, 1.0),
    "CRITICAL": (1.0, 0.2, 0.6, 1.0),
}


def headless_app() -> Any:
    """The vispy application used for off-screen canvases: EGL (surfaceless) if it works.

    ``EGL_PLATFORM=surfaceless`` is set (unless already set) before the EGL library is
    loaded, so rendering needs no display. When EGL cannot be loaded, vispy's default
    application is used instead if there is a display (``RuntimeError`` if there is none).
    Inside a running Qt application, hidden Qt canvases are used (see below).
    """
    global _APP, _APP_ERROR, _QT_APP
    qt = sys.modules.get("PyQt6.QtWidgets")
    if qt is not None and qt.QApplication.instance() is not None:
        # Inside a Qt program (the viewer window): its GL contexts are current on this thread,
        # and EGL cannot make a context current next to them, so use hidden Qt canvases.
        if _QT_APP is None:
            from vispy import app

            _QT_APP = app.Application("pyqt6")
        return _QT_APP
    if _APP is None:
        from vispy import app

        os.environ.setdefault("EGL_PLATFORM", "surfaceless")
        try:
            _APP = app.Application("egl")
        except Exception as e:  # vispy raises RuntimeError, OSError or ImportError here
            _APP_ERROR = f"{type(e).__name__}: {e}"
            if sys.platform.startswith("linux") and not (
                os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
            ):
                # A GUI backend without a display would abort the process (Qt does): refuse instead.
                raise RuntimeError(f"no EGL for off-screen rendering ({_APP_ERROR}) and no display") from e
            _APP = app.use_app()
    return _APP


def offscreen_canvas(size: tuple[int, int], *, bgcolor: Any = None) -> Any:
    """A hidden ``SceneCanvas`` of ``size`` (width, height) on the headless application."""
    from vispy import scene

    from .scene2d import BACKGROUND

    return scene.SceneCanvas(
        size=size, show=False, bgcolor=BACKGROUND if bgcolor is None else bgcolor, app=headless_app()
    )


def gl_unavailable_reason() -> str | None:
    """None if off-screen rendering works here, else why not (for skipping GL tests)."""
    try:
        canvas = offscreen_canvas((8, 8))
        try:
            img = canvas.render()
        finally:
            canvas.close()
    except Exception as e:  # any failure to make a context means no GL here
        return f"off-screen OpenGL rendering is unavailable: {type(e).__name__}: {e}" + (
            f" (EGL: {_APP_ERROR})" if _APP_ERROR and _APP_ERROR not in str(e) else ""
        )
    if img.shape[:2] != (8, 8):
        return f"off-screen rendering returned an image of shape {img.shape}"
    return None


def grid_shape(n: int, size: tuple[int, int]) -> tuple[int, int]:
    """(columns, rows) for ``n`` views in an image of ``size``: cells as close to 4:3 as possible."""
    if n <= 0:
        return 1, 1
    w, h = size
    best: tuple[float, int, int] | None = None
    for cols in range(1, n + 1):
        rows = math.ceil(n / cols)
        aspect = (w / cols) / (h / rows)
        score = abs(math.log(aspect / (4 / 3))) + 0.2 * (cols * rows - n)
        if best is None or score < best[0]:
            best = (score, cols, rows)
    assert best is not None
    return best[1], best[2]


# --- plot and text views (the window uses Qt widgets for these) ----------------------------
class _PlotScene:
    """Scalars of a plot view as lines up to the time, with a cursor at the time."""

    def __init__(self, model: ViewerModel, view: SpaceView, canvas: Any, parent: Any) -> None:
        from vispy import scene

        self.model, self.view, self.canvas = model, view, canvas
        self.viewbox = parent.add_view()
        self.viewbox.camera = scene.PanZoomCamera()
        self.scene = scene

    def update(self, timeline: str | None, t: int | None) -> None:
        lo_hi = self.model.time_range(timeline) if timeline is not None else None
        end = t if t is not None else (lo_hi[1] if lo_hi else None)
        xs_all: list[float] = []
        ys_all: list[float] = []
        for entity in self.view.entities:
            node = self.model.nodes.get(entity)
            if node is None or not node.is_visible():
                continue
            rows = []
            if timeline is not None and lo_hi is not None and end is not None:
                rows = self.model.history(entity, "scalar", timeline, lo_hi[0], end)
            if not rows:
                latest = self.model.latest(entity, "scalar", timeline, t)
                rows = [latest] if latest is not None else []
            xs = np.array([r.time if r.time is not None else 0 for r in rows], np.float64)
            ys = np.array([r.get("scalar") for r in rows], np.float64)
            ok = np.isfinite(ys)
            xs, ys = xs[ok], ys[ok]
            if not len(xs):
                continue
            color = rows[-1].get("color") or entity_color(entity)
            rgba = tuple(c / 255.0 for c in color)
            pos = np.stack([xs, ys], 1).astype(np.float32)
            if len(pos) == 1:
                self.scene.visuals.Markers(pos=pos, face_color=rgba, size=5, parent=self.viewbox.scene)
            else:
                self.scene.visuals.Line(pos=pos, color=rgba, width=1.5, method="gl", parent=self.viewbox.scene)
            xs_all.extend(xs.tolist())
            ys_all.extend(ys.tolist())
        if not xs_all:
            return
        x0, x1 = min(xs_all), max(xs_all)
        if lo_hi is not None:
            x0, x1 = float(lo_hi[0]), float(max(lo_hi[1], x1))
        y0, y1 = min(ys_all), max(ys_all)
        x1 = x1 if x1 > x0 else x0 + 1.0
        y0, y1 = (y0 - 0.5, y1 + 0.5) if y1 <= y0 else (y0, y1)
        if end is not None:
            self.scene.visuals.Line(
                pos=np.array([[end, y0], [end, y1]], np.float32), color=(1, 1, 1, 0.5), parent=self.viewbox.scene
            )
        self.viewbox.camera.set_range(x=(x0, x1), y=(y0, y1), margin=0.08)


class _TextScene:
    """The last text log entries up to the time, newest at the bottom."""

    LINE_PX = 13
    TOP_PX = 22

    def __init__(self, model: ViewerModel, view: SpaceView, canvas: Any, parent: Any) -> None:
        self.model, self.view, self.canvas, self.parent = model, view, canvas, parent

    def update(self, timeline: str | None, t: int | None) -> None:
        from .scene2d import make_text

        entries: list[tuple[int, int, str, str, str]] = []
        lo_hi = self.model.time_range(timeline) if timeline is not None else None
        for entity in self.view.entities:
            node = self.model.nodes.get(entity)
            if node is None or not node.is_visible():
                continue
            rows = []
            if timeline is not None and lo_hi is not None:
                rows = self.model.history(entity, "text_entry", timeline, lo_hi[0], t if t is not None else lo_hi[1])
            track = self.model.track(entity, "text_entry", timeline)
            timeless = track.latest_timeless() if track is not None else None
            if timeless is not None:
                rows = [timeless, *rows]
            for r in rows:
                time = r.time if r.time is not None else -(2**63)
                entries.append((time, r.row_id, entity, r.get("level") or "", r.get("text") or ""))
        entries.sort()
        w, h = self.parent.size
        fit = max(1, int(h - self.TOP_PX) // self.LINE_PX)
        for i, (_, _, entity, level, text) in enumerate(entries[-fit:]):
            line = f"{entity} {level + ' ' if level else ''}{text}"
            make_text(
                self.canvas,
                text=line[: max(8, int(w) // 6)],
                pos=(6, self.TOP_PX + (i + 1) * self.LINE_PX),
                anchor_x="left",
                anchor_y="bottom",
                color=LEVEL_COLORS.get(level.upper(), (0.9, 0.9, 0.9, 1.0)),
                font_size=7,
                parent=self.parent,
            )


# --- rendering -----------------------------------------------------------------------------
def _title(canvas: Any, parent: Any, text: str) -> None:
    from .scene2d import make_text

    label = make_text(
        canvas, text=text, pos=(6, 16), anchor_x="left", anchor_y="bottom", color=TITLE_COLOR, font_size=8
    )
    label.set_gl_state("translucent", depth_test=False)
    label.order = 1000
    label.parent = parent


def _draw_view(
    model: ViewerModel, view: SpaceView, canvas: Any, parent: Any, timeline: str | None, time: int | None
) -> None:
    from .scene2d import Scene2D
    from .scene3d import Scene3D

    scn: Any
    if view.kind == "3d":
        scn = Scene3D(model, view, canvas=canvas, parent=parent)
    elif view.kind == "2d":
        scn = Scene2D(model, view, canvas=canvas, parent=parent)
    elif view.kind == "plot":
        scn = _PlotScene(model, view, canvas, parent)
    else:
        scn = _TextScene(model, view, canvas, parent)
    scn.update(timeline, time)
    if view.kind in ("3d", "2d"):
        scn.reset_camera()


def _cell(canvas: Any, x: int, y: int, w: int, h: int) -> Any:
    from vispy import scene

    from .scene2d import BACKGROUND

    return scene.Widget(pos=(x, y), size=(w, h), bgcolor=BACKGROUND, parent=canvas.scene)


def render_view(
    model: ViewerModel,
    view: SpaceView,
    *,
    timeline: str | None,
    time: int | None,
    size: tuple[int, int],
    title: bool = True,
) -> U8:
    """Render one view off screen; returns an (H, W, 3) uint8 image."""
    canvas = offscreen_canvas(size)
    try:
        cell = _cell(canvas, 0, 0, size[0], size[1])
        _draw_view(model, view, canvas, cell, timeline, time)
        if title:
            _title(canvas, cell, view.title)
        img = np.asarray(canvas.render(), dtype=np.uint8)
    finally:
        canvas.close()
    return np.ascontiguousarray(img[..., :3])


def render_layout(
    model: ViewerModel,
    *,
    timeline: str | None = None,
    time: int | None = None,
    size: tuple[int, int] = (1280, 720),
) -> U8:
    """Render every view of the default layout into one (H, W, 3) uint8 image, tiled in a grid.

    Parameters
    ----------
    model
        The opened recording.
    timeline
        The timeline to show; default :meth:`ViewerModel.default_timeline`.
    time
        The time on that timeline (its units: sequence numbers or nanoseconds); default the
        end of the timeline's range, i.e. the latest state.
    size
        (width, height) of the whole image in pixels.

    Notes
    -----
    All views are drawn on one off-screen canvas (one GL context, one glyph atlas for every
    title and label), each in its own cell, with a one-pixel separator between cells.
    """
    width, height = (int(size[0]), int(size[1]))
    if width <= 0 or height <= 0:
        raise ValueError(f"screenshot size {width}x{height}: both must be positive")
    if timeline is None:
        timeline = model.default_timeline()
    if time is None and timeline is not None:
        rng = model.time_range(timeline)
        time = rng[1] if rng is not None else None
    views = default_layout(model)
    canvas = offscreen_canvas((width, height), bgcolor=tuple(SEPARATOR / 255.0))
    try:
        if not views:
            _title(canvas, _cell(canvas, 0, 0, width, height), "nothing to show: the recording has no viewable data")
        cols, rows = grid_shape(len(views), (width, height))
        xs = np.linspace(0, width, cols + 1).round().astype(int)
        ys = np.linspace(0, height, rows + 1).round().astype(int)
        for i in range(cols * rows if views else 0):
            r, c = divmod(i, cols)
            x0, x1, y0, y1 = int(xs[c]), int(xs[c + 1]), int(ys[r]), int(ys[r + 1])
            # A one-pixel separator on the right and bottom edges of inner cells.
            w = x1 - x0 - (1 if c < cols - 1 else 0)
            h = y1 - y0 - (1 if r < rows - 1 else 0)
            if w <= 0 or h <= 0:
                continue
            cell = _cell(canvas, x0, y0, w, h)
            if i < len(views):
                _draw_view(model, views[i], canvas, cell, timeline, time)
                _title(canvas, cell, views[i].title)
        img = np.asarray(canvas.render(), dtype=np.uint8)
    finally:
        canvas.close()
    return np.ascontiguousarray(img[..., :3])


def save_png(array: npt.ArrayLike, path: str | os.PathLike[str]) -> None:
    """Write an (H, W, 3) or (H, W, 4) uint8 image as PNG (Pillow if installed, else vispy's writer)."""
    img = np.ascontiguousarray(np.asarray(array, dtype=np.uint8))
    if img.ndim != 3 or img.shape[2] not in (3, 4):
        raise ValueError(f"save_png: expected an (H, W, 3|4) uint8 image, got shape {img.shape}")
    target = Path(path)
    try:
        from PIL import Image as PILImage
    except ImportError:
        from vispy.io import write_png

        write_png(str(target), img)
        return
    PILImage.fromarray(img).save(target, format="PNG")


def read_png(path: str | os.PathLike[str]) -> U8:
    """Read a PNG as an (H, W, 3) uint8 array (Pillow if installed, else vispy's reader)."""
    try:
        from PIL import Image as PILImage
    except ImportError:
        from vispy.io import read_png as vispy_read_png

        img = np.asarray(vispy_read_png(str(path)), dtype=np.uint8)
    else:
        with PILImage.open(path) as im:
            img = np.asarray(im.convert("RGB"), dtype=np.uint8)
    return np.ascontiguousarray(img[..., :3])
