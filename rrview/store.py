"""Decoded chunk records, kept in memory up to a limit (least recently used dropped first).

The viewer reads only the index at open; chunk records are decoded when a view needs
them (near the time cursor) and evicted oldest-first when the decoded bytes exceed the
memory limit, so open time and memory do not grow with the file.

The limit also bounds the whole process where its resident memory can be read (Linux):
the viewer itself (Python, Qt, OpenGL buffers) takes a few hundred MB, so decoded data
alone up to the limit would put the process well above it. Each decode therefore also
evicts until the resident memory, plus some headroom for the frame being drawn, is under
the limit. Memory freed by an eviction stays with the allocator and is reused by the
next decode, so once the process is at the limit each decode evicts about one record.
"""

from __future__ import annotations

import collections
import os
import re
import threading
from typing import Any

import pyarrow as pa

from rrformat.chunk import Chunk, ChunkInfo
from rrformat.reader import RrdReader

__all__ = ["ChunkStore", "parse_memory_limit", "default_memory_limit", "resident_bytes"]

_MIN_HEADROOM = 64 << 20
"""Resident memory kept free under the limit for the frame being drawn: the resident memory
is read right after a decode, and drawing a 100,000-point frame (colour conversion, GL
upload, the driver's copies) was measured to add up to ~30 MB. At least this, or 10% of
the limit."""


def resident_bytes() -> int | None:
    """This process's resident memory (``/proc/self/statm``), or None where it cannot be read."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _total_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def default_memory_limit() -> int:
    """A quarter of the machine's RAM: room for the viewer's GL buffers and everything else."""
    return _total_memory() // 4


_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1024**3,
    "t": 1000**4,
    "tb": 1000**4,
    "tib": 1024**4,
}


def parse_memory_limit(text: str) -> int:
    """``"16GB"``, ``"500MiB"``, ``"50%"`` (of RAM) or a byte count, to bytes.

    Raises ``ValueError`` with the accepted forms.
    """
    s = text.strip().lower().replace(" ", "")
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(%|[a-z]*)", s)
    if m is None or (m.group(2) not in _UNITS and m.group(2) != "%"):
        raise ValueError(f"memory limit {text!r} is not a size: use e.g. 16GB, 500MiB, 50% or a byte count")
    value = float(m.group(1))
    if m.group(2) == "%":
        if not 0 < value <= 100:
            raise ValueError(f"memory limit {text!r}: a percentage must be in (0, 100]")
        return int(_total_memory() * value / 100)
    limit = int(value * _UNITS[m.group(2)])
    if limit <= 0:
        raise ValueError(f"memory limit {text!r} must be positive")
    return limit


class ChunkStore:
    """Decoded record batches of one file, bounded by ``memory_limit`` bytes.

    Parameters
    ----------
    reader
        The file.
    memory_limit
        Bytes of decoded data to keep at most; the process's resident memory is kept
        under it too, where it can be read (see the module's notes).
    bound_process
        Also bound the process's resident memory (default: yes).
    """

    def __init__(self, reader: RrdReader | Any, memory_limit: int, *, bound_process: bool = True) -> None:
        self.reader = reader
        self.memory_limit = memory_limit
        self.bound_process = bound_process
        self.headroom = max(_MIN_HEADROOM, memory_limit // 10)
        self._lock = threading.Lock()
        self._batches: collections.OrderedDict[int, pa.RecordBatch] = collections.OrderedDict()
        self._sizes: dict[int, int] = {}
        self.bytes_held = 0
        self.decoded = 0
        self.evicted = 0

    def chunk(self, info: ChunkInfo) -> Chunk:
        """The chunk of an index entry, decoding its record if it is not held."""
        batch = self._record(info.record_offset)
        return Chunk(info.entity, info.kind, batch.slice(info.row_start, info.rows), info.recording)

    def _record(self, offset: int) -> pa.RecordBatch:
        with self._lock:
            batch = self._batches.get(offset)
            if batch is not None:
                self._batches.move_to_end(offset)
                return batch
        batch = self.reader.decode_record(offset)
        size = int(batch.nbytes)
        with self._lock:
            if offset not in self._batches:
                self._batches[offset] = batch
                self._sizes[offset] = size
                self.bytes_held += size
                self.decoded += 1
            rss = resident_bytes() if self.bound_process else None
            self._evict(keep=offset, rss=rss)
        return batch

    def _evict(self, *, keep: int, rss: int | None = None) -> None:
        excess = self.bytes_held - self.memory_limit
        if rss is not None:
            excess = max(excess, rss + self.headroom - self.memory_limit)
        while excess > 0 and len(self._batches) > 1:
            oldest = next(iter(self._batches))
            if oldest == keep:
                self._batches.move_to_end(oldest)
                continue
            self._batches.pop(oldest)
            size = self._sizes.pop(oldest)
            self.bytes_held -= size
            excess -= size
            self.evicted += 1

    def drop(self, offsets: set[int]) -> None:
        """Forget the decoded records at these offsets (their data left the recording)."""
        with self._lock:
            for off in offsets:
                if off in self._batches:
                    del self._batches[off]
                    self.bytes_held -= self._sizes.pop(off)

    def holds(self, info: ChunkInfo) -> bool:
        with self._lock:
            return info.record_offset in self._batches

    def clear(self) -> None:
        with self._lock:
            self._batches.clear()
            self._sizes.clear()
            self.bytes_held = 0
