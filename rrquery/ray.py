"""Recordings as Ray Data datasets, read in parallel across a cluster (``pip install rrkit[ray]``).

:func:`read_rrd` gives the rows of many recordings, :func:`read_dataset` their wide
training view. Both plan on the driver from the files' indexes (footers, or a fresh
catalog cache) and hand Ray one read task per group of chunk records (or per recording,
for the dataset view): nothing outside the filters is read. The files must be reachable
under the same paths from every node (a shared file system).

Images and tensors arrive as Ray tensor columns: numpy arrays in ``iter_batches`` (one
``(rows, *shape)`` array when the shapes agree), torch tensors in ``iter_torch_batches``.
Ray's tensor columns cannot hold nulls, which decides two things:

- a tensor column of :func:`read_rrd` becomes a tensor column when every selected
  entity has it (read image entities on their own, ``entities="camera/*"``); mixed with
  entities without it, it stays the rrquery struct (``shape``, ``dtype``, ``data``;
  :func:`rrquery.to_numpy` converts it), with a warning;
- in both, rows with no value in a tensor column are left out (in :func:`read_dataset`:
  the rows before a camera's first image with ``fill="latest"``, and the rows of index
  values without an image with ``fill=None``). ``tensors="struct"`` keeps every row and
  the structs.

On a small machine, two Ray Data settings decide whether the cores are used: its
per-operator resource reservation (``DataContext.op_resource_reservation_enabled``) lets
one read task run at a time on a 2-CPU cluster, and its default of at least 200 read
tasks costs a few milliseconds of scheduling each; ``bench/fleet.py`` measures both.

Only this module imports Ray; ``import rrquery`` does not.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import ray.data
from ray.data.block import BlockMetadata
from ray.data.datasource import Datasource, ReadTask
from ray.data.extensions import ArrowTensorArray

from rrformat.chunk import ChunkInfo, TimelineKind, timeline_kind_of
from rrformat.errors import RrdError

from ._frames import ENTITY, ROW_ID, Window, timeline_dtype
from ._many import APPLICATION_ID, RECORDING_ID, SkippedDataWarning, _supertype, open_many, with_ids
from ._numpy import tensors_of
from ._read import decode_record
from ._recording import Recording, chunk_parts
from ._timebounds import TimeValue

__all__ = ["RrdDatasource", "RrdDatasetDatasource", "read_dataset", "read_rrd"]

Paths = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]

TASK_BYTES_MAX = 256 << 20
"""Largest read task planned (uncompressed bytes): there are more tasks than Ray asks for if needed."""
BLOCK_BYTES = 64 << 20
"""Uncompressed bytes of records decoded together in a task (one block or more each)."""

_TENSOR_FIELDS = {"shape", "dtype", "data"}
_TIMESTAMP = pa.timestamp("ns", tz="UTC")


def _is_tensor(dtype: pl.DataType | pa.DataType) -> bool:
    if isinstance(dtype, pa.DataType):
        return pa.types.is_struct(dtype) and {dtype.field(i).name for i in range(dtype.num_fields)} >= _TENSOR_FIELDS
    return isinstance(dtype, pl.Struct) and {f.name for f in dtype.fields} >= _TENSOR_FIELDS


def _component_fields(schema: pa.Schema) -> list[pa.Field]:
    return [f for f in schema if f.name != ROW_ID and timeline_kind_of(f) is None]


def _common_type(name: str, types: list[pa.DataType]) -> pa.DataType:
    """The type of a column that several schemas hold (widened if they differ)."""
    first = types[0]
    if all(t == first for t in types):
        return first
    try:
        merged = pa.unify_schemas([pa.schema([pa.field(name, t)]) for t in types], promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        shown = ", ".join(sorted({str(t) for t in types}))
        raise ValueError(f"column {name!r} has types that do not mix across the recordings: {shown}") from exc
    return merged.field(name).type


def _check_tensors(tensors: str) -> None:
    if tensors not in ("numpy", "struct"):
        raise ValueError(f"tensors must be 'numpy' or 'struct', got {tensors!r}")


def _to_block(frame: pl.DataFrame | pa.Table, tensor_columns: Sequence[str]) -> pa.Table:
    """A Ray block: tensor columns as Ray tensors, and the rows without a value there left out."""
    table = frame if isinstance(frame, pa.Table) else frame.to_arrow(compat_level=pl.CompatLevel.oldest())
    present = [c for c in tensor_columns if c in table.column_names]
    if present:
        valid = [pc.is_valid(table.column(c)) for c in present]
        if any(table.column(c).null_count for c in present):
            mask = valid[0]
            for more in valid[1:]:
                mask = pc.and_(mask, more)
            table = table.filter(mask)
    for name in present:
        if table.num_rows == 0:
            # No value to learn the shape from: the column is left out of an empty block.
            table = table.drop_columns([name])
            continue
        arrays = tensors_of(table.column(name))
        # Rows without a value were filtered out above: every item is an array.
        items = arrays if isinstance(arrays, np.ndarray) else [a for a in arrays if a is not None]
        tensor = ArrowTensorArray.from_numpy(items)
        table = table.set_column(table.schema.get_field_index(name), name, tensor)
    return table


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """``frame`` with exactly the columns of ``schema``, in its order (missing ones null)."""
    have = frame.schema  # built on each access: once here
    missing = [pl.lit(None, dtype=dtype).alias(name) for name, dtype in schema.items() if name not in have]
    casts = [pl.col(n).cast(dtype) for n, dtype in schema.items() if n in have and have[n] != dtype]
    if missing or casts:
        frame = frame.with_columns(*missing, *casts)
    return frame.select(list(schema))


def _read(source: Datasource, default_tasks: Callable[[], int], read_args: dict[str, Any]) -> ray.data.Dataset:
    """``ray.data.read_datasource``, with ``default_tasks()`` read tasks unless the caller chose a number."""
    if "override_num_blocks" not in read_args and "parallelism" not in read_args:
        read_args["override_num_blocks"] = default_tasks()
    dataset: ray.data.Dataset = ray.data.read_datasource(source, **read_args)
    return dataset


def _skipped(on_error: str, message: str, exc: BaseException) -> None:
    if on_error == "raise":
        raise exc
    # On a worker: Ray shows the warning on the driver's console, prefixed by the worker.
    warnings.warn(f"{message}: {exc}", SkippedDataWarning, stacklevel=3)


# --- rows -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Part:
    """Chunks of one recording read by one task (whole records)."""

    path: str
    application_id: str
    recording_id: str
    infos: tuple[ChunkInfo, ...]
    schemas: dict[int, pa.Schema]
    nbytes: int


@dataclass(frozen=True)
class _RowsSpec:
    """What every read task of :func:`read_rrd` shares: the columns of every block (in order), ..."""

    schema: pa.Schema
    windows: dict[str, Window]
    tensors: tuple[str, ...]
    on_error: str


def _record_size(c: ChunkInfo) -> int:
    return max(1, c.record_raw_size or c.record_size)


def _by_record(infos: Iterable[ChunkInfo]) -> list[list[ChunkInfo]]:
    records: dict[int, list[ChunkInfo]] = {}
    for c in infos:
        records.setdefault(c.record_offset, []).append(c)
    return list(records.values())


def _read_part(part: _Part, spec: _RowsSpec) -> Iterator[pa.Table]:
    """Decode a part's records (a group of at most BLOCK_BYTES at a time) into blocks."""
    try:
        fd = os.open(part.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        _skipped(spec.on_error, f"left out {part.path}", exc)
        return
    try:
        group: list[list[ChunkInfo]] = []
        size = 0
        records = _by_record(part.infos)
        for i, record in enumerate(records):
            group.append(record)
            size += _record_size(record[0])
            if size >= BLOCK_BYTES or i == len(records) - 1:
                yield from _read_group(fd, part, group, spec)
                group, size = [], 0
    finally:
        os.close(fd)


def _read_group(fd: int, part: _Part, records: list[list[ChunkInfo]], spec: _RowsSpec) -> Iterator[pa.Table]:
    batches: dict[int, pa.RecordBatch] = {}
    infos: list[ChunkInfo] = []
    for record in records:
        head = record[0]
        try:
            batches[head.record_offset] = decode_record(fd, part.path, head, part.schemas[head.schema_id])
        except RrdError as exc:
            rows = sum(c.rows for c in record)
            _skipped(spec.on_error, f"left out {rows} rows of a damaged chunk record of {part.path}", exc)
            continue
        infos.extend(record)
    try:
        parts = chunk_parts(part.path, infos, batches, spec.windows)
    except RrdError as exc:
        _skipped(spec.on_error, f"left out rows of {part.path}", exc)
        return
    for run in _runs(parts):
        block = _to_block(_conform_table(run, part, spec.schema), spec.tensors)
        if block.num_rows:
            yield block


def _runs(parts: Sequence[tuple[str, pa.RecordBatch]]) -> Iterator[tuple[list[str], pa.Table]]:
    """Runs of chunks sharing a schema, each as one table (no copy), with the entity of each chunk
    (chunks are never empty: each is one chunk of the table's columns)."""
    start = 0
    while start < len(parts):
        schema = parts[start][1].schema
        end = start + 1
        while end < len(parts) and (parts[end][1].schema is schema or parts[end][1].schema.equals(schema)):
            end += 1
        run = parts[start:end]
        yield [e for e, _ in run], pa.Table.from_batches([b for _, b in run], schema=schema)
        start = end


def _conform_table(run: tuple[list[str], pa.Table], part: _Part, schema: pa.Schema) -> pa.Table:
    """A run of chunks with exactly the block columns: ids, entity, and nulls for what it lacks.

    Built with Arrow alone (no copy of the data columns): time timelines are int64 in the
    file and become timestamps by a cast that keeps their buffer.
    """
    names, table = run
    n = table.num_rows
    columns: list[pa.Array | pa.ChunkedArray] = []
    for field in schema:
        name = field.name
        if name == APPLICATION_ID:
            columns.append(pa.repeat(part.application_id, n).cast(field.type))
        elif name == RECORDING_ID:
            columns.append(pa.repeat(part.recording_id, n).cast(field.type))
        elif name == ENTITY:
            columns.append(_entity_column(names, table, field.type))
        else:
            i = table.schema.get_field_index(name)
            if i < 0:
                columns.append(pa.nulls(n, field.type))
                continue
            column = table.column(i)
            columns.append(column if column.type == field.type else column.cast(field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _entity_column(names: list[str], table: pa.Table, type_: pa.DataType) -> pa.Array:
    first = names[0]
    if all(e == first for e in names):
        return pa.repeat(first, table.num_rows).cast(type_)
    distinct = list(dict.fromkeys(names))
    code = {e: i for i, e in enumerate(distinct)}
    sizes = [len(b) for b in table.column(0).chunks] if table.num_columns else []
    rows = np.repeat(np.array([code[e] for e in names], dtype=np.int32), sizes)
    return pa.array(distinct, type_).take(pa.array(rows))


class RrdDatasource(Datasource):  # type: ignore[misc]  # Datasource is Any where Ray is not installed
    """The rows of many recordings, for :func:`ray.data.read_datasource` (see :func:`read_rrd`).

    Planned on creation, on the driver: the files' indexes are read and the chunks inside
    the filters are grouped, whole records at a time, into read tasks.
    """

    def __init__(
        self,
        paths: Paths,
        *,
        entities: str | Sequence[str] = "**",
        timeline: str | None = None,
        start: TimeValue = None,
        end: TimeValue = None,
        columns: Sequence[str] | None = None,
        application_id: str | Sequence[str] | None = None,
        recording_id: str | Sequence[str] | None = None,
        tensors: str = "numpy",
        on_error: str = "warn",
    ) -> None:
        _check_tensors(tensors)
        if timeline is None and (start is not None or end is not None):
            raise ValueError("start/end need a timeline=")
        with open_many(paths, application_id=application_id, recording_id=recording_id, on_error=on_error) as rs:
            lo, hi = rs.bounds(timeline, start, end) if timeline is not None else (None, None)
            kinds = rs.timeline_kinds()
            chosen = rs.candidates(entities, timeline=timeline, lo=lo, hi=hi)
            parts: list[_Part] = []
            components: dict[str, list[pa.DataType]] = {}
            have: dict[str, int] = {}  # chunks that hold each component
            timelines: set[str] = set() if timeline is None else {timeline}
            chunks = 0

            def plan(rec: Recording, pats: list[str]) -> tuple[list[ChunkInfo], dict[int, pa.Schema]]:
                infos = rec.select(pats, timeline=timeline, start=lo, end=hi)
                return infos, {sid: rec._schema(sid) for sid in dict.fromkeys(c.schema_id for c in infos)}

            for m, (infos, schemas) in rs._each(chosen, plan):
                if not infos:
                    continue
                own = {sid: _component_fields(sch) for sid, sch in schemas.items()}
                for c in infos:
                    chunks += 1
                    timelines.update(c.timelines)
                    for f in own[c.schema_id]:
                        have[f.name] = have.get(f.name, 0) + 1
                for sid_fields in own.values():
                    for f in sid_fields:
                        if columns is None or f.name in columns:
                            components.setdefault(f.name, []).append(f.type)
                s = m.summary
                size = sum(_record_size(r[0]) for r in _by_record(infos))
                parts.append(_Part(s.path, s.application_id, s.recording_id, tuple(infos), schemas, size))
        if columns is not None:
            unknown = [c for c in columns if c not in components]
            if unknown and parts:
                raise ValueError(f"columns: no {', '.join(map(repr, unknown))} in the matching entities")
        fields = [
            pa.field(APPLICATION_ID, pa.string()),
            pa.field(RECORDING_ID, pa.string()),
            pa.field(ENTITY, pa.string()),
            pa.field(ROW_ID, pa.uint64()),
        ]
        for name, kind in kinds.items():
            if name in timelines:
                fields.append(pa.field(name, _TIMESTAMP if kind is TimelineKind.TIME else pa.int64()))
        taken = {f.name for f in fields}
        fields += [pa.field(name, _common_type(name, types)) for name, types in components.items() if name not in taken]
        dense: list[str] = []
        if tensors == "numpy":
            for f in fields:
                if not _is_tensor(f.type):
                    continue
                if have.get(f.name, 0) == chunks:
                    dense.append(f.name)
                else:
                    warnings.warn(
                        f"column {f.name!r} stays a struct (shape, dtype, data): some selected entities lack it, and "
                        "a Ray tensor column cannot hold their nulls; read the entities that have it on their own "
                        "(entities=...) to get numpy arrays",
                        UserWarning,
                        stacklevel=3,
                    )
        windows: dict[str, Window] = {} if timeline is None else {timeline: (lo, hi)}
        self.parts = parts
        self.records = sum(len(_by_record(p.infos)) for p in parts)
        self.spec = _RowsSpec(pa.schema(fields), windows, tuple(dense), on_error)
        self.rows = sum(c.rows for p in parts for c in p.infos)

    def get_name(self) -> str:
        return "Rrd"

    def estimate_inmemory_data_size(self) -> int | None:
        return sum(p.nbytes for p in self.parts)

    def get_read_tasks(
        self, parallelism: int, per_task_row_limit: int | None = None, data_context: Any = None
    ) -> list[ReadTask]:
        """``parallelism`` tasks of whole records (fewer if there are fewer records), of even size.

        Ray splits the output of each task when it gets fewer tasks than it asked for, and
        a split read is no longer fused with the operations after it: the tasks are cut to
        the number asked, never more than one per record, and at most TASK_BYTES_MAX each.
        """
        records = [(part, record, _record_size(record[0])) for part in self.parts for record in _by_record(part.infos)]
        total = sum(size for _, _, size in records)
        n = min(len(records), max(1, parallelism, -(-total // TASK_BYTES_MAX)))
        tasks: list[list[_Part]] = []
        pieces: dict[int, list[list[ChunkInfo]]] = {}
        owners: dict[int, _Part] = {}
        done = 0
        for i, (part, record, size) in enumerate(records):
            key = id(part)
            owners[key] = part
            pieces.setdefault(key, []).append(record)
            done += size
            left = len(records) - i - 1
            # Cut at each n-th of the bytes, and when the records left are just enough for the tasks left.
            if done * n >= (len(tasks) + 1) * total or left == n - len(tasks) - 1:
                tasks.append([_piece(owners[k], recs) for k, recs in pieces.items()])
                pieces.clear()
                owners.clear()
                if len(tasks) == n:
                    break
        spec = self.spec
        exact = not spec.windows and not spec.tensors
        out = []
        for group in tasks:
            metadata = BlockMetadata(
                num_rows=sum(c.rows for p in group for c in p.infos) if exact else None,
                size_bytes=sum(p.nbytes for p in group),
                input_files=tuple(dict.fromkeys(p.path for p in group)),
                exec_stats=None,
            )
            out.append(ReadTask(_rows_reader(group, spec), metadata, per_task_row_limit=per_task_row_limit))
        return out


def _piece(part: _Part, records: list[list[ChunkInfo]]) -> _Part:
    infos = tuple(c for record in records for c in record)
    size = sum(_record_size(record[0]) for record in records)
    return _Part(part.path, part.application_id, part.recording_id, infos, part.schemas, size)


TASKS_PER_CPU = 4
"""Read tasks :func:`read_rrd` plans per CPU of the cluster (unless told otherwise)."""


def _default_tasks(records: int) -> int:
    """Read tasks for a read of ``records`` chunk records: a few per CPU of the cluster.

    Ray asks for at least 200, and each costs milliseconds of scheduling: on a small
    cluster that is most of a read. A task streams its records in blocks of at most
    BLOCK_BYTES, so fewer, larger tasks do not hold more in memory.
    """
    # Without a running Ray, the read starts a local one of this machine's CPUs.
    cpus = os.cpu_count() or 1
    if ray.is_initialized():
        cpus = int(ray.cluster_resources().get("CPU", 1))  # type: ignore[no-untyped-call]
    return max(1, min(records, TASKS_PER_CPU * max(1, cpus)))


def _rows_reader(group: list[_Part], spec: _RowsSpec) -> Any:
    def read() -> Iterator[pa.Table]:
        for part in group:
            yield from _read_part(part, spec)

    return read


def read_rrd(
    paths: Paths,
    *,
    entities: str | Sequence[str] = "**",
    timeline: str | None = None,
    start: TimeValue = None,
    end: TimeValue = None,
    columns: Sequence[str] | None = None,
    application_id: str | Sequence[str] | None = None,
    recording_id: str | Sequence[str] | None = None,
    tensors: str = "numpy",
    on_error: str = "warn",
    **read_args: Any,
) -> ray.data.Dataset:
    """The rows of many recordings as a Ray dataset: :meth:`Recording.range` of each, read in parallel.

    Parameters
    ----------
    paths
        Files, globs (``"runs/**/*.rrd"``) and directories, or a list of them, as for
        :func:`rrquery.open_many`.
    entities, timeline, start, end
        As for :meth:`Recording.range`: rows of matching entities on ``timeline`` within the
        inclusive bounds, and timeless rows. Recordings without ``timeline`` are left out.
    columns
        Component columns to read (default all); ``application_id``, ``recording_id``,
        ``entity``, ``row_id`` and the timelines are always there.
    application_id, recording_id
        Keep only the recordings with these ids.
    tensors
        ``"numpy"``: tensor and image columns as Ray tensor columns (see the module notes);
        ``"struct"``: as rrquery's struct.
    on_error
        ``"warn"``: a file that cannot be read, or a damaged chunk record, is left out with a
        :class:`SkippedDataWarning` (on the driver while planning, from the worker while
        reading), and the job goes on; a truncated file is read up to its damage.
        ``"raise"``: the error fails the job.
    **read_args
        Passed to :func:`ray.data.read_datasource` (``override_num_blocks``, ``concurrency``,
        ``ray_remote_args``...). The read has :data:`TASKS_PER_CPU` tasks per CPU of the
        cluster unless ``override_num_blocks`` says otherwise.

    Returns
    -------
    ray.data.Dataset
        Columns ``application_id``, ``recording_id``, ``entity``, ``row_id``, the timelines,
        the components (null where an entity lacks one). Row order is not kept.

    Examples
    --------
    >>> ds = rrquery.ray.read_rrd("runs/**/*.rrd", entities="camera/image", timeline="frame")  # doctest: +SKIP
    >>> for batch in ds.iter_torch_batches(batch_size=32):  # doctest: +SKIP
    ...     images = batch["tensor"]  # (32, H, W, 3) uint8
    """
    source = RrdDatasource(
        paths,
        entities=entities,
        timeline=timeline,
        start=start,
        end=end,
        columns=columns,
        application_id=application_id,
        recording_id=recording_id,
        tensors=tensors,
        on_error=on_error,
    )
    return _read(source, lambda: _default_tasks(source.records), read_args)


# --- the dataset view -------------------------------------------------------------------------------
@dataclass(frozen=True)
class _ViewTask:
    path: str
    index: int
    application_id: str
    recording_id: str
    columns: tuple[str, ...]
    nbytes: int


@dataclass(frozen=True)
class _ViewSpec:
    index: str
    start: TimeValue
    end: TimeValue
    fill: str | None
    sample: Any
    schema: dict[str, pl.DataType]
    tensors: tuple[str, ...]
    on_error: str


def _read_view(task: _ViewTask, spec: _ViewSpec) -> Iterator[pa.Table]:
    try:
        with warnings.catch_warnings():
            # A truncated file was reported on the driver when the read was planned.
            warnings.simplefilter("ignore", UserWarning)
            rec = Recording(task.path, recording=task.index)
        with rec:
            frame = rec.dataset(
                spec.index, list(task.columns), start=spec.start, end=spec.end, fill=spec.fill, sample=spec.sample
            )
    except (RrdError, OSError) as exc:
        _skipped(spec.on_error, f"left out {task.path} (recording {task.recording_id})", exc)
        return
    frame = _conform(with_ids(frame, task.application_id, task.recording_id), spec.schema)
    block = _to_block(frame, spec.tensors)
    if block.num_rows:
        yield block


class RrdDatasetDatasource(Datasource):  # type: ignore[misc]  # as above
    """The wide dataset view of many recordings, one read task per recording (see :func:`read_dataset`)."""

    def __init__(
        self,
        paths: Paths,
        *,
        index: str = "frame",
        columns: Sequence[str] | None = None,
        start: TimeValue = None,
        end: TimeValue = None,
        fill: str | None = "latest",
        sample: Any = None,
        application_id: str | Sequence[str] | None = None,
        recording_id: str | Sequence[str] | None = None,
        tensors: str = "numpy",
        on_error: str = "warn",
    ) -> None:
        _check_tensors(tensors)
        if fill not in ("latest", None):
            raise ValueError(f"fill must be 'latest' or None, got {fill!r}")
        specs = [columns] if isinstance(columns, str) else (None if columns is None else list(columns))
        with open_many(paths, application_id=application_id, recording_id=recording_id, on_error=on_error) as rs:
            rs.bounds(index, start, end)
            kind = rs.timeline_kind(index)
            plans, names = rs.dataset_plan(index, specs)

            def dtypes(rec: Recording, cols: list[str]) -> dict[str, pl.DataType]:
                out: dict[str, pl.DataType] = {}
                for name in cols:
                    entity, _, component = name.rpartition(":")
                    out[name] = rec.schema(entity)[component]
                return out

            found: dict[str, list[pl.DataType]] = {}
            for _, types in rs._each(list(plans.items()), dtypes):
                for name, dtype in types.items():
                    found.setdefault(name, []).append(dtype)
            tasks = []
            for m, cols in plans.items():
                s = m.summary
                nbytes = max(1, s.size)
                tasks.append(_ViewTask(s.path, s.index, s.application_id, s.recording_id, tuple(cols), nbytes))
        schema: dict[str, pl.DataType] = {APPLICATION_ID: pl.String(), RECORDING_ID: pl.String()}
        schema[index] = timeline_dtype(kind)
        for name in names:
            schema[name] = _supertype(name, found[name]) if name in found else pl.Null()
        dense = tuple(n for n, t in schema.items() if tensors == "numpy" and _is_tensor(t))
        self.tasks = tasks
        self.spec = _ViewSpec(index, start, end, fill, sample, schema, dense, on_error)

    def get_name(self) -> str:
        return "RrdDataset"

    def estimate_inmemory_data_size(self) -> int | None:
        return sum(t.nbytes for t in self.tasks)

    def get_read_tasks(
        self, parallelism: int, per_task_row_limit: int | None = None, data_context: Any = None
    ) -> list[ReadTask]:
        """One task per recording: each computes its own view (latest-at never crosses recordings)."""
        out = []
        for task in self.tasks:
            metadata = BlockMetadata(num_rows=None, size_bytes=task.nbytes, input_files=(task.path,), exec_stats=None)
            out.append(ReadTask(_view_reader(task, self.spec), metadata, per_task_row_limit=per_task_row_limit))
        return out


def _view_reader(task: _ViewTask, spec: _ViewSpec) -> Any:
    def read() -> Iterator[pa.Table]:
        yield from _read_view(task, spec)

    return read


def read_dataset(
    paths: Paths,
    *,
    index: str = "frame",
    columns: Sequence[str] | None = None,
    start: TimeValue = None,
    end: TimeValue = None,
    fill: str | None = "latest",
    sample: Any = None,
    application_id: str | Sequence[str] | None = None,
    recording_id: str | Sequence[str] | None = None,
    tensors: str = "numpy",
    on_error: str = "warn",
    **read_args: Any,
) -> ray.data.Dataset:
    """The wide view of :meth:`Recording.dataset` over many recordings, one Ray task per recording.

    Each recording has its own rows (its index values, or its own ``sample`` grid) and is
    filled from its own values only: latest-at never carries a value from one recording
    into another. Columns a recording lacks are null in its rows; recordings holding none
    of the columns, or not ``index``, have no rows.

    Parameters
    ----------
    paths, application_id, recording_id, on_error, **read_args
        As for :func:`read_rrd`.
    index, columns, start, end, fill, sample
        As for :meth:`Recording.dataset`.
    tensors
        ``"numpy"``: tensor columns as Ray tensor columns, and rows without a value in one
        of them left out; ``"struct"``: the rows and structs of ``Recording.dataset``.

    Returns
    -------
    ray.data.Dataset
        ``application_id``, ``recording_id``, ``index``, then one ``entity:component``
        column per requested column.

    Examples
    --------
    >>> ds = rrquery.ray.read_dataset("runs/", index="frame", sample=5,
    ...                               columns=["camera/image:tensor", "robot/pose:translation"])  # doctest: +SKIP
    """
    source = RrdDatasetDatasource(
        paths,
        index=index,
        columns=columns,
        start=start,
        end=end,
        fill=fill,
        sample=sample,
        application_id=application_id,
        recording_id=recording_id,
        tensors=tensors,
        on_error=on_error,
    )
    # One task per recording, as planned: more blocks asked for would split them.
    return _read(source, lambda: max(1, len(source.tasks)), read_args)
