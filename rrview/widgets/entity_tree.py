"""The entity tree: the path hierarchy with data kinds, row counts and visibility boxes.

The Qt model is lazy: a node's children become rows only when the node is expanded
(``canFetchMore``/``fetchMore``), so a recording with ten thousand entities opens at once.
"""

from __future__ import annotations

import re
from typing import Any

from PyQt6 import QtCore, QtGui, QtWidgets

from rrformat.components import DATA_KINDS, SIDE_KINDS

from ..model import KINDS_2D, KINDS_3D, EntityNode, ViewerModel

__all__ = ["EntityTreeModel", "EntityTreeView", "SHOWN_KINDS"]

SHOWN_KINDS = KINDS_3D | KINDS_2D | {"scalar", "text_entry", "tensor"}
"""Data kinds some view draws; others are listed in the tree only."""

_Index = QtCore.QModelIndex | QtCore.QPersistentModelIndex
_COLUMNS = ("Entity", "Kind", "Rows")

# Asked for every row Qt lays out (10,000 children of one node): computed once, not per call.
_FLAGS = QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsSelectable
_FLAGS_CHECKABLE = _FLAGS | QtCore.Qt.ItemFlag.ItemIsUserCheckable
_DISPLAY = QtCore.Qt.ItemDataRole.DisplayRole
_CHECK_STATE = QtCore.Qt.ItemDataRole.CheckStateRole
_TOOLTIP = QtCore.Qt.ItemDataRole.ToolTipRole
_FOREGROUND = QtCore.Qt.ItemDataRole.ForegroundRole
_FONT = QtCore.Qt.ItemDataRole.FontRole
_ALIGNMENT = QtCore.Qt.ItemDataRole.TextAlignmentRole
_RIGHT = QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter
_SIZE_PRECISION = 100
"""Rows the header samples to fit a column to its contents (Qt's default, 1000, costs ~0.3 s in Python calls)."""


def _natural_key(name: str) -> list[Any]:
    """Sort ``#2`` before ``#10``."""
    return [int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", name)]


def describe_kinds(node: EntityNode) -> str:
    """The node's data kind, then the side kinds beside it (``image + pinhole``)."""
    data = node.data_kind
    side = [k for k in node.kinds if k in SIDE_KINDS]
    return " + ".join(([data] if data else []) + side)


class EntityTreeModel(QtCore.QAbstractItemModel):
    """Rows of :class:`EntityNode`; the first column carries the visibility check box."""

    visibilityChanged = QtCore.pyqtSignal(str)

    def __init__(self, model: ViewerModel, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.viewer_model = model
        self._kids: dict[EntityNode, list[EntityNode]] = {}
        self._row: dict[EntityNode, int] = {}
        self._fetch(model.root)

    def fetch_all(self) -> None:
        """Make every node a row (for small trees, shown fully expanded)."""
        self.beginResetModel()
        for node in self.viewer_model.root.walk():
            self._fetch(node)
        self.endResetModel()

    # --- lazy children --------------------------------------------------------------
    def _fetch(self, node: EntityNode) -> list[EntityNode]:
        kids = self._kids.get(node)
        if kids is None:
            kids = sorted(node.children.values(), key=lambda n: _natural_key(n.name))
            self._kids[node] = kids
            for i, k in enumerate(kids):
                self._row[k] = i
        return kids

    def fetched(self, node: EntityNode) -> bool:
        """Whether the node's children are rows yet."""
        return node in self._kids

    def node(self, index: _Index) -> EntityNode:
        if not index.isValid():
            return self.viewer_model.root
        node = (index if isinstance(index, QtCore.QModelIndex) else QtCore.QModelIndex(index)).internalPointer()
        assert isinstance(node, EntityNode)
        return node

    def index_of(self, path: str, column: int = 0) -> QtCore.QModelIndex:
        """The index of an entity, fetching its ancestors' children as needed."""
        node = self.viewer_model.nodes.get(path)
        if node is None or node.parent is None:
            return QtCore.QModelIndex()
        chain: list[EntityNode] = []
        cur: EntityNode | None = node
        while cur is not None and cur.parent is not None:
            chain.append(cur)
            cur = cur.parent
        for anc in reversed(chain):
            assert anc.parent is not None
            if not self.fetched(anc.parent):
                self.fetchMore(self._index_of_node(anc.parent))
        return self.createIndex(self._row[node], column, node)

    def _index_of_node(self, node: EntityNode) -> QtCore.QModelIndex:
        if node.parent is None:
            return QtCore.QModelIndex()
        return self.createIndex(self._row[node], 0, node)

    # --- QAbstractItemModel ---------------------------------------------------------
    def index(self, row: int, column: int, parent: _Index = QtCore.QModelIndex()) -> QtCore.QModelIndex:  # noqa: B008
        kids = self._kids.get(self.node(parent))
        if kids is None or not 0 <= row < len(kids) or not 0 <= column < len(_COLUMNS):
            return QtCore.QModelIndex()
        return self.createIndex(row, column, kids[row])

    def parent(self, index: _Index = QtCore.QModelIndex()) -> QtCore.QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QtCore.QModelIndex()
        p = self.node(index).parent
        if p is None or p.parent is None:
            return QtCore.QModelIndex()
        return self.createIndex(self._row[p], 0, p)

    def rowCount(self, parent: _Index = QtCore.QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        kids = self._kids.get(self.node(parent))
        return len(kids) if kids is not None else 0

    def columnCount(self, parent: _Index = QtCore.QModelIndex()) -> int:  # noqa: B008
        return len(_COLUMNS)

    def hasChildren(self, parent: _Index = QtCore.QModelIndex()) -> bool:  # noqa: B008
        return bool(self.node(parent).children)

    def canFetchMore(self, parent: _Index) -> bool:
        node = self.node(parent)
        return bool(node.children) and not self.fetched(node)

    def fetchMore(self, parent: _Index) -> None:
        node = self.node(parent)
        if self.fetched(node):
            return
        n = len(node.children)
        self.beginInsertRows(QtCore.QModelIndex(parent), 0, n - 1)
        self._fetch(node)
        self.endInsertRows()

    def headerData(self, section: int, orientation: QtCore.Qt.Orientation, role: int = 0) -> Any:
        if orientation == QtCore.Qt.Orientation.Horizontal and role == QtCore.Qt.ItemDataRole.DisplayRole:
            return _COLUMNS[section]
        return None

    def flags(self, index: _Index) -> QtCore.Qt.ItemFlag:
        return _FLAGS_CHECKABLE if index.column() == 0 else _FLAGS

    def data(self, index: _Index, role: int = QtCore.Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node = self.node(index)
        col = index.column()
        if role == _DISPLAY:
            if col == 0:
                return node.name
            if col == 1:
                return describe_kinds(node)
            rows = node.rows()
            return str(rows) if rows else ""
        if role == _CHECK_STATE and col == 0:
            return QtCore.Qt.CheckState.Checked if node.visible else QtCore.Qt.CheckState.Unchecked
        if role == _TOOLTIP:
            return self._tooltip(node)
        if role == _FOREGROUND and not node.is_visible():
            return QtGui.QColor(140, 140, 140)
        if role == _FONT and col == 1 and node.data_kind is not None and node.data_kind not in SHOWN_KINDS:
            font = QtGui.QFont()
            font.setItalic(True)
            return font
        if role == _ALIGNMENT and col == 2:
            return _RIGHT
        return None

    def _tooltip(self, node: EntityNode) -> str:
        lines = [node.path]
        for kind in node.kinds:
            doc = DATA_KINDS[kind].doc if kind in DATA_KINDS else "unknown data kind"
            lines.append(f"{kind}: {node.rows(kind)} rows ({doc})")
        data = node.data_kind
        if data is not None and data not in SHOWN_KINDS:
            lines.append(f"{data} data is listed here but not drawn by any view")
        return "\n".join(lines)

    def setData(self, index: _Index, value: Any, role: int = QtCore.Qt.ItemDataRole.EditRole) -> bool:
        if role != QtCore.Qt.ItemDataRole.CheckStateRole or index.column() != 0:
            return False
        checked = value in (QtCore.Qt.CheckState.Checked, QtCore.Qt.CheckState.Checked.value, True)
        self.set_visible(self.node(index).path, bool(checked))
        return True

    def set_visible(self, path: str, visible: bool) -> None:
        """Show or hide an entity (and so its subtree); emits ``visibilityChanged``."""
        node = self.viewer_model.nodes[path]
        if node.visible == visible:
            return
        node.visible = visible
        self._announce_subtree(node)
        self.visibilityChanged.emit(path)

    def _announce_subtree(self, node: EntityNode) -> None:
        # Descendants change colour (greyed when an ancestor is hidden): repaint the rows that exist.
        if node not in self._row:
            return  # not a row yet: drawn right when it becomes one
        idx = self._index_of_node(node)
        self.dataChanged.emit(idx, idx.siblingAtColumn(len(_COLUMNS) - 1))
        kids = self._kids.get(node)
        if kids:
            first = self.createIndex(0, 0, kids[0])
            last = self.createIndex(len(kids) - 1, len(_COLUMNS) - 1, kids[-1])
            self.dataChanged.emit(first, last)
            for k in kids:
                if k in self._kids:
                    self._announce_subtree(k)


class EntityTreeView(QtWidgets.QTreeView):
    """The tree view; emits ``entitySelected`` with the path of the clicked entity."""

    entitySelected = QtCore.pyqtSignal(str)

    def __init__(self, model: ViewerModel, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree_model = EntityTreeModel(model, self)
        self.setModel(self.tree_model)
        self.setUniformRowHeights(True)  # fast with very many rows
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        header = self.header()
        assert header is not None
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.resizeSection(1, 110)
        header.setResizeContentsPrecision(_SIZE_PRECISION)
        sel = self.selectionModel()
        assert sel is not None
        sel.currentChanged.connect(self._on_current)
        # A small tree opens fully expanded; a big one stays folded (expanding is lazy).
        if len(model.nodes) <= 200:
            self.tree_model.fetch_all()
            self.expandAll()

    def reload(self) -> None:
        """Show entities added since the tree was built (live data), keeping what was expanded."""
        m = self.tree_model
        expanded = [n.path for n in list(m._kids) if n.path and self.isExpanded(m.index_of(n.path))]
        current = self.currentIndex()
        selected = m.node(current).path if current.isValid() else None
        m.beginResetModel()
        m._kids.clear()
        m._row.clear()
        m._fetch(m.viewer_model.root)
        m.endResetModel()
        if len(m.viewer_model.nodes) <= 200:
            m.fetch_all()
            self.expandAll()
        else:
            for path in expanded:
                self.expand(m.index_of(path))
        if selected:
            self.setCurrentIndex(m.index_of(selected))

    def _on_current(self, current: QtCore.QModelIndex, _previous: QtCore.QModelIndex) -> None:
        if current.isValid():
            self.entitySelected.emit(self.tree_model.node(current).path)

    def reveal(self, path: str) -> None:
        """Expand down to an entity and make it current (without re-announcing it)."""
        idx = self.tree_model.index_of(path)
        if not idx.isValid():
            return
        parent = idx.parent()
        while parent.isValid():
            self.expand(parent)
            parent = parent.parent()
        sel = self.selectionModel()
        assert sel is not None
        self.blockSignals(True)
        sel.blockSignals(True)
        sel.setCurrentIndex(idx, QtCore.QItemSelectionModel.SelectionFlag.ClearAndSelect)
        sel.blockSignals(False)
        self.blockSignals(False)
        self.scrollTo(idx)

    def event(self, e: QtCore.QEvent | None) -> bool:
        # Keep arrow keys for tree navigation when the tree has focus (the window uses them to step time).
        if e is not None and e.type() == QtCore.QEvent.Type.ShortcutOverride:
            assert isinstance(e, QtGui.QKeyEvent)
            keys = (QtCore.Qt.Key.Key_Left, QtCore.Qt.Key.Key_Right, QtCore.Qt.Key.Key_Home, QtCore.Qt.Key.Key_End)
            if e.key() in keys and e.modifiers() == QtCore.Qt.KeyboardModifier.NoModifier:
                e.accept()
                return True
        return super().event(e)
