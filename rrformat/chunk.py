"""Chunks: rows of one entity and one data kind, and their index entries.

A chunk's columns are, in order: ``row_id`` (uint64, strictly increasing), one int64
column per timeline (its field metadata says ``sequence`` or ``time``; a null means
the row is not on that timeline), then the component columns. A timeless chunk has
no timeline column. See ``spec/rrd.md`` section 5.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from .components import COMPONENTS, DATA_KINDS
from .entity_path import EntityPath
from .errors import SchemaError

__all__ = [
    "ROW_ID",
    "TimelineKind",
    "TimeRange",
    "Chunk",
    "ChunkInfo",
    "ChunkRun",
    "SlicedChunk",
    "timeline_field",
    "timeline_kind_of",
]

ROW_ID = "row_id"
"""Name of the row id column, the first column of every chunk."""

_ROLE = b"rr.role"
_TIMELINE_KIND = b"rr.timeline_kind"


class TimelineKind(str, enum.Enum):
    """A sequence counts (frame numbers); a time is int64 nanoseconds."""

    SEQUENCE = "sequence"
    TIME = "time"


_TIMELINE_KINDS = {k.value: k for k in TimelineKind}


def timeline_field(name: str, kind: TimelineKind | str) -> pa.Field:
    """The Arrow field of a timeline column."""
    kind = TimelineKind(kind)
    return pa.field(name, pa.int64(), nullable=True, metadata={_ROLE: b"timeline", _TIMELINE_KIND: kind.value.encode()})


def timeline_kind_of(f: pa.Field) -> TimelineKind | None:
    """The timeline kind of a field, or None when the field is not a timeline."""
    md = f.metadata or {}
    if md.get(_ROLE) != b"timeline":
        return None
    return TimelineKind(md[_TIMELINE_KIND].decode())


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Where a chunk lies on one timeline. ``min``/``max`` are None if every row is null there."""

    kind: TimelineKind
    min: int | None
    max: int | None
    sorted: bool

    def to_json(self) -> list[Any]:
        return [self.kind.value, self.min, self.max, self.sorted]

    @classmethod
    def from_json(cls, value: list[Any]) -> TimeRange:
        kind, lo, hi, is_sorted = value
        return cls(_TIMELINE_KINDS.get(kind) or TimelineKind(kind), lo, hi, bool(is_sorted))

    def overlaps(self, start: int | None, end: int | None) -> bool:
        """Whether any row may lie in the inclusive range ``[start, end]`` (None: unbounded)."""
        if self.min is None or self.max is None:
            return False
        return (end is None or self.min <= end) and (start is None or self.max >= start)


@dataclass(frozen=True, slots=True)
class ChunkInfo:
    """One entry of the index: where a chunk is and what it covers, without reading it."""

    entity: str
    kind: str
    recording: int
    rows: int
    timeless: bool
    row_id_min: int | None
    row_id_max: int | None
    timelines: Mapping[str, TimeRange]
    record_offset: int
    record_size: int
    row_start: int
    schema_id: int
    codec: str
    record_rows: int
    record_raw_size: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def raw_size(self) -> int:
        """Estimated uncompressed bytes of this chunk (its share of the record)."""
        if self.record_rows == 0:
            return 0
        return self.record_raw_size * self.rows // self.record_rows

    def overlaps(self, timeline: str, start: int | None, end: int | None) -> bool:
        """Whether this chunk may have rows in ``[start, end]`` on ``timeline``.

        Timeless chunks belong to every timeline and always overlap.
        """
        if self.timeless:
            return True
        r = self.timelines.get(timeline)
        return r is not None and r.overlaps(start, end)

    def entry_json(self) -> dict[str, Any]:
        """The entry as stored in a chunk record's meta."""
        d: dict[str, Any] = {
            "entity": self.entity,
            "kind": self.kind,
            "start": self.row_start,
            "rows": self.rows,
            "timeless": self.timeless,
            "row_ids": [self.row_id_min, self.row_id_max],
            "timelines": {k: v.to_json() for k, v in self.timelines.items()},
        }
        d.update(self.extra)
        return d


_ENTRY_KEYS = frozenset({"entity", "kind", "start", "rows", "timeless", "row_ids", "timelines"})


def _opt_int(v: Any) -> int | None:
    return None if v is None else int(v)


def entries_from_meta(meta: Mapping[str, Any], record_offset: int, record_size: int) -> list[ChunkInfo]:
    """Build the index entries of one chunk record from its meta (the one way to do it).

    Opening a file of 10,000 entities builds 100,000 of these: the loop is kept lean, and
    identical time ranges (one frame shared by many entities) share one object.
    """
    recording, schema_id = int(meta["recording"]), int(meta["schema"])
    codec, record_rows, raw = str(meta["codec"]), int(meta["rows"]), int(meta["raw"])
    ranges: dict[tuple[Any, ...], TimeRange] = {}
    out = []
    for e in meta["chunks"]:
        timelines = {}
        for k, v in e["timelines"].items():
            key = tuple(v)
            tr = ranges.get(key)
            if tr is None:
                tr = ranges[key] = TimeRange.from_json(v)
            timelines[str(k)] = tr
        rid = e["row_ids"]
        extra = {k: v for k, v in e.items() if k not in _ENTRY_KEYS} if len(e) > len(_ENTRY_KEYS) else {}
        out.append(
            ChunkInfo(
                str(e["entity"]),
                str(e["kind"]),
                recording,
                int(e["rows"]),
                bool(e["timeless"]),
                _opt_int(rid[0]),
                _opt_int(rid[1]),
                timelines,
                record_offset,
                record_size,
                int(e["start"]),
                schema_id,
                codec,
                record_rows,
                raw,
                extra,
            )
        )
    return out


def _as_int64(values: Any, n: int, name: str) -> pa.Array:
    arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(np.asarray(values))
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if len(arr) != n:
        raise SchemaError(f"timeline {name!r} has {len(arr)} values for {n} rows")
    if not (pa.types.is_integer(arr.type) or pa.types.is_null(arr.type)):
        raise SchemaError(f"timeline {name!r} must hold integers, got {arr.type}")
    return arr.cast(pa.int64())


@dataclass(frozen=True, slots=True)
class Chunk:
    """Rows of one entity and one data kind, as one Arrow record batch.

    Examples
    --------
    >>> import numpy as np
    >>> c = Chunk.build("world/scalar", "scalar", row_ids=[0, 1], timelines={"frame": ("sequence", [0, 1])},
    ...                 components={"scalar": np.array([1.0, 2.0])})
    >>> c.rows, c.timeless, sorted(c.timelines)
    (2, False, ['frame'])
    """

    entity: str
    kind: str
    batch: pa.RecordBatch
    recording: int = 0

    @classmethod
    def build(
        cls,
        entity: str | EntityPath,
        kind: str,
        *,
        row_ids: Any,
        timelines: Mapping[str, tuple[TimelineKind | str, Any]] | None = None,
        components: Mapping[str, Any],
        recording: int = 0,
    ) -> Chunk:
        """Assemble a chunk from columns; component arrays are cast to their catalogued type."""
        rid = pa.array(np.asarray(row_ids, dtype=np.uint64), type=pa.uint64())
        n = len(rid)
        fields = [pa.field(ROW_ID, pa.uint64(), nullable=False)]
        arrays: list[pa.Array] = [rid]
        for name, (tkind, values) in (timelines or {}).items():
            fields.append(timeline_field(name, tkind))
            arrays.append(_as_int64(values, n, name))
        for name, values in components.items():
            ctype = COMPONENTS.get(name)
            if isinstance(values, pa.ChunkedArray):
                values = values.combine_chunks()
            if ctype is not None:
                arr = values if isinstance(values, pa.Array) else pa.array(values, type=ctype.column_type)
                if arr.type != ctype.column_type:
                    try:
                        arr = arr.cast(ctype.column_type)
                    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                        raise SchemaError(
                            f"component {name!r} must be {ctype.column_type}, got {arr.type}: {exc}"
                        ) from exc
            else:
                arr = values if isinstance(values, pa.Array) else pa.array(values)
            fields.append(pa.field(name, arr.type))
            arrays.append(arr)
        batch = pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))
        chunk = cls(str(EntityPath.parse(entity)), kind, batch, recording)
        chunk.validate()
        return chunk

    # --- derived views ---------------------------------------------------------------
    @property
    def rows(self) -> int:
        return int(self.batch.num_rows)

    @property
    def timelines(self) -> dict[str, TimelineKind]:
        out = {}
        for f in self.batch.schema:
            k = timeline_kind_of(f)
            if k is not None:
                out[f.name] = k
        return out

    @property
    def timeless(self) -> bool:
        return not self.timelines

    @property
    def component_names(self) -> list[str]:
        return [f.name for f in self.batch.schema if f.name != ROW_ID and timeline_kind_of(f) is None]

    def row_ids(self) -> npt.NDArray[np.uint64]:
        ids: npt.NDArray[np.uint64] = self.batch.column(0).to_numpy(zero_copy_only=False)
        return ids

    def slice(self, offset: int, length: int) -> Chunk:
        return Chunk(self.entity, self.kind, self.batch.slice(offset, length), self.recording)

    # --- rules -----------------------------------------------------------------------
    def validate(self) -> None:
        """Check the rules of spec section 5; raise :class:`SchemaError` naming the problem."""
        where = f"chunk of {self.entity!r} ({self.kind})"
        schema = self.batch.schema
        if self.kind not in DATA_KINDS:
            raise SchemaError(f"{where}: unknown data kind; known: {', '.join(sorted(DATA_KINDS))}")
        if len(schema) == 0 or schema[0].name != ROW_ID or schema[0].type != pa.uint64():
            raise SchemaError(f"{where}: the first column must be {ROW_ID!r} of type uint64")
        if self.batch.column(0).null_count:
            raise SchemaError(f"{where}: {ROW_ID!r} must not contain nulls")
        names = schema.names
        if len(set(names)) != len(names):
            raise SchemaError(f"{where}: duplicate column names {names}")
        seen_component = False
        for f in list(schema)[1:]:
            tk = timeline_kind_of(f)
            if tk is not None:
                if seen_component:
                    raise SchemaError(f"{where}: timeline column {f.name!r} must come before the components")
                if f.type != pa.int64():
                    raise SchemaError(f"{where}: timeline {f.name!r} must be int64, got {f.type}")
                continue
            seen_component = True
            ctype = COMPONENTS.get(f.name)
            if ctype is not None and f.type != ctype.column_type:
                raise SchemaError(f"{where}: component {f.name!r} must be {ctype.column_type}, got {f.type}")
            if _has_dictionary(f.type):
                # A record body is one IPC batch message, which cannot carry the dictionaries:
                # the record would be written but never read back.
                raise SchemaError(
                    f"{where}: component {f.name!r} is dictionary-encoded ({f.type}); "
                    "decode it first (Array.dictionary_decode())"
                )
        kind = DATA_KINDS[self.kind]
        missing = [c for c in kind.required if c not in names]
        if missing:
            raise SchemaError(f"{where}: missing required component(s) {missing}")
        rid = self.row_ids()
        if len(rid) > 1 and not bool(np.all(rid[1:] > rid[:-1])):
            raise SchemaError(f"{where}: {ROW_ID!r} must be strictly increasing")

    def time_ranges(self) -> dict[str, TimeRange]:
        out = {}
        for name, kind in self.timelines.items():
            col = self.batch.column(name)
            if len(col) and col.null_count == len(col):
                out[name] = TimeRange(kind, None, None, False)
                continue
            mm = pc.min_max(col)
            lo, hi = mm["min"].as_py(), mm["max"].as_py()
            # Compare neighbours rather than test np.diff: the difference of two int64 values
            # can overflow (2**63-1 then -2**63 would look sorted). An empty column is sorted.
            values = col.to_numpy(zero_copy_only=False)
            is_sorted = col.null_count == 0 and bool(np.all(values[1:] >= values[:-1]))
            out[name] = TimeRange(kind, lo, hi, is_sorted)
        return out

    def entry_json(self, start: int) -> dict[str, Any]:
        """This chunk's index entry as stored in a record's meta, at row ``start`` of the record."""
        rid = self.row_ids()
        return {
            "entity": self.entity,
            "kind": self.kind,
            "start": start,
            "rows": self.rows,
            "timeless": self.timeless,
            "row_ids": [int(rid[0]), int(rid[-1])] if len(rid) else [None, None],
            "timelines": {k: v.to_json() for k, v in self.time_ranges().items()},
        }

    def equals(self, other: Chunk) -> bool:
        return (
            self.entity == other.entity
            and self.kind == other.kind
            and self.recording == other.recording
            and self.batch.equals(other.batch, check_metadata=True)
        )


@dataclass(frozen=True, slots=True, eq=False)
class ChunkRun:
    """Chunks cut from one batch, one after the other: chunk ``i`` is ``rows[i]`` rows from ``starts[i]``.

    The logging SDK builds the rows of many small entities as one batch and cuts it into
    one chunk per entity (:meth:`cut`), all of one data kind; a writer handed these chunks
    in order can take them as row ranges of that batch, without checking, measuring and
    concatenating them one by one.
    """

    batch: pa.RecordBatch
    starts: list[int]
    rows: list[int]

    @staticmethod
    def cut(entities: list[str], kind: str, batch: pa.RecordBatch, rows: list[int]) -> list[SlicedChunk]:
        """One chunk per entity: ``entities[i]`` gets the next ``rows[i]`` rows of ``batch``."""
        if len(entities) != len(rows) or sum(rows) > batch.num_rows:
            raise ValueError(f"cannot cut {batch.num_rows} rows into {len(rows)} chunks for {len(entities)} entities")
        starts: list[int] = []
        start = 0
        for n in rows:
            starts.append(start)
            start += n
        run = ChunkRun(batch, starts, rows)
        # Set the slots directly: ten thousand chunks a flush, where __init__'s checks cost
        # more than the object itself.
        new, cls = object.__new__, SlicedChunk
        out = []
        for i, entity in enumerate(entities):
            c = new(cls)
            _SET_ENTITY(c, entity)
            _SET_KIND(c, kind)
            _SET_BATCH(c, None)
            _SET_RECORDING(c, 0)
            _SET_RUN(c, run)
            _SET_INDEX(c, i)
            out.append(c)
        return out


class SlicedChunk(Chunk):
    """A chunk that is the ``index``-th of a :class:`ChunkRun`; in every other respect a :class:`Chunk`.

    Its batch, a slice of the run's batch, is made when first asked for: a writer that
    takes the run's chunks together never needs it. Made by :meth:`ChunkRun.cut`;
    constructed with a batch (``dataclasses.replace`` does so), it is a plain chunk.
    Pickled or copied, it becomes a :class:`Chunk`.
    """

    __slots__ = ("index", "run")
    run: ChunkRun | None
    index: int

    def __init__(self, entity: str, kind: str, batch: pa.RecordBatch, recording: int = 0) -> None:
        _SET_ENTITY(self, entity)
        _SET_KIND(self, kind)
        _SET_BATCH(self, batch)
        _SET_RECORDING(self, recording)
        _SET_RUN(self, None)
        _SET_INDEX(self, 0)

    @property  # type: ignore[override]
    def batch(self) -> pa.RecordBatch:
        b: pa.RecordBatch | None = _GET_BATCH(self, SlicedChunk)
        if b is None:
            run = self.run
            assert run is not None
            b = run.batch.slice(run.starts[self.index], run.rows[self.index])
            _SET_BATCH(self, b)
        return b

    def __reduce__(self) -> tuple[Any, ...]:
        return (Chunk, (self.entity, self.kind, self.batch, self.recording))


_SLOTS: Any = {name: Chunk.__dict__[name] for name in ("entity", "kind", "batch", "recording")}
_SET_ENTITY = _SLOTS["entity"].__set__
_SET_KIND = _SLOTS["kind"].__set__
_SET_BATCH = _SLOTS["batch"].__set__
_GET_BATCH = _SLOTS["batch"].__get__
_SET_RECORDING = _SLOTS["recording"].__set__
_SET_RUN = SlicedChunk.__dict__["run"].__set__
_SET_INDEX = SlicedChunk.__dict__["index"].__set__


def _has_dictionary(t: pa.DataType) -> bool:
    """Whether a type is, or nests, a dictionary type."""
    if pa.types.is_dictionary(t):
        return True
    if isinstance(t, pa.BaseExtensionType):
        return _has_dictionary(t.storage_type)
    return any(_has_dictionary(t.field(i).type) for i in range(t.num_fields))


def concat_batches(batches: Iterable[pa.RecordBatch]) -> pa.RecordBatch:
    """Concatenate record batches of one schema into one batch."""
    bs = list(batches)
    if len(bs) == 1:
        return bs[0]
    return pa.concat_batches(bs)
