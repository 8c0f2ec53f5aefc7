"""A text log view: the text entries of a space, filtered by level, following the time cursor."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

import numpy as np
from PyQt6 import QtCore, QtGui, QtWidgets

from ..model import ViewerModel
from ..spaces import SpaceView
from .time_panel import format_time

__all__ = ["TextLogView", "TextLogModel", "TextEntry", "LEVELS", "text_entries"]

LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL")
"""Levels from least to most severe; entries with another (or no) level count as INFO."""

_LEVEL_COLORS = {
    "WARN": QtGui.QColor(190, 120, 0),
    "ERROR": QtGui.QColor(200, 30, 30),
    "CRITICAL": QtGui.QColor(160, 0, 0),
}
_COLUMNS = ("Time", "Entity", "Level", "Text")
_TIMELESS = np.iinfo(np.int64).min


@dataclass(frozen=True, slots=True)
class TextEntry:
    time: int | None  # None: timeless
    row_id: int
    entity: str
    level: str | None
    text: str
    color: tuple[int, ...] | None

    @property
    def severity(self) -> int:
        return LEVELS.index(self.level) if self.level in LEVELS else LEVELS.index("INFO")


def text_entries(model: ViewerModel, entities: list[str], timeline: str | None) -> list[TextEntry]:
    """Every text entry of ``entities`` on ``timeline``: timeless first, then by time and logging order."""
    out: list[TextEntry] = []
    for entity in entities:
        tr = model.track(entity, "text_entry", timeline)
        if tr is None:
            continue
        for info in tr.timeless + tr.timed:
            batch = model.store.chunk(info).batch
            names = batch.schema.names
            empty: list[Any] = [None] * batch.num_rows
            texts: list[Any] = batch.column("text").to_pylist() if "text" in names else empty
            levels: list[Any] = batch.column("level").to_pylist() if "level" in names else empty
            colors: list[Any] = batch.column("color").to_pylist() if "color" in names else empty
            rids = batch.column(0).to_pylist()
            if info.timeless:
                times: list[Any] = [None] * batch.num_rows
            elif timeline in names:
                times = batch.column(timeline).to_pylist()
            else:
                continue
            for i in range(batch.num_rows):
                if texts[i] is None or (not info.timeless and times[i] is None):
                    continue  # a row not on this timeline
                c = tuple(colors[i]) if colors[i] else None
                out.append(TextEntry(times[i], rids[i], entity, levels[i], texts[i], c))
    out.sort(key=lambda e: (_TIMELESS if e.time is None else e.time, e.row_id))
    return out


class TextLogModel(QtCore.QAbstractTableModel):
    """The entries, with the one at the time cursor highlighted."""

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.entries: list[TextEntry] = []
        self.timeline_kind: Any = None
        self.current: int = -1
        self._keys: list[int] = []

    def set_entries(self, entries: list[TextEntry], timeline_kind: Any) -> None:
        self.beginResetModel()
        self.entries = entries
        self.timeline_kind = timeline_kind
        self._keys = [_TIMELESS if e.time is None else e.time for e in entries]
        self.current = -1
        self.endResetModel()

    def row_at(self, t: int | None) -> int:
        """The last entry at or before ``t`` (-1 if none)."""
        return bisect.bisect_right(self._keys, _TIMELESS if t is None else t) - 1

    def set_current(self, row: int) -> None:
        old, self.current = self.current, row
        for r in (old, row):
            if 0 <= r < len(self.entries):
                self.dataChanged.emit(self.index(r, 0), self.index(r, len(_COLUMNS) - 1))

    def rowCount(self, parent: QtCore.QModelIndex | QtCore.QPersistentModelIndex = QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: QtCore.QModelIndex | QtCore.QPersistentModelIndex = QtCore.QModelIndex()) -> int:  # noqa: B008
        return len(_COLUMNS)

    def headerData(self, section: int, orientation: QtCore.Qt.Orientation, role: int = 0) -> Any:
        if orientation == QtCore.Qt.Orientation.Horizontal and role == QtCore.Qt.ItemDataRole.DisplayRole:
            return _COLUMNS[section]
        return None

    def data(self, index: QtCore.QModelIndex | QtCore.QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid():
            return None
        e = self.entries[index.row()]
        R = QtCore.Qt.ItemDataRole
        if role in (R.DisplayRole, R.ToolTipRole):
            col = index.column()
            if col == 0:
                return format_time(self.timeline_kind, e.time)
            if col == 1:
                return e.entity
            if col == 2:
                return e.level or ""
            return e.text
        if role == R.BackgroundRole and index.row() == self.current:
            return QtGui.QColor(255, 236, 160)
        if role == R.ForegroundRole:
            if e.color is not None and index.column() == 3:
                return QtGui.QColor(*e.color[:3])
            return _LEVEL_COLORS.get(e.level or "")
        return None


class _LevelFilter(QtCore.QSortFilterProxyModel):
    """Keeps entries at or above a level, of visible entities."""

    def __init__(self, model: ViewerModel, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.viewer_model = model
        self.min_severity = 0

    def filterAcceptsRow(
        self, source_row: int, source_parent: QtCore.QModelIndex | QtCore.QPersistentModelIndex
    ) -> bool:
        src = self.sourceModel()
        assert isinstance(src, TextLogModel)
        e = src.entries[source_row]
        node = self.viewer_model.nodes.get(e.entity)
        return e.severity >= self.min_severity and (node is None or node.is_visible())

    def refilter(self) -> None:
        self.invalidateFilter()


class TextLogView(QtWidgets.QWidget):
    """The table of entries with a level filter; clicking an entry moves the time cursor to it."""

    timeRequested = QtCore.pyqtSignal(object)
    entityClicked = QtCore.pyqtSignal(str)

    def __init__(self, model: ViewerModel, view: SpaceView, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.view = view
        self.timeline: str | None = None
        self.time: int | None = None
        self.table_model = TextLogModel(self)
        self.proxy = _LevelFilter(model, self)
        self.proxy.setSourceModel(self.table_model)
        self.level_combo = QtWidgets.QComboBox(self)
        for i, level in enumerate(LEVELS):
            self.level_combo.addItem("all levels" if i == 0 else f"{level} and above", i)
        self.level_combo.currentIndexChanged.connect(self._on_level)
        self.table = QtWidgets.QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        vh = self.table.verticalHeader()
        assert vh is not None
        vh.hide()
        vh.setDefaultSectionSize(20)
        hh = self.table.horizontalHeader()
        assert hh is not None
        hh.setStretchLastSection(True)
        for col in range(3):
            hh.setSectionResizeMode(col, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.table.clicked.connect(self._on_click)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("show", self))
        top.addWidget(self.level_combo)
        top.addStretch(1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.table)

    def set_timeline(self, timeline: str | None) -> None:
        self.timeline = timeline
        kind = self.model.timelines.get(timeline) if timeline is not None else None
        self.table_model.set_entries(text_entries(self.model, self.view.entities, timeline), kind)
        self.set_time(self.time)

    def set_level(self, level: str) -> None:
        """Show entries at or above ``level`` only."""
        self.level_combo.setCurrentIndex(LEVELS.index(level))

    def _on_level(self, index: int) -> None:
        self.proxy.min_severity = index
        self.proxy.refilter()
        self.set_time(self.time)

    def refresh_visibility(self) -> None:
        self.proxy.refilter()
        self.set_time(self.time)

    def set_time(self, t: int | None) -> None:
        """Highlight the last shown entry at or before ``t`` and scroll to it."""
        self.time = t
        row = self.table_model.row_at(t)
        # The entry itself may be filtered out: take the last shown one at or before it. The
        # proxy keeps the source order, so a binary search over its rows finds it.
        lo, hi = 0, self.proxy.rowCount()
        while lo < hi:
            mid = (lo + hi) // 2
            if self.proxy.mapToSource(self.proxy.index(mid, 0)).row() <= row:
                lo = mid + 1
            else:
                hi = mid
        shown = self.proxy.index(lo - 1, 0) if lo > 0 else QtCore.QModelIndex()
        self.table_model.set_current(self.proxy.mapToSource(shown).row() if shown.isValid() else -1)
        self._scroll_to_current()

    def _scroll_to_current(self) -> None:
        r = self.table_model.current
        shown = self.proxy.mapFromSource(self.table_model.index(r, 0)) if r >= 0 else QtCore.QModelIndex()
        if shown.isValid():
            self.table.scrollTo(shown, QtWidgets.QAbstractItemView.ScrollHint.PositionAtCenter)

    def resizeEvent(self, event: QtGui.QResizeEvent | None) -> None:
        super().resizeEvent(event)
        # A table scrolled before it had a size keeps its old position: scroll again once laid out.
        QtCore.QTimer.singleShot(0, self._scroll_to_current)

    def current_entry(self) -> TextEntry | None:
        r = self.table_model.current
        return self.table_model.entries[r] if r >= 0 else None

    def visible_entries(self) -> list[TextEntry]:
        """The entries the table shows, in order."""
        return [
            self.table_model.entries[self.proxy.mapToSource(self.proxy.index(r, 0)).row()]
            for r in range(self.proxy.rowCount())
        ]

    def _on_click(self, index: QtCore.QModelIndex) -> None:
        e = self.table_model.entries[self.proxy.mapToSource(index).row()]
        self.entityClicked.emit(e.entity)
        if e.time is not None:
            self.timeRequested.emit(e.time)
