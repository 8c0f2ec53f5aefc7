"""Fixtures shared by the tests; reusable helpers live in ``rrformat.testing``."""

from __future__ import annotations

from pathlib import Path

import pytest

from rrformat.chunk import Chunk
from rrformat.testing import write_sample_file


@pytest.fixture
def sample_rrd(tmp_path: Path) -> tuple[Path, list[Chunk]]:
    """A small closed multi-record file (see ``write_sample_file``) and the chunks written to it."""
    path = tmp_path / "sample.rrd"
    return path, write_sample_file(path)
