"""A time-series plot view (pyqtgraph): one curve per scalar entity and a cursor at the current time."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

from rrformat.chunk import TimelineKind

from ..model import ViewerModel
from ..spaces import SpaceView

__all__ = ["PlotView", "scalar_series"]

_EPOCH_S = 1e8
"""x values above this many seconds are wall-clock times: the axis shows dates."""

MAX_CURVES = 40
"""Series drawn in one plot; more would be unreadable (and slow to build): the rest are listed as left out."""

_LEGEND_MAX = 12

_PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75)]

Series = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]


def _primitive(arr: pa.Array, dtype: type[np.generic]) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
    """The values and validity of a primitive Arrow array, read from its buffers without copying."""
    n, off = len(arr), arr.offset
    values = np.frombuffer(arr.buffers()[1], dtype=dtype)[off : off + n]
    if arr.null_count == 0:
        return values, np.ones(n, dtype=bool)
    bits = np.unpackbits(np.frombuffer(arr.buffers()[0], dtype=np.uint8), bitorder="little")
    return values, bits[off : off + n].astype(bool)


def scalar_series(model: ViewerModel, entity: str, timeline: str) -> Series:
    """Every (time, value) of a scalar entity on a timeline, in time then logging order.

    Rows not on the timeline and null values are left out; timeless rows have no place
    on a time axis and are left out too.
    """
    tr = model.track(entity, "scalar", timeline)
    times: list[npt.NDArray[np.int64]] = []
    values: list[npt.NDArray[np.float64]] = []
    rids: list[npt.NDArray[np.uint64]] = []
    for info in tr.timed if tr is not None else []:
        batch = model.store.chunk(info).batch
        if timeline not in batch.schema.names or "scalar" not in batch.schema.names:
            continue
        tcol, vcol = batch.column(timeline), batch.column("scalar")
        tv, tok = _primitive(tcol, np.int64)
        vv, vok = _primitive(vcol, np.float64)
        ok = tok & vok
        times.append(tv[ok])
        values.append(vv[ok])
        rids.append(_primitive(batch.column(0), np.uint64)[0][ok])
    if not times:
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    t, v, r = np.concatenate(times), np.concatenate(values), np.concatenate(rids)
    order = np.lexsort((r, t))
    return t[order], v[order]


class PlotView(QtWidgets.QWidget):
    """Curves of the scalar entities of one plot space view.

    Values are decoded once per (entity, timeline) and cached; moving the time cursor
    only moves the vertical line.
    """

    timeRequested = QtCore.pyqtSignal(object)
    """The user dragged the cursor line to this time."""
    entityClicked = QtCore.pyqtSignal(str)

    def __init__(self, model: ViewerModel, view: SpaceView, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.view = view
        self.timeline: str | None = None
        self._cache: dict[tuple[str, str], Series] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.plot = pg.PlotWidget(self, background="w")
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.legend = self.plot.addLegend(offset=(-10, 10))
        self.note = pg.TextItem(color=(120, 120, 120), anchor=(0, 0))
        self.note.setParentItem(self.plot.getPlotItem().vb)
        self.cursor_line = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen((230, 60, 40), width=2))
        self.cursor_line.setZValue(10)
        self.cursor_line.sigDragged.connect(self._on_drag)
        self.plot.addItem(self.cursor_line)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot)

    # --- data -------------------------------------------------------------------------
    def series(self, entity: str, timeline: str) -> Series:
        key = (entity, timeline)
        if key not in self._cache:
            self._cache[key] = scalar_series(self.model, entity, timeline)
        return self._cache[key]

    @property
    def _seconds(self) -> bool:
        return self.timeline is not None and self.model.timelines.get(self.timeline) is TimelineKind.TIME

    def to_x(self, t: int) -> float:
        """The plot x of a timeline value: seconds on time timelines, the value itself on sequences."""
        return t / 1e9 if self._seconds else float(t)

    def from_x(self, x: float) -> int:
        return round(x * 1e9) if self._seconds else round(x)

    def set_timeline(self, timeline: str | None) -> None:
        """Redraw every curve on ``timeline``."""
        self.timeline = timeline
        for curve in self.curves.values():
            self.plot.removeItem(curve)
        self.curves.clear()
        self.legend.clear()
        if timeline is None:
            return
        rng = self.model.time_range(timeline)
        dates = self._seconds and rng is not None and rng[0] / 1e9 > _EPOCH_S
        axis = pg.DateAxisItem(orientation="bottom", utcOffset=0) if dates else pg.AxisItem(orientation="bottom")
        self.plot.setAxisItems({"bottom": axis})
        self.plot.setLabel("bottom", timeline + (" (s)" if self._seconds and not dates else ""))
        shown = self._drawn()
        left_out = len(self.view.entities) - len(shown)
        self.note.setText(f"showing {len(shown)} of {len(self.view.entities)} series" if left_out else "")
        self.legend.setVisible(len(shown) <= _LEGEND_MAX)
        for i, entity in enumerate(shown):
            t, v = self.series(entity, timeline)
            name, color, scattered = self._style(entity, i)
            x = t / 1e9 if self._seconds else t.astype(np.float64)
            if scattered:
                curve = pg.PlotDataItem(x, v, pen=None, symbol="o", symbolSize=5, symbolBrush=color, name=name)
            else:
                curve = pg.PlotDataItem(x, v, pen=pg.mkPen(color, width=1.5), name=name)
            curve.setCurveClickable(True)
            curve.sigClicked.connect(lambda _item, *_a, e=entity: self.entityClicked.emit(e))
            self.plot.addItem(curve)
            self.curves[entity] = curve
        self.refresh_visibility()
        self.plot.enableAutoRange()

    def _style(self, entity: str, i: int) -> tuple[str, tuple[int, ...], bool]:
        """Legend name, colour and scatter flag, from the series' latest logged row if it sets them."""
        row = self.model.latest(entity, "scalar", self.timeline, None) or self.model.latest(
            entity, "scalar", self.timeline, np.iinfo(np.int64).max
        )
        name, color, scattered = entity, _PALETTE[i % len(_PALETTE)], False
        if row is not None:
            name = row.get("label") or entity
            c = row.get("color")
            if c:
                color = tuple(c)
            scattered = bool(row.get("scattered"))
        return name, color, scattered

    def set_time(self, t: int | None) -> None:
        if t is None:
            self.cursor_line.hide()
            return
        self.cursor_line.show()
        self.cursor_line.blockSignals(True)
        self.cursor_line.setValue(self.to_x(t))
        self.cursor_line.blockSignals(False)

    def _drawn(self) -> list[str]:
        """The series to draw: all, or the first MAX_CURVES visible ones."""
        entities = self.view.entities
        if len(entities) <= MAX_CURVES:
            return list(entities)
        return [e for e in entities if self.model.nodes[e].is_visible()][:MAX_CURVES]

    def refresh_visibility(self) -> None:
        if len(self.view.entities) > MAX_CURVES and list(self.curves) != self._drawn():
            self.set_timeline(self.timeline)  # hidden series make room for others
            return
        for entity, curve in self.curves.items():
            curve.setVisible(self.model.nodes[entity].is_visible())

    def _on_drag(self, line: pg.InfiniteLine) -> None:
        self.timeRequested.emit(self.from_x(float(line.value())))
