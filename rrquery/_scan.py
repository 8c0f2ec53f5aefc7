"""Lazy scans through Polars' IO plugin interface, with chunk pruning from the predicate.

Polars hands the plugin the projected columns and the filter predicate. Bounds on
timeline columns and equalities on ``entity`` are read out of the predicate (its
serialized expression tree) to skip chunks using the index, so chunks outside the
filter are never read or decompressed. The predicate itself is still applied to every
frame: pruning is an optimisation, never the filter.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl
from polars.io.plugins import register_io_source

from rrformat.chunk import ROW_ID, ChunkInfo

from ._frames import ENTITY, timeline_dtype
from ._recording import QueryStats, Recording

if TYPE_CHECKING:
    from ._many import RecordingSet

__all__ = ["scan", "Bounds", "predicate_bounds"]

_READ_AHEAD = 8  # records decoded together (in parallel threads), bounding memory


@dataclass
class Bounds:
    """What a predicate says about the rows it keeps (None: nothing known)."""

    time: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    entities: set[str] | None = None
    labels: dict[str, set[str]] = field(default_factory=dict)
    """Equalities on other string columns asked for (``recording_id`` of a multi-file scan)."""

    def narrow(self, column: str, lo: int | None, hi: int | None) -> None:
        old_lo, old_hi = self.time.get(column, (None, None))
        new_lo = lo if old_lo is None else (old_lo if lo is None else max(old_lo, lo))
        new_hi = hi if old_hi is None else (old_hi if hi is None else min(old_hi, hi))
        self.time[column] = (new_lo, new_hi)


_UNIT_NS = {"Nanoseconds": 1, "Microseconds": 1_000, "Milliseconds": 1_000_000}


def _literal(node: Any) -> Any:
    """The Python value of a literal node (unwrapping casts), or raise KeyError."""
    if "Cast" in node:
        return _literal(node["Cast"]["expr"])
    lit = node["Literal"]
    if "Dyn" in lit:
        return next(iter(lit["Dyn"].values()))
    scalar = lit["Scalar"]
    if "Datetime" in scalar:
        value, unit, _tz = scalar["Datetime"]
        return int(value) * _UNIT_NS[unit]
    if "String" in scalar:
        return str(scalar["String"])
    return next(iter(scalar.values()))


def _walk(node: Any, out: Bounds, columns: set[str], labels: frozenset[str] = frozenset()) -> None:
    if "BinaryExpr" in node:
        e = node["BinaryExpr"]
        op = e["op"]
        if op in ("And", "LogicalAnd"):
            _walk(e["left"], out, columns, labels)
            _walk(e["right"], out, columns, labels)
            return
        left, right = e["left"], e["right"]
        flip = {"Lt": "Gt", "LtEq": "GtEq", "Gt": "Lt", "GtEq": "LtEq", "Eq": "Eq"}
        if "Column" not in left and "Column" in right:
            left, right, op = right, left, flip.get(op, "")
        if "Column" not in left:
            return
        name = left["Column"]
        try:
            value = _literal(right)
        except (KeyError, TypeError, StopIteration):
            return
        if name == ENTITY and op == "Eq" and isinstance(value, str):
            out.entities = {value} if out.entities is None else out.entities & {value}
            return
        if name in labels and op == "Eq" and isinstance(value, str):
            old = out.labels.get(name)
            out.labels[name] = {value} if old is None else old & {value}
            return
        if name not in columns or isinstance(value, (str, bool)) or value is None:
            return
        if isinstance(value, float):
            lo_v, hi_v = int(-(-value // 1)), int(value // 1)  # ceil, floor
        else:
            lo_v = hi_v = int(value)
        if op == "Eq":
            out.narrow(name, lo_v, hi_v)
        elif op == "GtEq":
            out.narrow(name, lo_v, None)
        elif op == "Gt":
            out.narrow(name, hi_v + 1, None)
        elif op == "LtEq":
            out.narrow(name, None, hi_v)
        elif op == "Lt":
            out.narrow(name, None, lo_v - 1)
        return
    if "Function" in node:
        f = node["Function"]
        fn = f.get("function", {})
        # Most boolean functions serialize as a bare name ({"Boolean": "IsNull"}), not a dict.
        boolean = fn.get("Boolean") if isinstance(fn, dict) else None
        between = boolean.get("IsBetween") if isinstance(boolean, dict) else None
        inputs = f.get("input", [])
        if between is not None and len(inputs) == 3 and "Column" in inputs[0] and inputs[0]["Column"] in columns:
            try:
                lo, hi = int(_literal(inputs[1])), int(_literal(inputs[2]))
            except (KeyError, TypeError, ValueError, StopIteration):
                return
            closed = between.get("closed", "Both")
            out.narrow(
                inputs[0]["Column"],
                lo if closed in ("Both", "Left") else lo + 1,
                hi if closed in ("Both", "Right") else hi - 1,
            )


def predicate_bounds(predicate: pl.Expr | None, timelines: Sequence[str], labels: Sequence[str] = ()) -> Bounds:
    """Bounds on timeline columns, ``entity`` and ``labels`` implied by a predicate (best effort)."""
    out = Bounds()
    if predicate is None:
        return out
    try:
        tree = json.loads(predicate.meta.serialize(format="json"))
        _walk(tree, out, set(timelines), frozenset(labels))
    except Exception:  # the serialized form is not a stable Polars API: no pruning then, never a failure
        return Bounds()
    return out


def scan(
    path: str | os.PathLike[str] | Recording | RecordingSet | Sequence[str | os.PathLike[str]],
    entities: str | Sequence[str] = "**",
    timeline: str | None = None,
    *,
    recording: str | int | None = None,
    stats: QueryStats | None = None,
    application_id: str | Sequence[str] | None = None,
    recording_id: str | Sequence[str] | None = None,
    on_error: str = "warn",
) -> pl.LazyFrame:
    """A lazy Polars scan of the rows of matching entities, in one file or many.

    Filters on timeline columns (``pl.col("frame").is_between(10, 20)``, comparisons,
    ``entity == ...``) and column selections are pushed down: chunks outside the filter
    are never read or decompressed.

    Parameters
    ----------
    path
        The .rrd file, or a :class:`Recording` already open (its index is not read again:
        repeated scans of one file skip the cost of opening it). Or many recordings: a
        glob (``"runs/**/*.rrd"``), a directory, a list of files, or a
        :class:`RecordingSet` (see :func:`open_many`); the scan then has
        ``application_id`` and ``recording_id`` columns first, filters on them
        (``pl.col("recording_id") == "..."``) are pushed down too, and recordings outside
        the filters are not read.
    entities
        Glob pattern(s) of the entities to include.
    timeline
        If given, only rows on this timeline (plus timeless rows) are included.
    recording
        Recording id or index for files with several recordings.
    stats
        A :class:`QueryStats` to count what the scan read (records decoded, chunks read).
    application_id, recording_id, on_error
        Many recordings: as for :func:`open_many` (given with a single file, they make it
        a scan of many recordings, with the id columns).

    Returns
    -------
    polars.LazyFrame
        Columns ``entity``, ``row_id``, the timelines (times as Datetime(ns, UTC)) and the
        components of the matching entities (null where an entity lacks one).

    Examples
    --------
    >>> lf = rrquery.scan("run.rrd", "robot/**", timeline="frame")  # doctest: +SKIP
    >>> lf.filter(pl.col("frame").is_between(1000, 1010)).select("frame", "scalar").collect()  # doctest: +SKIP
    >>> rrquery.scan("runs/**/*.rrd", "robot/speed", timeline="frame").filter(pl.col("frame") < 100)  # doctest: +SKIP
    """
    from ._many import RecordingSet, is_many, open_many

    many = application_id is not None or recording_id is not None
    if isinstance(path, RecordingSet):
        if many:
            raise ValueError("application_id/recording_id apply when opening: pass them to open_many")
        return path.scan(entities, timeline, stats=stats)
    if many or (not isinstance(path, Recording) and is_many(path)):
        if recording is not None:
            raise ValueError("recording= picks a recording of one file; with many files, use recording_id=")
        assert not isinstance(path, Recording)
        rs = open_many(path, application_id=application_id, recording_id=recording_id, on_error=on_error)
        return rs.scan(entities, timeline, stats=stats)
    if not isinstance(path, (str, os.PathLike, Recording)):
        raise TypeError(f"expected a path, a list of paths or a Recording, got {type(path).__name__}")
    if isinstance(path, Recording):
        if recording is not None:
            raise ValueError("recording= applies to a path; this Recording is already one recording")
        rec = path
    else:
        rec = Recording(path, recording=recording)
    if timeline is not None:
        rec.timeline_kind(timeline)
    infos = rec.select(entities)
    if timeline is not None:
        infos = [c for c in infos if c.timeless or timeline in c.timelines]
    schema: dict[str, pl.DataType] = {ENTITY: pl.String(), ROW_ID: pl.UInt64()}
    for name, kind in rec._timelines.items():
        # The scan's own timeline is a column even when no matching entity is on it (then no rows).
        if name == timeline or any(name in c.timelines for c in infos):
            schema[name] = timeline_dtype(kind)
    for sid in dict.fromkeys(c.schema_id for c in infos):
        for name, dtype in rec._component_dtypes(sid).items():
            schema.setdefault(name, dtype)
    time_kinds = {k: v for k, v in rec._timelines.items() if k in schema}
    counter = stats if stats is not None else QueryStats()

    def source(
        with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, batch_size: int | None
    ) -> Iterator[pl.DataFrame]:
        bounds = predicate_bounds(predicate, list(time_kinds))
        chosen = _prune(infos, bounds, timeline)
        wanted = list(schema) if with_columns is None else with_columns
        needed = set(wanted) | (set(predicate.meta.root_names()) if predicate is not None else set())
        components = [c for c in needed if c not in time_kinds and c not in (ENTITY, ROW_ID)]
        emitted = 0
        stats = rec.stats
        seen = [stats.records_decoded, stats.chunks_read, stats.bytes_read]

        def count() -> None:
            # Count what was read before each frame is handed over: Polars may stop pulling
            # at any yield (head() after a filter, slice()) and never resume the generator.
            now = [stats.records_decoded, stats.chunks_read, stats.bytes_read]
            counter.records_decoded += now[0] - seen[0]
            counter.chunks_read += now[1] - seen[1]
            counter.bytes_read += now[2] - seen[2]
            seen[:] = now

        # Rows outside the predicate's bounds are cut from each chunk before it becomes a
        # frame (a slice when the chunk is sorted on that timeline); the scan's timeline drops
        # the rows that are not on it.
        windows = dict(bounds.time)
        if timeline is not None and timeline not in windows:
            windows[timeline] = (None, None)
        # With a row limit (head()) the first group is one record. Otherwise it is four: each
        # group costs its own Arrow-to-Polars conversion and a wait for the slowest thread, and
        # a small query (ten frames of a point cloud) is then read in two groups, not four.
        for group in _record_groups(chosen, first=1 if n_rows is not None else 4):
            frames = list(rec.frames(group, components=components, windows=windows))
            count()
            for frame in frames:
                frame = _conform(frame, schema)
                if predicate is not None:
                    frame = filter_rows(frame, predicate)
                if frame.columns != wanted:
                    frame = frame.select(wanted)
                if n_rows is not None:
                    frame = frame.head(n_rows - emitted)
                emitted += frame.height
                if frame.height:
                    yield frame
                if n_rows is not None and emitted >= n_rows:
                    return

    return register_io_source(source, schema=schema, explain_name="rrd", explain_detail=rec.path)


def filter_rows(frame: pl.DataFrame, predicate: pl.Expr) -> pl.DataFrame:
    """The rows of ``frame`` where ``predicate`` holds."""
    # The window usually applied the predicate already: skip the copy then.
    keep = frame.select(predicate).to_series()
    if len(keep) != frame.height:  # a scalar predicate (pl.lit(False)): let filter broadcast it
        return frame.filter(predicate)
    if not (keep.null_count() == 0 and keep.all()):
        return frame.filter(keep)
    return frame


def _record_groups(chosen: list[ChunkInfo], *, first: int = 1) -> Iterator[list[ChunkInfo]]:
    """Chunks in groups of records, never splitting a record.

    The first group holds ``first`` records and later ones double up to _READ_AHEAD: a
    scan that stops early (``head()``) decodes little, a full scan still decodes in parallel.
    """
    group: list[ChunkInfo] = []
    records: set[int] = set()
    limit = first
    for c in chosen:
        if c.record_offset not in records and len(records) == limit:
            yield group
            group, records = [], set()
            limit = min(2 * limit, _READ_AHEAD)
        group.append(c)
        records.add(c.record_offset)
    if group:
        yield group


def _prune(infos: list[ChunkInfo], bounds: Bounds, timeline: str | None) -> list[ChunkInfo]:
    out = []
    for c in infos:
        if bounds.entities is not None and c.entity not in bounds.entities:
            continue
        keep = True
        for name, (lo, hi) in bounds.time.items():
            # A bound on a timeline drops rows that are null there, timeless rows included.
            if c.timeless or not c.overlaps(name, lo, hi):
                keep = False
                break
        if keep:
            out.append(c)
    return out


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    missing = [pl.lit(None, dtype=dtype).alias(name) for name, dtype in schema.items() if name not in frame.columns]
    if missing:
        frame = frame.with_columns(missing)
    have = frame.schema  # built on each access (costly with nested types): once here
    casts = [pl.col(n).cast(schema[n]) for n, dtype in have.items() if n in schema and dtype != schema[n]]
    return frame.with_columns(casts) if casts else frame
