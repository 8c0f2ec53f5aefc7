"""A recording opened for queries: its index, and the chunks a query needs."""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
import pyarrow as pa

from rrformat.chunk import ROW_ID, Chunk, ChunkInfo, TimelineKind, timeline_kind_of
from rrformat.entity_path import EntityPathPattern
from rrformat.errors import CorruptFileError
from rrformat.reader import RrdReader

from ._frames import ENTITY, Window, concat_frames, parts_frames, timeline_dtype, window
from ._read import PARALLEL_MIN_BYTES, decode_record, parallel_map
from ._timebounds import TimeValue, timeline_bounds

__all__ = ["Recording", "QueryStats", "TruncatedRecordingWarning", "chunk_parts", "open", "rows_of"]

_open = open


class TruncatedRecordingWarning(UserWarning):
    """The file ends early or is damaged: queries see its sound prefix."""


@dataclass(slots=True)
class QueryStats:
    """What queries read from disk: lets users (and tests) see pruning at work."""

    records_decoded: int = 0
    chunks_read: int = 0
    bytes_read: int = 0
    files_read: int = 0
    """Files whose chunk records a multi-file query decoded (see :func:`rrquery.open_many`)."""


class Recording:
    """One recording of an .rrd file, ready for queries.

    Use :func:`rrquery.open`. The index is read at open (from the footer, or by a scan of
    a crashed robot's file); chunk bodies are read only when a query needs them.

    Examples
    --------
    >>> rec = rrquery.open("run.rrd")  # doctest: +SKIP
    >>> rec.entities()  # doctest: +SKIP
    >>> rec.range("world/**", timeline="frame", start=10, end=20)  # doctest: +SKIP
    """

    def __init__(
        self, path: str | os.PathLike[str], *, recording: str | int | None = None, reader: RrdReader | None = None
    ) -> None:
        self.path = os.fspath(path)
        # A multi-file query has read the index already to plan: it hands over the reader.
        self._reader = reader if reader is not None else RrdReader(self.path)
        self._lock = threading.Lock()
        self.stats = QueryStats()
        r = self._reader
        if r.damage is not None:
            warnings.warn(
                f"{self.path} is {r.damage.kind}: {r.damage.lost_bytes} bytes at the end could not be read "
                f"({r.damage.reason}); querying the {len(r.chunks)} chunks before byte {r.damage.offset}",
                TruncatedRecordingWarning,
                stacklevel=3,
            )
        if not r.recordings:
            raise ValueError(f"{self.path}: the file declares no recording")
        self._info = self._pick(recording)
        self.index: list[ChunkInfo] = [c for c in r.chunks if c.recording == self._info.index]
        self._timelines = self._collect_timelines()
        self._by_entity: dict[str, list[ChunkInfo]] | None = None
        self._dtypes: dict[int, dict[str, pl.DataType]] = {}
        # Chunk records are read through a descriptor of our own, with one pread per
        # record, from several threads at once.
        self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))

    def _pick(self, recording: str | int | None) -> Any:
        recs = self._reader.recordings
        if recording is None:
            if len(recs) > 1:
                ids = ", ".join(r.recording_id for r in recs)
                raise ValueError(f"{self.path} holds {len(recs)} recordings ({ids}); choose one with recording=")
            return recs[0]
        if isinstance(recording, bool):
            raise TypeError(f"recording must be a recording id (str) or index (int), got {recording!r}")
        for r in recs:
            if recording in (r.recording_id, r.index):
                return r
        ids = ", ".join(r.recording_id for r in recs)
        raise ValueError(f"{self.path}: no recording {recording!r}; the file holds: {ids}")

    def _collect_timelines(self) -> dict[str, TimelineKind]:
        out: dict[str, TimelineKind] = {}
        for c in self.index:
            for name, tr in c.timelines.items():
                out.setdefault(name, tr.kind)
        # Declared order: user timelines by name, log_time last.
        ordered = {k: out[k] for k in sorted(out) if k != "log_time"}
        if "log_time" in out:
            ordered["log_time"] = out["log_time"]
        return ordered

    # --- description ------------------------------------------------------------------
    @property
    def application_id(self) -> str:
        return str(self._info.application_id)

    @property
    def recording_id(self) -> str:
        return str(self._info.recording_id)

    @property
    def start_time_ns(self) -> int:
        return int(self._info.start_time_ns)

    def timelines(self) -> pl.DataFrame:
        """One row per timeline: ``name``, ``kind`` ("sequence" or "time"), ``min``, ``max``.

        Times are Datetime(ns, UTC); sequences are integers, shown as such in ``min``/``max``.
        """
        rows = []
        for name, kind in self._timelines.items():
            ranges = [c.timelines[name] for c in self.index if name in c.timelines]
            lo = [r.min for r in ranges if r.min is not None]
            hi = [r.max for r in ranges if r.max is not None]
            rows.append({"name": name, "kind": kind.value, "min": min(lo, default=None), "max": max(hi, default=None)})
        return pl.DataFrame(
            rows, schema={"name": pl.String, "kind": pl.String, "min": pl.Int64, "max": pl.Int64}, orient="row"
        )

    def timeline_kind(self, timeline: str) -> TimelineKind:
        """The kind of a timeline; ``ValueError`` lists the timelines that exist."""
        kind = self._timelines.get(timeline)
        if kind is None:
            known = ", ".join(self._timelines) or "none"
            raise ValueError(f"unknown timeline {timeline!r}; the recording has: {known}")
        return kind

    def entities(self, pattern: str = "**") -> pl.DataFrame:
        """Entities matching a glob: ``entity``, ``kind``, ``components``, ``rows``, ``timeless``.

        An entity with timeless and timed data of the same kind is listed once per flag.
        """
        pat = EntityPathPattern.parse(pattern)
        agg: dict[tuple[str, str, bool], list[Any]] = {}
        for c in self.index:
            if not pat.matches(c.entity):
                continue
            key = (c.entity, c.kind, c.timeless)
            entry = agg.setdefault(key, [0, set()])
            entry[0] += c.rows
            entry[1].update(self._component_names(c))
        if not agg and pattern != "**":
            # Likely a typo: say what exists, as queries do ("**" on an empty recording lists nothing).
            raise ValueError(f"no entity matches {pattern!r}; entities: {self._entity_list()}")
        rows = [
            {"entity": e, "kind": k, "components": sorted(comps), "rows": n, "timeless": t}
            for (e, k, t), (n, comps) in sorted(agg.items())
        ]
        return pl.DataFrame(
            rows,
            schema={
                "entity": pl.String,
                "kind": pl.String,
                "components": pl.List(pl.String),
                "rows": pl.Int64,
                "timeless": pl.Boolean,
            },
            orient="row",
        )

    def _component_names(self, info: ChunkInfo) -> list[str]:
        schema = self._schema(info.schema_id)
        return [f.name for f in schema if f.name != ROW_ID and timeline_kind_of(f) is None]

    def _schema(self, schema_id: int) -> pa.Schema:
        with self._lock:
            return self._reader.schema(schema_id)

    def schema(self, entity: str) -> dict[str, pl.DataType]:
        """The query columns of an entity and their Polars types."""
        return self._columns(self._infos_for(entity))

    def _columns(self, infos: Sequence[ChunkInfo], components: Sequence[str] | None = None) -> dict[str, pl.DataType]:
        """Query columns of chunks, from their schemas alone (no chunk body is read)."""
        out: dict[str, pl.DataType] = {ENTITY: pl.String(), ROW_ID: pl.UInt64()}
        for name, kind in self._timelines.items():
            if any(name in c.timelines for c in infos):
                out[name] = timeline_dtype(kind)
        for sid in dict.fromkeys(c.schema_id for c in infos):
            for name, dtype in self._component_dtypes(sid).items():
                if name not in out and (components is None or name in components):
                    out[name] = dtype
        return out

    def _component_dtypes(self, schema_id: int) -> dict[str, pl.DataType]:
        """The Polars types of a schema's components (cached: queries ask for them every time)."""
        dtypes = self._dtypes.get(schema_id)
        if dtypes is None:
            fields = [f for f in self._schema(schema_id) if f.name != ROW_ID and timeline_kind_of(f) is None]
            empty = pl.from_arrow(pa.table({f.name: pa.array([], type=f.type) for f in fields}))
            assert isinstance(empty, pl.DataFrame)
            dtypes = dict(empty.schema)
            self._dtypes[schema_id] = dtypes
        return dtypes

    def _infos_for(self, entity: str) -> list[ChunkInfo]:
        infos = self._entity_index().get(entity, [])
        if not infos:
            raise ValueError(f"no entity {entity!r} in {self.path}; entities: {self._entity_list()}")
        return infos

    def _entity_index(self) -> dict[str, list[ChunkInfo]]:
        """Each entity's chunks, in file order."""
        if self._by_entity is None:
            by_entity: dict[str, list[ChunkInfo]] = {}
            for c in self.index:
                by_entity.setdefault(c.entity, []).append(c)
            self._by_entity = by_entity
        return self._by_entity

    def drop_record(self, offset: int) -> list[ChunkInfo]:
        """Leave a (damaged) chunk record out of every later query; returns its chunks."""
        gone = [c for c in self.index if c.record_offset == offset]
        if gone:
            self.index = [c for c in self.index if c.record_offset != offset]
            self._by_entity = None
        return gone

    def _entity_list(self, limit: int = 20) -> str:
        names = sorted(self._entity_index())
        text = ", ".join(names[:limit])
        return text + (f", ... ({len(names)} in all)" if len(names) > limit else "")

    # --- chunk selection and reading -------------------------------------------------------
    def select(
        self,
        entities: str | Sequence[str] = "**",
        *,
        timeline: str | None = None,
        start: int | None = None,
        end: int | None = None,
        timeless: bool = True,
    ) -> list[ChunkInfo]:
        """Index entries of the chunks a query needs (raw int64 bounds, inclusive)."""
        entity_index = self._entity_index()
        patterns = [EntityPathPattern.parse(p) for p in ([entities] if isinstance(entities, str) else entities)]
        # Match each entity once, not each of its chunks.
        matched = [e for e in entity_index if any(p.matches(e) for p in patterns)]
        if not matched:
            shown = entities if isinstance(entities, str) else ", ".join(entities)
            raise ValueError(f"no entity matches {shown!r}; entities: {self._entity_list()}")
        if len(matched) == 1:
            candidates: Iterable[ChunkInfo] = entity_index[matched[0]]
        else:
            wanted = set(matched)
            candidates = (c for c in self.index if c.entity in wanted)
        out = []
        for c in candidates:
            if c.timeless:
                if timeless:
                    out.append(c)
            elif timeline is None or c.overlaps(timeline, start, end):
                out.append(c)
        return out

    def read_chunks(self, infos: Sequence[ChunkInfo]) -> Iterator[Chunk]:
        """Read chunks, decoding their records in parallel threads (zstd releases the GIL)."""
        batches = self._decode_records(infos)
        for c in infos:
            batch = self._rows_of(c, batches[c.record_offset])
            self.stats.chunks_read += 1
            yield Chunk(c.entity, c.kind, batch, c.recording)

    def _decode_records(self, infos: Sequence[ChunkInfo]) -> dict[int, pa.RecordBatch]:
        """Decode each record holding one of ``infos`` once, in parallel threads."""
        records = list({c.record_offset: c for c in infos}.values())
        schemas = {sid: self._schema(sid) for sid in {c.schema_id for c in records}}  # before the threads start
        fd, path = self._fd, self.path
        if fd < 0:
            raise ValueError(f"{path}: the recording is closed")

        def decode(info: ChunkInfo) -> pa.RecordBatch:
            return decode_record(fd, path, info, schemas[info.schema_id])

        if sum(c.record_size for c in records) < PARALLEL_MIN_BYTES:
            batches = [decode(c) for c in records]
        else:
            batches = parallel_map(decode, records)
        with self._lock:
            self.stats.records_decoded += len(batches)
            self.stats.bytes_read += sum(b.nbytes for b in batches)
        return {c.record_offset: b for c, b in zip(records, batches, strict=True)}

    def _rows_of(self, info: ChunkInfo, batch: pa.RecordBatch) -> pa.RecordBatch:
        return rows_of(self.path, info, batch)

    def frames(
        self,
        infos: Sequence[ChunkInfo],
        *,
        components: Sequence[str] | None = None,
        windows: Mapping[str, Window] | None = None,
    ) -> Iterable[pl.DataFrame]:
        """The rows of chunks as frames (one per run of chunks sharing a schema).

        ``windows`` keeps, in chunks that are not timeless, only the rows within these
        inclusive raw bounds on these timelines (rows null there are dropped).
        """
        batches = self._decode_records(infos)
        parts = chunk_parts(self.path, infos, batches, windows)
        self.stats.chunks_read += len(infos)
        return parts_frames(parts, components=components)

    # --- queries ---------------------------------------------------------------------------
    def bounds(self, timeline: str, start: TimeValue, end: TimeValue) -> tuple[int | None, int | None]:
        return timeline_bounds(self.timeline_kind(timeline), timeline, start, end)

    def range(
        self,
        entities: str | Sequence[str] = "**",
        *,
        timeline: str | None = None,
        start: TimeValue = None,
        end: TimeValue = None,
        components: Sequence[str] | None = None,
    ) -> pl.DataFrame:
        """Every logged row of the matching entities within ``[start, end]`` on ``timeline``.

        Parameters
        ----------
        entities
            Glob pattern(s): ``"world/**"``, ``"world/camera/*"``.
        timeline
            Timeline the bounds apply to. Rows not on it are left out; timeless rows are
            included with null times. None: every row, no bounds.
        start, end
            Inclusive bounds: integers on sequence timelines; on time timelines integer
            nanoseconds, float seconds, ISO-8601 strings or datetimes.
        components
            Component columns to return (default all).

        Returns
        -------
        polars.DataFrame
            Long form: ``entity``, ``row_id``, each timeline, then the components; sorted by
            the timeline (timeless rows first) then ``row_id``.

        Examples
        --------
        >>> rec.range("world/lidar", timeline="frame", start=100, end=199)  # doctest: +SKIP
        """
        everything = self.select(entities)
        columns = self._range_columns(everything, components)
        if timeline is None:
            if start is not None or end is not None:
                raise ValueError("start/end need a timeline=")
            frame = concat_frames(self.frames(everything, components=components), self._timelines)
            return _complete(frame if _is_sorted(frame, ROW_ID) else frame.sort(ROW_ID), columns)
        lo, hi = self.bounds(timeline, start, end)
        infos = [c for c in everything if c.timeless or c.overlaps(timeline, lo, hi)]
        # Rows not on this timeline are not in its range: the window drops them.
        timed = concat_frames(
            self.frames([c for c in infos if not c.timeless], components=components, windows={timeline: (lo, hi)}), {}
        )
        if timeline not in timed.columns:
            timed = timed.with_columns(pl.lit(None, dtype=timeline_dtype(self._timelines[timeline])).alias(timeline))
        if not (_is_sorted(timed, timeline) and _is_sorted(timed, ROW_ID)):
            timed = timed.sort([timeline, ROW_ID])
        timeless = [c for c in infos if c.timeless]
        if not timeless:
            return _complete(timed, columns)
        # Timeless rows belong to every time: they come first, with null times.
        still = concat_frames(self.frames(timeless, components=components), {}).sort(ROW_ID)
        return _complete(concat_frames([still, timed], self._timelines), columns)

    def _range_columns(self, infos: Sequence[ChunkInfo], components: Sequence[str] | None) -> dict[str, pl.DataType]:
        """The columns of a range over ``infos`` (every chunk of its entities): they do not depend
        on its window, even an empty one."""
        columns = self._columns(infos, components)
        if components is not None:
            unknown = [c for c in components if c not in columns]
            if unknown:
                have = ", ".join(c for c in self._columns(infos) if c not in (ENTITY, ROW_ID, *self._timelines))
                names = ", ".join(map(repr, unknown))
                raise ValueError(f"components: no {names} in the matching entities; they have: {have}")
        return columns

    def latest_at(self, timeline: str, t: TimeValue, entities: str | Sequence[str] = "**") -> pl.DataFrame:
        """For each entity, the latest value of each component at or before ``t``.

        Timeless data counts as logged before any time. Ties between rows at the same time
        are broken by logging order (row id).

        Returns
        -------
        polars.DataFrame
            One row per entity (and data kind): ``entity``, ``kind``, ``timeline`` (the time of
            the entity's latest row, null when only timeless data applies), then the components.

        Examples
        --------
        >>> rec.latest_at("frame", 120, entities="world/**")  # doctest: +SKIP
        """
        from ._latest import latest_at

        return latest_at(self, timeline, t, entities)

    def dataset(
        self,
        index: str = "frame",
        columns: Sequence[str] | None = None,
        *,
        start: TimeValue = None,
        end: TimeValue = None,
        fill: str | None = "latest",
        sample: Any = None,
    ) -> pl.DataFrame:
        """The wide view a training pipeline wants: one row per index value, one column per component.

        Parameters
        ----------
        index
            The timeline that indexes rows.
        columns
            ``"entity:component"`` names (``"world/robot:positions3d"``), or an entity alone for
            all of its components. Default: every component of every entity.
        start, end
            Inclusive bounds on the index.
        fill
            ``"latest"`` fills each column with its latest value at or before the row's index
            value (latest-at semantics); ``None`` leaves nulls where a column has no data at
            exactly that index value.
        sample
            Rows at these index values instead of where data is: a number of Hz on a time
            timeline (``sample=10`` is a 10 Hz grid), a step on a sequence timeline, or an
            explicit sequence of index values.

        Returns
        -------
        polars.DataFrame
            ``index`` then one column per ``entity:component``. Timeless data never makes rows
            on its own; it fills its column in every row.

        Examples
        --------
        >>> rec.dataset("sensor_time", ["camera/image:tensor", "world/robot:translation"], sample=10)  # doctest: +SKIP
        """
        from ._dataset import dataset

        return dataset(self, index, columns, start=start, end=end, fill=fill, sample=sample)

    def close(self) -> None:
        self._reader.close()
        fd, self._fd = getattr(self, "_fd", -1), -1
        if fd >= 0:
            os.close(fd)

    def __del__(self) -> None:
        fd = getattr(self, "_fd", -1)
        if fd >= 0:
            os.close(fd)

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"Recording({self.path!r}, application_id={self.application_id!r}, recording_id={self.recording_id!r}, "
            f"{len(self.index)} chunks)"
        )


def rows_of(path: str, info: ChunkInfo, batch: pa.RecordBatch) -> pa.RecordBatch:
    """The rows of one chunk in the decoded batch of its record."""
    if info.row_start + info.rows > batch.num_rows:
        raise CorruptFileError("index entry points past the rows of its record", path=path, offset=info.record_offset)
    return batch.slice(info.row_start, info.rows)


def chunk_parts(
    path: str,
    infos: Sequence[ChunkInfo],
    batches: Mapping[int, pa.RecordBatch],
    windows: Mapping[str, Window] | None = None,
) -> list[tuple[str, pa.RecordBatch]]:
    """``(entity, rows)`` of each chunk of ``infos``, from the decoded batches of their records.

    ``windows`` keeps, in chunks that are not timeless, only the rows within these
    inclusive raw bounds on these timelines (rows null there are dropped).
    """
    parts = []
    for c in infos:
        batch = rows_of(path, c, batches[c.record_offset])
        if windows and not c.timeless:
            for name, (lo, hi) in windows.items():
                tr = c.timelines.get(name)
                batch = window(batch, name, lo, hi, tr is not None and tr.sorted)
        if batch.num_rows:
            parts.append((c.entity, batch))
    return parts


def _row_range(c: ChunkInfo) -> range:
    if c.row_id_min is None or c.row_id_max is None:
        return range(0)
    return range(c.row_id_min, c.row_id_max + 1)


def _complete(frame: pl.DataFrame, columns: dict[str, pl.DataType]) -> pl.DataFrame:
    """Add the columns a result lacks (as nulls) and order them as ``columns`` says."""
    missing = [pl.lit(None, dtype=dtype).alias(name) for name, dtype in columns.items() if name not in frame.columns]
    if missing:
        frame = frame.with_columns(missing)
    order = [*columns, *[c for c in frame.columns if c not in columns]]
    return frame if order == frame.columns else frame.select(order)


def _is_sorted(frame: pl.DataFrame, column: str) -> bool:
    if column not in frame.columns or frame.height < 2:
        return True
    s = frame.get_column(column)
    return bool(s.null_count() == 0 and s.is_sorted())


def open(path: str | os.PathLike[str], *, recording: str | int | None = None) -> Recording:
    """Open an .rrd file for queries.

    Parameters
    ----------
    path
        The file. A truncated file (a crashed robot's) opens on its sound prefix with one
        :class:`TruncatedRecordingWarning` saying how much was lost.
    recording
        Recording id or index, for files holding several recordings.

    Examples
    --------
    >>> import rrquery
    >>> rec = rrquery.open("run.rrd")  # doctest: +SKIP
    >>> rec.application_id, rec.timelines()  # doctest: +SKIP
    """
    return Recording(path, recording=recording)
