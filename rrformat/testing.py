"""Helpers for testing code that reads or writes .rrd files.

Three kinds of helper live here:

- deterministic builders: :func:`known_value` (a value of any Arrow type, chosen by an
  integer), :func:`known_column`, :func:`make_chunk`, :func:`numbered_chunk` (a stream
  that a writer in another process and a reader can both rebuild) and
  :func:`write_sample_file`;
- Hypothesis strategies that build arbitrary *valid* chunks: :func:`chunk_specs`,
  :func:`arrow_values`, :func:`chunks` and :func:`chunk_lists`;
- :func:`record_layout`, the byte role of every record of a file, for tests that cut or
  damage files at chosen offsets.

The strategies need Hypothesis (the ``test`` extra).
"""

from __future__ import annotations

import decimal
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from hypothesis import strategies as st

from . import _framing as fr
from .chunk import Chunk, TimelineKind
from .components import COMPONENTS, DATA_KINDS, TENSOR_TYPE
from .reader import Damage, RrdReader
from .writer import Compression, RrdWriter

__all__ = [
    "EXTENSION_TYPES",
    "TIMELINES",
    "ENTITIES",
    "ChunkSpec",
    "RecordSpan",
    "known_value",
    "known_column",
    "make_chunk",
    "numbered_chunk",
    "write_sample_file",
    "record_layout",
    "arrow_values",
    "tensors",
    "chunk_specs",
    "chunks",
    "chunk_lists",
]

EXTENSION_TYPES: tuple[pa.DataType, ...] = (
    pa.float16(),
    pa.struct([pa.field("a", pa.int32()), pa.field("b", pa.utf8()), pa.field("c", pa.float64(), nullable=False)]),
    pa.list_(pa.int64()),
    pa.large_list(pa.utf8()),
    pa.large_utf8(),
    pa.binary(),
    pa.binary(5),
    pa.map_(pa.utf8(), pa.int32()),
    pa.timestamp("ns", tz="UTC"),
    pa.date32(),
    pa.duration("us"),
    pa.decimal128(12, 3),
    pa.int8(),
    pa.uint32(),
    pa.bool_(),
    pa.list_(pa.struct([pa.field("x", pa.float32()), pa.field("tags", pa.list_(pa.utf8()))]), 2),
)
"""Arrow types used for user extension components (names outside the catalog)."""

TIMELINES: tuple[tuple[str, TimelineKind], ...] = (
    ("frame", TimelineKind.SEQUENCE),
    ("log_time", TimelineKind.TIME),
    ("sim_time", TimelineKind.TIME),
    ("tick", TimelineKind.SEQUENCE),
)
"""Timeline names (and kinds) the strategies pick from."""

ENTITIES: tuple[str, ...] = (
    "world",
    "world/points",
    "world/camera/#0/image",
    'robot/"arm/left"/joint_3',
    "sensors/1234/a6a5e96c-fd52-4d21-a394-ffbb6e5def1d",
    'plot/"ünïcode 名前"',
    "",
)
"""Entity paths (canonical) the strategies pick from, including quoted, index and UUID parts."""

_EXTENSION_NAMES = ("user.value", "ext_struct", "Ωmega", "my component", "x")
_TIME_BASE = 1_700_000_000_000_000_000


# --- deterministic values ---------------------------------------------------------------------
def _integer_bounds(t: pa.DataType) -> tuple[int, int]:
    bits = t.bit_width
    if pa.types.is_signed_integer(t):
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def known_value(t: pa.DataType, i: int = 0) -> Any:
    """A deterministic, non-null Python value of Arrow type ``t`` that varies with ``i``.

    Floats are multiples of 1/4 (exact in every float width for small ``i``), strings hold
    non-ASCII characters, integers reach the extremes of their type, and nested types
    recurse (nullable struct fields are null for some ``i``). A :data:`TENSOR_TYPE` value is
    a coherent tensor: its ``data`` has ``product(shape)`` elements of its ``dtype``.
    """
    if t == TENSOR_TYPE:
        h, w = 1 + i % 3, 2 + i % 2
        data = (np.arange(h * w, dtype="<u2") + i).tobytes()
        return {"shape": [h, w], "names": ["height", "width"] if i % 2 else None, "dtype": "uint16", "data": data}
    if pa.types.is_boolean(t):
        return i % 2 == 0
    if pa.types.is_integer(t):
        lo, hi = _integer_bounds(t)
        return (lo, hi, 0, 1)[i % 4] if i % 5 == 4 else lo + (i * 2_654_435_761) % (hi - lo + 1)
    if pa.types.is_floating(t):
        return (i % 1000) * 0.25 * (-1 if i % 3 == 1 else 1)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return ("", "RDF", f"héllo {i} 🤖", "multi\nline\ttext", "日本語")[i % 5]
    if pa.types.is_fixed_size_binary(t):
        return bytes((i + k) % 256 for k in range(t.byte_width))
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return bytes((i * 31 + k) % 256 for k in range(i % 9))
    if pa.types.is_fixed_size_list(t):
        return [known_value(t.value_type, i * t.list_size + k) for k in range(t.list_size)]
    if pa.types.is_map(t):
        return [(f"k{k}", known_value(t.item_type, i + k)) for k in range(i % 3)]
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return [known_value(t.value_type, i + k) for k in range(i % 4)]
    if pa.types.is_struct(t):
        return {f.name: None if f.nullable and i % 5 == 3 else known_value(f.type, i) for f in t}
    if pa.types.is_timestamp(t) or pa.types.is_duration(t):
        return i * 1_000_003_000  # whole microseconds: to_pylist() makes datetimes
    if pa.types.is_date(t):
        return 19_000 + i
    if pa.types.is_decimal(t):
        return decimal.Decimal(i * 1237 - 5000).scaleb(-t.scale)
    raise TypeError(f"known_value: unsupported Arrow type {t}")


def known_column(t: pa.DataType, rows: int, *, seed: int = 0, null_every: int = 0) -> pa.Array:
    """``rows`` values ``known_value(t, seed + i)``; every ``null_every``-th one is null (0: none)."""
    values = [
        None if null_every and i % null_every == null_every - 1 else known_value(t, seed + i) for i in range(rows)
    ]
    return pa.array(values, type=t)


def _timeline_values(kind: TimelineKind, rows: int, seed: int, *, shuffled: bool, null_every: int) -> pa.Array:
    base = np.arange(rows, dtype=np.int64) + seed
    if kind is TimelineKind.TIME:
        base = base * 1_000_000 + _TIME_BASE
    if shuffled:
        base = np.random.default_rng(seed).permutation(base)
    mask = None
    if null_every:
        mask = np.arange(rows) % null_every == null_every - 1
    return pa.array(base, type=pa.int64(), mask=mask)


def make_chunk(
    entity: str,
    kind: str,
    *,
    rows: int,
    first_row_id: int = 0,
    row_step: int = 1,
    timelines: Mapping[str, TimelineKind | str] | None = None,
    components: Sequence[str] | None = None,
    extra: Mapping[str, pa.Array] | None = None,
    seed: int = 0,
    null_every: int = 0,
    shuffled: bool = False,
    recording: int = 0,
) -> Chunk:
    """A chunk of known values (see :func:`known_value`), fast enough for thousands of rows.

    Parameters
    ----------
    timelines
        Timeline name to kind; default ``{"frame": "sequence"}``; ``{}`` makes a timeless chunk.
    components
        Catalogued components to fill; default every component of ``kind``.
    extra
        Further (extension) columns, each of ``rows`` values.
    seed
        Shifts every value, so chunks of different seeds differ.
    null_every, shuffled
        Make every ``null_every``-th component and timeline value null, and shuffle the
        timeline values (unsorted timelines).
    """
    names = list(DATA_KINDS[kind].components if components is None else components)
    tls = {"frame": TimelineKind.SEQUENCE} if timelines is None else timelines
    return Chunk.build(
        entity,
        kind,
        row_ids=np.arange(rows, dtype=np.uint64) * np.uint64(row_step) + np.uint64(first_row_id),
        timelines={
            name: (k, _timeline_values(TimelineKind(k), rows, seed, shuffled=shuffled, null_every=null_every))
            for name, k in tls.items()
        },
        components={
            **{n: known_column(COMPONENTS[n].column_type, rows, seed=seed, null_every=null_every) for n in names},
            **dict(extra or {}),
        },
        recording=recording,
    )


def numbered_chunk(i: int) -> Chunk:
    """The ``i``-th chunk of a deterministic stream, for tests whose writer is another process.

    Row ids start at ``10_000 * i``. Most chunks are small scalars of three entities; every
    fifth is a text entry with two timelines (a second schema, first met mid-stream); every
    seventh scalar chunk is large (2000 rows), so its record takes longer to write.
    """
    if i % 5 == 4:
        return make_chunk(
            "live/log",
            "text_entry",
            rows=3,
            first_row_id=10_000 * i,
            timelines={"frame": "sequence", "log_time": "time"},
            components=["text", "level"],
            seed=i,
        )
    rows = 2000 if i % 7 == 6 else 1 + i % 4
    return make_chunk(f"live/s{i % 3}", "scalar", rows=rows, first_row_id=10_000 * i, components=["scalar"], seed=i)


def write_sample_file(
    path: str | os.PathLike[str], *, compression: Compression = "zstd", overwrite: bool = False
) -> list[Chunk]:
    """Write a small (under 4 KiB) closed file and return the chunks written, in order.

    The file holds, in this order: a timeless chunk; a record packing three scalar
    entities (one chunk empty); a second recording declared mid-file; a text chunk (nulls,
    unsorted timeline) whose schema is introduced late, so a schema record sits between
    chunk records; a chunk of the second recording; then the footer and trailer. Every
    record is written by its own call, so the layout does not depend on the writer's timing.
    """
    written: list[Chunk] = []
    with RrdWriter(
        path,
        application_id="sample",
        recording_id="sample-0",
        start_time_ns=_TIME_BASE,
        compression=compression,
        threads=0,
        overwrite=overwrite,
    ) as w:

        def put(*group: Chunk) -> None:
            w.write_chunks(group)
            w.flush()
            written.extend(group)

        put(Chunk.build("world", "view_coordinates", row_ids=[0], components={"view_coordinates": ["RDF"]}))
        put(
            *(
                make_chunk(f"plot/s{k}", "scalar", rows=2 + k, first_row_id=1 + 10 * k, components=["scalar"], seed=k)
                for k in range(2)
            ),
            make_chunk("plot/s2", "scalar", rows=0, first_row_id=40, components=["scalar"]),
        )
        second = w.add_recording(application_id="sample", recording_id="sample-1", start_time_ns=_TIME_BASE + 1)
        put(
            make_chunk(
                "log", "text_entry", rows=3, first_row_id=50, components=["text"], null_every=3, shuffled=True, seed=7
            )
        )
        put(make_chunk("plot/s0", "scalar", rows=4, first_row_id=0, components=["scalar"], seed=9, recording=second))
    return written


# --- file layout ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RecordSpan:
    """Where one record's parts lie in a file."""

    offset: int
    kind: int
    meta_offset: int
    body_offset: int
    body_end: int
    end: int

    def part_of(self, offset: int) -> str:
        """``"header"``, ``"meta"``, ``"body"`` or ``"padding"``: the part holding byte ``offset``."""
        assert self.offset <= offset < self.end
        if offset < self.meta_offset:
            return "header"
        if offset < self.body_offset:
            return "meta"
        if offset < self.body_end:
            return "body"
        return "padding"


def record_layout(path: str | os.PathLike[str]) -> list[RecordSpan]:
    """Every record of an undamaged file, in order, by walking its headers."""
    spans = []
    with RrdReader(path, use_footer=False) as r:
        for item in r.walk():
            if isinstance(item, Damage):
                raise ValueError(f"{path}: damaged file: {item.describe()}")
            header = item.header
            spans.append(
                RecordSpan(
                    header.offset,
                    header.kind,
                    header.meta_offset,
                    header.body_offset,
                    header.body_offset + header.body_len,
                    header.end,
                )
            )
    assert not spans or spans[0].offset == fr.PREAMBLE_SIZE
    return spans


# --- Hypothesis strategies ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ChunkSpec:
    """The schema of a family of chunks: data kind, timelines, typed component columns and
    schema-level Arrow metadata (which must survive a round trip too)."""

    kind: str
    timelines: tuple[tuple[str, TimelineKind], ...]
    components: tuple[tuple[str, pa.DataType], ...]
    metadata: tuple[tuple[str, str], ...] = ()


def tensors() -> st.SearchStrategy[dict[str, Any]]:
    """Coherent tensor values: ``data`` holds ``product(shape)`` elements of ``dtype``."""
    dtypes = ("uint8", "uint16", "int32", "float16", "float32", "float64", "bool")

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        shape = draw(st.lists(st.integers(0, 4), min_size=1, max_size=3))
        dtype = np.dtype(draw(st.sampled_from(dtypes))).newbyteorder("<")
        n = int(np.prod(shape)) * dtype.itemsize
        names = draw(st.none() | st.lists(st.text(max_size=4), min_size=len(shape), max_size=len(shape)))
        return {"shape": shape, "names": names, "dtype": dtype.name, "data": draw(st.binary(min_size=n, max_size=n))}

    return build()


def arrow_values(t: pa.DataType, *, nullable: bool = True) -> st.SearchStrategy[Any]:
    """Python values of Arrow type ``t`` (``None`` too when ``nullable``), for ``pa.array(..., type=t)``.

    No NaN: Arrow's equality treats NaN as different from itself, and the round trip is
    byte-exact anyway.
    """
    base: st.SearchStrategy[Any]
    if t == TENSOR_TYPE:
        base = tensors()
    elif pa.types.is_boolean(t):
        base = st.booleans()
    elif pa.types.is_integer(t):
        lo, hi = _integer_bounds(t)
        base = st.integers(lo, hi)
    elif pa.types.is_floating(t):
        base = st.floats(width=t.bit_width, allow_nan=False)
    elif pa.types.is_string(t) or pa.types.is_large_string(t):
        base = st.text(max_size=8)
    elif pa.types.is_fixed_size_binary(t):
        base = st.binary(min_size=t.byte_width, max_size=t.byte_width)
    elif pa.types.is_binary(t) or pa.types.is_large_binary(t):
        base = st.binary(max_size=24)
    elif pa.types.is_fixed_size_list(t):
        item = arrow_values(t.value_type, nullable=t.value_field.nullable)
        base = st.lists(item, min_size=t.list_size, max_size=t.list_size)
    elif pa.types.is_map(t):
        base = st.lists(st.tuples(arrow_values(t.key_type, nullable=False), arrow_values(t.item_type)), max_size=3)
    elif pa.types.is_list(t) or pa.types.is_large_list(t):
        base = st.lists(arrow_values(t.value_type, nullable=t.value_field.nullable), max_size=4)
    elif pa.types.is_struct(t):
        base = st.fixed_dictionaries({f.name: arrow_values(f.type, nullable=f.nullable) for f in t})
    elif pa.types.is_timestamp(t) or pa.types.is_duration(t):
        base = st.integers(-(10**17), 10**17)
    elif pa.types.is_date(t):
        base = st.integers(-(10**6), 10**6)
    elif pa.types.is_decimal(t):
        limit = decimal.Decimal(10) ** (t.precision - t.scale) - 1
        base = st.decimals(-limit, limit, places=t.scale, allow_nan=False, allow_infinity=False)
    else:
        raise TypeError(f"arrow_values: unsupported Arrow type {t}")
    return st.none() | base if nullable else base


@st.composite
def chunk_specs(draw: st.DrawFn, *, kinds: Sequence[str] | None = None) -> ChunkSpec:
    """A data kind with its required components, a random subset of its optional ones, any
    timelines (none: timeless), and for the ``extension`` kind (sometimes others too) user
    components of arbitrary Arrow types."""
    kind = draw(st.sampled_from(sorted(kinds or DATA_KINDS)))
    dk = DATA_KINDS[kind]
    optional = draw(st.lists(st.sampled_from(dk.optional), unique=True)) if dk.optional else []
    names = draw(st.permutations([*dk.required, *optional]))
    components: list[tuple[str, pa.DataType]] = [(n, COMPONENTS[n].column_type) for n in names]
    n_ext = draw(st.integers(0, 3) if kind == "extension" else st.sampled_from([0, 0, 0, 1]))
    ext_names = draw(st.lists(st.sampled_from(_EXTENSION_NAMES), min_size=n_ext, max_size=n_ext, unique=True))
    components += [(n, draw(st.sampled_from(EXTENSION_TYPES))) for n in ext_names]
    timelines = draw(st.lists(st.sampled_from(TIMELINES), unique_by=lambda x: x[0], max_size=3))
    metadata = draw(st.sampled_from([(), (), (("source", "rrkit tests"),), (("ünï", "cödé"), ("k", ""))]))
    return ChunkSpec(kind, tuple(timelines), tuple(components), metadata)


@st.composite
def chunks(
    draw: st.DrawFn,
    spec: ChunkSpec | None = None,
    *,
    first_row_id: int = 0,
    recording: int = 0,
    max_rows: int = 6,
    large_rows: tuple[int, int] | None = (60, 400),
    entities: Sequence[str] = ENTITIES,
) -> Chunk:
    """One valid chunk (``Chunk.validate()`` holds): row ids from ``first_row_id`` up.

    Small chunks (0 to ``max_rows`` rows, empty ones included) have every value drawn by
    Hypothesis: nulls, unsorted timelines, int64 extremes. About one in eight is *large*
    (``large_rows`` rows, unless None) with known values, nulls and shuffled timelines, so
    that a writer with small bounds has to split it.
    """
    spec = draw(chunk_specs()) if spec is None else spec
    entity = draw(st.sampled_from(entities))
    large = large_rows is not None and draw(st.integers(0, 7)) == 0
    if large:
        assert large_rows is not None
        rows = draw(st.integers(*large_rows))
        seed = draw(st.integers(0, 1000))
        null_every = draw(st.sampled_from([0, 3, 7]))
        step = draw(st.integers(1, 3))
        row_ids = np.arange(rows, dtype=np.uint64) * np.uint64(step) + np.uint64(first_row_id)
        tls = {
            name: (k, _timeline_values(k, rows, seed, shuffled=draw(st.booleans()), null_every=null_every))
            for name, k in spec.timelines
        }
        cols = {name: known_column(t, rows, seed=seed, null_every=null_every) for name, t in spec.components}
    else:
        rows = draw(st.integers(0, max_rows))
        gaps = draw(st.lists(st.integers(1, 3), min_size=rows, max_size=rows))
        row_ids = np.cumsum(np.array([first_row_id, *gaps], dtype=np.uint64))[:rows]
        # Small values make ties and sorted runs likely; the extremes catch overflowing arithmetic.
        lo, hi = -(1 << 63), (1 << 63) - 1
        int64 = st.integers(-5, 5) | st.sampled_from([lo, hi, lo + 1, hi - 1]) | st.integers(lo, hi)
        tls = {}
        for name, k in spec.timelines:
            values = st.none() | int64 if draw(st.booleans()) else int64
            tls[name] = (k, pa.array(draw(st.lists(values, min_size=rows, max_size=rows)), type=pa.int64()))
        cols = {
            name: pa.array(draw(st.lists(arrow_values(t), min_size=rows, max_size=rows)), type=t)
            for name, t in spec.components
        }
    chunk = Chunk.build(entity, spec.kind, row_ids=row_ids, timelines=tls, components=cols, recording=recording)
    if spec.metadata:
        chunk = Chunk(chunk.entity, chunk.kind, chunk.batch.replace_schema_metadata(dict(spec.metadata)), recording)
        chunk.validate()
    return chunk


@st.composite
def chunk_lists(
    draw: st.DrawFn, *, max_chunks: int = 10, max_recordings: int = 3, max_specs: int = 4
) -> tuple[list[Chunk], int]:
    """A list of valid chunks and the number of recordings they refer to.

    Chunks share a few schemas (so that a writer packs consecutive ones), their row ids
    increase within each recording (from 0, 2**63 or near 2**64), and they spread over
    ``1..max_recordings`` recordings.
    """
    n_rec = draw(st.integers(1, max_recordings))
    specs = draw(st.lists(chunk_specs(), min_size=1, max_size=max_specs))
    next_id = [draw(st.sampled_from([0, 1, 1 << 63, (1 << 64) - (1 << 20)])) for _ in range(n_rec)]
    out = []
    for _ in range(draw(st.integers(0, max_chunks))):
        rec = draw(st.integers(0, n_rec - 1))
        first = next_id[rec] + draw(st.integers(0, 2))
        c = draw(chunks(draw(st.sampled_from(specs)), first_row_id=first, recording=rec))
        next_id[rec] = int(c.row_ids()[-1]) + 1 if c.rows else first
        out.append(c)
    return out, n_rec
