"""range, latest_at, scan and dataset agree with a plain Python model of random logs written by the SDK.

Each example logs scalars to a few entities at random frames (repeats, gaps, out of
order), some rows with no frame set and some timeless, with an optional label on some
rows (a second component, to check per-component latest-at), then queries the file.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import query_helpers as qh
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rrformat as rr
import rrquery

ENTITIES = ("a", "b", "c/d")
PATTERNS = ("**", "a", "c/**", "b")


@dataclass(frozen=True)
class Row:
    """One log call: the model of one row."""

    entity: str
    frame: int | None  # None: logged with no frame set (or timeless)
    timeless: bool
    value: float
    label: str | None


rows_strategy = st.lists(
    st.builds(
        Row,
        entity=st.sampled_from(ENTITIES),
        frame=st.one_of(st.none(), st.integers(0, 12)),
        timeless=st.sampled_from([False, False, False, True]),
        value=st.floats(-1e6, 1e6, allow_nan=False, width=64),
        label=st.one_of(st.none(), st.sampled_from(["x", "y", "z"])),
    ),
    min_size=1,
    max_size=25,
)


def write(path: Path, rows: list[Row]) -> None:
    def log(rec: rr.RecordingStream) -> None:
        for row in rows:
            if row.frame is None:
                rec.reset_time()
            else:
                rr.set_time_sequence("frame", row.frame, recording=rec)
            rr.log_scalar(row.entity, row.value, label=row.label, timeless=row.timeless, recording=rec)

    qh.record(path, log)


def matches(pattern: str, entity: str) -> bool:
    return pattern == "**" or entity == pattern or (pattern.endswith("/**") and entity.startswith(pattern[:-3]))


def on_frame(row: Row) -> bool:
    return not row.timeless and row.frame is not None


def in_window(row: Row, lo: int | None, hi: int | None) -> bool:
    assert row.frame is not None
    return (lo is None or row.frame >= lo) and (hi is None or row.frame <= hi)


def model_range(rows: list[Row], pattern: str, lo: int | None, hi: int | None) -> list[tuple[Any, ...]]:
    """Timeless rows first (in logging order), then rows in [lo, hi] by (frame, logging order)."""
    picked = [(i, r) for i, r in enumerate(rows) if matches(pattern, r.entity)]
    still = [(r.entity, None, r.value, r.label) for _, r in picked if r.timeless]
    timed = sorted(((r.frame, i, r) for i, r in picked if on_frame(r) and in_window(r, lo, hi)), key=lambda x: x[:2])
    return still + [(r.entity, r.frame, r.value, r.label) for _, _, r in timed]


def model_latest(rows: list[Row], pattern: str, t: int) -> dict[str, tuple[Any, ...]]:
    """Per entity: (frame of the latest timed row, latest scalar, latest non-null label)."""
    out: dict[str, tuple[Any, ...]] = {}
    for entity in ENTITIES:
        if not matches(pattern, entity):
            continue
        still = [r for r in rows if r.entity == entity and r.timeless]
        timed = sorted(
            (
                (r.frame, i, r)
                for i, r in enumerate(rows)
                if r.entity == entity and on_frame(r) and in_window(r, None, t)
            ),
            key=lambda x: x[:2],
        )
        ordered = still + [r for _, _, r in timed]
        if not ordered:
            continue
        labels = [r.label for r in ordered if r.label is not None]
        out[entity] = (timed[-1][0] if timed else None, ordered[-1].value, labels[-1] if labels else None)
    return out


def picked(df: pl.DataFrame, *columns: str) -> list[tuple[Any, ...]]:
    """Rows of ``columns``; a component no selected row has (``label``) reads as nulls."""
    return df.select(pl.col(c) if c in df.columns else pl.lit(None).alias(c) for c in columns).rows()


@st.composite
def bounds(draw: st.DrawFn) -> tuple[int | None, int | None]:
    lo = draw(st.one_of(st.none(), st.integers(-2, 14)))
    hi = draw(st.one_of(st.none(), st.integers(-2, 14)))
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    return lo, hi


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=rows_strategy,
    pattern=st.sampled_from(PATTERNS),
    window=bounds(),
    times=st.lists(st.integers(-1, 13), min_size=1, max_size=4),
)
def test_range_and_latest_at_agree_with_the_model(
    rows: list[Row], pattern: str, window: tuple[int | None, int | None], times: list[int]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.rrd"
        write(path, rows)
        with rrquery.open(path) as rec:
            if not any(matches(pattern, r.entity) for r in rows):
                with pytest.raises(ValueError, match="no entity matches"):
                    rec.range(pattern)
                return
            # Without a timeline: every row, in logging order.
            every = rec.range(pattern)
            want_all = [(r.entity, r.value, r.label) for r in rows if matches(pattern, r.entity)]
            assert picked(every, "entity", "scalar", "label") == want_all
            assert every["row_id"].is_sorted()

            if not any(on_frame(r) for r in rows):
                with pytest.raises(ValueError, match="unknown timeline 'frame'"):
                    rec.range(pattern, timeline="frame")
                return
            lo, hi = window
            got = rec.range(pattern, timeline="frame", start=lo, end=hi)
            assert picked(got, "entity", "frame", "scalar", "label") == model_range(rows, pattern, lo, hi)

            # A lazy scan with the same bounds as a filter: the same timed rows.
            cond = pl.col("frame").is_not_null()
            if lo is not None:
                cond = cond & (pl.col("frame") >= lo)
            if hi is not None:
                cond = cond & (pl.col("frame") <= hi)
            scanned = rrquery.scan(path, pattern, timeline="frame").filter(cond).collect().sort("row_id")
            want_timed = sorted(
                (i, r.entity, r.frame, r.value, r.label)
                for i, r in enumerate(rows)
                if matches(pattern, r.entity) and on_frame(r) and in_window(r, lo, hi)
            )
            assert picked(scanned, "entity", "frame", "scalar", "label") == [w[1:] for w in want_timed]

            for t in times:
                latest = rec.latest_at("frame", t, pattern)
                got_latest = {r[0]: r[1:] for r in picked(latest, "entity", "frame", "scalar", "label")}
                assert got_latest == model_latest(rows, pattern, t)
                assert latest["entity"].to_list() == sorted(got_latest)


def test_the_model_helpers() -> None:
    rows = [
        Row("a", 3, False, 1.0, "x"),
        Row("a", None, True, 0.5, None),
        Row("a", 3, False, 2.0, None),
        Row("a", None, False, 9.0, "z"),
        Row("c/d", 1, False, 4.0, None),
    ]
    assert model_range(rows, "**", 0, 3) == [
        ("a", None, 0.5, None),
        ("c/d", 1, 4.0, None),
        ("a", 3, 1.0, "x"),
        ("a", 3, 2.0, None),
    ]
    assert model_latest(rows, "a", 3) == {"a": (3, 2.0, "x")}
    assert model_latest(rows, "**", 0) == {"a": (None, 0.5, None)}


def model_dataset(
    rows: list[Row],
    entities: list[str],
    lo: int | None,
    hi: int | None,
    fill: str | None,
    sample: int | list[int] | None,
) -> list[tuple[Any, ...]]:
    """Rows of ``dataset("frame", [e:scalar...])``: index values, then per entity the latest
    value (fill="latest") or the value logged exactly there (else the timeless one)."""
    timed = [r for r in rows if on_frame(r)]
    frames = [r.frame for r in timed if r.frame is not None]
    index: list[int]
    if sample is None:
        index = sorted({f for f in frames if (lo is None or f >= lo) and (hi is None or f <= hi)})
    elif isinstance(sample, int):
        first = lo if lo is not None else min(frames)
        last = hi if hi is not None else max(frames)
        index = list(range(first, last + 1, sample))
    else:
        index = sorted({s for s in sample if (lo is None or s >= lo) and (hi is None or s <= hi)})
    out = []
    for v in index:
        values: list[Any] = [v]
        for e in entities:
            if fill == "latest":
                latest = model_latest(rows, e, v).get(e)
                values.append(latest[1] if latest else None)
            else:
                exact = [r.value for r in timed if r.entity == e and r.frame == v]
                still = [r.value for r in rows if r.entity == e and r.timeless]
                values.append(exact[-1] if exact else still[-1] if still else None)
        out.append(tuple(values))
    return out


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=rows_strategy,
    fill=st.sampled_from(["latest", None]),
    lo=st.one_of(st.none(), st.integers(-1, 13)),
    span=st.one_of(st.none(), st.integers(0, 8)),
    sample=st.one_of(st.none(), st.integers(1, 4), st.lists(st.integers(-1, 14), max_size=4)),
)
def test_dataset_agrees_with_the_model(
    rows: list[Row], fill: str | None, lo: int | None, span: int | None, sample: int | list[int] | None
) -> None:
    hi = None if lo is None or span is None else lo + span
    if not any(on_frame(r) for r in rows):
        return
    entities = sorted({r.entity for r in rows})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.rrd"
        write(path, rows)
        with rrquery.open(path) as rec:
            df = rec.dataset("frame", [f"{e}:scalar" for e in entities], start=lo, end=hi, fill=fill, sample=sample)
            assert df.rows() == model_dataset(rows, entities, lo, hi, fill, sample)
