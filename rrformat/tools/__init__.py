"""File tools: check, repair, re-chunk, merge and describe .rrd files.

These functions are what the ``rrd`` command runs; they are plain library calls so
that scripts and tests can use them too. Each takes an optional ``progress``
callback, called as ``progress(done_bytes, total_bytes)``.

Examples
--------
>>> from rrformat.tools import verify, recover
>>> report = verify("crashed.rrd")  # doctest: +SKIP
>>> if report.status != "ok":  # doctest: +SKIP
...     recover("crashed.rrd", "fixed.rrd")
"""

from __future__ import annotations

from ._common import DamagedInputError, Progress
from .compact import CompactReport, compact
from .describe import damage_json, describe
from .listing import chunk_json, columns_json, dumps
from .merge import MergeReport, RowIdShift, merge
from .recover import RecoverReport, recover
from .verify import VerifyReport, verify

__all__ = [
    "CompactReport",
    "DamagedInputError",
    "MergeReport",
    "Progress",
    "RecoverReport",
    "RowIdShift",
    "VerifyReport",
    "chunk_json",
    "columns_json",
    "compact",
    "damage_json",
    "describe",
    "dumps",
    "merge",
    "recover",
    "verify",
]
