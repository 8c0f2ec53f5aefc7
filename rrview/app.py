"""Start the viewer: the Qt application, the window, and where the time cursor starts."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from rrformat.chunk import TimelineKind

from .model import ViewerModel

__all__ = ["run", "ensure_app", "resolve_start", "display_problem", "BENCH_FIRST_FRAME_ENV"]

BENCH_FIRST_FRAME_ENV = "RRVIEW_BENCH_EXIT_AFTER_FIRST_FRAME"
"""Benchmark hook (``bench/viewer.py``): when this environment variable is ``1``, the window
prints ``rrview-bench: first-paint <epoch seconds> <view title>`` on stdout when each 3D/2D
view has painted its first frame, then quits."""


def resolve_start(model: ViewerModel, timeline: str | None, time: Any) -> tuple[str | None, int | None]:
    """The timeline and time to start on: ``timeline`` (default: the model's default) at ``time``.

    ``time`` is a frame number on a sequence timeline; on a time timeline, seconds or an
    ISO-8601 time (see :func:`rrquery._timebounds.to_timeline_value`). None: the end of
    the timeline (the time panel's default). Raises ``ValueError`` naming the problem.
    """
    if timeline is not None and timeline not in model.timelines:
        known = ", ".join(sorted(model.timelines)) or "none"
        raise ValueError(f"{model.path}: no timeline {timeline!r}; its timelines: {known}")
    tl = timeline if timeline is not None else model.default_timeline()
    if time is None:
        return tl, None
    if tl is None:
        raise ValueError(f"{model.path}: --time given but the recording has no timeline")
    # Imported only when needed: it loads the query package (~0.25 s before the window can show).
    from rrquery._timebounds import to_timeline_value

    kind = model.timelines[tl]
    t = to_timeline_value(time, TimelineKind(kind), arg="--time", timeline=tl)
    return tl, t


def display_problem() -> str | None:
    """Why no window can be shown here (no display on Linux), or None."""
    if sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM"):
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            return "no display to open a window on (DISPLAY is not set); use --screenshot OUT.png to render headless"
    return None


def ensure_app(argv: Sequence[str] | None = None) -> Any:
    """The process's QApplication, created on first use."""
    from PyQt6 import QtCore, QtWidgets

    app = QtWidgets.QApplication.instance()
    if app is None:
        # Views moved to another top-level window (floated docks) keep their GL resources.
        QtCore.QCoreApplication.setAttribute(QtCore.Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
        app = QtWidgets.QApplication(list(argv) if argv is not None else ["rrview"])
        app.setApplicationName("rrview")
        app.setOrganizationName("rrkit")
    return app


def run(
    paths: Sequence[str | os.PathLike[str]],
    *,
    memory_limit: int | None = None,
    timeline: str | None = None,
    time: Any = None,
    follow: bool = False,
    server: Any = None,
) -> int:
    """Open ``paths`` in the viewer window and run until it is closed; returns the exit code.

    With ``follow`` the files are still being written and the window keeps reading them;
    ``server`` (a :class:`rrview.live.LiveServer`) adds a tab for each live recording.

    Every file is opened (its index read) before the window shows, so a bad file or a
    bad ``timeline``/``time`` raises (``RrdError``, ``OSError``, ``ValueError``) with
    nothing on screen. ``timeline`` must exist in every file.
    """
    models: list[ViewerModel] = []
    try:
        for p in paths:
            models.append(ViewerModel(p, memory_limit=memory_limit))
        starts = [resolve_start(m, timeline, time) for m in models]
    except BaseException:
        for m in models:
            m.close()
        raise
    app = ensure_app()
    from .window import MainWindow

    window = MainWindow(memory_limit=memory_limit)
    for model, (tl, t) in zip(models, starts, strict=True):
        if follow:
            window.follow(model, timeline=tl, time=t)
        else:
            window.add_model(model, timeline=tl, time=t)
    if server is not None:
        window.listen(server)
    window.show()
    _quit_on_signals(app)
    if os.environ.get(BENCH_FIRST_FRAME_ENV) == "1":
        _quit_after_first_frames(window, app)
    return int(app.exec())


def _quit_on_signals(app: Any) -> None:
    """SIGTERM and SIGINT close the window like the Quit menu (saved live data gets its footer)."""
    import signal

    from PyQt6 import QtCore

    def quit_(_signum: int, _frame: Any) -> None:
        app.quit()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, quit_)
    # Python runs signal handlers between bytecodes; Qt's event loop runs none while idle.
    timer = QtCore.QTimer(app)
    timer.setInterval(200)
    timer.timeout.connect(lambda: None)
    timer.start()


def _quit_after_first_frames(window: Any, app: Any) -> None:
    """Print the wall-clock time of each GL view's first paint, and quit once all have painted."""
    import time

    from PyQt6 import QtCore

    handles = [h for pane in window.panes() for h in pane.views.handles if h.scene is not None]
    waiting = {id(h) for h in handles}

    def painted(handle: Any) -> None:
        if id(handle) not in waiting:
            return
        from vispy.gloo import gl

        gl.glFinish()  # the frame is rendered, not only queued
        waiting.discard(id(handle))
        print(f"rrview-bench: first-paint {time.time():.6f} {handle.view.title}", flush=True)
        if not waiting:
            QtCore.QTimer.singleShot(0, app.quit)

    for h in handles:
        # "last": after the scene has drawn and its GL commands were flushed.
        h.scene.canvas.events.draw.connect(lambda _ev, h=h: painted(h), position="last")
    if not handles:  # nothing drawn with GL: the window itself is the first frame
        print(f"rrview-bench: first-paint {time.time():.6f} (no views)", flush=True)
        QtCore.QTimer.singleShot(0, app.quit)
