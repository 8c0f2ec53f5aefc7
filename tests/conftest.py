"""Fixtures shared by the tests; reusable helpers live in ``rrformat.testing``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rrformat.chunk import Chunk
from rrformat.testing import write_sample_file


@pytest.fixture
def sample_rrd(tmp_path: Path) -> tuple[Path, list[Chunk]]:
    """A small closed multi-record file (see ``write_sample_file``) and the chunks written to it."""
    path = tmp_path / "sample.rrd"
    return path, write_sample_file(path)


@pytest.fixture
def window(qtbot: Any, tmp_path: Path) -> Iterator[Any]:
    """A shown rrview main window (under Xvfb in tests), with its own settings file, closed after the test."""
    from PyQt6 import QtCore

    from rrview.window import MainWindow

    settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    if w.error_box is not None:
        w.error_box.close()
    w.close()
