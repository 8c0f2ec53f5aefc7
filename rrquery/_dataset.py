"""Wide dataset views: one row per index value, one column per entity component."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from rrformat.chunk import TimelineKind

from ._frames import ROW_ID, TIME_DTYPE
from ._timebounds import TimeValue, to_timeline_value

if TYPE_CHECKING:
    from ._recording import Recording

__all__ = ["dataset", "parse_columns"]

_KEY = "__index"
_BEFORE_ALL = np.iinfo(np.int64).min  # where timeless values sit on the index


def parse_columns(rec: Recording, columns: Sequence[str] | None) -> list[tuple[str, str]]:
    """``entity:component`` names (or an entity for all its components) to pairs."""
    listing = rec.entities()
    available: dict[str, list[str]] = {}
    for row in listing.iter_rows(named=True):
        comps = available.setdefault(row["entity"], [])
        comps.extend(c for c in row["components"] if c not in comps)
    if columns is None:
        return [(e, c) for e, comps in sorted(available.items()) for c in comps]
    if isinstance(columns, str):
        columns = [columns]
    out: list[tuple[str, str]] = []
    for spec in columns:
        entity, _, component = spec.rpartition(":") if ":" in spec else (spec, "", "")
        if entity not in available:
            known = ", ".join(sorted(available)[:20])
            raise ValueError(f"columns: no entity {entity!r} (from {spec!r}); entities: {known}")
        if component:
            if component not in available[entity]:
                raise ValueError(
                    f"columns: entity {entity!r} has no component {component!r}; it has: {', '.join(available[entity])}"
                )
            out.append((entity, component))
        else:
            out.extend((entity, c) for c in available[entity])
    return list(dict.fromkeys(out))


def dataset(
    rec: Recording,
    index: str,
    columns: Sequence[str] | None,
    *,
    start: TimeValue,
    end: TimeValue,
    fill: str | None,
    sample: Any,
) -> pl.DataFrame:
    if fill not in ("latest", None):
        raise ValueError(f"fill must be 'latest' or None, got {fill!r}")
    kind = rec.timeline_kind(index)
    lo, hi = rec.bounds(index, start, end)
    pairs = parse_columns(rec, columns)
    by_entity: dict[str, list[str]] = {}
    for entity, component in pairs:
        by_entity.setdefault(entity, []).append(component)

    values: dict[tuple[str, str], pl.DataFrame] = {}
    for entity, components in by_entity.items():
        # Data before `start` matters for latest-at filling: bound only the end.
        rows = rec.range(entity, timeline=index, end=hi, components=components)
        if fill is None and lo is not None:
            rows = rows.filter(pl.col(index).is_null() | (_raw(index, kind) >= lo))
        key = _raw(index, kind).fill_null(_BEFORE_ALL).alias(_KEY)
        for component in components:
            if component not in rows.columns:
                continue
            part = (
                rows.select(key, pl.col(ROW_ID), pl.col(component))
                .filter(pl.col(component).is_not_null())
                .sort([_KEY, ROW_ID])
                .unique(subset=[_KEY], keep="last", maintain_order=True)  # ties: the last logged wins
                .drop(ROW_ID)
            )
            values[(entity, component)] = part

    grid = _grid(values, kind, lo, hi, sample, index)
    out = pl.DataFrame({_KEY: grid}, schema={_KEY: pl.Int64})
    for (entity, component), part in values.items():
        name = f"{entity}:{component}"
        part = part.rename({component: name})
        if fill == "latest":
            out = out.join_asof(part, on=_KEY, strategy="backward", check_sortedness=False)
        else:
            exact = part.filter(pl.col(_KEY) != _BEFORE_ALL)
            still = part.filter(pl.col(_KEY) == _BEFORE_ALL)
            out = out.join(exact, on=_KEY, how="left", maintain_order="left")
            if still.height:
                # Timeless data fills its column in every row.
                filler = still.get_column(name)
                out = out.with_columns(pl.coalesce(pl.col(name), pl.lit(filler.first(), dtype=filler.dtype)))
    for entity, component in pairs:
        name = f"{entity}:{component}"
        if name not in out.columns:
            out = out.with_columns(pl.lit(None).alias(name))
    index_col = pl.col(_KEY).cast(TIME_DTYPE) if kind is TimelineKind.TIME else pl.col(_KEY)
    return out.select(index_col.alias(index), *[pl.col(f"{e}:{c}") for e, c in pairs])


def _raw(index: str, kind: TimelineKind) -> pl.Expr:
    col = pl.col(index)
    return col.cast(pl.Int64) if kind is TimelineKind.TIME else col


def _grid(
    values: dict[tuple[str, str], pl.DataFrame],
    kind: TimelineKind,
    lo: int | None,
    hi: int | None,
    sample: Any,
    index: str,
) -> pl.Series:
    if isinstance(sample, (np.integer, np.floating)):
        sample = sample.item()  # a step or rate computed with numpy is a number, not a list of samples
    if sample is not None and not isinstance(sample, (int, float)):
        items = list(sample)
        grid = [to_timeline_value(v, kind, arg="sample", timeline=index) for v in items]
        # start/end bound explicit samples too.
        kept = {g for g in grid if g is not None and (lo is None or g >= lo) and (hi is None or g <= hi)}
        return pl.Series(_KEY, sorted(kept), dtype=pl.Int64)
    keys = [part.get_column(_KEY) for part in values.values()]
    present = pl.concat(keys) if keys else pl.Series(_KEY, [], pl.Int64)
    present = present.filter(present != _BEFORE_ALL)
    if lo is not None:
        present = present.filter(present >= lo)
    if hi is not None:
        present = present.filter(present <= hi)
    if sample is None:
        return present.unique().sort()
    if isinstance(sample, bool) or sample <= 0:
        raise ValueError(f"sample must be a positive rate (Hz) or step, or a list of index values; got {sample!r}")
    first = lo if lo is not None else (present.min() if present.len() else None)
    last = hi if hi is not None else (present.max() if present.len() else None)
    if first is None or last is None:
        return pl.Series(_KEY, [], dtype=pl.Int64)
    if kind is TimelineKind.TIME:
        step = round(1e9 / float(sample))
    else:
        if float(sample) != int(sample):
            raise ValueError(f"sample on a sequence timeline is an integer step, got {sample!r}")
        step = int(sample)
    return pl.Series(_KEY, np.arange(int(first), int(last) + 1, step, dtype=np.int64))  # type: ignore[arg-type]
