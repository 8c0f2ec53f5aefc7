"""Many recordings as one dataset: multi-file queries planned from the files' indexes.

:func:`open_many` reads the index of every file (its footer; or a fresh entry of a
catalog cache, see :mod:`rrquery._catalog`, and then the file is not even opened) and
keeps one summary per recording. A query first leaves out the recordings whose summary
rules them out (application or recording id, entities, timeline span), then the chunks
whose index entries do; only what is left is read and decompressed.

Every query runs per recording: latest-at and filling never carry a value from one
recording into another. Results carry ``application_id`` and ``recording_id`` columns.
A file that cannot be read, or a damaged chunk record, costs its own rows and a
:class:`SkippedDataWarning`, not the query (unless ``on_error="raise"``).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import glob
import os
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import polars as pl
from polars.io.plugins import register_io_source

from rrformat.chunk import ROW_ID, ChunkInfo, TimelineKind
from rrformat.entity_path import EntityPathPattern
from rrformat.errors import RrdError
from rrformat.reader import RrdReader

from ._catalog import FileProblem, RecordingSummary, catalog_frame, file_key, find_cached, summarize
from ._dataset import parse_columns
from ._frames import ENTITY, Window, timeline_dtype
from ._recording import QueryStats, Recording
from ._scan import _conform, _prune, _record_groups, filter_rows, predicate_bounds
from ._timebounds import TimeValue, timeline_bounds, to_timeline_value

__all__ = [
    "APPLICATION_ID",
    "RECORDING_ID",
    "RecordingSet",
    "SkippedDataWarning",
    "expand_paths",
    "is_many",
    "open_many",
]

APPLICATION_ID = "application_id"
RECORDING_ID = "recording_id"
ID_COLUMNS = (APPLICATION_ID, RECORDING_ID)

MAX_OPEN = 64
"""Recordings kept open at once (two file descriptors each); others are reopened when needed."""

_WORKERS = max(1, min(4, os.cpu_count() or 2))
_GLOB_CHARS = frozenset("*?[")

_T = TypeVar("_T")
_X = TypeVar("_X")


class SkippedDataWarning(UserWarning):
    """A file, or a damaged chunk record of one, could not be read: its rows are left out."""


def with_ids(frame: pl.DataFrame, application_id: str, recording_id: str) -> pl.DataFrame:
    """``frame`` with the ids of the recording its rows come from (set order: they are moved first later)."""
    return frame.with_columns(
        pl.lit(application_id, dtype=pl.String).alias(APPLICATION_ID),
        pl.lit(recording_id, dtype=pl.String).alias(RECORDING_ID),
    )


# --- paths ------------------------------------------------------------------------------------
def _is_glob(text: str) -> bool:
    return any(ch in _GLOB_CHARS for ch in text)


def is_many(paths: object) -> bool:
    """Whether ``paths`` names several files (a list, a glob, a directory), not one file."""
    if isinstance(paths, (str, os.PathLike)):
        text = os.fspath(paths)
        if os.path.isfile(text):
            return False
        return os.path.isdir(text) or (isinstance(text, str) and _is_glob(text))
    return isinstance(paths, Sequence)


def expand_paths(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[str]:
    """The files named by paths, globs (``runs/**/*.rrd``) and directories (every ``.rrd`` below).

    Globs and directories are expanded in sorted order; a file named twice is kept once.

    Raises
    ------
    FileNotFoundError
        A named file that does not exist, or a glob or directory that holds no file.
    """
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not items:
        raise ValueError("no file given")
    out: list[str] = []
    seen: set[str] = set()
    for item in items:
        text = os.fspath(item)
        if not isinstance(text, str):
            raise TypeError(f"expected a path, got {item!r}")
        if os.path.isfile(text):
            found = [text]
        elif os.path.isdir(text):
            found = sorted(p for p in glob.glob(os.path.join(glob.escape(text), "**", "*.rrd"), recursive=True))
            found = [p for p in found if os.path.isfile(p)]
            if not found:
                raise FileNotFoundError(2, "no .rrd file in this directory", text)
        elif _is_glob(text):
            found = sorted(p for p in glob.glob(text, recursive=True) if os.path.isfile(p))
            if not found:
                raise FileNotFoundError(2, "no file matches this pattern", text)
        else:
            raise FileNotFoundError(2, "no such file", text)
        for p in found:
            key = os.path.realpath(p)
            if key not in seen:
                seen.add(key)
                out.append(p)
    return out


def _names(value: str | Sequence[str] | None, arg: str) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset([value])
    names = frozenset(value)
    if not all(isinstance(v, str) for v in names):
        raise TypeError(f"{arg} must be a string or a list of strings")
    return names


# --- the set --------------------------------------------------------------------------------------
@dataclass(eq=False)
class Member:
    """One recording of the set: its summary, and the recording once opened."""

    summary: RecordingSummary
    rec: Recording | None = None
    busy: int = 0

    @property
    def path(self) -> str:
        return self.summary.path

    @property
    def label(self) -> str:
        s = self.summary
        return f"{s.path} (recording {s.recording_id})"


@dataclass
class _Patterns:
    """Entity patterns, with each entity name matched once per query."""

    texts: list[str]
    parsed: list[EntityPathPattern]
    cache: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def of(cls, entities: str | Sequence[str]) -> _Patterns:
        texts = [entities] if isinstance(entities, str) else list(entities)
        if not texts:
            raise ValueError("no entity pattern given")
        return cls(texts, [EntityPathPattern.parse(t) for t in texts])

    def matches(self, entity: str) -> bool:
        hit = self.cache.get(entity)
        if hit is None:
            hit = self.cache[entity] = any(p.matches(entity) for p in self.parsed)
        return hit

    def matched(self, entities: Sequence[str]) -> list[str]:
        return [e for e in entities if self.matches(e)]

    def for_recording(self, entities: Sequence[str]) -> list[str]:
        """The patterns that match something among ``entities`` (each must, in a one-recording query)."""
        return [t for t, p in zip(self.texts, self.parsed, strict=True) if any(p.matches(e) for e in entities)]

    def shown(self) -> str:
        return ", ".join(self.texts)


class RecordingSet:
    """Recordings of many files, queried as one dataset. Use :func:`open_many`.

    Results have ``application_id`` and ``recording_id`` columns first, then the columns
    of the one-recording query; rows come recording by recording (in path order).

    Attributes
    ----------
    members
        The recordings, in path order (each with its summary).
    problems
        Files (or parts of them) that could not be read, and why.
    stats
        What queries read (records decoded, chunks read, bytes, files read).
    """

    def __init__(self, members: list[Member], problems: list[FileProblem], *, on_error: str = "warn") -> None:
        if on_error not in ("warn", "raise"):
            raise ValueError(f"on_error must be 'warn' or 'raise', got {on_error!r}")
        self.members = members
        self.problems = problems
        self.on_error = on_error
        self.stats = QueryStats()
        self._lock = threading.Lock()
        self._open: collections.OrderedDict[int, Member] = collections.OrderedDict()
        self._closed = QueryStats()
        self._kinds: dict[str, TimelineKind] | None = None

    # --- description ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.members)

    def __repr__(self) -> str:
        files = len({m.path for m in self.members})
        return f"RecordingSet({len(self.members)} recordings in {files} files)"

    def recordings(self) -> pl.DataFrame:
        """The catalog table of the recordings (see :func:`rrquery.catalog`), files that failed included."""
        return catalog_frame([m.summary for m in self.members], self.problems)

    def timeline_kinds(self) -> dict[str, TimelineKind]:
        """Every timeline of the set and its kind; ``ValueError`` if recordings disagree on one."""
        if self._kinds is None:
            kinds: dict[str, TimelineKind] = {}
            where: dict[str, str] = {}
            for m in self.members:
                for name, span in m.summary.timelines.items():
                    kind = TimelineKind(span.kind)
                    if kinds.setdefault(name, kind) is not kind:
                        first = f"a {kinds[name].value} in {where[name]}"
                        raise ValueError(f"timeline {name!r} is {first} but a {kind.value} in {m.path}")
                    where.setdefault(name, m.path)
            ordered = {k: kinds[k] for k in sorted(kinds) if k != "log_time"}
            if "log_time" in kinds:
                ordered["log_time"] = kinds["log_time"]
            self._kinds = ordered
        return self._kinds

    def timeline_kind(self, timeline: str) -> TimelineKind:
        kinds = self.timeline_kinds()
        kind = kinds.get(timeline)
        if kind is None:
            raise ValueError(f"unknown timeline {timeline!r}; the recordings have: {', '.join(kinds) or 'none'}")
        return kind

    def bounds(self, timeline: str, start: TimeValue, end: TimeValue) -> tuple[int | None, int | None]:
        return timeline_bounds(self.timeline_kind(timeline), timeline, start, end)

    def entity_names(self) -> list[str]:
        return sorted({e for m in self.members for e in m.summary.entities})

    def _entity_list(self, limit: int = 20) -> str:
        names = self.entity_names()
        text = ", ".join(names[:limit])
        return (text + (f", ... ({len(names)} in all)" if len(names) > limit else "")) or "none"

    def entities(self, pattern: str = "**") -> pl.DataFrame:
        """Entities matching a glob, with the number of recordings holding each: ``entity``, ``recordings``."""
        pats = _Patterns.of(pattern)
        counts: collections.Counter[str] = collections.Counter()
        for m in self.members:
            counts.update(pats.matched(m.summary.entities))
        if not counts and pattern != "**":
            raise ValueError(f"no entity matches {pattern!r}; entities: {self._entity_list()}")
        rows = sorted(counts.items())
        return pl.DataFrame(rows, schema={ENTITY: pl.String, "recordings": pl.Int64}, orient="row")

    # --- opening and errors ------------------------------------------------------------------
    @contextlib.contextmanager
    def recording(self, member: Member) -> Iterator[Recording]:
        """The member's recording, opened if needed and kept open while in use.

        At most :data:`MAX_OPEN` recordings stay open: the least recently used one that is
        not in use is closed when another must be opened.
        """
        with self._lock:
            member.busy += 1
            self._open.pop(id(member), None)
            self._open[id(member)] = member
        try:
            if member.rec is None:
                with self._lock:
                    need = member.rec is None
                if need:
                    rec = Recording(member.path, recording=member.summary.index)
                    with self._lock:
                        if member.rec is None:
                            member.rec = rec
                        else:
                            rec.close()
            assert member.rec is not None
            yield member.rec
        finally:
            with self._lock:
                member.busy -= 1
                self._evict()

    def _evict(self) -> None:
        while len(self._open) > MAX_OPEN:
            victim = next((m for m in self._open.values() if m.busy == 0), None)
            if victim is None:
                return
            del self._open[id(victim)]
            self._close_member(victim)

    def _failed(self, what: str, exc: BaseException, path: str) -> None:
        """Report data left out; re-raise with ``on_error="raise"``."""
        if self.on_error == "raise":
            raise exc
        message = f"{what}: {exc}" if str(path) in str(exc) else f"{what}: {path}: {exc}"
        problem = dataclasses.replace(FileProblem.of(path, None, exc), error=message)
        with self._lock:
            self.problems.append(problem)
        warnings.warn(message, SkippedDataWarning, stacklevel=4)

    def _each(self, items: Sequence[tuple[Member, _X]], fn: Callable[[Recording, _X], _T]) -> list[tuple[Member, _T]]:
        """``fn(recording, extra)`` for each ``(member, extra)``, in parallel threads, in order.

        Members whose file fails are left out (with a warning), or raise with ``on_error="raise"``.
        """

        def one(item: tuple[Member, _X]) -> tuple[Member, _T] | None:
            m, extra = item
            try:
                with self.recording(m) as rec:
                    before = rec.stats.records_decoded
                    while True:
                        try:
                            out = fn(rec, extra)
                            break
                        except RrdError as exc:
                            # A damaged chunk record: leave it out and ask again.
                            gone = rec.drop_record(exc.offset) if exc.offset is not None else []
                            if self.on_error == "raise" or not gone:
                                raise
                            rows = sum(c.rows for c in gone)
                            self._failed(f"left out {rows} rows of a damaged chunk record", exc, m.path)
                    if rec.stats.records_decoded != before:
                        with self._lock:
                            self.stats.files_read += 1
                    return m, out
            except (RrdError, OSError) as exc:
                self._failed(f"left out {m.label}", exc, m.path)
                return None
            finally:
                self._gather_stats()

        if len(items) <= 1:
            results = [one(item) for item in items]
        else:
            # Threads of our own: the decoding pool's threads wait on helpers of that same pool.
            with ThreadPoolExecutor(min(_WORKERS, len(items)), thread_name_prefix="rrquery-many") as pool:
                results = list(pool.map(one, items))
        return [r for r in results if r is not None]

    def _gather_stats(self) -> None:
        """Sum the counts of the member recordings (and of those closed since) into :attr:`stats`."""
        with self._lock:
            decoded, chunks, nbytes = self._closed.records_decoded, self._closed.chunks_read, self._closed.bytes_read
            for m in self._open.values():  # the recordings open now; the others are in _closed
                if m.rec is not None:
                    decoded += m.rec.stats.records_decoded
                    chunks += m.rec.stats.chunks_read
                    nbytes += m.rec.stats.bytes_read
            self.stats.records_decoded, self.stats.chunks_read, self.stats.bytes_read = decoded, chunks, nbytes

    def _close_member(self, m: Member) -> None:
        """Close a member's recording, keeping its counts (call with the lock held)."""
        rec, m.rec = m.rec, None
        if rec is not None:
            self._closed.records_decoded += rec.stats.records_decoded
            self._closed.chunks_read += rec.stats.chunks_read
            self._closed.bytes_read += rec.stats.bytes_read
            rec.close()

    # --- planning -------------------------------------------------------------------------------
    def candidates(
        self,
        entities: str | Sequence[str] = "**",
        *,
        timeline: str | None = None,
        lo: int | None = None,
        hi: int | None = None,
        timeless: bool = True,
        require_timeline: bool = True,
    ) -> list[tuple[Member, list[str]]]:
        """Members that may hold rows of a query, from their summaries alone, with the
        patterns each one matches.

        ``ValueError`` if no recording holds an entity matching the patterns.
        """
        pats = _Patterns.of(entities)
        out: list[tuple[Member, list[str]]] = []
        any_match = False
        for m in self.members:
            s = m.summary
            matched = pats.matched(s.entities)
            if not matched:
                continue
            any_match = True
            if timeline is not None:
                span = s.timelines.get(timeline)
                still = timeless and any(e in s.timeless_entities for e in matched)
                if span is None and (require_timeline or not still):
                    continue
                if span is not None and not still and not span.overlaps(lo, hi):
                    continue
            out.append((m, pats.for_recording(matched)))
        if not any_match:
            raise ValueError(f"no entity matches {pats.shown()!r} in any recording; entities: {self._entity_list()}")
        return out

    # --- queries ----------------------------------------------------------------------------------
    def range(
        self,
        entities: str | Sequence[str] = "**",
        *,
        timeline: str | None = None,
        start: TimeValue = None,
        end: TimeValue = None,
        components: Sequence[str] | None = None,
    ) -> pl.DataFrame:
        """The rows of :meth:`Recording.range` of each recording, one after the other.

        Recordings without ``timeline`` are left out when one is given. Returns
        ``application_id``, ``recording_id``, then the columns of ``Recording.range``
        (components a recording lacks are null).
        """
        if timeline is None:
            if start is not None or end is not None:
                raise ValueError("start/end need a timeline=")
            lo = hi = None
        else:
            lo, hi = self.bounds(timeline, start, end)
        chosen = self.candidates(entities, timeline=timeline, lo=lo, hi=hi)
        wanted = None if components is None else list(components)

        def one(rec: Recording, pats: list[str]) -> pl.DataFrame:
            comps = wanted
            if wanted is not None:
                have = rec._columns(rec.select(pats))
                comps = [c for c in wanted if c in have]
            return rec.range(pats, timeline=timeline, start=lo, end=hi, components=comps)

        results = self._each(chosen, one)
        if wanted is not None:
            found = {c for _, f in results for c in f.columns}
            unknown = [c for c in wanted if c not in found]
            if unknown and results:
                raise ValueError(f"components: no {', '.join(map(repr, unknown))} in the matching entities")
        return self._combine(results, timeline)

    def latest_at(self, timeline: str, t: TimeValue, entities: str | Sequence[str] = "**") -> pl.DataFrame:
        """:meth:`Recording.latest_at` in each recording holding ``timeline``: never a value of another recording."""
        kind = self.timeline_kind(timeline)
        at = to_timeline_value(t, kind, arg="t", timeline=timeline)
        if at is None:
            raise ValueError("t must be given")
        chosen = self.candidates(entities, timeline=timeline, lo=None, hi=at)
        results = self._each(chosen, lambda rec, pats: rec.latest_at(timeline, at, pats))
        order = [ENTITY, "kind", timeline]
        return self._combine(results, timeline, order=order if results else None)

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
        """:meth:`Recording.dataset` of each recording (computed in parallel), one after the other.

        Each recording has its own rows (its index values, or its own ``sample`` grid) and
        is filled from its own values only. A column is computed in the recordings that
        hold it and null in the others; recordings holding none of the columns, or not
        the ``index`` timeline, have no rows.
        """
        self.bounds(index, start, end)  # checks the timeline and the bounds once, for every recording
        if fill not in ("latest", None):
            raise ValueError(f"fill must be 'latest' or None, got {fill!r}")
        specs = [columns] if isinstance(columns, str) else (None if columns is None else list(columns))
        plans, names = self.dataset_plan(index, specs)
        results = self._each(
            list(plans.items()),
            lambda rec, cols: rec.dataset(index, cols, start=start, end=end, fill=fill, sample=sample),
        )
        return self._combine(results, None, order=[index, *names])

    def dataset_plan(self, index: str, specs: Sequence[str] | None) -> tuple[dict[Member, list[str]], list[str]]:
        """The ``entity:component`` columns each recording computes, for recordings holding ``index``.

        Specs are those of :meth:`Recording.dataset` (``entity:component``, or an entity for
        all its components). Recordings that may hold a column are opened to list their
        components. Returns the columns of each recording and the names of all columns, in
        order. ``ValueError`` if a column is in no recording.
        """
        wanted = None if specs is None else {s.rpartition(":")[0] if ":" in s else s for s in specs}
        chosen = [
            (m, None)
            for m in self.members
            if index in m.summary.timelines and (wanted is None or any(e in wanted for e in m.summary.entities))
        ]

        def available(rec: Recording, _: None) -> list[str]:
            return [f"{e}:{c}" for e, c in parse_columns(rec, None)]

        def expand(spec: str, have: Sequence[str]) -> list[str]:
            return ([spec] if spec in have else []) if ":" in spec else [h for h in have if h.startswith(spec + ":")]

        found: set[str] = set()
        plans: dict[Member, list[str]] = {}
        for m, have in self._each(chosen, available):
            found.update(have)
            mine = have if specs is None else list(dict.fromkeys(c for s in specs for c in expand(s, have)))
            if mine:
                plans[m] = mine
        if specs is None:
            names = list(dict.fromkeys(c for cols in plans.values() for c in cols))
            return plans, names
        everything = sorted(found)
        missing = [s for s in specs if not expand(s, everything)]
        if missing:
            shown = ", ".join(map(repr, missing))
            raise ValueError(f"columns: {shown} in no recording holding timeline {index!r}")
        return plans, list(dict.fromkeys(c for s in specs for c in expand(s, everything)))

    def _combine(
        self, results: list[tuple[Member, pl.DataFrame]], timeline: str | None, order: Sequence[str] | None = None
    ) -> pl.DataFrame:
        frames = [
            f.with_columns(
                pl.lit(m.summary.application_id, dtype=pl.String).alias(APPLICATION_ID),
                pl.lit(m.summary.recording_id, dtype=pl.String).alias(RECORDING_ID),
            )
            for m, f in results
        ]
        if not frames:
            schema: dict[str, pl.DataType] = {APPLICATION_ID: pl.String(), RECORDING_ID: pl.String()}
            if order is None:
                schema.update({ENTITY: pl.String(), ROW_ID: pl.UInt64()})
                if timeline is not None:
                    schema[timeline] = timeline_dtype(self.timeline_kind(timeline))
            return pl.DataFrame(schema=schema)
        out = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
        if order is None:
            kinds = self.timeline_kinds()
            first = [ENTITY, ROW_ID, *[t for t in kinds if t in out.columns]]
            order = [c for c in first if c in out.columns]
        missing = [pl.lit(None).alias(c) for c in order if c not in out.columns]
        if missing:
            out = out.with_columns(missing)
        head = [*ID_COLUMNS, *order]
        return out.select([*head, *[c for c in out.columns if c not in head]])

    # --- lazy scans -----------------------------------------------------------------------------
    def scan(
        self, entities: str | Sequence[str] = "**", timeline: str | None = None, *, stats: QueryStats | None = None
    ) -> pl.LazyFrame:
        """A lazy scan of every recording (see :func:`rrquery.scan`).

        Filters on timeline columns, ``entity``, ``application_id`` and ``recording_id``
        (equality) are pushed down: recordings and chunks outside them are not read.
        """
        if timeline is not None:
            self.timeline_kind(timeline)
        chosen = self.candidates(entities, timeline=timeline, require_timeline=False)
        plan: list[tuple[Member, list[ChunkInfo]]] = []
        schema: dict[str, pl.DataType] = {
            APPLICATION_ID: pl.String(),
            RECORDING_ID: pl.String(),
            ENTITY: pl.String(),
            ROW_ID: pl.UInt64(),
        }
        kinds = self.timeline_kinds()
        timelines: set[str] = set() if timeline is None else {timeline}
        components: dict[str, list[pl.DataType]] = {}
        for m, pats in chosen:
            try:
                with self.recording(m) as rec:
                    infos = rec.select(pats)
                    if timeline is not None:
                        infos = [c for c in infos if c.timeless or timeline in c.timelines]
                    for c in infos:
                        timelines.update(c.timelines)
                    for sid in dict.fromkeys(c.schema_id for c in infos):
                        for name, dtype in rec._component_dtypes(sid).items():
                            components.setdefault(name, []).append(dtype)
            except (RrdError, OSError) as exc:
                self._failed(f"left out {m.label}", exc, m.path)
                continue
            if infos:
                plan.append((m, infos))
        for name, kind in kinds.items():
            if name in timelines:
                schema[name] = timeline_dtype(kind)
        for name, dtypes in components.items():
            if name not in schema:
                schema[name] = _supertype(name, dtypes)
        time_kinds = {k: v for k, v in kinds.items() if k in schema}
        counter = stats if stats is not None else QueryStats()
        source = _ManySource(self, plan, schema, time_kinds, timeline, counter)
        detail = f"{len(plan)} recordings"
        return register_io_source(source, schema=schema, explain_name="rrd (many)", explain_detail=detail)

    def frames_of(
        self,
        rec: Recording,
        infos: Sequence[ChunkInfo],
        *,
        components: Sequence[str] | None,
        windows: dict[str, Window] | None,
    ) -> list[pl.DataFrame]:
        """``rec.frames(infos)``; a damaged record is left out (with a warning), its neighbours kept."""
        try:
            return list(rec.frames(infos, components=components, windows=windows))
        except RrdError:
            if self.on_error == "raise":
                raise
        # Read record by record, to lose only the damaged ones.
        out: list[pl.DataFrame] = []
        by_record: dict[int, list[ChunkInfo]] = {}
        for c in infos:
            by_record.setdefault(c.record_offset, []).append(c)
        for part in by_record.values():
            try:
                out.extend(rec.frames(part, components=components, windows=windows))
            except RrdError as exc:
                rows = sum(c.rows for c in part)
                self._failed(f"left out {rows} rows of a damaged chunk record", exc, rec.path)
        return out

    def close(self) -> None:
        with self._lock:
            for m in self.members:
                self._close_member(m)
            self._open.clear()

    def __enter__(self) -> RecordingSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _supertype(name: str, dtypes: list[pl.DataType]) -> pl.DataType:
    first = dtypes[0]
    if all(d == first for d in dtypes):
        return first
    try:
        merged = pl.concat([pl.DataFrame(schema={name: d}) for d in dtypes], how="diagonal_relaxed")
    except pl.exceptions.PolarsError as exc:
        shown = ", ".join(sorted({str(d) for d in dtypes}))
        raise ValueError(f"column {name!r} has types that do not mix across the recordings: {shown}") from exc
    return merged.schema[name]


class _ManySource:
    """The IO source of a multi-file scan: recordings one after the other, chunks pruned twice
    (recordings by their summary, then chunks by their index entries)."""

    def __init__(
        self,
        owner: RecordingSet,
        plan: list[tuple[Member, list[ChunkInfo]]],
        schema: dict[str, pl.DataType],
        time_kinds: dict[str, TimelineKind],
        timeline: str | None,
        counter: QueryStats,
    ) -> None:
        self.owner = owner
        self.plan = plan
        self.schema = schema
        self.time_kinds = time_kinds
        self.timeline = timeline
        self.counter = counter

    def _skip(self, m: Member, bounds: Any) -> bool:
        s = m.summary
        for name, allowed in bounds.labels.items():
            value = s.application_id if name == APPLICATION_ID else s.recording_id
            if value not in allowed:
                return True
        for name, (lo, hi) in bounds.time.items():
            # A bound on a timeline drops the rows null there: a recording without it has none left.
            span = s.timelines.get(name)
            if span is None or not span.overlaps(lo, hi):
                return True
        return bool(bounds.entities is not None and not any(e in bounds.entities for e in s.entities))

    def __call__(
        self, with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, batch_size: int | None
    ) -> Iterator[pl.DataFrame]:
        schema, timeline = self.schema, self.timeline
        bounds = predicate_bounds(predicate, list(self.time_kinds), labels=ID_COLUMNS)
        wanted = list(schema) if with_columns is None else with_columns
        needed = set(wanted) | (set(predicate.meta.root_names()) if predicate is not None else set())
        keys = {ENTITY, ROW_ID, *ID_COLUMNS}
        components = [c for c in needed if c not in self.time_kinds and c not in keys]
        windows = dict(bounds.time)
        if timeline is not None and timeline not in windows:
            windows[timeline] = (None, None)
        emitted = 0
        for m, infos in self.plan:
            if self._skip(m, bounds):
                continue
            chosen = _prune(infos, bounds, timeline)
            if not chosen:
                continue
            try:
                with self.owner.recording(m) as rec:
                    stats = rec.stats
                    seen = [stats.records_decoded, stats.chunks_read, stats.bytes_read]
                    self.counter.files_read += 1
                    with self.owner._lock:
                        self.owner.stats.files_read += 1
                    for group in _record_groups(chosen, first=1 if n_rows is not None else 4):
                        frames = self.owner.frames_of(rec, group, components=components, windows=windows)
                        now = [stats.records_decoded, stats.chunks_read, stats.bytes_read]
                        # Counted before the frames are handed over: Polars may stop pulling at any yield.
                        self.counter.records_decoded += now[0] - seen[0]
                        self.counter.chunks_read += now[1] - seen[1]
                        self.counter.bytes_read += now[2] - seen[2]
                        seen = now
                        self.owner._gather_stats()
                        for frame in frames:
                            frame = with_ids(frame, m.summary.application_id, m.summary.recording_id)
                            frame = _conform(frame, schema)
                            if predicate is not None:
                                frame = filter_rows(frame, predicate)
                            frame = frame.select(wanted)
                            if n_rows is not None:
                                frame = frame.head(n_rows - emitted)
                            emitted += frame.height
                            if frame.height:
                                yield frame
                            if n_rows is not None and emitted >= n_rows:
                                return
            except (RrdError, OSError) as exc:
                self.owner._failed(f"left out {m.label}", exc, m.path)


def open_many(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    application_id: str | Sequence[str] | None = None,
    recording_id: str | Sequence[str] | None = None,
    on_error: str = "warn",
    use_catalog: bool = True,
) -> RecordingSet:
    """Open many recordings as one dataset.

    Only indexes are read here: each file's footer, or nothing at all for a file with a
    fresh entry in a catalog cache (``.rrcatalog.json``, written by :func:`rrquery.catalog`,
    in the file's directory or above). Queries then leave out the recordings and the
    chunks outside their filters without reading them.

    Parameters
    ----------
    paths
        Files, globs (``"runs/**/*.rrd"``, ``**`` for any depth) and directories (every
        ``.rrd`` file below), or a list of them.
    application_id, recording_id
        Keep only the recordings with these ids (a string or a list of strings); the others
        are never opened for queries.
    on_error
        ``"warn"`` (default): a file that cannot be read, or a damaged chunk record, is left
        out with a :class:`SkippedDataWarning` (and listed in ``problems``); a truncated file
        is read up to its damage, with a :class:`TruncatedRecordingWarning`. ``"raise"``:
        raise the error instead.
    use_catalog
        Use fresh catalog cache entries instead of reading footers.

    Returns
    -------
    RecordingSet
        ``.scan()``, ``.range()``, ``.latest_at()``, ``.dataset()``, each with
        ``application_id`` and ``recording_id`` columns; ``.recordings()`` lists them.

    Examples
    --------
    >>> runs = rrquery.open_many("runs/**/*.rrd", application_id="picker")  # doctest: +SKIP
    >>> runs.range("robot/speed", timeline="frame", start=0, end=99)  # doctest: +SKIP
    >>> runs.dataset("frame", ["camera/image:tensor", "robot/pose:translation"], sample=5)  # doctest: +SKIP
    """
    if on_error not in ("warn", "raise"):
        raise ValueError(f"on_error must be 'warn' or 'raise', got {on_error!r}")
    apps = _names(application_id, "application_id")
    ids = _names(recording_id, "recording_id")
    files = expand_paths(paths)
    members: list[Member] = []
    problems: list[FileProblem] = []
    opened = 0

    def wanted(s: RecordingSummary) -> bool:
        return (apps is None or s.application_id in apps) and (ids is None or s.recording_id in ids)

    def skip(path: str, exc: BaseException, key: tuple[int, int, int] | None) -> None:
        if on_error == "raise":
            raise exc
        problem = FileProblem.of(path, key, exc)
        problems.append(problem)
        warnings.warn(f"left out {problem.error}", SkippedDataWarning, stacklevel=3)

    cached = find_cached(files) if use_catalog else ((p, None, None) for p in files)
    for path, key, found in cached:
        if isinstance(found, FileProblem):
            skip(path, RrdError(found.reason, path=path, offset=found.offset), key)
            continue
        if found is not None:
            members.extend(Member(s) for s in found if wanted(s))
            continue
        try:
            key = key or file_key(path)
            reader = RrdReader(path)
        except (RrdError, OSError) as exc:
            skip(path, exc, key)
            continue
        try:
            if not reader.recordings:
                raise RrdError("the file declares no recording", path=path)
            mine = [s for s in summarize(path, reader, key) if wanted(s)]
            if mine and opened < MAX_OPEN:
                # The index is in memory: hand the reader over to the first recording.
                first = Member(mine[0], Recording(path, recording=mine[0].index, reader=reader))
                opened += 1
                members.append(first)
                members.extend(Member(s) for s in mine[1:])
            else:
                reader.close()
                members.extend(Member(s) for s in mine)
        except (RrdError, OSError, ValueError) as exc:
            reader.close()
            skip(path, exc, key)
    rs = RecordingSet(members, problems, on_error=on_error)
    for m in members:
        if m.rec is not None:
            rs._open[id(m)] = m
    return rs
