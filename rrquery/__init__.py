"""rrquery: query .rrd recordings with Polars and turn them into training datasets.

Examples
--------
>>> import rrquery
>>> rec = rrquery.open("run.rrd")  # doctest: +SKIP
>>> rec.range("world/**", timeline="frame", start=0, end=100)  # doctest: +SKIP
>>> rec.dataset("frame", ["camera/image:tensor", "robot/pose:translation"], sample=1)  # doctest: +SKIP
>>> runs = rrquery.open_many("runs/**/*.rrd")  # doctest: +SKIP
>>> rrquery.catalog("runs/")  # doctest: +SKIP

``rrquery.ray`` (``pip install rrkit[ray]``) reads recordings into Ray Data datasets; it
is imported on first use, so nothing else imports Ray.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ._catalog import catalog as catalog
from ._export import export as export
from ._many import RecordingSet as RecordingSet
from ._many import SkippedDataWarning as SkippedDataWarning
from ._many import open_many as open_many
from ._numpy import decode_image as decode_image
from ._numpy import to_numpy as to_numpy
from ._recording import QueryStats as QueryStats
from ._recording import Recording as Recording
from ._recording import TruncatedRecordingWarning as TruncatedRecordingWarning
from ._recording import open as open
from ._scan import scan as scan

__all__ = [
    "open",
    "open_many",
    "scan",
    "catalog",
    "export",
    "to_numpy",
    "decode_image",
    "Recording",
    "RecordingSet",
    "QueryStats",
    "TruncatedRecordingWarning",
    "SkippedDataWarning",
]


def __getattr__(name: str) -> ModuleType:
    # ``rrquery.ray`` without an explicit import, and without importing Ray before it is used.
    if name == "ray":
        return importlib.import_module(".ray", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
