"""Images, tensors, text, transforms, annotation contexts, extension components and log_columns.

Every test logs through a strict recording into a real file, closes it, and reads the
values back with :class:`RrdReader`.
"""

from __future__ import annotations

import pydoc
import struct
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from rrformat import RecordingStream, RrdReader
from rrformat._api import set_time_sequence
from rrformat._errors import RecordingError, RecordingWarning
from rrformat._log_columns import log_columns, log_extension_components
from rrformat._log_context import AnnotationInfo, ClassDescription, log_annotation_context, log_cleared
from rrformat._log_images import (
    ImageFormat,
    log_depth_image,
    log_image,
    log_image_file,
    log_segmentation_image,
    log_tensor,
)
from rrformat._log_text import LogLevel, log_text_entry
from rrformat._log_transforms import (
    is_right_handed,
    log_disconnected_space,
    log_pinhole,
    log_rigid3,
    log_unknown_transform,
    log_view_coordinates,
    quat_rotate,
)
from rrformat.writer import DEFAULT_CHUNK_ROWS

# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


def record(tmp_path: Path, fn: Callable[[RecordingStream], None], *, strict: bool = True) -> Path:
    """Run ``fn`` against a fresh recording saved to a file, close it, return the path."""
    path = tmp_path / "rec.rrd"
    rec = RecordingStream("test", save=path, strict=strict)
    try:
        fn(rec)
    finally:
        rec.disconnect()
    return path


def read_rows(path: Path, entity: str) -> list[dict[str, Any]]:
    """Every row logged to ``entity``, in row-id order, as Python dicts."""
    with RrdReader(path) as reader:
        assert reader.damage is None
        rows: list[dict[str, Any]] = []
        for info in reader.chunks:
            if info.entity == entity:
                rows.extend(reader.read_chunk(info).batch.to_pylist())
    return sorted(rows, key=lambda r: r["row_id"])


def kinds_of(path: Path) -> dict[str, set[str]]:
    with RrdReader(path) as reader:
        out: dict[str, set[str]] = {}
        for info in reader.chunks:
            out.setdefault(info.entity, set()).add(info.kind)
    return out


def to_numpy(tensor: dict[str, Any]) -> np.ndarray:
    """A ``tensor`` struct value back into numpy, as a reader must do it (spec 9.1)."""
    flat = np.frombuffer(tensor["data"], dtype=np.dtype(tensor["dtype"]).newbyteorder("<"))
    out: np.ndarray = flat.reshape(tensor["shape"])
    return out


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A small valid RGB PNG file."""

    def part(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    raw = b"".join(b"\x00" + bytes(range(width * 3)) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + part(b"IHDR", header) + part(b"IDAT", zlib.compress(raw)) + part(b"IEND", b"")


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(40) + b"\xff\xd9"


# --------------------------------------------------------------------------- #
# Images and tensors
# --------------------------------------------------------------------------- #

RNG = np.random.default_rng(7)


@pytest.mark.parametrize(
    ("image", "stored_dtype", "stored_shape", "names"),
    [
        (RNG.integers(0, 256, (4, 5), dtype=np.uint8), "uint8", (4, 5), ["height", "width"]),
        (RNG.integers(0, 256, (4, 5, 1), dtype=np.uint8), "uint8", (4, 5), ["height", "width"]),
        (RNG.integers(0, 256, (4, 5, 3), dtype=np.uint8), "uint8", (4, 5, 3), ["height", "width", "color"]),
        (RNG.integers(0, 65536, (3, 2, 4), dtype=np.uint16), "uint16", (3, 2, 4), ["height", "width", "color"]),
        (RNG.random((6, 7, 3), dtype=np.float32), "float32", (6, 7, 3), ["height", "width", "color"]),
        (RNG.random((6, 7)), "float32", (6, 7), ["height", "width"]),
        (RNG.random((6, 7)).astype(np.float16), "float32", (6, 7), ["height", "width"]),
        # Non-contiguous, Fortran-ordered and big-endian input is stored C-ordered little-endian.
        (RNG.integers(0, 256, (8, 10, 3), dtype=np.uint8)[::2, 1::3], "uint8", (4, 3, 3), ["height", "width", "color"]),
        (np.asfortranarray(RNG.integers(0, 256, (5, 9), dtype=np.uint8)), "uint8", (5, 9), ["height", "width"]),
        (RNG.integers(0, 65536, (3, 4), dtype=np.uint16).astype(">u2"), "uint16", (3, 4), ["height", "width"]),
        ([[0, 255], [128, 7]], None, (2, 2), ["height", "width"]),
    ],
)
def test_log_image_round_trip(
    tmp_path: Path, image: Any, stored_dtype: str | None, stored_shape: tuple[int, ...], names: list[str]
) -> None:
    if stored_dtype is None:  # a nested list: its dtype is numpy's choice, which must be refused
        path = record(tmp_path, lambda rec: log_image("cam/rgb", np.asarray(image, np.uint8), recording=rec))
        stored_dtype = "uint8"
    else:
        path = record(tmp_path, lambda rec: log_image("cam/rgb", image, draw_order=2, recording=rec))
    (row,) = read_rows(path, "cam/rgb")
    tensor = row["tensor"]
    assert tensor["dtype"] == stored_dtype
    assert tuple(tensor["shape"]) == stored_shape
    assert tensor["names"] == names
    back = to_numpy(tensor)
    assert back.dtype == np.dtype(stored_dtype)
    np.testing.assert_array_equal(back, np.asarray(image).astype(stored_dtype).reshape(stored_shape))
    assert kinds_of(path) == {"cam/rgb": {"image"}}
    assert "log_time" in row


def test_log_image_keeps_the_pixels_of_the_call(tmp_path: Path) -> None:
    """A camera driver reuses its frame buffer: each row must hold the frame of its call."""
    frame = np.zeros((4, 4, 3), dtype=np.uint8)

    def run(rec: RecordingStream) -> None:
        for value in range(5):
            frame[:] = value
            log_image("cam/rgb", frame, recording=rec)
        frame[:] = 99

    path = record(tmp_path, run)
    rows = read_rows(path, "cam/rgb")
    assert [int(to_numpy(r["tensor"]).max()) for r in rows] == [0, 1, 2, 3, 4]


def test_log_image_many_frames_and_big_frame(tmp_path: Path) -> None:
    big = RNG.integers(0, 256, (480, 640, 3), dtype=np.uint8)

    def run(rec: RecordingStream) -> None:
        for i in range(3):
            set_time_sequence("frame", i, recording=rec)
            log_image("cam/rgb", big[:, :, ::-1] if i == 1 else big, recording=rec)

    path = record(tmp_path, run)
    rows = read_rows(path, "cam/rgb")
    assert [r["frame"] for r in rows] == [0, 1, 2]
    np.testing.assert_array_equal(to_numpy(rows[0]["tensor"]), big)
    np.testing.assert_array_equal(to_numpy(rows[1]["tensor"]), big[:, :, ::-1])


def test_log_depth_image(tmp_path: Path) -> None:
    mm = RNG.integers(0, 5000, (6, 8), dtype=np.uint16)
    metres = RNG.random((6, 8, 1))
    metres[0, 0] = np.nan  # no measurement

    def run(rec: RecordingStream) -> None:
        log_depth_image("cam/depth_mm", mm, meter=1000, recording=rec)
        log_depth_image("cam/depth_m", metres, meter=1.0, draw_order=-1, recording=rec)
        log_depth_image("cam/depth_plain", mm, recording=rec)

    path = record(tmp_path, run)
    (row,) = read_rows(path, "cam/depth_mm")
    assert row["meter"] == 1000.0
    assert row["tensor"]["names"] == ["height", "width"]
    np.testing.assert_array_equal(to_numpy(row["tensor"]), mm)
    (row,) = read_rows(path, "cam/depth_m")
    back = to_numpy(row["tensor"])
    assert back.dtype == np.float32 and back.shape == (6, 8)
    np.testing.assert_array_equal(back, metres[:, :, 0].astype(np.float32))
    assert row["draw_order"] == -1.0
    (row,) = read_rows(path, "cam/depth_plain")
    assert "meter" not in row or row["meter"] is None
    assert kinds_of(path)["cam/depth_mm"] == {"depth_image"}


def test_log_segmentation_image(tmp_path: Path) -> None:
    ids64 = RNG.integers(0, 300, (5, 6), dtype=np.int64)
    ids8 = RNG.integers(0, 4, (5, 6), dtype=np.uint8)
    mask = RNG.random((5, 6)) > 0.5

    def run(rec: RecordingStream) -> None:
        log_segmentation_image("seg/a", ids64, recording=rec)
        log_segmentation_image("seg/b", ids8, recording=rec)
        log_segmentation_image("seg/c", mask, recording=rec)

    path = record(tmp_path, run)
    a = to_numpy(read_rows(path, "seg/a")[0]["tensor"])
    assert a.dtype == np.uint16
    np.testing.assert_array_equal(a, ids64)
    b = to_numpy(read_rows(path, "seg/b")[0]["tensor"])
    assert b.dtype == np.uint8
    np.testing.assert_array_equal(b, ids8)
    c = to_numpy(read_rows(path, "seg/c")[0]["tensor"])
    np.testing.assert_array_equal(c, mask.astype(np.uint8))
    assert kinds_of(path)["seg/a"] == {"segmentation_image"}


@pytest.mark.parametrize(
    ("tensor", "names"),
    [
        (RNG.random((2, 3, 4, 5)), ["batch", "channel", "y", "x"]),
        (RNG.random(7) > 0.5, None),
        (RNG.integers(-100, 100, (3, 3), dtype=np.int8), ["a", "b"]),
        (RNG.integers(0, 2**40, (4,), dtype=np.int64).astype(">i8"), None),
        (RNG.integers(0, 2**60, (2, 2), dtype=np.uint64), None),
        (np.zeros((0, 3), dtype=np.float32), ["empty", "three"]),
        (RNG.random((2, 2)).astype(np.float16), None),
    ],
)
def test_log_tensor_round_trip(tmp_path: Path, tensor: np.ndarray, names: list[str] | None) -> None:
    path = record(tmp_path, lambda rec: log_tensor("model/t", tensor, names=names, recording=rec))
    (row,) = read_rows(path, "model/t")
    back = to_numpy(row["tensor"])
    assert back.dtype == tensor.dtype.newbyteorder("=")
    assert back.shape == tensor.shape
    np.testing.assert_array_equal(back, tensor)
    assert row["tensor"]["names"] == names
    assert kinds_of(path) == {"model/t": {"tensor"}}


def test_log_tensor_meter(tmp_path: Path) -> None:
    path = record(tmp_path, lambda rec: log_tensor("grid", np.ones((2, 2)), meter=100, recording=rec))
    assert read_rows(path, "grid")[0]["meter"] == 100.0


def test_log_image_file(tmp_path: Path) -> None:
    png = png_bytes()
    jpg_file = tmp_path / "frame.jpg"
    jpg_file.write_bytes(JPEG)
    png_file = tmp_path / "frame.png"
    png_file.write_bytes(png)

    def run(rec: RecordingStream) -> None:
        log_image_file("img/a", img_bytes=png, recording=rec)
        log_image_file("img/b", img_path=jpg_file, recording=rec)
        log_image_file("img/c", img_path=str(png_file), img_format=ImageFormat.PNG, recording=rec)
        log_image_file("img/d", img_bytes=bytearray(JPEG), img_format="JPG", draw_order=3, recording=rec)
        log_image_file("img/e", img_bytes=np.frombuffer(png, np.uint8), img_format="png", recording=rec)

    path = record(tmp_path, run)
    expect = {"img/a": (png, "png"), "img/b": (JPEG, "jpeg"), "img/c": (png, "png"), "img/d": (JPEG, "jpeg")}
    expect["img/e"] = (png, "png")
    for entity, (data, fmt) in expect.items():
        (row,) = read_rows(path, entity)
        assert row["encoded_image"] == data
        assert row["image_format"] == fmt
        assert kinds_of(path)[entity] == {"encoded_image"}
    assert read_rows(path, "img/d")[0]["draw_order"] == 3.0


# --------------------------------------------------------------------------- #
# Text
# --------------------------------------------------------------------------- #


def test_log_text_entry(tmp_path: Path) -> None:
    def run(rec: RecordingStream) -> None:
        log_text_entry("logs", "started", recording=rec)
        log_text_entry("logs", "careful", level=LogLevel.WARN, recording=rec)
        log_text_entry("logs", "oops\nsecond line", level="error", color=[255, 0, 0], recording=rec)
        log_text_entry("logs", "py logging", level="Warning", recording=rec)
        log_text_entry("logs", "no level", level=None, recording=rec)
        log_text_entry("logs", "fine", level="trace", color=(0.0, 1.0, 0.0, 0.5), recording=rec)

    rows = read_rows(record(tmp_path, run), "logs")
    assert [r["text"] for r in rows] == ["started", "careful", "oops\nsecond line", "py logging", "no level", "fine"]
    assert [r["level"] for r in rows] == ["INFO", "WARN", "ERROR", "WARN", None, "TRACE"]
    assert rows[2]["color"] == [255, 0, 0, 255]
    assert rows[5]["color"] == [0, 255, 0, 128]
    assert {LogLevel.TRACE, LogLevel.DEBUG, LogLevel.CRITICAL} == {"TRACE", "DEBUG", "CRITICAL"}


# --------------------------------------------------------------------------- #
# Transforms
# --------------------------------------------------------------------------- #


def apply(row: dict[str, Any], p: np.ndarray) -> np.ndarray:
    """Apply a stored rigid3 row (parent from child) to a child point."""
    out: np.ndarray = quat_rotate(np.asarray(row["rotation"], np.float64), p) + np.asarray(row["translation"])
    return out


def test_log_rigid3_parent_from_child(tmp_path: Path) -> None:
    q = np.array([1.0, 2.0, -0.5, 3.0])  # not unit: stored normalised
    path = record(
        tmp_path,
        lambda rec: log_rigid3("world/cam", parent_from_child=([1, 2, 3], q), xyz="rdf", recording=rec),
    )
    (row,) = read_rows(path, "world/cam")
    np.testing.assert_allclose(row["translation"], [1, 2, 3])
    np.testing.assert_allclose(row["rotation"], q / np.linalg.norm(q), rtol=1e-6)
    assert row["view_coordinates"] == "RDF"
    assert kinds_of(path) == {"world/cam": {"rigid3"}}
    # A 90 degree turn about Z maps the child's X axis onto the parent's Y axis.
    s = np.sqrt(0.5)
    path = record(tmp_path, lambda rec: log_rigid3("a/b", parent_from_child=([0, 0, 0], [0, 0, s, s]), recording=rec))
    np.testing.assert_allclose(apply(read_rows(path, "a/b")[0], np.array([1.0, 0, 0])), [0, 1, 0], atol=1e-6)


def test_log_rigid3_child_from_parent_is_inverted(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    t = rng.normal(size=3) * 5
    path = record(tmp_path, lambda rec: log_rigid3("world/cam", child_from_parent=(t, q), recording=rec))
    (row,) = read_rows(path, "world/cam")
    for p_parent in rng.normal(size=(5, 3)) * 10:
        p_child = quat_rotate(q, p_parent) + t  # what child_from_parent means
        np.testing.assert_allclose(apply(row, p_child), p_parent, atol=1e-4)
    assert abs(np.linalg.norm(row["rotation"]) - 1) < 1e-6


def test_log_pinhole(tmp_path: Path) -> None:
    k = np.array([[525.0, 0.5, 319.5], [0, 530.0, 239.5], [0, 0, 1]])

    def run(rec: RecordingStream) -> None:
        log_pinhole("cam/a", focal_length_px=500, width=640, height=480, recording=rec)
        log_pinhole(
            "cam/b",
            focal_length_px=(400, 410),
            principal_point_px=(300, 200),
            width=600,
            height=400,
            camera_xyz="RDF",
            recording=rec,
        )
        log_pinhole("cam/c", child_from_parent=k, width=640, height=480, recording=rec)

    path = record(tmp_path, run)
    a = read_rows(path, "cam/a")[0]
    assert a["image_from_camera"] == [500, 0, 320, 0, 500, 240, 0, 0, 1]
    assert a["resolution"] == [640, 480]
    b = read_rows(path, "cam/b")[0]
    assert b["image_from_camera"] == [400, 0, 300, 0, 410, 200, 0, 0, 1]
    assert b["view_coordinates"] == "RDF"
    c = read_rows(path, "cam/c")[0]
    np.testing.assert_allclose(np.reshape(c["image_from_camera"], (3, 3)), k, rtol=1e-6)
    # Row-major: projecting a point with the stored matrix gives the expected pixel.
    uvw = np.reshape(c["image_from_camera"], (3, 3)) @ np.array([0.1, -0.2, 2.0])
    np.testing.assert_allclose(uvw[:2] / uvw[2], [525 * 0.05 + 0.5 * -0.1 + 319.5, 530 * -0.1 + 239.5], rtol=1e-5)
    assert kinds_of(path)["cam/a"] == {"pinhole"}


def test_log_view_coordinates(tmp_path: Path) -> None:
    def run(rec: RecordingStream) -> None:
        log_view_coordinates("a", xyz="RDF", recording=rec)
        log_view_coordinates("b", xyz="rub", right_handed=True, recording=rec)
        log_view_coordinates("c", xyz="FLU", recording=rec)
        for i, up in enumerate(["+Z", "-Z", "+Y", "-Y", "+X", "-X", "z"]):
            log_view_coordinates(f"up/#{i}", up=up, timeless=True, recording=rec)
        log_view_coordinates("left", up="+Z", right_handed=False, recording=rec)
        log_view_coordinates("left2", up="-Y", right_handed=False, recording=rec)

    path = record(tmp_path, run)
    got = {e: read_rows(path, e)[0]["view_coordinates"] for e in ["a", "b", "c", "left", "left2"]}
    assert got == {"a": "RDF", "b": "RUB", "c": "FLU", "left": "RBU", "left2": "RDB"}
    ups = [read_rows(path, f"up/#{i}")[0]["view_coordinates"] for i in range(7)]
    assert ups == ["RFU", "RBD", "RUB", "RDF", "URF", "DRB", "RFU"]
    assert all(is_right_handed(x) for x in ups)
    assert not is_right_handed("RBU") and not is_right_handed("RDB")
    # The well-known conventions are right-handed.
    assert all(is_right_handed(x) for x in ["RDF", "RUB", "FLU", "RFU", "FRD"])
    assert "log_time" not in read_rows(path, "up/#0")[0]
    assert kinds_of(path)["a"] == {"view_coordinates"}


def test_log_unknown_transform(tmp_path: Path) -> None:
    def run(rec: RecordingStream) -> None:
        log_unknown_transform("world/lost", recording=rec)
        log_disconnected_space("world/other", timeless=True, recording=rec)

    path = record(tmp_path, run)
    assert read_rows(path, "world/lost")[0]["disconnected"] is True
    assert read_rows(path, "world/other")[0]["disconnected"] is True
    assert kinds_of(path)["world/lost"] == {"unknown_transform"}


def test_side_kinds_share_a_path_with_an_image(tmp_path: Path) -> None:
    def run(rec: RecordingStream) -> None:
        log_rigid3("world/cam", parent_from_child=([0, 0, 1], [0, 0, 0, 1]), recording=rec)
        log_pinhole("world/cam/img", focal_length_px=100, width=64, height=48, recording=rec)
        log_image("world/cam/img", np.zeros((48, 64), np.uint8), recording=rec)
        log_annotation_context("world/cam/img", [(1, "car")], recording=rec)

    assert kinds_of(record(tmp_path, run))["world/cam/img"] == {"pinhole", "image", "annotation_context"}


# --------------------------------------------------------------------------- #
# Annotation context and clear
# --------------------------------------------------------------------------- #


def test_log_annotation_context(tmp_path: Path) -> None:
    person = ClassDescription(
        info=AnnotationInfo(3, "person", (0.0, 0.0, 1.0)),
        keypoint_annotations=[AnnotationInfo(0, "nose"), (1, "left eye", [10, 20, 30]), (2,)],
        keypoint_connections=[(0, 1), (1, 2)],
    )

    def run(rec: RecordingStream) -> None:
        log_annotation_context(
            "world",
            [(0, "background"), (1, "car", (255, 0, 0)), AnnotationInfo(2), person],
            timeless=True,
            recording=rec,
        )
        log_annotation_context("single", (7, "only"), recording=rec)
        log_annotation_context("single_desc", person, recording=rec)

    path = record(tmp_path, run)
    (row,) = read_rows(path, "world")
    classes = row["class_descriptions"]
    assert [c["id"] for c in classes] == [0, 1, 2, 3]
    assert [c["label"] for c in classes] == ["background", "car", None, "person"]
    assert classes[1]["color"] == [255, 0, 0, 255]
    assert classes[0]["color"] is None
    assert classes[3]["color"] == [0, 0, 255, 255]
    assert classes[3]["keypoints"] == [
        {"id": 0, "label": "nose", "color": None},
        {"id": 1, "label": "left eye", "color": [10, 20, 30, 255]},
        {"id": 2, "label": None, "color": None},
    ]
    assert classes[3]["keypoint_connections"] == [[0, 1], [1, 2]]
    assert classes[0]["keypoints"] == [] and classes[0]["keypoint_connections"] == []
    assert "log_time" not in row
    assert [c["label"] for c in read_rows(path, "single")[0]["class_descriptions"]] == ["only"]
    assert [c["id"] for c in read_rows(path, "single_desc")[0]["class_descriptions"]] == [3]
    assert kinds_of(path)["world"] == {"annotation_context"}


def test_log_cleared(tmp_path: Path) -> None:
    def run(rec: RecordingStream) -> None:
        log_cleared("world/a", recording=rec)
        log_cleared("world/b", recursive=True, recording=rec)

    path = record(tmp_path, run)
    assert read_rows(path, "world/a")[0]["recursive"] is False
    assert read_rows(path, "world/b")[0]["recursive"] is True
    assert kinds_of(path)["world/b"] == {"clear"}


# --------------------------------------------------------------------------- #
# Extension components
# --------------------------------------------------------------------------- #


def test_log_extension_components(tmp_path: Path) -> None:
    def run(rec: RecordingStream) -> None:
        log_extension_components(
            "det",
            {
                "confidence": np.array([0.9, 0.4, 0.1]),
                "detector": "yolo",
                "track_state": ["new", "lost", "kept"],
                "box": np.arange(12, dtype=np.int32).reshape(3, 4),
                "ok": np.array([True, False, True]),
            },
            identifiers=[17, 42, 7],
            recording=rec,
        )
        # Later rows keep the first type: ints are cast to the earlier float64.
        log_extension_components("det", {"confidence": [1, 0]}, recording=rec)

    path = record(tmp_path, run)
    first, second = read_rows(path, "det")
    assert first["confidence"] == [0.9, 0.4, 0.1]
    assert first["detector"] == ["yolo"] * 3
    assert first["track_state"] == ["new", "lost", "kept"]
    assert first["box"] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    assert first["ok"] == [True, False, True]
    assert first["instance_ids"] == [17, 42, 7]
    assert second["confidence"] == [1.0, 0.0]
    assert kinds_of(path) == {"det": {"extension"}}


# --------------------------------------------------------------------------- #
# log_columns
# --------------------------------------------------------------------------- #


def test_log_columns_a_million_scalars(tmp_path: Path) -> None:
    n = 1_000_000
    ticks = np.arange(n, dtype=np.int64)
    values = np.sin(ticks / 1000.0)

    def run(rec: RecordingStream) -> None:
        log_columns("imu/ax", "scalar", times={"tick": ticks}, recording=rec, scalar=values)
        values[:] = -1  # the call keeps its own copy

    path = record(tmp_path, run)
    with RrdReader(path) as reader:
        infos = [i for i in reader.chunks if i.entity == "imu/ax"]
        assert len(infos) >= n // DEFAULT_CHUNK_ROWS
        assert all(i.rows <= DEFAULT_CHUNK_ROWS and i.kind == "scalar" for i in infos)
        batches = [reader.read_chunk(i).batch for i in infos]
    table = pa.Table.from_batches(batches).sort_by("row_id")
    assert table.num_rows == n
    np.testing.assert_array_equal(table["scalar"].to_numpy(), np.sin(np.arange(n) / 1000.0))
    np.testing.assert_array_equal(table["tick"].to_numpy(), np.arange(n))
    row_ids = table["row_id"].to_numpy()
    assert np.all(np.diff(row_ids) == 1)
    log_time = table["log_time"].to_numpy()
    assert np.all(log_time == log_time[0]) and log_time[0] > 0


def test_log_columns_timelines_and_kinds(tmp_path: Path) -> None:
    stamps = np.datetime64("2026-01-01T00:00:00", "ns") + np.arange(3) * np.timedelta64(10, "ms")
    q = np.array([[0, 0, 0, 2.0], [0, 0, 1, 1], [1, 0, 0, 0]])

    def run(rec: RecordingStream) -> None:
        set_time_sequence("frame", 5, recording=rec)
        times = {"sensor_time": np.array([0.5, 1.0, 1.5]), "frame": np.array([1, 2, 3])}
        log_columns("s", "scalar", times=times, recording=rec, scalar=[1.0, np.nan, 3.0], label="temp")
        log_columns(
            "pose",
            "rigid3",
            times={"stamp": stamps},
            recording=rec,
            translation=np.arange(9.0).reshape(3, 3),
            rotation=q,
            view_coordinates="rdf",
        )
        log_columns(
            "nanos",
            "scalar",
            times={"t": np.array([10, 20])},
            timeline_kinds={"t": "time"},
            scalar=[1, 2],
            recording=rec,
        )
        log_columns("static", "text_entry", timeless=True, text=["a", "b"], level=["info", "Warning"], recording=rec)

    path = record(tmp_path, run)
    s = read_rows(path, "s")
    assert [r["sensor_time"] for r in s] == [500_000_000, 1_000_000_000, 1_500_000_000]
    assert [r["frame"] for r in s] == [1, 2, 3]
    assert s[0]["scalar"] == 1.0 and np.isnan(s[1]["scalar"]) and s[2]["label"] == "temp"
    pose = read_rows(path, "pose")
    assert [r["stamp"] for r in pose] == stamps.astype(np.int64).tolist()
    assert [r["translation"] for r in pose] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    np.testing.assert_allclose([r["rotation"] for r in pose], q / np.linalg.norm(q, axis=1)[:, None], rtol=1e-6)
    assert {r["view_coordinates"] for r in pose} == {"RDF"}
    with RrdReader(path) as reader:
        kinds = {i.entity: {k: v.kind.value for k, v in i.timelines.items()} for i in reader.chunks}
    assert kinds["s"] == {"sensor_time": "time", "frame": "sequence", "log_time": "time"}
    assert kinds["nanos"]["t"] == "time"
    assert [r["t"] for r in read_rows(path, "nanos")] == [10, 20]
    static = read_rows(path, "static")
    assert [r["level"] for r in static] == ["INFO", "WARN"] and "log_time" not in static[0]


def test_log_columns_batched_tensor_and_extension(tmp_path: Path) -> None:
    frames = RNG.integers(0, 256, (4, 3, 5, 3), dtype=np.uint8)
    many = pa.array([[[0, 0, 0], [1, 1, 1]], [[2, 2, 2]]], type=pa.list_(pa.list_(pa.float32(), 3)))

    def run(rec: RecordingStream) -> None:
        log_columns(
            "pts",
            "points3d",
            times={"f": np.arange(3)},
            positions3d=np.eye(3),
            colors=[255, 0, 0],
            radii=np.array([0.1, 0.2, 0.3]),
            class_ids=np.array([1, 2, 3]),
            recording=rec,
        )
        log_columns("pts2", "points3d", positions3d=many, recording=rec)
        log_columns("cam", "image", times={"f": np.arange(4)}, tensor=frames, recording=rec)
        log_columns(
            "ext", "extension", times={"f": np.arange(2)}, score=np.array([0.5, 0.25]), tags=["x", "y"], recording=rec
        )

    path = record(tmp_path, run)
    pts = read_rows(path, "pts")
    assert [r["positions3d"] for r in pts] == [[[1, 0, 0]], [[0, 1, 0]], [[0, 0, 1]]]
    assert [r["colors"] for r in pts] == [[[255, 0, 0, 255]]] * 3
    assert [r["class_ids"] for r in pts] == [[1], [2], [3]]
    np.testing.assert_allclose([r["radii"][0] for r in pts], [0.1, 0.2, 0.3], rtol=1e-6)
    assert [len(r["positions3d"]) for r in read_rows(path, "pts2")] == [2, 1]
    cam = read_rows(path, "cam")
    for i, r in enumerate(cam):
        assert r["tensor"]["names"] == ["height", "width", "color"]
        np.testing.assert_array_equal(to_numpy(r["tensor"]), frames[i])
    ext = read_rows(path, "ext")
    assert [r["score"] for r in ext] == [[0.5], [0.25]] and [r["tags"] for r in ext] == [["x"], ["y"]]


def test_log_columns_after_rows_keeps_order(tmp_path: Path) -> None:
    from rrformat._log_scalars import log_scalar

    def run(rec: RecordingStream) -> None:
        log_scalar("s", 1.0, recording=rec)
        log_columns("s", "scalar", scalar=np.array([2.0, 3.0]), recording=rec)
        log_scalar("s", 4.0, recording=rec)

    rows = read_rows(record(tmp_path, run), "s")
    assert [r["scalar"] for r in rows] == [1.0, 2.0, 3.0, 4.0]


# --------------------------------------------------------------------------- #
# Bad input: named function and argument, error when strict, warning otherwise
# --------------------------------------------------------------------------- #

IMG = np.zeros((4, 4, 3), np.uint8)
Q = [0, 0, 0, 1]

BAD: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], str, str]] = [
    # (function, positional args, keyword args, argument named, text in the message)
    (log_image, ("i", np.zeros((4, 4, 5), np.uint8)), {}, "image", "5 channels"),
    (log_image, ("i", np.zeros((4, 4, 2), np.uint8)), {}, "image", "2 channels"),
    (log_image, ("i", np.zeros((4,), np.uint8)), {}, "image", "shape (4,)"),
    (log_image, ("i", np.zeros((0, 4), np.uint8)), {}, "image", "H, W > 0"),
    (log_image, ("i", np.zeros((4, 4), np.int32)), {}, "image", "dtype int32"),
    (log_image, ("i", "not an image"), {}, "image", "numpy array"),
    (log_image, ("i", IMG), {"draw_order": "top"}, "draw_order", "a number"),
    (log_image, ("", IMG), {}, "entity_path", "entity path"),
    (log_depth_image, ("d", np.zeros((4, 4), np.uint16)), {"meter": -1}, "meter", "positive"),
    (log_depth_image, ("d", np.zeros((4, 4), np.uint16)), {"meter": float("nan")}, "meter", "finite"),
    (log_depth_image, ("d", np.zeros((4, 4, 3), np.uint16)), {}, "image", "HxW"),
    (log_depth_image, ("d", np.zeros((4, 4), np.uint8)), {}, "image", "uint16 or float"),
    (log_segmentation_image, ("s", np.full((2, 2), 70000, np.int64)), {}, "image", "70000"),
    (log_segmentation_image, ("s", np.full((2, 2), -1, np.int64)), {}, "image", "0..65535"),
    (log_segmentation_image, ("s", np.zeros((2, 2), np.float32)), {}, "image", "integer class ids"),
    (log_tensor, ("t", np.array(3.0)), {}, "tensor", "at least one dimension"),
    (log_tensor, ("t", np.zeros(3, np.complex64)), {}, "tensor", "complex64"),
    (log_tensor, ("t", np.zeros((2, 3))), {"names": ["a"]}, "names", "2 strings"),
    (log_tensor, ("t", np.zeros((2, 3))), {"meter": 0}, "meter", "positive"),
    (log_image_file, ("f",), {}, "img_bytes", "neither"),
    (log_image_file, ("f",), {"img_bytes": JPEG, "img_path": "x.jpg"}, "img_bytes", "both"),
    (log_image_file, ("f",), {"img_bytes": b"GIF89a......"}, "img_bytes", "47 49 46"),
    (log_image_file, ("f",), {"img_bytes": JPEG, "img_format": "png"}, "img_bytes", "PNG data"),
    (log_image_file, ("f",), {"img_bytes": JPEG, "img_format": "gif"}, "img_format", "'gif'"),
    (log_image_file, ("f",), {"img_path": "/nonexistent/x.png"}, "img_path", "readable file"),
    (log_image_file, ("f",), {"img_bytes": 12}, "img_bytes", "12 (int)"),
    (log_text_entry, ("l", "hi"), {"level": "LOUD"}, "level", "'LOUD'"),
    (log_text_entry, ("l", 42), {}, "text", "a string"),
    (log_text_entry, ("l", "hi"), {"color": [300, 0, 0]}, "color", "0-255"),
    (log_rigid3, ("r",), {}, "parent_from_child", "neither"),
    (
        log_rigid3,
        ("r",),
        {"parent_from_child": ([0, 0, 0], Q), "child_from_parent": ([0, 0, 0], Q)},
        "parent_from_child",
        "both",
    ),
    (log_rigid3, ("r",), {"parent_from_child": ([0, np.nan, 0], Q)}, "parent_from_child", "NaN"),
    (log_rigid3, ("r",), {"child_from_parent": ([0, 0, 0], [0, 0, 0, 0])}, "child_from_parent", "zero quaternion"),
    (log_rigid3, ("r",), {"parent_from_child": ([0, 0], Q)}, "parent_from_child", "translation"),
    (log_rigid3, ("r",), {"parent_from_child": ([0, 0, 0], [0, 0, 1])}, "parent_from_child", "quaternion"),
    (log_rigid3, ("r",), {"parent_from_child": [0, 0, 0]}, "parent_from_child", "pair"),
    (log_rigid3, ("r",), {"parent_from_child": ([0, 0, 0], Q), "xyz": "RXF"}, "xyz", "X"),
    (log_pinhole, ("p",), {"focal_length_px": 100, "height": 10}, "width", "required"),
    (log_pinhole, ("p",), {"focal_length_px": 100, "width": -5, "height": 10}, "width", "positive"),
    (log_pinhole, ("p",), {"width": 5, "height": 10}, "child_from_parent", "neither"),
    (
        log_pinhole,
        ("p",),
        {"focal_length_px": 1, "child_from_parent": np.eye(3), "width": 5, "height": 5},
        "child_from_parent",
        "both",
    ),
    (
        log_pinhole,
        ("p",),
        {"child_from_parent": np.zeros((3, 3)), "width": 5, "height": 5},
        "child_from_parent",
        "singular",
    ),
    (log_pinhole, ("p",), {"child_from_parent": np.eye(4), "width": 5, "height": 5}, "child_from_parent", "3x3"),
    (
        log_pinhole,
        ("p",),
        {"child_from_parent": np.full((3, 3), np.nan), "width": 5, "height": 5},
        "child_from_parent",
        "NaN",
    ),
    (log_pinhole, ("p",), {"focal_length_px": -3, "width": 5, "height": 5}, "focal_length_px", "positive"),
    (
        log_pinhole,
        ("p",),
        {"focal_length_px": 3, "principal_point_px": [1], "width": 5, "height": 5},
        "principal_point_px",
        "2 numbers",
    ),
    (
        log_pinhole,
        ("p",),
        {"child_from_parent": np.eye(3), "principal_point_px": [1, 1], "width": 5, "height": 5},
        "principal_point_px",
        "None when",
    ),
    (
        log_pinhole,
        ("p",),
        {"focal_length_px": 3, "width": 5, "height": 5, "camera_xyz": "ABC"},
        "camera_xyz",
        "letter(s) A, C",
    ),
    (log_view_coordinates, ("v",), {"xyz": "RXZ"}, "xyz", "unknown letter(s) X, Z"),
    (log_view_coordinates, ("v",), {"xyz": "RLF"}, "xyz", "R/L axis twice"),
    (log_view_coordinates, ("v",), {"xyz": "RUFB"}, "xyz", "4 letters"),
    (log_view_coordinates, ("v",), {}, "xyz", "neither"),
    (log_view_coordinates, ("v",), {"xyz": "RDF", "up": "+Z"}, "xyz", "both"),
    (log_view_coordinates, ("v",), {"up": "up"}, "up", "'+X'"),
    (log_view_coordinates, ("v",), {"xyz": "RDF", "right_handed": False}, "right_handed", "right-handed 'RDF'"),
    (log_annotation_context, ("a", [(1, "car"), (1, "bus")]), {}, "class_descriptions", "[1] described twice"),
    (log_annotation_context, ("a", [(70000, "car")]), {}, "class_descriptions", "70000"),
    (log_annotation_context, ("a", [(1, 5)]), {}, "class_descriptions", "label 5"),
    (log_annotation_context, ("a", [(1, "car", "red")]), {}, "class_descriptions", "colours"),
    (log_annotation_context, ("a", "cars"), {}, "class_descriptions", "'cars'"),
    (
        log_annotation_context,
        ("a", ClassDescription((1, "x"), [(0, "a"), (0, "b")])),
        {},
        "class_descriptions",
        "keypoint id(s) [0]",
    ),
    (
        log_annotation_context,
        ("a", ClassDescription((1, "x"), [], [(0, 1, 2)])),
        {},
        "class_descriptions",
        "keypoint connection",
    ),
    (log_cleared, ("c",), {"recursive": "yes"}, "recursive", "'yes'"),
    (log_extension_components, ("e", {"colors": [1]}), {}, "components", "built-in component"),
    (log_extension_components, ("e", {"row_id": [1]}), {}, "components", "'row_id'"),
    (log_extension_components, ("e", {"log_time": [1]}), {}, "components", "'log_time'"),
    (log_extension_components, ("e", {"a": [1, 2], "b": [1, 2, 3]}), {}, 'components["a"]', "2 values"),
    (log_extension_components, ("e", {}), {}, "components", "non-empty dict"),
    (log_extension_components, ("e", {"a": np.zeros(2, np.complex128)}), {}, 'components["a"]', "real numbers"),
    (log_extension_components, ("e", {"a": [1, 2]}), {"identifiers": [-1, 2]}, "identifiers", "0.."),
    (log_columns, ("c", "nonsense"), {"scalar": [1.0]}, "kind", "'nonsense'"),
    (log_columns, ("c", "scalar"), {"scalar": [1.0], "positions3d": [[0, 0, 0]]}, "positions3d", "of scalar"),
    (log_columns, ("c", "rigid3"), {"translation": np.zeros((2, 3))}, "rotation", "requires"),
    (log_columns, ("c", "scalar"), {"scalar": [1.0, 2.0], "label": ["a"]}, "label", "2 strings"),
    (log_columns, ("c", "scalar"), {"scalar": [1.0], "times": {"t": [1, 2]}}, 'times["t"]', "1 times"),
    (log_columns, ("c", "scalar"), {"scalar": [1.0], "times": {"t": [np.nan]}}, 'times["t"]', "NaN"),
    (log_columns, ("c", "scalar"), {"scalar": [1.0], "times": {"t": ["a"]}}, 'times["t"]', "datetime64"),
    (log_columns, ("c", "scalar"), {"scalar": [1.0], "times": {"log_time": [1]}}, "times", "'log_time'"),
    (log_columns, ("c", "scalar"), {"scalar": [1.0], "times": {"scalar": [1]}}, "times", "'scalar'"),
    (log_columns, ("c", "scalar"), {"scalar": [1.0], "times": {"t": [1]}, "timeless": True}, "times", "timeless"),
    (
        log_columns,
        ("c", "scalar"),
        {"scalar": [1.0], "times": {"t": [1.5]}, "timeline_kinds": {"t": "sequence"}},
        'times["t"]',
        "integers for a sequence",
    ),
    (
        log_columns,
        ("c", "scalar"),
        {"scalar": [1.0], "times": {"t": [1]}, "timeline_kinds": {"t": "clock"}},
        "timeline_kinds",
        "'clock'",
    ),
    (log_columns, ("c", "scalar"), {"scalar": 1.0}, "scalar", "one value per row"),
    (log_columns, ("c", "rigid3"), {"translation": [[0, 0, np.nan]], "rotation": [Q]}, "translation", "NaN"),
    (log_columns, ("c", "rigid3"), {"translation": [[0, 0, 0]], "rotation": [[0, 0, 0, 0]]}, "rotation", "zero"),
    (log_columns, ("c", "rigid3"), {"translation": [[0, 0]], "rotation": [Q]}, "translation", "(1, 3)"),
    (log_columns, ("c", "points3d"), {"positions3d": [[0, 0, 0]], "class_ids": [70000]}, "class_ids", "0..65535"),
    (log_columns, ("c", "text_entry"), {"text": ["a"], "level": ["LOUD"]}, "level", "'LOUD'"),
    (log_columns, ("c", "depth_image"), {"tensor": np.zeros((1, 2, 2)), "meter": [0.0]}, "meter", "values > 0"),
    (log_columns, ("c", "points2d"), {"positions2d": [[0, 0]], "radii": [-1]}, "radii", "values >= 0"),
    (log_columns, ("c", "view_coordinates"), {"view_coordinates": ["RRR"]}, "view_coordinates", "twice"),
    (log_columns, ("c", "image"), {"tensor": np.zeros((2, 4, 4, 5), np.uint8)}, "tensor", "5 channels"),
    (log_columns, ("c", "extension"), {"colors": [1]}, "colors", "built-in"),
]


def _ids(case: tuple[Any, ...]) -> str:
    return f"{case[0].__name__}-{case[3]}-{case[4]}"


@pytest.mark.parametrize("case", BAD, ids=[_ids(c) for c in BAD])
def test_bad_input_strict_raises(tmp_path: Path, case: tuple[Any, ...]) -> None:
    fn, args, kwargs, arg, text = case
    rec = RecordingStream("test", save=tmp_path / "bad.rrd", strict=True)
    try:
        with pytest.raises(RecordingError) as info:
            fn(*args, **kwargs, recording=rec)
    finally:
        rec.disconnect()
    message = str(info.value)
    assert message.startswith(f"{fn.__name__}: argument {arg!r}: got "), message
    assert text in message, message
    assert "expected" in message and message.endswith("The call was dropped.")
    with RrdReader(tmp_path / "bad.rrd") as reader:
        assert reader.chunks == []  # the call was dropped


@pytest.mark.parametrize("case", BAD[::7], ids=[_ids(c) for c in BAD[::7]])
def test_bad_input_warns_and_drops(tmp_path: Path, case: tuple[Any, ...]) -> None:
    fn, args, kwargs, arg, text = case
    rec = RecordingStream("test", save=tmp_path / "bad.rrd")
    try:
        with pytest.warns(RecordingWarning) as caught:
            assert fn(*args, **kwargs, recording=rec) is None
        log_text_entry("after", "still logging", recording=rec)
    finally:
        rec.disconnect()
    (warning,) = [w for w in caught if issubclass(w.category, RecordingWarning)]
    assert str(warning.message).startswith(f"{fn.__name__}: argument {arg!r}: got ")
    assert text in str(warning.message)
    with RrdReader(tmp_path / "bad.rrd") as reader:
        assert [i.entity for i in reader.chunks] == ["after"]


def test_one_kind_per_path_and_kept_extension_type(tmp_path: Path) -> None:
    def run(rec: RecordingStream) -> None:
        log_image("x", IMG, recording=rec)
        with pytest.raises(RecordingError, match=r"log_tensor: argument 'entity_path'.*image data"):
            log_tensor("x", IMG, recording=rec)
        with pytest.raises(RecordingError, match=r"log_columns: argument 'entity_path'.*image data"):
            log_columns("x", "scalar", scalar=[1.0], recording=rec)
        log_extension_components("e", {"a": [1.5]}, recording=rec)
        with pytest.raises(RecordingError, match=r"components\[\"a\"\]': got values of type string; expected .*double"):
            log_extension_components("e", {"a": ["text"]}, recording=rec)
        set_time_sequence("frame", 1, recording=rec)
        with pytest.raises(RecordingError, match="'frame', a timeline"):
            log_extension_components("e", {"frame": [1]}, recording=rec)
        with pytest.raises(RecordingError, match=r"times\[\"frame\"\]': got time values; expected sequence"):
            log_columns("s", "scalar", times={"frame": [0.5]}, scalar=[1.0], recording=rec)

    path = record(tmp_path, run)
    assert kinds_of(path) == {"x": {"image"}, "e": {"extension"}}


def test_disabled_recording_does_nothing(tmp_path: Path) -> None:
    rec = RecordingStream("test", save=tmp_path / "off.rrd", default_enabled=False, strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log_image("x", np.zeros((4, 4, 5)), recording=rec)  # bad, but never looked at
        log_columns("c", "scalar", scalar=np.zeros(10), recording=rec)
    rec.disconnect()
    assert not (tmp_path / "off.rrd").exists()


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (log_image, ["HxWx3", "uint8", "float64", "Examples"]),
        (log_depth_image, ["meter", "1000"]),
        (log_tensor, ["names", "float16"]),
        (log_image_file, ["FF D8 FF", "img_format"]),
        (log_rigid3, ["quaternion", "child_from_parent"]),
        (log_pinhole, ["fx", "principal_point_px"]),
        (log_view_coordinates, ["RDF", '"URF"']),
        (log_columns, ["Batched", "datetime64"]),
        (log_annotation_context, ["ClassDescription"]),
        (log_extension_components, ["identifiers"]),
    ],
)
def test_help_is_useful(fn: Callable[..., Any], words: list[str]) -> None:
    text = pydoc.plain(pydoc.render_doc(fn))
    for word in [*words, "Parameters", "Examples", "entity_path"]:
        assert word in text, word
