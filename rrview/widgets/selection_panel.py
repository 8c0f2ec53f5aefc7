"""The selection panel: the component values of the selected (or hovered) entity at the time cursor."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import pyarrow as pa
from PyQt6 import QtCore, QtWidgets

from rrformat.chunk import TimelineKind, timeline_kind_of

from ..model import Row, ViewerModel
from .time_panel import format_time

__all__ = ["SelectionPanel", "summarize", "class_labels"]

log = logging.getLogger("rrview")

_PROBE_KEYS = ("kind", "u", "v", "value", "depth_m", "meter", "class_id", "label")
_LIST_PREVIEW = 8
_MAX_CHILDREN = 100


def _fmt(v: Any) -> str:
    """A Python value in few characters: floats to 6 digits, lists as tuples."""
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, (bytes, bytearray, memoryview)):
        return f"{len(v)} bytes"
    if isinstance(v, (list, tuple)):
        inner = [_fmt(x) for x in v[:_LIST_PREVIEW]]
        if len(v) > _LIST_PREVIEW:
            inner.append(f"... {len(v)} in all")
        return "(" + ", ".join(inner) + ")"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items() if x is not None) + "}"
    return str(v)


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def summarize(value: pa.Scalar, labels: Mapping[int, str] | None = None) -> tuple[str, list[str]]:
    """A one-line summary of a component value and, for lists of instances, one line per instance.

    Big values are never converted whole: a tensor shows its dtype, shape (with the
    dimension names when logged) and size, a blob its byte count, a long list its first
    items and its length. ``labels`` maps class ids to their annotation-context labels.
    """
    t = value.type
    if pa.types.is_struct(t) and {"shape", "dtype", "data"} <= {f.name for f in t}:
        shape = value["shape"].as_py() or []
        data = value["data"]
        nbytes = data.as_buffer().size if data.is_valid else 0
        dims = "x".join(str(d) for d in shape) or "scalar"
        names = value["names"].as_py() if "names" in {f.name for f in t} and value["names"].is_valid else None
        named = f" [{', '.join(str(n) for n in names)}]" if names else ""
        return f"{value['dtype'].as_py()} {dims}{named} ({_size(nbytes)})", []
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return f"{value.as_buffer().size} bytes", []
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        items = value.values
        n = len(items) if items is not None else 0
        head = items.slice(0, _MAX_CHILDREN).to_pylist() if n else []
        lines = [_instance(x, labels) for x in head]
        if n > _MAX_CHILDREN:
            lines.append(f"... {n - _MAX_CHILDREN} more")
        if n == 1:
            return lines[0], []
        preview = ", ".join(lines[:_LIST_PREVIEW]) + (", ..." if n > _LIST_PREVIEW else "")
        return f"[{n}] {preview}", lines
    return _fmt(value.as_py()), []


def _instance(x: Any, labels: Mapping[int, str] | None) -> str:
    if labels is not None and isinstance(x, int) and x in labels:
        return f"{x} ({labels[x]})"
    return _fmt(x)


def class_labels(model: ViewerModel, entity: str, timeline: str | None, t: int | None) -> dict[int, str]:
    """Class id -> label from the nearest annotation context at or above ``entity``."""
    node = model.nodes.get(entity)
    while node is not None:
        if "annotation_context" in node.chunks:
            row = model.latest(node.path, "annotation_context", timeline, t)
            if row is not None:
                return {int(d["id"]): d["label"] for d in row.get("class_descriptions") or [] if d.get("label")}
        node = node.parent
    return {}


class SelectionPanel(QtWidgets.QWidget):
    """A tree of kind -> component -> value for one entity at the current time."""

    def __init__(self, model: ViewerModel, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.selected: str | None = None
        self.hovered: str | None = None
        self._probe: dict[str, Any] | None = None
        self._timeline: str | None = None
        self._time: int | None = None
        self.title = QtWidgets.QLabel("Nothing selected: click an entity in the tree or a view", self)
        self.title.setWordWrap(True)
        self.tree = QtWidgets.QTreeWidget(self)
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Component", "Value"])
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        assert header is not None
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.title)
        lay.addWidget(self.tree)

    @property
    def shown(self) -> str | None:
        """The entity shown: the hovered one while something is hovered, else the selected one."""
        return self.hovered if self.hovered is not None else self.selected

    def set_selected(self, entity: str | None) -> None:
        self.selected = entity
        self.refresh()

    def set_hovered(self, entity: str | None, probe: dict[str, Any] | None = None) -> None:
        if entity == self.hovered and probe == self._probe:
            return
        self.hovered = entity
        self._probe = probe
        self.refresh()

    def set_time(self, timeline: str | None, t: int | None) -> None:
        self._timeline, self._time = timeline, t
        self.refresh()

    def values(self) -> dict[str, dict[str, str]]:
        """What the panel shows: kind -> component -> value text (for tests and copying)."""
        out: dict[str, dict[str, str]] = {}
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            assert top is not None
            kind = str(top.data(0, QtCore.Qt.ItemDataRole.UserRole))
            out[kind] = {}
            for j in range(top.childCount()):
                child = top.child(j)
                assert child is not None
                out[kind][child.text(0)] = child.text(1)
        return out

    def refresh(self) -> None:
        """Show the entity's values at the current time."""
        try:
            self._refresh()
        except Exception as exc:  # e.g. a corrupt chunk: say so; an exception in a Qt slot ends the app
            if os.environ.get("RRD_DEBUG"):
                raise
            log.exception("cannot show %r", self.shown)
            self.tree.clear()
            self.title.setText(f"Cannot show {self.shown}: {type(exc).__name__}: {exc}")

    def _refresh(self) -> None:
        entity = self.shown
        self.tree.clear()
        if entity is None or entity not in self.model.nodes:
            self.title.setText("Nothing selected: click an entity in the tree or a view")
            return
        node = self.model.nodes[entity]
        kind_tl = self.model.timelines.get(self._timeline) if self._timeline is not None else None
        verb = "Hovered" if self.hovered is not None else "Selected"
        self.title.setText(f"{verb}: <b>{entity}</b> at {format_time(kind_tl, self._time)}")
        labels = class_labels(self.model, entity, self._timeline, self._time)
        if self._probe is not None and self.hovered is not None:
            self._add_probe(self._probe)
        for kind in node.kinds:
            row = self.model.latest(entity, kind, self._timeline, self._time)
            self._add_row(kind, row, kind_tl, labels)
        if not node.kinds:
            item = QtWidgets.QTreeWidgetItem(self.tree, ["(no data)", f"{len(node.children)} children"])
            item.setData(0, QtCore.Qt.ItemDataRole.UserRole, "")

    def _add_probe(self, probe: dict[str, Any]) -> None:
        top = QtWidgets.QTreeWidgetItem(self.tree, ["pixel", ""])
        top.setData(0, QtCore.Qt.ItemDataRole.UserRole, "pixel")
        for key in _PROBE_KEYS:
            v = probe.get(key)
            if v is not None:
                QtWidgets.QTreeWidgetItem(top, [key, _fmt(v)])
        top.setExpanded(True)

    def _add_row(self, kind: str, row: Row | None, kind_tl: TimelineKind | None, labels: Mapping[int, str]) -> None:
        top = QtWidgets.QTreeWidgetItem(self.tree, [kind, ""])
        top.setData(0, QtCore.Qt.ItemDataRole.UserRole, kind)
        if row is None:
            top.setText(1, "nothing at this time")
            return
        top.setText(1, f"logged at {format_time(kind_tl, row.time)}")
        skip = {"row_id", *self._timeline_names(row)}
        for name in row.chunk.batch.schema.names:
            if name in skip:
                continue
            value = row.array(name)
            if value is None:
                continue
            text, lines = summarize(value, labels if name == "class_ids" else None)
            item = QtWidgets.QTreeWidgetItem(top, [name, text])
            item.setToolTip(1, text)
            for i, line in enumerate(lines):
                QtWidgets.QTreeWidgetItem(item, [f"[{i}]", line])
        top.setExpanded(True)

    def _timeline_names(self, row: Row) -> list[str]:
        return [f.name for f in row.chunk.batch.schema if timeline_kind_of(f) is not None]
