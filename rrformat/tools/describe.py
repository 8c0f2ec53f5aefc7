"""``describe``: what a file holds, from its index alone (for ``rrd info``)."""

from __future__ import annotations

import os
from typing import Any

from .. import _framing as fr
from ..chunk import ChunkInfo, TimelineKind
from ..reader import Damage, RrdReader
from ._human import format_duration_ns, format_time_ns

__all__ = ["describe", "damage_json"]


def damage_json(damage: Damage | None) -> dict[str, Any] | None:
    """A damage as a JSON object (``None`` stays ``None``)."""
    if damage is None:
        return None
    return {"kind": damage.kind, "offset": damage.offset, "lost_bytes": damage.lost_bytes, "reason": damage.reason}


def _timelines(chunks: list[ChunkInfo]) -> dict[str, dict[str, Any]]:
    spans: dict[str, tuple[TimelineKind, int | None, int | None]] = {}
    for c in chunks:
        for name, r in c.timelines.items():
            kind, lo, hi = spans.get(name, (r.kind, None, None))
            if r.min is not None:
                lo = r.min if lo is None else min(lo, r.min)
            if r.max is not None:
                hi = r.max if hi is None else max(hi, r.max)
            spans[name] = (kind, lo, hi)
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(spans):
        kind, lo, hi = spans[name]
        d: dict[str, Any] = {"kind": kind.value, "min": lo, "max": hi}
        d["duration"] = hi - lo if lo is not None and hi is not None else None
        if kind == TimelineKind.TIME and lo is not None and hi is not None:
            d["min_text"] = format_time_ns(lo)
            d["max_text"] = format_time_ns(hi)
            d["duration_text"] = format_duration_ns(hi - lo)
        out[name] = d
    return out


def _entities(chunks: list[ChunkInfo]) -> list[dict[str, Any]]:
    rows: dict[tuple[str, str], list[int]] = {}
    for c in chunks:
        acc = rows.setdefault((c.entity, c.kind), [0, 0, 0])
        acc[0] += c.rows
        acc[1] += 1
        acc[2] += 1 if c.timeless else 0
    return [
        {"entity": e, "kind": k, "rows": n, "chunks": m, "timeless": t == m}
        for (e, k), (n, m, t) in sorted(rows.items())
    ]


def _record_counts(reader: RrdReader) -> tuple[dict[str, int], int]:
    """Records by kind, and the stored bytes of chunk bodies, from a walk of the headers."""
    counts: dict[str, int] = {}
    stored = 0
    for item in reader.walk():
        if isinstance(item, Damage):
            break
        counts[item.kind_name] = counts.get(item.kind_name, 0) + 1
        if item.header.kind == fr.RecordKind.CHUNK:
            stored += item.header.body_len
    return counts, stored


def describe(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Summarise an .rrd file as a JSON-ready dict.

    Reads the index (from the footer, or by a scan) and the record headers; no chunk
    body is decompressed, so this is fast on large files.

    Returns
    -------
    dict
        ``path``, ``file_size``, ``format_version``, ``writer``, ``created_ns``,
        ``opened_via`` (``"footer"`` or ``"scan"``), ``footer_problem``, ``damage``
        (None or ``{"kind", "offset", "lost_bytes", "reason"}``), ``records`` (total)
        and ``records_by_kind``, ``chunk_records``, ``chunks``, ``rows``,
        ``stored_bytes`` (chunk bodies as stored), ``raw_bytes`` (uncompressed),
        ``compression_ratio``, and ``recordings``: per recording its ids, start time,
        chunks, rows, ``timelines`` (kind, min, max, duration, and for time timelines
        the same as text) and ``entities`` (entity, kind, rows, chunks, timeless).

    Examples
    --------
    >>> info = describe("run.rrd")  # doctest: +SKIP
    >>> info["recordings"][0]["timelines"]["frame"]
    {'kind': 'sequence', 'min': 0, 'max': 99, 'duration': 99}
    """
    with RrdReader(path) as r:
        counts, stored = _record_counts(r)
        raw = sum(int(meta.get("raw", 0)) for _, _, meta in r.record_metas)
        recordings = []
        for rec in r.recordings:
            chunks = [c for c in r.chunks if c.recording == rec.index]
            recordings.append(
                {
                    "index": rec.index,
                    "application_id": rec.application_id,
                    "recording_id": rec.recording_id,
                    "start_time_ns": rec.start_time_ns,
                    "start_time": format_time_ns(rec.start_time_ns),
                    "chunks": len(chunks),
                    "rows": sum(c.rows for c in chunks),
                    "timelines": _timelines(chunks),
                    "entities": _entities(chunks),
                }
            )
        major, minor = r.version
        return {
            "path": r.path,
            "file_size": r.file_size,
            "format_version": f"{major}.{minor}",
            "writer": r.header.get("writer"),
            "created_ns": r.header.get("created_ns"),
            "opened_via": r.opened_via,
            "footer_problem": r.footer_problem,
            "damage": damage_json(r.damage),
            "records": sum(counts.values()),
            "records_by_kind": counts,
            "chunk_records": len(r.record_metas),
            "chunks": len(r.chunks),
            "rows": sum(c.rows for c in r.chunks),
            "stored_bytes": stored,
            "raw_bytes": raw,
            "compression_ratio": round(raw / stored, 3) if stored else None,
            "recordings": recordings,
        }
