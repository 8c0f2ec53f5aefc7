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
    Progress,
    _check_target,
    check_text_format,
    directory_targets,
    output_format,
    plan_export,
    progress_steps,
    union_schema,
    write_directory,
    write_frames,
)
from ._frames import ENTITY, ROW_ID, timeline_dtype
from ._many import APPLICATION_ID, RECORDING_ID, Member, RecordingSet, with_ids
from ._timebounds import TimeValue

__all__ = ["ManyExportPlan", "plan_export_many"]

_IDS: dict[str, pl.DataType] = {APPLICATION_ID: pl.String(), RECORDING_ID: pl.String()}


def _ids(frame: pl.DataFrame, m: Member) -> pl.DataFrame:
    return with_ids(frame, m.summary.application_id, m.summary.recording_id)


def _union(rs: RecordingSet, schemas: Sequence[dict[str, pl.DataType]]) -> dict[str, pl.DataType]:
    """Ids first, then the columns of every schema in export order (types widened where they differ)."""
    return {**_IDS, **union_schema(rs.timeline_kinds(), schemas)}


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
        step = progress_steps(progress, self.total_bytes)
        if self.wide:
            rows = write_frames(self.out, self.format, self.schema, self._wide_frames(step))
            return ExportResult(self.format, {self.out: rows})
        if not self.directory:
            rows = write_frames(self.out, self.format, self.schema, self._frames(None, step))
            return ExportResult(self.format, {self.out: rows})
        skipped = [e for e in self.matched if e not in self.targets]
        return write_directory(self, skipped, lambda entity: self._frames(entity, step))

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
        for e in result.entities:
            result.schemas[e] = _union(rs, [p.schemas[e] for _, p in plans if e in p.schemas])
        result.targets = directory_targets(path, result.entities, overwrite)
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
