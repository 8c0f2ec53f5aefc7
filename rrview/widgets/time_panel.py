"""The time panel: timeline choice, a scrub bar showing where data is, and playback.

The panel owns the time cursor of one recording: ``timeline`` and ``time`` (the int64
value stored on that timeline: a frame number, or nanoseconds). Views follow it through
the ``timeChanged`` and ``timelineChanged`` signals.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
from PyQt6 import QtCore, QtGui, QtWidgets

from rrformat.chunk import TimelineKind

from ..model import ViewerModel

__all__ = ["TimePanel", "ScrubBar", "format_time", "SPEEDS", "SEQUENCE_FPS"]

SPEEDS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0)
"""Playback speeds offered: a multiple of real time (time timelines) or of SEQUENCE_FPS."""

SEQUENCE_FPS = 30.0
"""Frames per second of a sequence timeline played at 1x."""

_EPOCH_NS = 10**17
"""Times above this (1973 onwards) are taken as wall-clock times and shown as dates."""

_TICK_MS = 15


def format_time(kind: TimelineKind | None, t: int | None) -> str:
    """A timeline value for people: ``#12``, ``3.250 s`` or ``2026-01-01 12:00:00.123456``."""
    if t is None:
        return "timeless"
    if kind is not TimelineKind.TIME:
        return f"#{t}"
    if abs(t) >= _EPOCH_NS:
        when = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=t // 1000)
        return when.strftime("%Y-%m-%d %H:%M:%S.%f")
    return f"{t / 1e9:.3f} s"


class ScrubBar(QtWidgets.QWidget):
    """Where each visible entity has data on the timeline, and the time cursor to drag.

    Each entity with data gets a lane of marks (darker where more rows were logged),
    computed from the file index alone. With many entities the lanes fold into one.
    Timeless data is marked in a separate box at the far left.
    """

    scrubbed = QtCore.pyqtSignal(object)
    """The user moved the cursor to this time (int)."""

    TIMELESS_W = 16
    MAX_LANES = 16

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(34)
        self.setMouseTracking(True)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)
        self._model: ViewerModel | None = None
        self._timeline: str | None = None
        self._range: tuple[int, int] | None = None
        self._time: int | None = None
        self._entities: list[str] = []
        self._lanes: list[tuple[str, npt.NDArray[np.int64]]] | None = None
        self._lane_images: list[QtGui.QImage] | None = None
        self._timeless: list[str] = []
        self._dragging = False

    # --- state ----------------------------------------------------------------------
    def set_source(self, model: ViewerModel, timeline: str | None, entities: Sequence[str]) -> None:
        """Show the data of ``entities`` (those with data, visible) on ``timeline``."""
        self._model = model
        self._timeline = timeline
        self._range = model.time_range(timeline) if timeline is not None else None
        self._entities = list(entities)
        self._timeless = [
            e for e in self._entities if any(c.timeless for cs in model.nodes[e].chunks.values() for c in cs)
        ]
        self._lanes = self._lane_images = None
        self.setMinimumHeight(max(30, 12 + 4 * min(len(self._entities), self.MAX_LANES)))
        self.update()

    def set_time(self, t: int | None) -> None:
        self._time = t
        self.update()

    @property
    def lanes(self) -> list[tuple[str, npt.NDArray[np.int64]]]:
        """(label, rows per pixel column) of each lane drawn; computed on first use."""
        if self._lanes is None:
            self._lanes = self._compute_lanes(max(1, self._track_rect().width()))
        return self._lanes

    def _compute_lanes(self, bins: int) -> list[tuple[str, npt.NDArray[np.int64]]]:
        if self._model is None or self._timeline is None or self._range is None:
            return []
        lo, hi = self._range
        lanes = [(e, self._model.density(e, self._timeline, lo, hi, bins)) for e in self._entities]
        lanes = [(e, d) for e, d in lanes if d.any()]
        if len(lanes) <= self.MAX_LANES:
            return lanes
        # Too many for a lane each: one lane per top-level entity, else one for all.
        groups: dict[str, list[npt.NDArray[np.int64]]] = {}
        for e, d in lanes:
            groups.setdefault(e.split("/", 1)[0], []).append(d)
        if len(groups) > self.MAX_LANES:
            groups = {"all": [d for _, d in lanes]}
        return [(f"{name}/** ({len(ds)})", np.sum(ds, axis=0).astype(np.int64)) for name, ds in groups.items()]

    # --- geometry -------------------------------------------------------------------
    def _track_rect(self) -> QtCore.QRect:
        r = self.rect().adjusted(self.TIMELESS_W + 6, 2, -6, -2)
        return r

    def x_of(self, t: int) -> float:
        """The x pixel of time ``t``."""
        r = self._track_rect()
        if self._range is None:
            return float(r.left())
        lo, hi = self._range
        frac = 0.0 if hi == lo else (t - lo) / (hi - lo)
        return r.left() + frac * max(1, r.width() - 1)

    def time_at(self, x: float) -> int | None:
        """The time under x pixel ``x`` (clamped to the range)."""
        if self._range is None:
            return None
        lo, hi = self._range
        r = self._track_rect()
        frac = min(1.0, max(0.0, (x - r.left()) / max(1, r.width() - 1)))
        return round(lo + frac * (hi - lo))

    # --- painting -------------------------------------------------------------------
    def resizeEvent(self, event: QtGui.QResizeEvent | None) -> None:
        self._lanes = self._lane_images = None
        super().resizeEvent(event)

    def _images(self) -> list[QtGui.QImage]:
        """One image row per lane: the marks, darker where more rows were logged (log scale).

        Made once per data and size, so moving the cursor (every frame of playback) only
        blits them instead of filling a rectangle per pixel column.
        """
        if self._lane_images is None:
            mark = QtGui.QColor(70, 130, 220)
            images = []
            for _, counts in self.lanes:
                peak = math.log1p(float(counts.max())) or 1.0
                alpha = np.where(counts > 0, 0.35 + 0.65 * np.log1p(counts.astype(np.float64)) / peak, 0.0)
                bgra = np.empty((1, len(counts), 4), np.uint8)
                bgra[..., 0], bgra[..., 1], bgra[..., 2] = mark.blue(), mark.green(), mark.red()
                bgra[..., 3] = np.round(np.clip(alpha, 0.0, 1.0) * 255).astype(np.uint8)
                img = QtGui.QImage(bgra.tobytes(), len(counts), 1, 4 * len(counts), QtGui.QImage.Format.Format_ARGB32)
                images.append(img.copy())  # own the pixels: the bytes object is temporary
            self._lane_images = images
        return self._lane_images

    def paintEvent(self, event: QtGui.QPaintEvent | None) -> None:
        p = QtGui.QPainter(self)
        pal = self.palette()
        p.fillRect(self.rect(), pal.color(QtGui.QPalette.ColorRole.Base))
        track = self._track_rect()
        mark = QtGui.QColor(70, 130, 220)
        # The timeless box at the far left.
        tl_box = QtCore.QRect(2, track.top(), self.TIMELESS_W, track.height())
        p.fillRect(tl_box, pal.color(QtGui.QPalette.ColorRole.AlternateBase))
        if self._timeless:
            p.fillRect(tl_box.adjusted(4, 4, -4, -4), mark)
        images = self._images()
        if images:
            lane_h = track.height() / len(images)
            for i, img in enumerate(images):
                # Darker where more rows: the eye finds bursts and gaps at once.
                top = track.top() + i * lane_h
                p.drawImage(QtCore.QRectF(track.left(), top + 1, img.width(), max(1.0, lane_h - 2)), img)
        if self._time is not None and self._range is not None:
            x = self.x_of(self._time)
            p.setPen(QtGui.QPen(QtGui.QColor(230, 60, 40), 2))
            p.drawLine(QtCore.QPointF(x, 0), QtCore.QPointF(x, self.height()))
            tri = QtGui.QPolygonF([QtCore.QPointF(x - 5, 0), QtCore.QPointF(x + 5, 0), QtCore.QPointF(x, 6)])
            p.setBrush(QtGui.QColor(230, 60, 40))
            p.drawPolygon(tri)
        p.end()

    # --- mouse ----------------------------------------------------------------------
    def mousePressEvent(self, event: QtGui.QMouseEvent | None) -> None:
        if event is not None and event.button() == QtCore.Qt.MouseButton.LeftButton:
            self._dragging = True
            self._scrub(event.position().x())

    def mouseMoveEvent(self, event: QtGui.QMouseEvent | None) -> None:
        if event is None:
            return
        x = event.position().x()
        if self._dragging:
            self._scrub(x)
        t = self.time_at(x)
        kind = self._model.timelines.get(self._timeline) if self._model and self._timeline else None
        tip = "timeless data" if x < self.TIMELESS_W + 2 else (format_time(kind, t) if t is not None else "")
        if x >= self.TIMELESS_W + 2 and self.lanes:
            lane_h = self._track_rect().height() / len(self.lanes)
            i = int((event.position().y() - self._track_rect().top()) // max(1.0, lane_h))
            if 0 <= i < len(self.lanes):
                tip = f"{self.lanes[i][0]}  {tip}"
        self.setToolTip(tip)

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent | None) -> None:
        self._dragging = False

    def _scrub(self, x: float) -> None:
        t = self.time_at(x)
        if t is not None:
            self.scrubbed.emit(t)


class TimePanel(QtWidgets.QWidget):
    """Timeline selector, scrub bar, playback controls and the visible-history setting.

    Parameters
    ----------
    model
        The recording.
    entities
        A callable giving the entities to draw on the scrub bar (the visible ones with data).
    """

    timeChanged = QtCore.pyqtSignal(object)
    timelineChanged = QtCore.pyqtSignal(str)
    historyChanged = QtCore.pyqtSignal()

    def __init__(
        self,
        model: ViewerModel,
        entities: Callable[[], Sequence[str]],
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self._entities = entities
        self.timeline: str | None = None
        self.time: int | None = None
        self._range: tuple[int, int] | None = None
        self._frac = 0.0  # frames of a sequence timeline owed to playback, below one
        self._clock = QtCore.QElapsedTimer()
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(_TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._build()
        self.set_timeline(model.default_timeline())

    # --- construction ---------------------------------------------------------------
    def _button(
        self, icon: QtWidgets.QStyle.StandardPixmap, tip: str, slot: Callable[[], None]
    ) -> QtWidgets.QToolButton:
        b = QtWidgets.QToolButton(self)
        style = self.style()
        assert style is not None
        b.setIcon(style.standardIcon(icon))
        b.setToolTip(tip)
        b.setAutoRaise(True)
        b.clicked.connect(slot)
        return b

    def _build(self) -> None:
        sp = QtWidgets.QStyle.StandardPixmap
        self.timeline_combo = QtWidgets.QComboBox(self)
        self.timeline_combo.setToolTip("Timeline")
        self.timeline_combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        for name in sorted(self.model.timelines):
            self.timeline_combo.addItem(f"{name} ({self.model.timelines[name].value})", name)
        self.timeline_combo.currentIndexChanged.connect(self._on_combo)
        self.start_button = self._button(sp.SP_MediaSkipBackward, "Go to start (Home)", self.go_start)
        self.back_button = self._button(sp.SP_MediaSeekBackward, "Step back (Left)", self.step_back)
        self.play_button = self._button(sp.SP_MediaPlay, "Play (Space)", self.toggle_play)
        self.forward_button = self._button(sp.SP_MediaSeekForward, "Step forward (Right)", self.step_forward)
        self.end_button = self._button(sp.SP_MediaSkipForward, "Go to end (End)", self.go_end)
        self.loop_button = QtWidgets.QToolButton(self)
        self.loop_button.setText("Loop")
        self.loop_button.setCheckable(True)
        self.loop_button.setToolTip("Loop playback (L)")
        self.speed_combo = QtWidgets.QComboBox(self)
        for s in SPEEDS:
            self.speed_combo.addItem(f"{s:g}x", s)
        self.speed_combo.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_combo.setToolTip(f"Playback speed: real time for time timelines, {SEQUENCE_FPS:g} frames/s at 1x")
        self.history_spin = QtWidgets.QDoubleSpinBox(self)
        self.history_spin.setRange(0, 1e6)
        self.history_spin.setMaximumWidth(120)
        self.history_spin.setToolTip("Visible history: also draw the data of this many frames or seconds before now")
        self.history_spin.setSpecialValueText("off")
        self.history_spin.valueChanged.connect(lambda _v: self.historyChanged.emit())
        self.time_label = QtWidgets.QLabel(self)
        self.time_label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.time_label.setMinimumWidth(190)
        self.scrub_bar = ScrubBar(self)
        self.scrub_bar.scrubbed.connect(self.set_time)

        row = QtWidgets.QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.timeline_combo)
        for b in (self.start_button, self.back_button, self.play_button, self.forward_button, self.end_button):
            row.addWidget(b)
        row.addWidget(self.loop_button)
        row.addWidget(QtWidgets.QLabel("speed", self))
        row.addWidget(self.speed_combo)
        row.addWidget(QtWidgets.QLabel("history", self))
        row.addWidget(self.history_spin)
        row.addWidget(self.time_label, 1)
        col = QtWidgets.QVBoxLayout(self)
        col.setContentsMargins(4, 2, 4, 2)
        col.setSpacing(2)
        col.addLayout(row)
        col.addWidget(self.scrub_bar)

    # --- timeline and time ----------------------------------------------------------
    @property
    def kind(self) -> TimelineKind | None:
        return self.model.timelines.get(self.timeline) if self.timeline is not None else None

    @property
    def time_range(self) -> tuple[int, int] | None:
        """The current timeline's (first, last) time; read from the index when the timeline is chosen."""
        return self._range

    def set_timeline(self, name: str | None) -> None:
        """Switch to timeline ``name`` (None: only timeless data); the cursor goes to its end."""
        if name is not None and name not in self.model.timelines:
            raise ValueError(f"unknown timeline {name!r}; known: {', '.join(sorted(self.model.timelines))}")
        changed = name != self.timeline
        self.timeline = name
        self._range = self.model.time_range(name) if name is not None else None
        idx = self.timeline_combo.findData(name)
        if idx >= 0 and idx != self.timeline_combo.currentIndex():
            self.timeline_combo.blockSignals(True)
            self.timeline_combo.setCurrentIndex(idx)
            self.timeline_combo.blockSignals(False)
        seconds = self.kind is TimelineKind.TIME
        self.history_spin.setDecimals(2 if seconds else 0)
        self.history_spin.setSuffix(" s" if seconds else " frames")
        self.refresh_marks()
        rng = self.time_range
        if changed and name is not None:
            self.timelineChanged.emit(name)
        self.set_time(rng[1] if rng is not None else None, force=True)

    def _on_combo(self, index: int) -> None:
        name = self.timeline_combo.itemData(index)
        if isinstance(name, str) and name != self.timeline:
            self.set_timeline(name)

    def set_time(self, t: int | None, *, force: bool = False) -> None:
        """Move the cursor to ``t`` (clamped to the timeline's range); ``force`` re-announces an unchanged time."""
        rng = self.time_range
        if t is not None and rng is not None:
            t = max(rng[0], min(rng[1], int(t)))
        if t == self.time and not force:
            return
        self.time = t
        self.time_label.setText(self._time_text(t))
        self.scrub_bar.set_time(t)
        self.timeChanged.emit(t)

    def _time_text(self, t: int | None) -> str:
        if self.timeline is None:
            return "no timeline: timeless data only"
        rng = self.time_range
        span = f"   ({format_time(self.kind, rng[0])} .. {format_time(self.kind, rng[1])})" if rng else ""
        return f"<b>{format_time(self.kind, t)}</b>{span}"

    @property
    def following(self) -> bool:
        """Whether the cursor is at the end of the timeline (it then follows new data)."""
        rng = self._range
        return self.time is None or rng is None or self.time >= rng[1]

    def refresh_range(self, *, follow: bool, marks: bool = True) -> None:
        """Re-read timelines and the time range after new data arrived.

        With ``follow`` the cursor moves to the new end; otherwise it stays put.
        """
        for name in sorted(self.model.timelines):
            if self.timeline_combo.findData(name) < 0:
                self.timeline_combo.addItem(f"{name} ({self.model.timelines[name].value})", name)
        if self.timeline is None or self.timeline not in self.model.timelines:
            default = self.model.default_timeline()
            if default is not None:
                self.set_timeline(default)
            return
        if self.timeline == "log_time" and self.model.default_timeline() != "log_time":
            self.set_timeline(self.model.default_timeline())  # a user timeline appeared
            return
        self._range = self.model.time_range(self.timeline)
        if marks:
            self.refresh_marks()
        rng = self._range
        if follow and rng is not None:
            self.set_time(rng[1], force=True)
        else:
            self.time_label.setText(self._time_text(self.time))

    def refresh_marks(self) -> None:
        """Redraw the scrub bar's data marks (after a visibility change)."""
        self.scrub_bar.set_source(self.model, self.timeline, self._entities())

    @property
    def history(self) -> int | None:
        """The visible history in timeline units (frames or nanoseconds), or None when off."""
        v = self.history_spin.value()
        if v <= 0:
            return None
        return round(v * 1e9) if self.kind is TimelineKind.TIME else round(v)

    @property
    def speed(self) -> float:
        return float(self.speed_combo.currentData())

    @property
    def step_size(self) -> int:
        """One step: a frame, or one frame at SEQUENCE_FPS of a time timeline."""
        return round(1e9 / SEQUENCE_FPS) if self.kind is TimelineKind.TIME else 1

    def step_forward(self) -> None:
        if self.time is not None:
            self.set_time(self.time + self.step_size)

    def step_back(self) -> None:
        if self.time is not None:
            self.set_time(self.time - self.step_size)

    def go_start(self) -> None:
        rng = self.time_range
        if rng is not None:
            self.set_time(rng[0])

    def go_end(self) -> None:
        rng = self.time_range
        if rng is not None:
            self.set_time(rng[1])

    # --- playback -------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def toggle_play(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        rng = self.time_range
        if rng is None:
            return
        if self.time is None or self.time >= rng[1]:
            self.set_time(rng[0])  # play from the start when at the end, like a video player
        self._frac = 0.0
        self._clock.start()
        self._timer.start()
        self._set_play_icon(True)

    def pause(self) -> None:
        self._timer.stop()
        self._set_play_icon(False)

    def _set_play_icon(self, playing: bool) -> None:
        sp = QtWidgets.QStyle.StandardPixmap
        style = self.style()
        assert style is not None
        self.play_button.setIcon(style.standardIcon(sp.SP_MediaPause if playing else sp.SP_MediaPlay))
        self.play_button.setToolTip("Pause (Space)" if playing else "Play (Space)")

    def _tick(self) -> None:
        self.advance(self._clock.restart() / 1000.0)

    def advance(self, seconds: float) -> None:
        """Move the cursor by ``seconds`` of playback at the current speed (loops or stops at the end)."""
        rng = self.time_range
        if rng is None or self.time is None:
            self.pause()
            return
        if self.kind is TimelineKind.TIME:
            delta = int(seconds * self.speed * 1e9)
        else:
            self._frac += seconds * self.speed * SEQUENCE_FPS
            delta = int(self._frac)
            self._frac -= delta
        t = self.time + delta
        if t > rng[1]:
            if self.loop_button.isChecked():
                t = rng[0]
            else:
                t = rng[1]
                self.pause()
        self.set_time(t)
