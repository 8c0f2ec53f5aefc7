"""A dismissible bar above the views for problems with the file (e.g. a truncated recording)."""

from __future__ import annotations

import os

from PyQt6 import QtCore, QtWidgets

from rrformat.reader import Damage

__all__ = ["WarningBar", "damage_message"]


def _size(n: int) -> str:
    value = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} bytes"


def damage_message(path: str, damage: Damage) -> str:
    """What a damaged file means for what is shown: where it ends, and how much was lost."""
    try:
        total = os.path.getsize(path)
    except OSError:
        total = 0
    share = f" ({100 * damage.lost_bytes / total:.1f}% of the file)" if total else ""
    what = "ends early" if damage.kind == "truncated" else "is corrupt"
    return (
        f"This recording {what} at byte {damage.offset}: {_size(damage.lost_bytes)} could not be read{share}, "
        f"so the data logged last is missing. Showing everything before it. ({damage.reason})"
    )


class WarningBar(QtWidgets.QFrame):
    """A yellow bar with a message and a close button; hidden until :meth:`show_message`."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("warningBar")
        self.setStyleSheet(
            "#warningBar { background: #fff3cd; border: 1px solid #e0c060; border-radius: 3px; }"
            "#warningBar QLabel { color: #5c4400; }"
        )
        style = self.style()
        assert style is not None
        icon = QtWidgets.QLabel(self)
        icon.setPixmap(style.standardIcon(QtWidgets.QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(18, 18))
        self.label = QtWidgets.QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QtWidgets.QToolButton(self)
        close.setText("x")
        close.setAutoRaise(True)
        close.setToolTip("Hide this message")
        close.clicked.connect(self.hide)
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(6, 3, 3, 3)
        lay.addWidget(icon)
        lay.addWidget(self.label, 1)
        lay.addWidget(close)
        self.hide()

    @property
    def text(self) -> str:
        return self.label.text()

    def show_message(self, text: str) -> None:
        self.label.setText(text)
        self.show()
