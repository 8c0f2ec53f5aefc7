"""Exports of many recordings: the one-recording export of each, into the same files.

Every file written has ``application_id`` and ``recording_id`` columns first. A single
output file holds the rows of each recording one after the other (recordings in path
order; within one, the order of a one-recording export). A directory export has one
Parquet file per entity, holding that entity's rows of every recording. A wide export is
one table: the :meth:`Recording.dataset` of each recording, one after the other (latest-at
filling never crosses recordings).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ._dataset import parse_columns
from ._export import (
    ExportError,
    ExportPlan,
    ExportResult,
    OutputExistsError,
    Progress,
    _check_target,
    _file_names,
    _Sink,
    check_text_format,
    output_format,
    plan_export,
)
from ._frames import ENTITY, ROW_ID, order_columns, timeline_dtype
from ._many import APPLICATION_ID, RECORDING_ID, Member, RecordingSet
from ._timebounds import TimeValue

__all__ = ["ManyExportPlan", "plan_export_many"]

_IDS: dict[str, pl.DataType] = {APPLICATION_ID: pl.String(), RECORDING_ID: pl.String()}


def _ids(frame: pl.DataFrame, m: Member) -> pl.DataFrame:
    return frame.with_columns(
        pl.lit(m.summary.application_id, dtype=pl.String).alias(APPLICATION_ID),
        pl.lit(m.summary.recording_id, dtype=pl.String).alias(RECORDING_ID),
    )


def _union(rs: RecordingSet, schemas: Sequence[dict[str, pl.DataType]]) -> dict[str, pl.DataType]:
    """Ids first, then the columns of every schema in export order (types widened where they differ)."""
    empties = [pl.DataFrame(schema=s) for s in schemas]
    merged = empties[0] if len(empties) == 1 else pl.concat(empties, how="diagonal_relaxed")
    return {**_IDS, **dict(order_columns(merged, rs.timeline_kinds()).schema)}


@dataclass
class ManyExportPlan:
    """What an export of many recordings will write; :meth:`run` does it (see :func:`plan_export_many`)."""

    rs: RecordingSet
    out: Path
    format: str
    directory: bool
    plans: list[tuple[Member, ExportPlan]]
    schema: dict[str, pl.DataType] = field(default_factory=dict)
    schemas: dict[str, dict[str, pl.DataType]] = field(default_factory=dict)
    targets: dict[str, Path] = field(default_factory=dict)
    entities: list[str] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)
    wide: bool = False
    total_bytes: int = 0

    def run(self, progress: Progress | None = None) -> ExportResult:
        """Write the files; ``progress(done, total)`` is called as chunks are written."""
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            if progress is not None:
                progress(min(done, self.total_bytes), self.total_bytes)

        if progress is not None:
            progress(0, self.total_bytes)
        if self.wide:
            rows = self._write(self.out, self.format, self.schema, self._wide_frames(step))
            return ExportResult(self.format, {self.out: rows})
        if not self.directory:
            rows = self._write(self.out, self.format, self.schema, self._frames(None, step))
            return ExportResult(self.format, {self.out: rows})
        self.out.mkdir(parents=True, exist_ok=True)
        files: dict[Path, int] = {}
        skipped = [e for e in self.matched if e not in self.targets]
        for entity in self.entities:
            path = self.targets[entity]
            rows = self._write(path, "parquet", self.schemas[entity], self._frames(entity, step), keep_empty=False)
            if rows:
                files[path] = rows
            else:
                skipped.append(entity)
        return ExportResult("parquet", files, tuple(sorted(skipped)))

    def _frames(self, only: str | None, step: Callable[[int], None]) -> Any:
        for m, plan in self.plans:
            entities = plan.entities if only is None else [e for e in plan.entities if e == only]
            if not entities:
                continue
            with self.rs.recording(m) as rec:
                # The member may have been closed and reopened since it was planned.
                plan.rec = rec
                for entity in entities:
                    for piece in plan.pieces.get(entity, []):
                        yield _ids(plan._piece_frame(piece), m)
                        step(piece.nbytes)

    def _wide_frames(self, step: Callable[[int], None]) -> Any:
        for m, plan in self.plans:
            assert plan.wide is not None
            with self.rs.recording(m) as rec:
                frame = rec.dataset(columns=plan.entities, **plan.wide)
            yield _ids(frame, m)
            step(plan.total_bytes)

    def _write(
        self, path: Path, fmt: str, schema: dict[str, pl.DataType], frames: Any, *, keep_empty: bool = True
    ) -> int:
        sink = _Sink(path, fmt, schema)
        try:
            for frame in frames:
                sink.write(frame)
            if not keep_empty and sink.rows == 0:
                sink.discard()
                return 0
            sink.commit()
        except BaseException:
            sink.discard()
            raise
        return sink.rows


def plan_export_many(
    rs: RecordingSet,
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
) -> ManyExportPlan:
    """Check an export of many recordings and work out what to read (arguments as for :func:`rrquery.export`).

    Recordings without a matching entity, or without the timeline (or index) when one is
    given, are left out; a pattern must match in at least one recording.
    """
    fmt = output_format(out)
    path = Path(out)
    if wide:
        if fmt is None:
            raise ExportError(f"{os.fspath(out)}: a wide export is one table; give a file name such as dataset.parquet")
        index = index or timeline
        if index is None:
            known = ", ".join(rs.timeline_kinds()) or "none"
            raise ExportError(f"a wide export needs an index timeline; the recordings have: {known}")
    bounded = index if wide else timeline
    if bounded is None:
        if start is not None or end is not None:
            raise ExportError("start/end need a timeline")
        lo = hi = None
    else:
        lo, hi = rs.bounds(bounded, start, end)
    patterns = [entities] if isinstance(entities, str) else list(entities)
    chosen = rs.candidates(patterns, timeline=bounded, lo=lo, hi=hi)
    plans: list[tuple[Member, ExportPlan]] = []
    wide_columns: dict[str, pl.DataType] = {}
    for m, pats in chosen:
        with rs.recording(m) as rec:
            # The output is checked once, below, for the whole export.
            plan = plan_export(
                rec,
                out,
                entities=pats,
                timeline=timeline,
                start=start,
                end=end,
                wide=wide,
                index=index,
                fill=fill,
                sample=sample,
                overwrite=True,
            )
            if wide:
                for name, dtype in _wide_schema(rec, plan).items():
                    wide_columns.setdefault(name, dtype)
        plans.append((m, plan))
    result = ManyExportPlan(rs, path, fmt or "parquet", fmt is None and not wide, plans, wide=wide)
    result.total_bytes = sum(p.total_bytes for _, p in plans)
    if wide:
        assert index is not None
        columns: dict[str, pl.DataType] = {**_IDS, index: timeline_dtype(rs.timeline_kind(index)), **wide_columns}
        result.schema = columns
        _check_target(path, overwrite)
        check_text_format(columns, result.format)
        return result
    if result.directory:
        result.entities = sorted({e for _, p in plans for e in p.entities})
        result.matched = sorted({e for _, p in plans for e in p.matched})
        names = _file_names(result.entities)
        result.targets = {e: path / names[e] for e in result.entities}
        for e in result.entities:
            result.schemas[e] = _union(rs, [p.schemas[e] for _, p in plans if e in p.schemas])
        if path.exists() and not path.is_dir():
            raise ExportError(f"{path} exists and is not a directory")
        if not overwrite:
            for target in result.targets.values():
                if target.exists():
                    raise OutputExistsError(target)
        return result
    _check_target(path, overwrite)
    if plans:
        result.schema = _union(rs, [p.schema for _, p in plans])
    else:
        # Nothing in the range: the file still names the columns that are known.
        result.schema = {**_IDS, ENTITY: pl.String(), ROW_ID: pl.UInt64()}
        if timeline is not None:
            result.schema[timeline] = timeline_dtype(rs.timeline_kind(timeline))
    return result


def _wide_schema(rec: Any, plan: ExportPlan) -> dict[str, pl.DataType]:
    """The ``entity:component`` columns of a recording's wide export, and their types."""
    out: dict[str, pl.DataType] = {}
    for entity, component in parse_columns(rec, plan.entities):
        out[f"{entity}:{component}"] = rec.schema(entity)[component]
    return out
