"""Several recordings side by side or one at a time, chosen in the View menu."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("PyQt6")
pytest.importorskip("vispy")

from PyQt6 import QtCore

import rrformat as rr
from rrview.window import MainWindow


def write(path: Path, offset: float) -> Path:
    rec = rr.RecordingStream(path.stem, save=path, strict=True)
    for i in range(5):
        rr.set_time_sequence("frame", i, recording=rec)
        rr.log_points("world/points", np.full((3, 3), offset + i, np.float32), recording=rec)
    rec.disconnect()
    return path


def test_recordings_move_between_tabs_and_side_by_side(window: MainWindow, tmp_path: Path, qtbot: Any) -> None:
    a = window.open_path(write(tmp_path / "a.rrd", 0))
    b = window.open_path(write(tmp_path / "b.rrd", 100))
    assert a is not None and b is not None
    assert window.tabs.count() == 2 and not window.side_by_side
    assert window.current_pane() is b

    window.side_by_side_action.trigger()
    assert window.side_by_side and window.tabs.count() == 0
    assert window.panes() == [a, b] and a.isVisible() and b.isVisible()
    qtbot.waitUntil(lambda: a.width() > 200 and b.width() > 200)
    assert abs(a.geometry().x() - b.geometry().x()) > 200  # next to each other

    # The keys act on the recording last used.
    window.activateWindow()
    a.tree.setFocus()
    qtbot.mouseClick(a.tree.viewport(), QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.current_pane() is a)
    window.current_pane().time_panel.set_time(1)  # type: ignore[union-attr]
    assert a.time_panel.time == 1 and b.time_panel.time == 4

    # A recording opened now joins them; one closed leaves the others.
    c = window.open_path(write(tmp_path / "c.rrd", 200))
    assert window.panes() == [a, b, c] and window.current_pane() is c
    window.close_pane(b)
    assert window.panes() == [a, c]

    window.set_side_by_side(False)
    assert not window.side_by_side and window.tabs.count() == 2
    assert window.panes() == [a, c]
    window.close_pane(a)
    window.close_pane(c)
    assert window.panes() == [] and window.stack.currentWidget() is window.welcome
