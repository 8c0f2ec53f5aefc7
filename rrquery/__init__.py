"""rrquery: query .rrd recordings with Polars and turn them into training datasets.

Examples
--------
>>> import rrquery
>>> rec = rrquery.open("run.rrd")  # doctest: +SKIP
>>> rec.range("world/**", timeline="frame", start=0, end=100)  # doctest: +SKIP
>>> rec.dataset("frame", ["camera/image:tensor", "robot/pose:translation"], sample=1)  # doctest: +SKIP
"""

from ._export import export as export
from ._numpy import decode_image as decode_image
from ._numpy import to_numpy as to_numpy
from ._recording import QueryStats as QueryStats
from ._recording import Recording as Recording
from ._recording import TruncatedRecordingWarning as TruncatedRecordingWarning
from ._recording import open as open
from ._scan import scan as scan

__all__ = ["open", "scan", "export", "to_numpy", "decode_image", "Recording", "QueryStats", "TruncatedRecordingWarning"]
