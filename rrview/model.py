"""What the viewer shows, without Qt: the entity tree, timelines, and data at a time.

The model reads a recording's index at open and answers "the latest row of this entity
at time t on this timeline" (latest-at, ties broken by logging order, timeless data
counting as logged before any time) and "the rows of the last N units" (visible
history), decoding only the chunks it needs through a memory-bounded :class:`ChunkStore`.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rrformat.chunk import Chunk, ChunkInfo, TimelineKind
from rrformat.components import SIDE_KINDS
from rrformat.reader import Damage, RrdReader

from .store import ChunkStore, default_memory_limit

__all__ = ["ViewerModel", "EntityNode", "Row", "Track", "KINDS_3D", "KINDS_2D", "numpy_of"]

KINDS_3D = frozenset({"points3d", "boxes3d", "line_strips3d", "arrows3d", "mesh3d", "mesh_file"})
KINDS_2D = frozenset(
    {"points2d", "rects2d", "line_strips2d", "image", "depth_image", "segmentation_image", "encoded_image"}
)

_NUMPY_TYPES: dict[str, np.dtype[Any]] = {
    "halffloat": np.dtype(np.float16),
    "float": np.dtype(np.float32),
    "double": np.dtype(np.float64),
    **{f"{s}int{b}": np.dtype(f"{s}int{b}") for s in ("", "u") for b in (8, 16, 32, 64)},
}


def numpy_of(arr: pa.Array, fill: Any = None) -> npt.NDArray[Any]:
    """A primitive Arrow array's values as numpy, read from its buffers: a view when it has no nulls.

    pyarrow's ``to_numpy`` goes through its pandas conversion layer, which imports pandas
    on first use (~0.4 s, before the first frame can show); this reads the buffers
    directly. Nulls become ``fill`` (0 when None). Other types fall back to ``to_numpy``.
    """
    np_type = _NUMPY_TYPES.get(str(arr.type))
    if np_type is None:
        filled = arr.fill_null(fill) if fill is not None and arr.null_count else arr
        out: npt.NDArray[Any] = filled.to_numpy(zero_copy_only=False)
        return out
    n, off = len(arr), arr.offset
    bufs = arr.buffers()
    if bufs[1] is None:
        return np.zeros(n, np_type)
    values: npt.NDArray[Any] = np.frombuffer(bufs[1], dtype=np_type, count=off + n)[off:]
    if not arr.null_count:
        return values
    valid = np.unpackbits(np.frombuffer(bufs[0], np.uint8), count=off + n, bitorder="little")[off:].astype(bool)
    values = values.copy()
    values[~valid] = 0 if fill is None else fill
    return values


_NULL_TIME = int(np.iinfo(np.int64).min)
"""Stands for a missing time (never chosen): rows not on the timeline."""


@dataclass(frozen=True, slots=True)
class Row:
    """One logged row: a chunk and the row's position in it."""

    chunk: Chunk
    index: int
    time: int | None

    def get(self, component: str) -> Any:
        """The row's value of a component as a Python object (None if absent or null)."""
        batch = self.chunk.batch
        i = batch.schema.get_field_index(component)  # no list of names per call: 10,000 entities a frame
        if i < 0:
            return None
        return batch.column(i)[self.index].as_py()

    def array(self, component: str) -> Any:
        """The row's value as an Arrow array or scalar, without converting to Python."""
        batch = self.chunk.batch
        i = batch.schema.get_field_index(component)
        if i < 0:
            return None
        value = batch.column(i)[self.index]
        return value if value.is_valid else None

    @property
    def row_id(self) -> int:
        return int(self.chunk.batch.column(0)[self.index].as_py())

    @property
    def components(self) -> list[str]:
        return self.chunk.component_names


@dataclass(eq=False)
class EntityNode:
    """One path of the entity tree, with the data kinds logged to it."""

    path: str
    name: str
    parent: EntityNode | None
    children: dict[str, EntityNode] = field(default_factory=dict)
    chunks: dict[str, list[ChunkInfo]] = field(default_factory=dict)
    visible: bool = True

    @property
    def kinds(self) -> list[str]:
        return sorted(self.chunks)

    @property
    def data_kind(self) -> str | None:
        """The entity's data kind (not a transform or context), if it has one."""
        for k in self.chunks:
            if k not in SIDE_KINDS:
                return k
        return None

    def rows(self, kind: str | None = None) -> int:
        return sum(c.rows for k, cs in self.chunks.items() if kind in (None, k) for c in cs)

    def walk(self) -> Iterator[EntityNode]:
        yield self
        for child in self.children.values():
            yield from child.walk()

    def is_visible(self) -> bool:
        """Visible if it and every ancestor are."""
        node: EntityNode | None = self
        while node is not None:
            if not node.visible:
                return False
            node = node.parent
        return True


class Track:
    """The chunks of one (entity, kind) placed on one timeline, for fast latest-at."""

    def __init__(self, store: ChunkStore, infos: list[ChunkInfo], timeline: str | None) -> None:
        self.store = store
        self.timeline = timeline
        self.timeless = [c for c in infos if c.timeless]
        spans: list[tuple[int, int, ChunkInfo]] = []
        for c in infos:
            tr = c.timelines.get(timeline) if timeline is not None and not c.timeless else None
            if tr is not None and tr.min is not None and tr.max is not None:
                spans.append((tr.min, tr.max, c))
        spans.sort(key=lambda s: s[0])
        self._spans = spans
        self.timed = [c for _, _, c in spans]
        self._mins = [lo for lo, _, _ in spans]

    def _times(self, chunk: Chunk) -> npt.NDArray[np.int64]:
        """The chunk's times on the track's timeline; missing values as int64 min (never chosen)."""
        assert self.timeline is not None
        times: npt.NDArray[np.int64] = numpy_of(chunk.batch.column(self.timeline), _NULL_TIME)
        return times

    def latest(self, t: int | None) -> Row | None:
        """The last row at or before ``t`` (timeless rows count as before any time)."""
        if t is not None and self.timed:
            n = bisect.bisect_right(self._mins, t)  # chunks starting at or before t
            best: tuple[int, int, Row] | None = None
            # Visit chunks by the latest time they can offer; stop once none can beat the best.
            candidates = sorted(((min(hi, t), info) for _, hi, info in self._spans[:n]), key=lambda x: -x[0])
            one_row: tuple[int, int, ChunkInfo] | None = None  # a one-row chunk chosen from the index alone
            for bound, info in candidates:
                if best is not None and bound < best[0]:
                    break
                if one_row is not None and bound < one_row[0]:
                    break
                if info.rows == 1 and info.row_id_min is not None:
                    # Its time and row id are in the index: no decoding unless it is the one shown.
                    if one_row is None or (bound, info.row_id_min) > one_row[:2]:
                        one_row = (bound, info.row_id_min, info)
                    continue
                chunk = self.store.chunk(info)
                times = self._times(chunk)
                ok = np.nonzero(times <= t)[0]
                ok = ok[times[ok] > _NULL_TIME]
                if not len(ok):
                    continue
                tmax = int(times[ok].max())
                idx = int(ok[times[ok] == tmax][-1])  # ties: the last logged
                rid = int(chunk.batch.column(0)[idx].as_py())
                if best is None or (tmax, rid) > (best[0], best[1]):
                    best = (tmax, rid, Row(chunk, idx, tmax))
            if one_row is not None and (best is None or one_row[:2] > (best[0], best[1])):
                return Row(self.store.chunk(one_row[2]), 0, one_row[0])
            if best is not None:
                return best[2]
        return self.latest_timeless()

    def latest_timeless(self) -> Row | None:
        if not self.timeless:
            return None
        info = max(self.timeless, key=lambda c: c.row_id_max if c.row_id_max is not None else -1)
        if info.rows == 0:
            return None
        return Row(self.store.chunk(info), info.rows - 1, None)

    def history(self, start: int, end: int) -> list[Row]:
        """Every row with a time in ``[start, end]``, in time then logging order."""
        out: list[tuple[int, int, Row]] = []
        for lo, hi, info in self._spans:
            if hi < start or lo > end:
                continue
            chunk = self.store.chunk(info)
            times = self._times(chunk)
            for idx in np.nonzero((times >= start) & (times <= end))[0]:
                i = int(idx)
                out.append((int(times[i]), int(chunk.batch.column(0)[i].as_py()), Row(chunk, i, int(times[i]))))
        out.sort(key=lambda x: (x[0], x[1]))
        return [r for _, _, r in out]

    def times(self) -> npt.NDArray[np.int64]:
        """Every time of this track's rows (decodes its chunks: for density marks use the index)."""
        parts = [self._times(self.store.chunk(c)) for c in self.timed]
        allt = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        return allt[allt > _NULL_TIME]


class ViewerModel:
    """One recording opened for viewing.

    Parameters
    ----------
    path
        The .rrd file.
    memory_limit
        Bytes of decoded data to keep; the least recently used is dropped first. Decoded
        data is also dropped to keep the process's resident memory under the limit (see
        :mod:`rrview.store`).
    """

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, memory_limit: int | None = None, source: Any = None
    ) -> None:
        if (path is None) == (source is None):
            raise ValueError("ViewerModel: give a path or a source, not both")
        # A live source (rrview.live.LiveSource) reads like a file's reader.
        self.reader = source if source is not None else RrdReader(os.fspath(path))  # type: ignore[arg-type]
        self.path: str = source.path if source is not None else os.fspath(path)  # type: ignore[arg-type]
        self.live = source is not None
        self.store = ChunkStore(self.reader, memory_limit if memory_limit is not None else default_memory_limit())
        self.damage: Damage | None = self.reader.damage
        self.root = EntityNode("", "", None)
        self.nodes: dict[str, EntityNode] = {"": self.root}
        self.timelines: dict[str, TimelineKind] = {}
        self._tracks: dict[tuple[str, str, str | None], Track] = {}
        self._add(self.reader.chunks)

    # --- index ---------------------------------------------------------------------------
    def _add(self, infos: list[ChunkInfo]) -> None:
        for c in infos:
            self._node(c.entity).chunks.setdefault(c.kind, []).append(c)
            for name, tr in c.timelines.items():
                self.timelines.setdefault(name, tr.kind)
            for key in [k for k in self._tracks if k[0] == c.entity and k[1] == c.kind]:
                del self._tracks[key]

    def refresh(self) -> int:
        """Pick up new chunks (of a file still being written, or live); returns how many changed.

        A live source may also have forgotten its oldest chunks to stay under the memory
        limit: they leave the index too.
        """
        new = self.reader.refresh()
        self._add(new)
        take_purged = getattr(self.reader, "take_purged", None)
        gone = take_purged() if take_purged is not None else []
        if gone:
            self._forget(gone)
        self.damage = self.reader.damage
        return len(new) + len(gone)

    def _forget(self, infos: list[ChunkInfo]) -> None:
        offsets = {c.record_offset for c in infos}
        touched = {(c.entity, c.kind) for c in infos}
        for entity, kind in touched:
            node = self.nodes.get(entity)
            if node is None or kind not in node.chunks:
                continue
            node.chunks[kind] = [c for c in node.chunks[kind] if c.record_offset not in offsets]
            for key in [k for k in self._tracks if k[0] == entity and k[1] == kind]:
                del self._tracks[key]
        self.store.drop(offsets)

    def _node(self, path: str) -> EntityNode:
        node = self.nodes.get(path)
        if node is not None:
            return node
        parent_path, _, name = path.rpartition("/")
        parent = self._node(parent_path) if "/" in path else self.root
        node = EntityNode(path, name if "/" in path else path, parent)
        parent.children[node.name] = node
        self.nodes[path] = node
        return node

    @property
    def application_id(self) -> str:
        return self.reader.recordings[0].application_id if self.reader.recordings else ""

    @property
    def recording_id(self) -> str:
        return self.reader.recordings[0].recording_id if self.reader.recordings else ""

    def default_timeline(self) -> str | None:
        """The first user timeline by name (log_time only when there is no other)."""
        names = sorted(n for n in self.timelines if n != "log_time")
        if names:
            return names[0]
        return "log_time" if "log_time" in self.timelines else None

    def time_range(self, timeline: str) -> tuple[int, int] | None:
        lo = [c.timelines[timeline].min for c in self.reader.chunks if timeline in c.timelines]
        hi = [c.timelines[timeline].max for c in self.reader.chunks if timeline in c.timelines]
        los = [x for x in lo if x is not None]
        his = [x for x in hi if x is not None]
        if not los or not his:
            return None
        return min(los), max(his)

    def density(self, entity: str, timeline: str, start: int, end: int, bins: int) -> npt.NDArray[np.int64]:
        """Rows per bin of ``[start, end]`` from the index alone (no decoding): scrub bar marks."""
        counts = np.zeros(bins, np.int64)
        node = self.nodes.get(entity)
        if node is None or end < start:
            return counts
        span = max(1, end - start)
        for infos in node.chunks.values():
            for c in infos:
                tr = c.timelines.get(timeline)
                if tr is None or tr.min is None or tr.max is None:
                    continue
                a = int((tr.min - start) * (bins - 1) // span)
                b = int((tr.max - start) * (bins - 1) // span)
                a, b = max(0, min(bins - 1, a)), max(0, min(bins - 1, b))
                counts[a : b + 1] += max(1, c.rows // (b - a + 1))
        return counts

    # --- data at a time ------------------------------------------------------------------
    def track(self, entity: str, kind: str, timeline: str | None) -> Track | None:
        key = (entity, kind, timeline)
        tr = self._tracks.get(key)
        if tr is None:
            node = self.nodes.get(entity)
            if node is None or kind not in node.chunks:
                return None
            tr = self._tracks[key] = Track(self.store, node.chunks[kind], timeline)
        return tr

    def latest(self, entity: str, kind: str, timeline: str | None, t: int | None) -> Row | None:
        """The entity's latest row of this kind at ``t``, unless a later clear hides it."""
        tr = self.track(entity, kind, timeline)
        if tr is None:
            return None
        row = tr.latest(t)
        if row is None or kind == "clear":
            return row
        cleared_at = self._cleared_time(entity, timeline, t)
        if cleared_at is not None and (
            row.time is None or cleared_at[0] > row.time or (cleared_at[0] == row.time and cleared_at[1] > row.row_id)
        ):
            return None
        return row

    def _cleared_time(self, entity: str, timeline: str | None, t: int | None) -> tuple[int, int] | None:
        """(time, row id) of the latest clear that applies to ``entity`` at ``t``."""
        best: tuple[int, int] | None = None
        node = self.nodes.get(entity)
        own = True
        while node is not None and node.path:
            if "clear" in node.chunks:
                row = self.track(node.path, "clear", timeline).latest(t)  # type: ignore[union-attr]
                if row is not None and (own or row.get("recursive")):
                    key = (row.time if row.time is not None else _NULL_TIME, row.row_id)
                    if best is None or key > best:
                        best = key
            node = node.parent
            own = False
        return best

    def history(self, entity: str, kind: str, timeline: str, start: int, end: int) -> list[Row]:
        tr = self.track(entity, kind, timeline)
        return tr.history(start, end) if tr is not None else []

    def close(self) -> None:
        self.store.clear()
        self.reader.close()
