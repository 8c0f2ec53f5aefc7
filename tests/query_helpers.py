"""Recordings with known content for the rrquery tests, written by the SDK to real files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

import rrformat as rr
from rrformat.chunk import Chunk
from rrformat.reader import RrdReader
from rrformat.writer import RrdWriter

__all__ = [
    "SENSOR_T0",
    "record",
    "write_many_chunks",
    "write_mixed",
    "write_rates",
    "write_two_recordings",
    "cut_mid_record",
    "sensor_ns",
    "utc",
]

SENSOR_T0 = 1_700_000_000.0
"""First ``sensor_time`` of the recordings below, in seconds since the epoch."""


def sensor_ns(i: int) -> int:
    """The ``sensor_time`` (ns) of frame ``i`` of :func:`write_mixed`: 100 Hz from SENSOR_T0."""
    return 1_700_000_000_000_000_000 + i * 10_000_000


def utc(ns: int) -> dt.datetime:
    """A timezone-aware datetime of whole microseconds."""
    return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=ns // 1000)


def record(
    path: Path,
    log: Callable[[rr.RecordingStream], None],
    *,
    application_id: str = "query_test",
    recording_id: str | None = None,
) -> Path:
    """Run ``log`` on a strict recording saved to ``path``, then close the file."""
    rec = rr.RecordingStream(application_id, recording_id=recording_id, save=path, strict=True)
    try:
        log(rec)
    finally:
        rec.disconnect()
    return path


def write_mixed(path: Path) -> Path:
    """Ten frames of several entities, with rows off the timeline and timeless rows.

    - ``world/points``: points logged before any timeline was set (frame null), then 3
      points at frames 0, 3, 6, 9 (positions ``[[i, i+1, i+2]] * 3``, colours only at 0);
    - ``sensor/value``: scalar ``10 * i`` at every frame, ``sensor_time`` = :func:`sensor_ns`;
    - ``calib``: a timeless scalar 42.0;
    - ``world/points`` frames use both ``frame`` and ``sensor_time``.
    """

    def log(rec: rr.RecordingStream) -> None:
        rr.log_points("world/points", [[-1.0, -1.0, -1.0]], recording=rec)  # before any timeline
        rr.log_scalar("calib", 42.0, timeless=True, recording=rec)
        for i in range(10):
            rr.set_time_sequence("frame", i, recording=rec)
            rr.set_time_nanos("sensor_time", sensor_ns(i), recording=rec)
            rr.log_scalar("sensor/value", 10.0 * i, recording=rec)
            if i % 3 == 0:
                pts = np.tile(np.array([i, i + 1, i + 2], dtype=np.float32), (3, 1))
                colors = [[255, 0, 0], [0, 255, 0], [0, 0, 255]] if i == 0 else None
                rr.log_points("world/points", pts, colors=colors, recording=rec)

    return record(path, log, recording_id="mixed-1", application_id="query_app")


def write_rates(path: Path, frames: int = 100) -> tuple[Path, npt.NDArray[np.uint8]]:
    """Entities logged at different rates on ``frame`` (and 30 Hz ``sensor_time``).

    A scalar ``robot/speed`` = ``i / 2`` every frame, points ``lidar/points`` every 10
    frames (one point ``[i, 0, 0]``), an image ``camera/image`` every 5 frames (``images[i // 5]``)
    and a timeless scalar ``robot/mass`` = 80. Returns the path and the images.
    """
    images = np.random.default_rng(7).integers(0, 256, (frames // 5, 4, 6, 3), dtype=np.uint8)

    def log(rec: rr.RecordingStream) -> None:
        rr.log_scalar("robot/mass", 80.0, timeless=True, recording=rec)
        for i in range(frames):
            rr.set_time_sequence("frame", i, recording=rec)
            rr.set_time_seconds("sensor_time", SENSOR_T0 + i / 30, recording=rec)
            rr.log_scalar("robot/speed", i / 2, recording=rec)
            if i % 10 == 0:
                rr.log_points("lidar/points", [[float(i), 0.0, 0.0]], recording=rec)
            if i % 5 == 0:
                rr.log_image("camera/image", images[i // 5], recording=rec)

    return record(path, log), images


def write_many_chunks(path: Path, n: int = 200_000) -> Path:
    """``sig``: ``n`` scalars (value = frame) in one log_columns call, cut by the writer into
    records of at most 16,384 rows; ``sig/still``: one timeless scalar."""

    def log(rec: rr.RecordingStream) -> None:
        frames = np.arange(n, dtype=np.int64)
        rr.log_columns("sig", "scalar", times={"frame": frames}, scalar=frames.astype(np.float64), recording=rec)
        rr.log_scalar("sig/still", -1.0, timeless=True, recording=rec)

    return record(path, log)


def write_two_recordings(tmp: Path) -> Path:
    """One file, two recordings: ``rec-a`` (app ``app_a``, entity ``a``) and ``rec-b`` (``app_b``, ``b``)."""
    a = record(tmp / "a.rrd", lambda rec: _one_scalar(rec, "a", 1.0), recording_id="rec-a", application_id="app_a")
    b = record(tmp / "b.rrd", lambda rec: _one_scalar(rec, "b", 2.0), recording_id="rec-b", application_id="app_b")
    with RrdReader(b) as reader:
        info = reader.recordings[0]
        chunks = list(reader.iter_chunks())
    writer = RrdWriter.append(a)
    index = writer.add_recording(application_id=info.application_id, recording_id=info.recording_id)
    writer.write_chunks([Chunk(c.entity, c.kind, c.batch, index) for c in chunks])
    writer.close()
    return a


def _one_scalar(rec: rr.RecordingStream, entity: str, value: float) -> None:
    rr.set_time_sequence("frame", 1, recording=rec)
    rr.log_scalar(entity, value, recording=rec)


def cut_mid_record(src: Path, dst: Path, record_index: int) -> tuple[int, int]:
    """Copy ``src`` to ``dst`` cut in the middle of its ``record_index``-th chunk record.

    Returns ``(record_offset, lost_bytes)``: where the cut record starts, and how many
    bytes of it the copy keeps (what a reader cannot use).
    """
    with RrdReader(src) as reader:
        offsets = sorted({c.record_offset for c in reader.chunks})
        sizes = {c.record_offset: c.record_size for c in reader.chunks}
    offset = offsets[record_index]
    cut = offset + sizes[offset] // 2
    dst.write_bytes(src.read_bytes()[:cut])
    return offset, cut - offset
