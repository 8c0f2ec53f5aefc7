"""Tests for the shape log functions: rects, oriented boxes, lines, arrows, meshes, mesh files.

Every function is logged to a real .rrd file, which is closed and read back with
:class:`RrdReader`; bad input is checked in strict mode (RecordingError) and in the
default mode (RecordingWarning, the call dropped, the others kept).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from rrformat import RecordingError, RecordingStream, RecordingWarning, RrdReader, set_time_sequence
from rrformat._log_lines import log_arrow, log_line_segments, log_line_strip, log_line_strips_2d, log_line_strips_3d
from rrformat._log_meshes import MeshFormat, log_mesh, log_mesh_file
from rrformat._log_shapes import RectFormat, log_obb, log_obbs, log_rect, log_rects, rects_to_xywh
from rrformat.components import COMPONENTS, DATA_KINDS

NAN = float("nan")
GLB = b"glTF" + (2).to_bytes(4, "little") + (20).to_bytes(4, "little") + b"\x00" * 8
OBJ = b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #
@dataclass
class Logged:
    """What one entity holds in a file read back: its kind, rows and whether timeless."""

    kind: str
    timeless: bool
    rows: list[dict[str, Any]]
    schema: pa.Schema


def read_back(path: Path) -> dict[str, Logged]:
    reader = RrdReader(path)
    try:
        assert reader.damage is None
        out: dict[str, Logged] = {}
        for info in reader.chunks:
            batch = reader.read_chunk(info).batch
            entry = out.setdefault(info.entity, Logged(info.kind, info.timeless, [], batch.schema))
            assert entry.kind == info.kind
            entry.rows.extend(batch.to_pylist())
            # Catalogued components keep their catalog type in the file.
            for field in batch.schema:
                if field.name in COMPONENTS:
                    assert field.type == COMPONENTS[field.name].column_type, field.name
                    assert field.name in DATA_KINDS[info.kind].components
        for entry in out.values():
            entry.rows.sort(key=lambda r: r["row_id"])
        return out
    finally:
        reader.close()


@pytest.fixture
def rec_path(tmp_path: Path) -> Path:
    return tmp_path / "shapes.rrd"


@pytest.fixture
def rec(rec_path: Path) -> Iterator[RecordingStream]:
    stream = RecordingStream("shapes", save=rec_path, strict=True)
    set_time_sequence("frame", 7, recording=stream)
    yield stream
    stream.disconnect()


def close_and_read(rec: RecordingStream, path: Path) -> dict[str, Logged]:
    rec.disconnect()
    return read_back(path)


def only_row(logged: dict[str, Logged], entity: str, kind: str) -> dict[str, Any]:
    entry = logged[entity]
    assert entry.kind == kind
    assert len(entry.rows) == 1
    row = entry.rows[0]
    # Timed rows carry the thread's timelines and the automatic log_time.
    assert row["frame"] == 7
    assert isinstance(row["log_time"], int) and row["log_time"] > 0
    return row


def close(actual: Any, expected: Any) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64), rtol=1e-6)


# --------------------------------------------------------------------------- #
# Rectangles
# --------------------------------------------------------------------------- #
def test_log_rects_round_trip(rec: RecordingStream, rec_path: Path) -> None:
    log_rects(
        "cam/image/det", np.array([[10, 20, 30, 40], [0, 0, 5, 5]], dtype=np.int32),
        identifiers=[7, 9], colors=[[255, 0, 0, 255], [0, 0, 255, 128]], labels=["person", "cup"],
        class_ids=[1, 2], draw_order=3.5, recording=rec,
    )
    row = only_row(close_and_read(rec, rec_path), "cam/image/det", "rects2d")
    close(row["rects"], [[10, 20, 30, 40], [0, 0, 5, 5]])
    assert row["instance_ids"] == [7, 9]
    assert row["colors"] == [[255, 0, 0, 255], [0, 0, 255, 128]]
    assert row["labels"] == ["person", "cup"]
    assert row["class_ids"] == [1, 2]
    assert row["draw_order"] == 3.5


def test_log_rect_round_trip(rec: RecordingStream, rec_path: Path) -> None:
    log_rect("cam/image/roi", [1.5, 2.5, 3.0, 4.0], color=[0.0, 1.0, 0.0], label="roi", class_id=4, recording=rec)
    row = only_row(close_and_read(rec, rec_path), "cam/image/roi", "rects2d")
    assert row["rects"] == [[1.5, 2.5, 3.0, 4.0]]
    assert row["colors"] == [[0, 255, 0, 255]]
    assert row["labels"] == ["roi"]
    assert row["class_ids"] == [4]
    assert "draw_order" not in row or row["draw_order"] is None


# The box with minimum corner (10, 20), width 30, height 40, written by hand in every format:
# max corner (40, 60), centre (25, 40), half sizes (15, 20).
SAME_BOX = {
    RectFormat.XYWH: [10, 20, 30, 40],
    RectFormat.YXHW: [20, 10, 40, 30],
    RectFormat.XYXY: [10, 20, 40, 60],
    RectFormat.YXYX: [20, 10, 60, 40],
    RectFormat.XCYCWH: [25, 40, 30, 40],
    RectFormat.XCYCW2H2: [25, 40, 15, 20],
}


def test_rect_formats_cover_the_enum() -> None:
    assert set(SAME_BOX) == set(RectFormat)


def test_every_rect_format_stores_the_same_xywh(rec: RecordingStream, rec_path: Path) -> None:
    for i, (fmt, numbers) in enumerate(SAME_BOX.items()):
        log_rect(f"enum/{i}", numbers, rect_format=fmt, recording=rec)
        # The name as a string, in any case, works too; and log_rects agrees with log_rect.
        log_rects(f"name/{i}", [numbers, numbers], rect_format=fmt.name.lower(), recording=rec)
        log_rect(f"mixed/{i}", numbers, rect_format=fmt.name.capitalize(), recording=rec)
    logged = close_and_read(rec, rec_path)
    for i in range(len(SAME_BOX)):
        assert only_row(logged, f"enum/{i}", "rects2d")["rects"] == [[10, 20, 30, 40]]
        assert only_row(logged, f"name/{i}", "rects2d")["rects"] == [[10, 20, 30, 40]] * 2
        assert only_row(logged, f"mixed/{i}", "rects2d")["rects"] == [[10, 20, 30, 40]]


def test_rect_conversion_formulas_on_random_boxes() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.uniform(-100, 100, 50), rng.uniform(-100, 100, 50)
    w, h = rng.uniform(0, 50, 50), rng.uniform(0, 50, 50)
    expected = np.stack([x, y, w, h], axis=1)
    given = {
        RectFormat.XYWH: [x, y, w, h],
        RectFormat.YXHW: [y, x, h, w],
        RectFormat.XYXY: [x, y, x + w, y + h],
        RectFormat.YXYX: [y, x, y + h, x + w],
        RectFormat.XCYCWH: [x + w / 2, y + h / 2, w, h],
        RectFormat.XCYCW2H2: [x + w / 2, y + h / 2, w / 2, h / 2],
    }
    for fmt, cols in given.items():
        np.testing.assert_allclose(rects_to_xywh(np.stack(cols, axis=1), fmt), expected, rtol=0, atol=1e-9)


def test_xyxy_is_converted_in_double_precision(rec: RecordingStream, rec_path: Path) -> None:
    # Subtracting after a float32 cast would give a width of 0 or 0.125 here, not 0.1.
    log_rect("precise", [1_000_000.0, 0.0, 1_000_000.1, 1.0], rect_format="XYXY", recording=rec)
    row = only_row(close_and_read(rec, rec_path), "precise", "rects2d")
    assert math.isclose(row["rects"][0][2], 0.1, rel_tol=1e-6)


# --------------------------------------------------------------------------- #
# Oriented boxes
# --------------------------------------------------------------------------- #
def test_log_obbs_round_trip(rec: RecordingStream, rec_path: Path) -> None:
    log_obbs(
        "world/boxes", half_sizes=[[0.5, 0.5, 1.0], [0.0, 0.3, 0.4]], positions=[[1, 0, 1], [3, 2, 0.4]],
        rotations_q=[[0, 0, 0, 2], [0, 3, 0, 4]], colors=[10, 20, 30], stroke_widths=[0.01, 0.02],
        labels="obstacle", class_ids=[5, 6], recording=rec,
    )
    row = only_row(close_and_read(rec, rec_path), "world/boxes", "boxes3d")
    close(row["half_sizes"], [[0.5, 0.5, 1.0], [0.0, 0.3, 0.4]])
    close(row["centers"], [[1, 0, 1], [3, 2, 0.4]])
    close(row["rotations"], [[0, 0, 0, 1], [0, 0.6, 0, 0.8]])  # normalised
    assert row["colors"] == [[10, 20, 30, 255]] * 2
    close(row["stroke_widths"], [0.01, 0.02])
    assert row["labels"] == ["obstacle", "obstacle"]
    assert row["class_ids"] == [5, 6]


def test_log_obb_round_trip(rec: RecordingStream, rec_path: Path) -> None:
    log_obb("world/robot/bbox", half_size=[0.3, 0.2, 0.1], recording=rec)
    log_obb(
        "world/cup", half_size=[1, 2, 3], position=[4, 5, 6], rotation_q=[0, 0, 0.5, 0], color=[1.0, 0, 0, 0.5],
        stroke_width=0.5, label="cup", class_id=3, recording=rec,
    )
    logged = close_and_read(rec, rec_path)
    plain = only_row(logged, "world/robot/bbox", "boxes3d")
    close(plain["half_sizes"], [[0.3, 0.2, 0.1]])
    assert set(logged["world/robot/bbox"].schema.names) == {"row_id", "frame", "log_time", "half_sizes"}
    row = only_row(logged, "world/cup", "boxes3d")
    assert row["half_sizes"] == [[1, 2, 3]] and row["centers"] == [[4, 5, 6]]
    assert row["rotations"] == [[0, 0, 1, 0]]
    assert row["colors"] == [[255, 0, 0, 128]]
    assert row["stroke_widths"] == [0.5] and row["labels"] == ["cup"] and row["class_ids"] == [3]


# --------------------------------------------------------------------------- #
# Lines and arrows
# --------------------------------------------------------------------------- #
def test_log_line_strip_2d_and_3d(rec: RecordingStream, rec_path: Path) -> None:
    log_line_strip("img/path", [[0, 0], [10, 0], [10, 10]], stroke_width=2, color=[255, 0, 0], draw_order=1,
                   recording=rec)
    log_line_strip("world/path", np.arange(12, dtype=np.float64).reshape(4, 3), recording=rec)
    logged = close_and_read(rec, rec_path)
    row2 = only_row(logged, "img/path", "line_strips2d")
    assert row2["strips2d"] == [[[0, 0], [10, 0], [10, 10]]]
    assert row2["stroke_widths"] == [2.0] and row2["colors"] == [[255, 0, 0, 255]] and row2["draw_order"] == 1.0
    row3 = only_row(logged, "world/path", "line_strips3d")
    assert row3["strips3d"] == [[[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]]


def test_log_line_segments(rec: RecordingStream, rec_path: Path) -> None:
    pts3 = [[0, 0, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1]]
    log_line_segments("world/rays", pts3, stroke_width=0.1, color=[0, 255, 0], recording=rec)
    log_line_segments("img/ticks", np.array([[0, 0], [0, 5]]), draw_order=2, recording=rec)
    logged = close_and_read(rec, rec_path)
    row3 = only_row(logged, "world/rays", "line_strips3d")
    assert row3["strips3d"] == [[[0, 0, 0], [1, 0, 0]], [[0, 0, 1], [0, 1, 1]]]
    assert row3["colors"] == [[0, 255, 0, 255]] * 2
    close(row3["stroke_widths"], [0.1, 0.1])
    row2 = only_row(logged, "img/ticks", "line_strips2d")
    assert row2["strips2d"] == [[[0, 0], [0, 5]]] and row2["draw_order"] == 2.0


def test_log_line_strips_2d_and_3d(rec: RecordingStream, rec_path: Path) -> None:
    log_line_strips_2d(
        "img/lanes", [np.array([[0, 480], [300, 200]]), [[640, 480], [340, 200], [320, 100]], []],
        identifiers=[1, 2, 3], stroke_widths=3, colors=[[255, 0, 0], [0, 255, 0], [0, 0, 255]],
        labels=["left", "right", "none"], class_ids=1, draw_order=-1, recording=rec,
    )
    log_line_strips_3d("world/walls", [[[0, 0, 0], [5, 0, 0]], np.zeros((3, 3), np.float32)],
                       stroke_widths=[0.1, 0.2], recording=rec)
    log_line_strips_3d("world/gen", (np.full((2, 3), i) for i in range(2)), recording=rec)
    logged = close_and_read(rec, rec_path)
    row2 = only_row(logged, "img/lanes", "line_strips2d")
    assert row2["strips2d"] == [[[0, 480], [300, 200]], [[640, 480], [340, 200], [320, 100]], []]
    assert row2["instance_ids"] == [1, 2, 3] and row2["stroke_widths"] == [3.0] * 3
    assert row2["colors"] == [[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255]]
    assert row2["labels"] == ["left", "right", "none"] and row2["class_ids"] == [1, 1, 1]
    assert row2["draw_order"] == -1.0
    row3 = only_row(logged, "world/walls", "line_strips3d")
    assert row3["strips3d"] == [[[0, 0, 0], [5, 0, 0]], [[0, 0, 0]] * 3]
    close(row3["stroke_widths"], [0.1, 0.2])
    assert only_row(logged, "world/gen", "line_strips3d")["strips3d"] == [[[0, 0, 0]] * 2, [[1, 1, 1]] * 2]


def test_log_arrow(rec: RecordingStream, rec_path: Path) -> None:
    log_arrow("world/vel", [1, 2, 0], [0.5, 0, 0], color=[0, 0, 255], label="v", width_scale=0.25, recording=rec)
    log_arrow("world/up", None, [0, 0, 1], recording=rec)
    logged = close_and_read(rec, rec_path)
    row = only_row(logged, "world/vel", "arrows3d")
    assert row["origins"] == [[1, 2, 0]] and row["vectors"] == [[0.5, 0, 0]]
    assert row["colors"] == [[0, 0, 255, 255]] and row["labels"] == ["v"] and row["width_scales"] == [0.25]
    up = only_row(logged, "world/up", "arrows3d")
    assert up["origins"] == [[0, 0, 0]] and up["vectors"] == [[0, 0, 1]]


# --------------------------------------------------------------------------- #
# Meshes
# --------------------------------------------------------------------------- #
def test_log_mesh_round_trip(rec: RecordingStream, rec_path: Path) -> None:
    square = [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]]
    log_mesh(
        "world/floor", square, indices=np.array([[0, 1, 2], [0, 2, 3]], dtype=np.int64),
        normals=[0, 0, 1] * 4, albedo_factor=[0.5, 0.25, 1.0], vertex_colors=[[255, 0, 0], [0, 255, 0],
                                                                               [0, 0, 255], [9, 9, 9]],
        recording=rec,
    )
    log_mesh("world/tri", np.arange(9, dtype=np.float32), indices=[0, 1, 2], albedo_factor=[0, 0, 0, 0.5],
             vertex_colors=[1.0, 1.0, 1.0], recording=rec)
    log_mesh("world/soup", np.zeros((6, 3)), recording=rec)
    logged = close_and_read(rec, rec_path)
    row = only_row(logged, "world/floor", "mesh3d")
    assert row["vertex_positions"] == square
    assert row["triangle_indices"] == [0, 1, 2, 0, 2, 3]
    assert row["vertex_normals"] == [[0, 0, 1]] * 4
    assert row["albedo_factor"] == [0.5, 0.25, 1.0, 1.0]
    assert row["vertex_colors"] == [[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255], [9, 9, 9, 255]]
    tri = only_row(logged, "world/tri", "mesh3d")
    assert tri["vertex_positions"] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert tri["triangle_indices"] == [0, 1, 2]
    assert tri["albedo_factor"] == [0, 0, 0, 0.5]
    assert tri["vertex_colors"] == [[255, 255, 255, 255]] * 3
    soup = only_row(logged, "world/soup", "mesh3d")
    assert soup["vertex_positions"] == [[0, 0, 0]] * 6
    assert set(logged["world/soup"].schema.names) == {"row_id", "frame", "log_time", "vertex_positions"}


def test_mesh_rows_with_and_without_optional_components_share_a_chunk(rec: RecordingStream, rec_path: Path) -> None:
    log_mesh("world/m", [[0, 0, 0], [1, 0, 0], [0, 1, 0]], recording=rec)
    log_mesh("world/m", [[0, 0, 0], [1, 0, 0], [0, 1, 0]], indices=[0, 2, 1], normals=[[0, 0, 1]] * 3,
             recording=rec)
    rows = close_and_read(rec, rec_path)["world/m"].rows
    assert [r["triangle_indices"] for r in rows] == [None, [0, 2, 1]]
    assert [r["vertex_normals"] for r in rows] == [None, [[0, 0, 1]] * 3]


def test_log_mesh_file_round_trip(rec: RecordingStream, rec_path: Path, tmp_path: Path) -> None:
    obj_path = tmp_path / "tri.obj"
    obj_path.write_bytes(OBJ)
    affine = np.array([[1, 0, 0, 5], [0, 2, 0, 6], [0, 0, 3, 7], [0, 0, 0, 1]], dtype=np.float64)
    log_mesh_file("world/robot", MeshFormat.GLB, mesh_bytes=GLB, transform=affine, recording=rec)
    log_mesh_file("world/map", "obj", mesh_path=obj_path, transform=affine[:3], recording=rec)
    log_mesh_file("world/scene", "GlTf", mesh_bytes=bytearray(b'{"asset": {"version": "2.0"}}'), recording=rec)
    logged = close_and_read(rec, rec_path)
    robot = only_row(logged, "world/robot", "mesh_file")
    assert robot["mesh_blob"] == GLB and robot["mesh_format"] == "glb"
    assert robot["mesh_transform"] == [1, 0, 0, 5, 0, 2, 0, 6, 0, 0, 3, 7]
    world_map = only_row(logged, "world/map", "mesh_file")
    assert world_map["mesh_blob"] == OBJ and world_map["mesh_format"] == "obj"
    assert world_map["mesh_transform"] == robot["mesh_transform"]
    scene = only_row(logged, "world/scene", "mesh_file")
    assert scene["mesh_format"] == "gltf" and scene["mesh_blob"].startswith(b'{"asset"')
    assert scene.get("mesh_transform") is None


def test_timeless_shapes_have_no_timelines(rec: RecordingStream, rec_path: Path) -> None:
    log_mesh_file("world/static", "obj", mesh_bytes=OBJ, timeless=True, recording=rec)
    log_rects("img/static", [[0, 0, 1, 1]], timeless=True, recording=rec)
    logged = close_and_read(rec, rec_path)
    for entity in ("world/static", "img/static"):
        assert logged[entity].timeless
        assert "frame" not in logged[entity].schema.names and "log_time" not in logged[entity].schema.names


def test_every_function_has_a_useful_docstring() -> None:
    for fn in (log_rect, log_rects, log_obb, log_obbs, log_line_strip, log_line_segments, log_line_strips_2d,
               log_line_strips_3d, log_arrow, log_mesh, log_mesh_file):
        doc = fn.__doc__ or ""
        assert "Parameters" in doc and "Examples" in doc and ">>>" in doc, fn.__name__
        assert "recording" in doc and "timeless" in doc, fn.__name__


# --------------------------------------------------------------------------- #
# Bad input
# --------------------------------------------------------------------------- #
Fn = Callable[..., None]

# A good call of each function, logged around every bad one (same entity path).
GOOD: dict[str, tuple[Fn, tuple[Any, ...], dict[str, Any]]] = {
    "log_rects": (log_rects, ([[0, 0, 1, 1], [1, 1, 2, 2]],), {}),
    "log_rect": (log_rect, ([0, 0, 1, 1],), {}),
    "log_obbs": (log_obbs, (), {"half_sizes": [[1, 1, 1], [2, 2, 2]]}),
    "log_obb": (log_obb, (), {"half_size": [1, 1, 1]}),
    "log_line_strip": (log_line_strip, ([[0, 0], [1, 1]],), {}),
    "log_line_segments": (log_line_segments, ([[0, 0, 0], [1, 1, 1]],), {}),
    "log_line_strips_2d": (log_line_strips_2d, ([[[0, 0], [1, 1]], [[2, 2], [3, 3]]],), {}),
    "log_line_strips_3d": (log_line_strips_3d, ([[[0, 0, 0], [1, 1, 1]], [[2, 2, 2]]],), {}),
    "log_arrow": (log_arrow, ([0, 0, 0], [1, 0, 0]), {}),
    "log_mesh": (log_mesh, ([[0, 0, 0], [1, 0, 0], [0, 1, 0]],), {}),
    "log_mesh_file": (log_mesh_file, ("obj",), {"mesh_bytes": OBJ}),
}

TWO_RECTS = [[0, 0, 1, 1], [1, 1, 2, 2]]
TWO_BOXES = [[1, 1, 1], [2, 2, 2]]
TRI = [[0, 0, 0], [1, 0, 0], [0, 1, 0]]

# (function, args, kwargs, the argument named, a phrase of the expectation)
BAD: list[tuple[str, tuple[Any, ...], dict[str, Any], str, str]] = [
    ("log_rects", ([[0, 0, 1]],), {}, "rects", "Nx4"),
    ("log_rects", ([[0, 0, 1, NAN]],), {}, "rects", "finite"),
    ("log_rects", ([["a", "b", "c", "d"]],), {}, "rects", "numbers"),
    ("log_rects", (TWO_RECTS,), {"rect_format": "XYZW"}, "rect_format", "RectFormat.XCYCW2H2"),
    ("log_rects", (TWO_RECTS,), {"rect_format": 3}, "rect_format", "RectFormat.XYWH"),
    ("log_rects", ([[5, 0, 1, 1]],), {"rect_format": "xyxy"}, "rects", "x2 >= x1"),
    ("log_rects", ([[0, 0, 1, -1]],), {}, "rects", "height >= 0"),
    ("log_rects", ([[0, 0, -1, 1]],), {"rect_format": "xcycw2h2"}, "rects", "w/2 >= 0"),
    ("log_rects", (TWO_RECTS,), {"colors": [[255, 0, 0]] * 3}, "colors", "2 colours"),
    ("log_rects", (TWO_RECTS,), {"colors": [300, 0, 0]}, "colors", "0-255"),
    ("log_rects", (TWO_RECTS,), {"labels": ["a"] * 3}, "labels", "2 strings"),
    ("log_rects", (TWO_RECTS,), {"class_ids": [-1, 0]}, "class_ids", "0..65535"),
    ("log_rects", (TWO_RECTS,), {"identifiers": [1, 2, 3]}, "identifiers", "2 values"),
    ("log_rects", (TWO_RECTS,), {"draw_order": "top"}, "draw_order", "a number"),
    ("log_rect", ([0, 0, 1],), {}, "rect", "4 numbers"),
    ("log_rect", (None,), {}, "rect", "4 numbers"),
    ("log_rect", ([0, 0, 1, 1],), {"color": [[1, 2, 3], [4, 5, 6]]}, "color", "one colour"),
    ("log_rect", ([0, 0, 1, 1],), {"label": 5}, "label", "a string"),
    ("log_rect", ([0, 0, 1, 1],), {"class_id": [1, 2]}, "class_id", "one integer"),
    ("log_rect", ([0, 0, 1, 1],), {"rect_format": "diagonal"}, "rect_format", "RectFormat.YXYX"),
    ("log_obbs", (), {"half_sizes": [[1, 1]]}, "half_sizes", "Nx3"),
    ("log_obbs", (), {"half_sizes": [[1, -1, 1]]}, "half_sizes", ">= 0"),
    ("log_obbs", (), {"half_sizes": [[NAN, 1, 1]]}, "half_sizes", "finite"),
    ("log_obbs", (), {"half_sizes": TWO_BOXES, "positions": [[0, 0, 0]] * 3}, "positions", "2 rows"),
    ("log_obbs", (), {"half_sizes": TWO_BOXES, "positions": [[0, 0, NAN]] * 2}, "positions", "finite"),
    ("log_obbs", (), {"half_sizes": TWO_BOXES, "rotations_q": [[0, 0, 0, 1], [0, 0, 0, 0]]}, "rotations_q",
     "non-zero"),
    ("log_obbs", (), {"half_sizes": TWO_BOXES, "rotations_q": [[0, 0, 1]] * 2}, "rotations_q", "Nx4"),
    ("log_obbs", (), {"half_sizes": TWO_BOXES, "colors": [[1, 2, 3]] * 3}, "colors", "2 colours"),
    ("log_obbs", (), {"half_sizes": TWO_BOXES, "stroke_widths": [-1, 1]}, "stroke_widths", ">= 0"),
    ("log_obbs", (), {"half_sizes": TWO_BOXES, "labels": ["x"] * 3}, "labels", "2 strings"),
    ("log_obb", (), {"half_size": [1, 1]}, "half_size", "3 numbers"),
    ("log_obb", (), {"half_size": [1, 1, 1], "position": [1, 2]}, "position", "3 numbers"),
    ("log_obb", (), {"half_size": [1, 1, 1], "rotation_q": [0, 0, 0, 0]}, "rotation_q", "non-zero"),
    ("log_obb", (), {"half_size": [1, 1, 1], "stroke_width": NAN}, "stroke_width", "finite"),
    ("log_obb", (), {"half_size": [1, 1, 1], "class_id": 70000}, "class_id", "0..65535"),
    ("log_line_strip", ([[1, 2, 3, 4]],), {}, "positions", "Mx2 or Mx3"),
    ("log_line_strip", ([[0, 0, 0], [1, 1, NAN]],), {}, "positions", "finite"),
    ("log_line_strip", ([[0, 0, 0], [1, 1, 1]],), {"draw_order": 1}, "draw_order", "3D"),
    ("log_line_strip", ([[0, 0], [1, 1]],), {"stroke_width": -1}, "stroke_width", ">= 0"),
    ("log_line_strip", ([[0, 0], [1, 1]],), {"color": "red"}, "color", "RGB"),
    ("log_line_segments", ([[0, 0], [1, 1], [2, 2]],), {}, "positions", "even number"),
    ("log_line_segments", ([[0, 0], [1, 1]],), {"color": [[1, 2, 3], [4, 5, 6]]}, "color", "one colour"),
    ("log_line_segments", ([[0, 0], [1, 1]],), {"stroke_width": [1, 2]}, "stroke_width", "one width"),
    ("log_line_strips_2d", ([[[0, 0], [1, 1]], [[0, 0, 0]]],), {}, "line_strips[1]", "Mx2"),
    ("log_line_strips_2d", (5,), {}, "line_strips", "Mx2 arrays"),
    ("log_line_strips_2d", (np.zeros((4, 2)),), {}, "line_strips", "wrap a single strip in a list"),
    ("log_line_strips_2d", ([[[0, 0]], [[1, 1]]],), {"colors": [[1, 2, 3]] * 3}, "colors", "2 colours"),
    ("log_line_strips_2d", ([[[0, NAN]]],), {}, "line_strips[0]", "finite"),
    ("log_line_strips_3d", ([[[0, 0], [1, 1]]],), {}, "line_strips[0]", "Mx3"),
    ("log_line_strips_3d", ([[[0, 0, 0]], [[1, 1, 1]]],), {"labels": ["a"]}, "labels", "2 strings"),
    ("log_line_strips_3d", ([[[0, 0, 0]]],), {"identifiers": [-5]}, "identifiers", "integers in 0.."),
    ("log_arrow", ([0, 0], [1, 0, 0]), {}, "origin", "3 numbers"),
    ("log_arrow", ([0, 0, 0], [NAN, 0, 0]), {}, "vector", "finite"),
    ("log_arrow", ([0, 0, 0], [1, 0, 0]), {"width_scale": -1}, "width_scale", ">= 0"),
    ("log_arrow", ([0, 0, 0], [1, 0, 0]), {"label": ["a", "b"]}, "label", "a string"),
    ("log_mesh", ([[0, 0], [1, 1]],), {}, "positions", "Nx3"),
    ("log_mesh", ([0, 0, 0, 1],), {}, "positions", "multiple"),
    ("log_mesh", ([[0, 0, NAN]],), {}, "positions", "finite"),
    ("log_mesh", (TRI,), {"indices": [[0, 1, 3]]}, "indices", "0..2"),
    ("log_mesh", (TRI,), {"indices": [-1, 0, 1]}, "indices", "0..2"),
    ("log_mesh", (TRI,), {"indices": [[0.0, 1.0, 2.0]]}, "indices", "integer"),
    ("log_mesh", (TRI,), {"indices": [0, 1]}, "indices", "Mx3"),
    ("log_mesh", (TRI,), {"normals": [[0, 0, 1]] * 2}, "normals", "3 rows"),
    ("log_mesh", (TRI,), {"albedo_factor": [2, 0, 0]}, "albedo_factor", "0-1"),
    ("log_mesh", (TRI,), {"albedo_factor": [1, 0]}, "albedo_factor", "RGB or RGBA"),
    ("log_mesh", (TRI,), {"vertex_colors": [[1, 2, 3]] * 2}, "vertex_colors", "3 colours"),
    ("log_mesh_file", ("fbx",), {"mesh_bytes": OBJ}, "mesh_format", "MeshFormat.GLB"),
    ("log_mesh_file", ("obj",), {}, "mesh_bytes", "exactly one"),
    ("log_mesh_file", ("obj",), {"mesh_bytes": OBJ, "mesh_path": "x.obj"}, "mesh_bytes", "exactly one"),
    ("log_mesh_file", ("glb",), {"mesh_bytes": OBJ}, "mesh_bytes", "glTF"),
    ("log_mesh_file", ("obj",), {"mesh_bytes": b""}, "mesh_bytes", "non-empty"),
    ("log_mesh_file", ("obj",), {"mesh_bytes": "v 0 0 0"}, "mesh_bytes", "bytes"),
    ("log_mesh_file", ("obj",), {"mesh_bytes": OBJ, "transform": np.eye(4) * 2}, "transform", "last row 0 0 0 1"),
    ("log_mesh_file", ("obj",), {"mesh_bytes": OBJ, "transform": np.eye(3)}, "transform", "3x4"),
    ("log_mesh_file", ("obj",), {"mesh_bytes": OBJ, "transform": np.full((3, 4), NAN)}, "transform", "finite"),
]


def _case_id(case: tuple[str, tuple[Any, ...], dict[str, Any], str, str]) -> str:
    return f"{case[0]}-{case[3]}-{case[4]}"


def _message_pattern(fname: str, arg: str) -> str:
    return "^" + re.escape(f"{fname}: argument {arg!r}: got ")


@pytest.mark.parametrize("case", BAD, ids=[_case_id(c) for c in BAD])
def test_bad_input_raises_when_strict(case: tuple[str, tuple[Any, ...], dict[str, Any], str, str],
                                      rec: RecordingStream, rec_path: Path) -> None:
    fname, args, kwargs, arg, expected = case
    fn = GOOD[fname][0]
    with pytest.raises(RecordingError, match=_message_pattern(fname, arg)) as info:
        fn("e", *args, **kwargs, recording=rec)
    message = str(info.value)
    assert expected in message.split("; expected ", 1)[1], message
    assert message.endswith("The call was dropped.")
    # The strict stream is still usable, and nothing of the bad call reached the file.
    good_fn, good_args, good_kwargs = GOOD[fname]
    good_fn("e", *good_args, **good_kwargs, recording=rec)
    assert len(close_and_read(rec, rec_path)["e"].rows) == 1


@pytest.mark.parametrize("case", BAD, ids=[_case_id(c) for c in BAD])
def test_bad_input_warns_and_is_dropped(case: tuple[str, tuple[Any, ...], dict[str, Any], str, str],
                                        tmp_path: Path) -> None:
    fname, args, kwargs, arg, _ = case
    good_fn, good_args, good_kwargs = GOOD[fname]
    path = tmp_path / "lenient.rrd"
    rec = RecordingStream("shapes", save=path)
    set_time_sequence("frame", 1, recording=rec)
    good_fn("e", *good_args, **good_kwargs, recording=rec)
    set_time_sequence("frame", 2, recording=rec)
    with pytest.warns(RecordingWarning, match=_message_pattern(fname, arg)):
        good_fn("e", *args, **kwargs, recording=rec)
    set_time_sequence("frame", 3, recording=rec)
    good_fn("e", *good_args, **good_kwargs, recording=rec)
    logged = close_and_read(rec, path)
    assert list(logged) == ["e"]
    assert [r["frame"] for r in logged["e"].rows] == [1, 3]


def test_missing_mesh_file_names_the_path(rec: RecordingStream, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "robot.glb"
    with pytest.raises(RecordingError, match=_message_pattern("log_mesh_file", "mesh_path")) as info:
        log_mesh_file("world/robot", "glb", mesh_path=missing, recording=rec)
    assert str(missing) in str(info.value)
    lenient = RecordingStream("lenient", save=tmp_path / "lenient.rrd")
    with pytest.warns(RecordingWarning, match=re.escape(str(missing))):
        log_mesh_file("world/robot", "glb", mesh_path=missing, recording=lenient)
    lenient.disconnect()


def test_glb_file_without_magic_is_refused(rec: RecordingStream, tmp_path: Path) -> None:
    fake = tmp_path / "fake.glb"
    fake.write_bytes(OBJ)
    with pytest.raises(RecordingError, match=_message_pattern("log_mesh_file", "mesh_path")) as info:
        log_mesh_file("world/robot", MeshFormat.GLB, mesh_path=fake, recording=rec)
    assert "glTF" in str(info.value)


def test_a_failed_call_does_not_claim_the_path_for_its_kind(rec: RecordingStream, rec_path: Path) -> None:
    with pytest.raises(RecordingError):
        log_obb("shared", half_size=[1, -1, 1], recording=rec)
    log_rect("shared", [0, 0, 1, 1], recording=rec)  # the path is still free for rectangles
    with pytest.raises(RecordingError, match=_message_pattern("log_obb", "entity_path")):
        log_obb("shared", half_size=[1, 1, 1], recording=rec)
    assert close_and_read(rec, rec_path)["shared"].kind == "rects2d"
