"""Exports: the rows of a recording written to Parquet, CSV, Arrow IPC or NDJSON files.

The output format comes from the output's suffix:

===========================  ==========================================================
``.parquet``                 Parquet (zstd): every column type, images and tensors as
                             their struct (shape, names, dtype, binary data)
``.arrow``, ``.ipc``,        Arrow IPC file (Feather v2): every column type
``.feather``
``.csv``                     CSV: list, array and struct columns (points, colours,
                             translations) are written as JSON text such as
                             ``[[0.0,1.0,2.0]]``; binary columns (images, tensors,
                             encoded blobs) are refused
``.ndjson``, ``.jsonl``      newline-delimited JSON: nested columns as JSON values;
                             binary columns are refused
no suffix, a trailing ``/``  a directory with one Parquet file per entity
or an existing directory
===========================  ==========================================================

A single-file ("long") export holds the columns of :meth:`Recording.range`: ``entity``,
``row_id``, the timelines (sequences Int64, times Datetime(ns, UTC)), then the union of
the components of the matched entities (null where an entity lacks one). Rows are
grouped by entity (in path order) and, within an entity, come in the order of
``Recording.range(entity, ...)``: timeless rows first, then by time and row id. The
export streams: it reads a bounded group of chunks at a time, never the whole recording.

In a directory export, an entity's file name is its path with ``/`` between parts
written ``__`` and every character other than ``A-Z a-z 0-9 _ - . #`` percent-encoded
(UTF-8 bytes as ``%XX``), so quoted parts keep their quotes as ``%22``: ``world/points``
-> ``world__points.parquet``, ``logs/"my log"`` -> ``logs__%22my%20log%22.parquet``, the
root entity -> ``_root.parquet``. Names that would clash (``a__b`` and ``a/b``, or names
differing only in case) get a ``~2``, ``~3``... suffix in entity order. The ``entity``
column inside each file is the authority on which entity it holds.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from rrformat.chunk import ROW_ID, ChunkInfo, TimelineKind
from rrformat.entity_path import EntityPath, EntityPathPattern

from ._frames import ENTITY, concat_frames, order_columns
from ._recording import Recording
from ._timebounds import TimeValue

if TYPE_CHECKING:
    from ._export_many import ManyExportPlan
    from ._many import RecordingSet

__all__ = [
    "FORMATS",
    "ExportError",
    "ExportPlan",
    "ExportResult",
    "OutputExistsError",
    "binary_columns",
    "encode_nested",
    "entity_file_name",
    "check_text_format",
    "export",
    "output_format",
    "plan_export",
    "write_frame",
]

FORMATS: dict[str, str] = {
    ".parquet": "parquet",
    ".csv": "csv",
    ".arrow": "arrow",
    ".ipc": "arrow",
    ".feather": "arrow",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}
"""Output suffixes and the format each one selects."""

Progress = Callable[[int, int], None]

PIECE_BYTES = 16 * 1024 * 1024
"""Uncompressed bytes of chunks read and written together (bounds an export's memory)."""

_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.#")
_MAX_NAME = 200  # well below the 255-byte limit of common file systems, leaving room for the suffix
_NESTED = (pl.List, pl.Array, pl.Struct)


class ExportError(ValueError):
    """The data cannot be written as asked (e.g. images to CSV), or the arguments clash."""


class OutputExistsError(FileExistsError):
    """An output file exists and ``overwrite`` is False."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} exists")
        self.path = path


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote.

    Attributes
    ----------
    format
        ``"parquet"``, ``"csv"``, ``"arrow"`` or ``"ndjson"``.
    files
        Each written file and its number of rows, in the order written.
    skipped
        Entities that matched but had no rows in the range (directory exports write no
        file for them).
    """

    format: str
    files: dict[Path, int]
    skipped: tuple[str, ...] = ()

    @property
    def rows(self) -> int:
        return sum(self.files.values())


# --- names and formats -----------------------------------------------------------------
def output_format(out: str | os.PathLike[str]) -> str | None:
    """The format an output name selects, or None for a directory of Parquet files.

    Raises
    ------
    ExportError
        For a suffix that is no known format.

    Examples
    --------
    >>> output_format("run.parquet"), output_format("out/"), output_format("frames.jsonl")
    ('parquet', None, 'ndjson')
    """
    text = os.fspath(out)
    path = Path(text)
    if text.endswith(("/", os.sep)) or path.is_dir() or not path.suffix:
        return None
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(FORMATS)
        raise ExportError(
            f"{text}: unknown output format {path.suffix!r}; use one of {known}, "
            "or a directory (a name without a suffix, or ending in '/') for one Parquet file per entity"
        )
    return fmt


def _encode(text: str) -> str:
    return "".join(ch if ch in _SAFE else "".join(f"%{b:02X}" for b in ch.encode()) for ch in text)


def entity_file_name(entity: str) -> str:
    """The file name stem of an entity in a directory export (see the module docstring).

    Examples
    --------
    >>> entity_file_name("world/points"), entity_file_name('logs/"my log"'), entity_file_name("cam/#3")
    ('world__points', 'logs__%22my%20log%22', 'cam__#3')
    """
    parts = EntityPath.parse(entity).parts
    if not parts:
        return "_root"
    name = "__".join(_encode(str(p)) for p in parts)
    if len(name) > _MAX_NAME:
        digest = hashlib.sha1(entity.encode()).hexdigest()[:12]
        name = f"{name[: _MAX_NAME - 13]}~{digest}"
    return name


def _file_names(entities: Sequence[str]) -> dict[str, str]:
    """Unique file names (also on case-insensitive file systems), in entity order."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for entity in entities:
        stem = entity_file_name(entity)
        name, n = stem, 1
        while name.lower() in taken:
            n += 1
            name = f"{stem}~{n}"
        taken.add(name.lower())
        out[entity] = name + ".parquet"
    return out


# --- column checks and encodings -------------------------------------------------------
def _holds_binary(dtype: pl.DataType) -> bool:
    if isinstance(dtype, pl.Binary):
        return True
    if isinstance(dtype, (pl.List, pl.Array)):
        inner = dtype.inner
        return inner is not None and _holds_binary(inner if isinstance(inner, pl.DataType) else inner())
    if isinstance(dtype, pl.Struct):
        return any(_holds_binary(f.dtype if isinstance(f.dtype, pl.DataType) else f.dtype()) for f in dtype.fields)
    return False


def binary_columns(schema: dict[str, pl.DataType]) -> list[str]:
    """Columns holding binary data anywhere inside (images, tensors, encoded blobs)."""
    return [name for name, dtype in schema.items() if _holds_binary(dtype)]


def check_text_format(
    schema: dict[str, pl.DataType],
    fmt: str,
    owners: dict[str, str] | None = None,
    *,
    advice: str = "export to Parquet (.parquet) or Arrow (.arrow), or select entities without it",
) -> None:
    """Refuse binary columns for CSV and NDJSON, naming the column (and its entity)."""
    if fmt not in ("csv", "ndjson"):
        return
    bad = binary_columns(schema)
    if not bad:
        return
    col = bad[0]
    owner = (owners or {}).get(col)
    where = f"column {col!r}" + (f" (entity {owner})" if owner else "")
    more = f" (and {len(bad) - 1} more: {', '.join(bad[1:])})" if len(bad) > 1 else ""
    name = "CSV" if fmt == "csv" else "JSON"
    raise ExportError(f"{where}{more} holds binary data (images, tensors or blobs), which {name} cannot hold; {advice}")


def encode_nested(frame: pl.DataFrame) -> pl.DataFrame:
    """List, array and struct columns as JSON text (for CSV); nulls stay null."""
    exprs = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, _NESTED):
            # json_encode works on structs: wrap the value in a one-field struct, then unwrap the text.
            text = (
                pl.struct(pl.col(name).alias("v")).struct.json_encode().str.strip_prefix('{"v":').str.strip_suffix("}")
            )
            exprs.append(pl.when(pl.col(name).is_null()).then(None).otherwise(text).alias(name))
    return frame.with_columns(exprs) if exprs else frame


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    missing = [pl.lit(None, dtype=dtype).alias(name) for name, dtype in schema.items() if name not in frame.columns]
    if missing:
        frame = frame.with_columns(missing)
    casts = [pl.col(n).cast(schema[n]) for n in schema if frame.schema[n] != schema[n]]
    if casts:
        frame = frame.with_columns(casts)
    return frame.select(list(schema))


def _arrow(frame: pl.DataFrame) -> pa.Table:
    # The oldest compat level writes plain (large) strings and binaries, not view types,
    # so that every Arrow and Parquet reader can open the files.
    return frame.to_arrow(compat_level=pl.CompatLevel.oldest())


# --- sinks ---------------------------------------------------------------------------------
def _parquet_encodings(schema: pa.Schema) -> dict[str, Any]:
    """Delta encoding for 64-bit integer and time columns (row ids, timelines), dictionaries for the rest.

    Row ids and timelines mostly step by small amounts: delta encoding stores them in a few
    bits per value, where dictionary encoding hashes every value only to give up on them.
    A million scalars then write in half the time, to a file a third smaller.
    """
    wide = (pa.int64(), pa.uint64())
    delta = {f.name for f in schema if f.type in wide or pa.types.is_timestamp(f.type)}
    # Dictionaries are chosen per leaf column ("colors.list.element.list.element"): the leaf
    # paths are those of the Parquet schema, read back from an empty file.
    sink = pa.BufferOutputStream()
    pq.write_table(schema.empty_table(), sink)
    parquet_schema = pq.read_metadata(pa.BufferReader(sink.getvalue())).schema
    leaves = [parquet_schema.column(i).path for i in range(len(parquet_schema))]
    return {
        "use_dictionary": [leaf for leaf in leaves if leaf not in delta],
        "column_encoding": dict.fromkeys(sorted(delta), "DELTA_BINARY_PACKED"),
    }


class _Sink:
    """One output file, written to a temporary name and renamed into place on success."""

    def __init__(self, path: Path, fmt: str, schema: dict[str, pl.DataType]) -> None:
        self.path = path
        self.fmt = fmt
        self.schema = schema
        self.rows = 0
        self.tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
        self._arrow_schema = _arrow(pl.DataFrame(schema=schema)).schema
        self._file: IO[bytes] | None = None
        self._parquet: pq.ParquetWriter | None = None
        self._ipc: pa.ipc.RecordBatchFileWriter | None = None
        self._header_written = False
        if fmt == "parquet":
            self._parquet = pq.ParquetWriter(
                self.tmp, self._arrow_schema, compression="zstd", **_parquet_encodings(self._arrow_schema)
            )
        elif fmt == "arrow":
            self._file = self.tmp.open("wb")
            self._ipc = pa.ipc.new_file(self._file, self._arrow_schema)
        else:
            self._file = self.tmp.open("wb")

    def write(self, frame: pl.DataFrame) -> None:
        frame = _conform(frame, self.schema)
        if frame.height == 0:
            return
        self.rows += frame.height
        if self._parquet is not None or self._ipc is not None:
            table = _arrow(frame)
            if table.schema != self._arrow_schema:
                table = table.cast(self._arrow_schema)
            if self._parquet is not None:
                self._parquet.write_table(table)
            elif self._ipc is not None:
                self._ipc.write_table(table)
            return
        assert self._file is not None
        if self.fmt == "csv":
            encode_nested(frame).write_csv(self._file, include_header=not self._header_written)
            self._header_written = True
        else:
            frame.write_ndjson(self._file)

    def _close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if self._ipc is not None:
            self._ipc.close()
        if self.fmt == "csv" and not self._header_written and self._file is not None:
            # An empty export still names its columns.
            encode_nested(pl.DataFrame(schema=self.schema)).write_csv(self._file)
        if self._file is not None:
            self._file.close()

    def commit(self) -> None:
        self._close()
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        with contextlib.suppress(Exception):
            self._close()
        with contextlib.suppress(OSError):
            self.tmp.unlink()


def write_frame(frame: pl.DataFrame, out: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write one frame to a file whose suffix picks the format (the rules of :func:`export`)."""
    path = Path(out)
    fmt = output_format(path)
    if fmt is None:
        raise ExportError(f"{path}: expected a file name ending in one of {', '.join(FORMATS)}")
    _check_target(path, overwrite)
    check_text_format(dict(frame.schema), fmt)
    write_frames(path, fmt, dict(frame.schema), [frame])
    return path


def write_frames(
    path: Path, fmt: str, schema: dict[str, pl.DataType], frames: Iterable[pl.DataFrame], *, keep_empty: bool = True
) -> int:
    """Write ``frames`` to one file, renamed into place only when all are written; returns the rows.

    With ``keep_empty=False`` a file that would hold no rows is not written (0 is returned).
    """
    sink = _Sink(path, fmt, schema)
    try:
        for frame in frames:
            sink.write(frame)
        if not keep_empty and sink.rows == 0:
            sink.discard()
            return 0
        sink.commit()
    except BaseException:
        # Nothing half-written is left behind, whatever stopped the export.
        sink.discard()
        raise
    return sink.rows


def progress_steps(progress: Progress | None, total: int) -> Callable[[int], None]:
    """Report 0 of ``total`` now; the function returned adds ``n`` bytes done and reports again."""
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            # Sizes are estimates: the count never goes past the total it announced.
            progress(min(done, total), total)

    if progress is not None:
        progress(0, total)
    return step


def write_directory(
    plan: ExportPlan | ManyExportPlan, skipped: list[str], frames_of: Callable[[str], Iterable[pl.DataFrame]]
) -> ExportResult:
    """A directory export: one Parquet file per entity of ``plan``, none for an entity without rows.

    ``skipped`` lists the matched entities already known to have no rows in the range.
    """
    plan.out.mkdir(parents=True, exist_ok=True)
    files: dict[Path, int] = {}
    for entity in plan.entities:
        path = plan.targets[entity]
        rows = write_frames(path, "parquet", plan.schemas[entity], frames_of(entity), keep_empty=False)
        if rows:
            files[path] = rows
        else:
            skipped.append(entity)
    return ExportResult("parquet", files, tuple(sorted(skipped)))


def _check_target(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise OutputExistsError(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(2, "directory does not exist", str(path.parent))


def directory_targets(path: Path, entities: Sequence[str], overwrite: bool) -> dict[str, Path]:
    """The file of each entity in a directory export, checked before anything is written."""
    names = _file_names(entities)
    targets = {e: path / names[e] for e in entities}
    if path.exists() and not path.is_dir():
        raise ExportError(f"{path} exists and is not a directory")
    if not overwrite:
        for target in targets.values():
            if target.exists():
                raise OutputExistsError(target)
    return targets


# --- planning --------------------------------------------------------------------------------
@dataclass
class _Piece:
    """Chunks of one entity read and written together."""

    entity: str
    infos: list[ChunkInfo]
    timeless: bool
    nbytes: int


def _size(c: ChunkInfo) -> int:
    if c.raw_size:
        return c.raw_size
    return max(1, c.record_size * c.rows // max(1, c.record_rows))


def _windows(infos: list[ChunkInfo], key: Callable[[ChunkInfo], tuple[int, int]]) -> list[list[ChunkInfo]]:
    """Group chunks, in key order, into groups whose key ranges do not overlap.

    Sorting each group on its own then gives the same order as sorting them all, so
    groups can be written one after the other.
    """
    groups: list[list[ChunkInfo]] = []
    cur: list[ChunkInfo] = []
    cur_bytes = 0
    cur_max = 0
    for c in sorted(infos, key=key):
        lo, hi = key(c)
        if cur and cur_bytes >= PIECE_BYTES and lo > cur_max:
            groups.append(cur)
            cur, cur_bytes = [], 0
        cur_max = hi if not cur else max(cur_max, hi)
        cur.append(c)
        cur_bytes += _size(c)
    if cur:
        groups.append(cur)
    return groups


def _row_key(c: ChunkInfo) -> tuple[int, int]:
    return (c.row_id_min or 0, c.row_id_max or 0)


def _time_key(timeline: str) -> Callable[[ChunkInfo], tuple[int, int]]:
    def key(c: ChunkInfo) -> tuple[int, int]:
        r = c.timelines[timeline]
        return (r.min or 0, r.max or 0)

    return key


@dataclass
class ExportPlan:
    """What an export will read and write; :meth:`run` does it.

    Build one with :func:`plan_export` (it checks every argument and output name first,
    so a bad request fails before anything is written).
    """

    rec: Recording
    out: Path
    format: str
    directory: bool
    entities: list[str]
    timeline: str | None
    lo: int | None
    hi: int | None
    matched: list[str] = field(default_factory=list)
    pieces: dict[str, list[_Piece]] = field(default_factory=dict)
    targets: dict[str, Path] = field(default_factory=dict)
    schema: dict[str, pl.DataType] = field(default_factory=dict)
    schemas: dict[str, dict[str, pl.DataType]] = field(default_factory=dict)
    wide: dict[str, Any] | None = None
    overwrite: bool = False
    total_bytes: int = 0

    def run(self, progress: Progress | None = None) -> ExportResult:
        """Write the files; ``progress(done, total)`` is called after each group of chunks."""
        step = progress_steps(progress, self.total_bytes)
        if self.wide is not None:
            return self._run_wide(step)
        if self.directory:
            skipped = [e for e in self.matched if e not in self.pieces]
            return write_directory(self, skipped, lambda entity: self._frames([entity], step))
        rows = write_frames(self.out, self.format, self.schema, self._frames(self.entities, step))
        return ExportResult(self.format, {self.out: rows})

    def _frames(self, entities: Sequence[str], step: Callable[[int], None]) -> Iterator[pl.DataFrame]:
        for entity in entities:
            for piece in self.pieces.get(entity, []):
                yield self._piece_frame(piece)
                step(piece.nbytes)

    def _piece_frame(self, piece: _Piece) -> pl.DataFrame:
        frame = concat_frames(self.rec.frames(piece.infos), {})
        tl = self.timeline
        if tl is None or piece.timeless:
            return frame.sort(ROW_ID)
        col = pl.col(tl)
        raw = col.cast(pl.Int64) if self.rec.timeline_kind(tl) is TimelineKind.TIME else col
        cond = col.is_not_null()  # rows not on the timeline are not in its range
        if self.lo is not None:
            cond = cond & (raw >= self.lo)
        if self.hi is not None:
            cond = cond & (raw <= self.hi)
        return frame.filter(cond).sort([tl, ROW_ID])

    def _run_wide(self, step: Callable[[int], None]) -> ExportResult:
        assert self.wide is not None
        frame = self.rec.dataset(columns=self.entities, **self.wide)
        step(self.total_bytes)
        check_text_format(dict(frame.schema), self.format)
        write_frames(self.out, self.format, dict(frame.schema), [frame])
        return ExportResult(self.format, {self.out: frame.height})


def _match(rec: Recording, patterns: Sequence[str]) -> list[str]:
    """Entities matching any pattern; each pattern must match something."""
    if not patterns:
        raise ExportError("no entity pattern given")
    names = sorted({c.entity for c in rec.index})
    out: set[str] = set()
    for text in patterns:
        pattern = EntityPathPattern.parse(text)
        hits = [n for n in names if pattern.matches(n)]
        if not hits:
            shown = ", ".join(names[:20]) + (f", ... ({len(names)} in all)" if len(names) > 20 else "")
            raise ExportError(f"no entity matches {text!r}; entities: {shown or 'none'}")
        out.update(hits)
    return sorted(out)


def union_schema(
    timelines: Mapping[str, TimelineKind], schemas: Sequence[dict[str, pl.DataType]]
) -> dict[str, pl.DataType]:
    """The columns of every schema in export order (types widened where they differ)."""
    empties = [pl.DataFrame(schema=schema) for schema in schemas]
    if not empties:
        base: dict[str, pl.DataType] = {ENTITY: pl.String(), ROW_ID: pl.UInt64()}
        return base
    merged = empties[0] if len(empties) == 1 else pl.concat(empties, how="diagonal_relaxed")
    return dict(order_columns(merged, timelines).schema)


def plan_export(
    rec: Recording,
    out: str | os.PathLike[str],
    *,
    entities: str | Sequence[str] = "**",
    timeline: str | None = None,
    start: TimeValue = None,
    end: TimeValue = None,
    wide: bool = False,
    index: str | None = None,
    fill: str | None = "latest",
    sample: Any = None,
    overwrite: bool = False,
) -> ExportPlan:
    """Check an export's arguments and outputs and work out what to read (see :func:`export`)."""
    fmt = output_format(out)
    path = Path(out)
    patterns = [entities] if isinstance(entities, str) else list(entities)
    matched = _match(rec, patterns)
    if wide:
        if fmt is None:
            raise ExportError(f"{os.fspath(out)}: a wide export is one table; give a file name such as dataset.parquet")
        if index is None:
            index = timeline
        if index is None:
            known = ", ".join(rec._timelines) or "none"
            raise ExportError(f"a wide export needs an index timeline; the recording has: {known}")
        if timeline is not None and timeline != index:
            raise ExportError(f"the bounds' timeline {timeline!r} differs from the index {index!r}")
        if fill not in ("latest", None):
            raise ExportError(f"fill must be 'latest' or None, got {fill!r}")
        lo, hi = rec.bounds(index, start, end)
        _check_target(path, overwrite)
        infos = rec.select(patterns, timeline=index, end=hi)
        if fmt in ("csv", "ndjson"):
            columns = {f"{e}:{c}": t for e in matched for c, t in rec.schema(e).items()}
            check_text_format(columns, fmt)
        plan = ExportPlan(rec, path, fmt, False, matched, index, lo, hi, overwrite=overwrite)
        plan.wide = {"index": index, "start": start, "end": end, "fill": fill, "sample": sample}
        plan.total_bytes = sum(_size(c) for c in infos)
        return plan
    if index is not None or sample is not None:
        raise ExportError("index and sample apply to wide exports only (wide=True)")
    if timeline is None:
        if start is not None or end is not None:
            raise ExportError("start/end need a timeline")
        lo = hi = None
    else:
        lo, hi = rec.bounds(timeline, start, end)

    plan = ExportPlan(rec, path, fmt or "parquet", fmt is None, matched, timeline, lo, hi, overwrite=overwrite)
    by_entity: dict[str, list[ChunkInfo]] = {}
    for c in rec.select(patterns, timeline=timeline, start=lo, end=hi):
        by_entity.setdefault(c.entity, []).append(c)
    for entity in matched:
        infos = by_entity.get(entity, [])
        if timeline is None:
            groups = [(g, False) for g in _windows(infos, _row_key)]
        else:
            time_key = _time_key(timeline)
            still = [c for c in infos if c.timeless]
            timed = [c for c in infos if not c.timeless]
            groups = [(g, True) for g in _windows(still, _row_key)] + [(g, False) for g in _windows(timed, time_key)]
        pieces = [_Piece(entity, g, flag, sum(_size(c) for c in g)) for g, flag in groups]
        if pieces:
            plan.pieces[entity] = pieces
    plan.matched = matched
    plan.entities = [e for e in matched if e in plan.pieces]
    plan.total_bytes = sum(p.nbytes for ps in plan.pieces.values() for p in ps)
    # Every matched entity's columns, so that a file keeps its columns when the range holds no rows.
    plan.schemas = {e: rec.schema(e) for e in matched}

    if plan.directory:
        plan.targets = directory_targets(path, plan.entities, overwrite)
    else:
        _check_target(path, overwrite)
        plan.schema = union_schema(rec._timelines, list(plan.schemas.values()))
        owners: dict[str, str] = {}
        for e, schema in plan.schemas.items():
            for col in schema:
                owners.setdefault(col, e)
        check_text_format(plan.schema, plan.format, owners)
    return plan


def export(
    rec_or_path: Recording | str | os.PathLike[str] | RecordingSet | Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    entities: str | Sequence[str] = "**",
    timeline: str | None = None,
    start: TimeValue = None,
    end: TimeValue = None,
    wide: bool = False,
    index: str | None = None,
    fill: str | None = "latest",
    sample: Any = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> ExportResult:
    """Export rows of a recording to Parquet, CSV, Arrow IPC or NDJSON.

    Parameters
    ----------
    rec_or_path
        An open :class:`Recording` or the path of an .rrd file (opened and closed here; a
        truncated file is exported from its sound prefix, with a warning). Or many
        recordings: a :class:`RecordingSet`, a glob, a directory or a list of files (see
        :func:`open_many`); every file written then has ``application_id`` and
        ``recording_id`` columns first and holds the rows of each recording in turn (a
        directory: one file per entity with its rows of every recording; wide: the
        dataset view of each recording, never filled across recordings).
    out
        The output. Its suffix picks the format: ``.parquet``; ``.csv``; ``.arrow``,
        ``.ipc`` or ``.feather`` (Arrow IPC file); ``.ndjson`` or ``.jsonl``. A name without
        a suffix, ending in ``/``, or an existing directory: a directory holding one
        Parquet file per entity, named from the entity path (``world/points`` ->
        ``world__points.parquet``; see the module docstring for the full mapping).
    entities
        Entity path glob(s): ``"world/**"``, ``["camera/*", "robot/pose"]``. Each must match
        at least one entity.
    timeline, start, end
        Keep rows on ``timeline`` within the inclusive bounds (timeless rows are kept, with
        null times). Bounds are integers on sequence timelines; on time timelines integer
        nanoseconds, float seconds, ISO-8601 strings or datetimes.
    wide
        Write the wide table of :meth:`Recording.dataset` instead: one row per ``index``
        value and one ``entity:component`` column per component of the matched entities.
    index, fill, sample
        The index timeline (default: ``timeline``), the filling (``"latest"`` or None) and
        the sampling (Hz on a time index, a step on a sequence index) of a wide export.
    overwrite
        Replace output files that exist (otherwise :class:`OutputExistsError`). Files are
        written under a temporary name and renamed when complete, so a failed export
        leaves no partial file behind.
    progress
        ``progress(done, total)`` in estimated uncompressed bytes, called as chunks are written.

    Returns
    -------
    ExportResult
        The files written and their row counts.

    Raises
    ------
    ExportError
        A binary column (image, tensor, blob) bound for CSV or NDJSON (the message names
        the column), an unknown suffix, clashing arguments.
    ValueError
        An entity pattern that matches nothing, an unknown timeline, bounds that are not
        times, ``start`` after ``end`` (the messages list what exists).
    OutputExistsError
        An output exists and ``overwrite`` is False.

    Examples
    --------
    >>> rrquery.export("run.rrd", "points.parquet", entities="world/points")  # doctest: +SKIP
    >>> rrquery.export("run.rrd", "out/", timeline="frame", start=100, end=200)  # doctest: +SKIP
    >>> rrquery.export("run.rrd", "train.parquet", entities="robot/**", wide=True, index="sensor_time",
    ...                sample=10)  # doctest: +SKIP
    """
    from ._export_many import plan_export_many
    from ._many import RecordingSet, is_many, open_many

    # One set of arguments for either planner: the many-recording one plans each recording with them.
    options: dict[str, Any] = {
        "entities": entities,
        "timeline": timeline,
        "start": start,
        "end": end,
        "wide": wide,
        "index": index,
        "fill": fill,
        "sample": sample,
        "overwrite": overwrite,
    }
    if isinstance(rec_or_path, RecordingSet) or (not isinstance(rec_or_path, Recording) and is_many(rec_or_path)):
        rs = rec_or_path if isinstance(rec_or_path, RecordingSet) else open_many(rec_or_path)  # type: ignore[arg-type]
        try:
            return plan_export_many(rs, out, **options).run(progress)
        finally:
            if rs is not rec_or_path:
                rs.close()
    if not isinstance(rec_or_path, (str, os.PathLike, Recording)):
        raise TypeError(f"expected a path, a list of paths or a Recording, got {type(rec_or_path).__name__}")
    owned = not isinstance(rec_or_path, Recording)
    rec = Recording(rec_or_path) if not isinstance(rec_or_path, Recording) else rec_or_path
    try:
        return plan_export(rec, out, **options).run(progress)
    finally:
        if owned:
            rec.close()
