"""The 3D scene: what is drawn for each entity kind, at a time, with transforms composed.

Recordings are written with the SDK, opened with the viewer model, and drawn on a small
off-screen canvas (vispy's EGL backend, no display needed). Assertions read the scene's
visuals (``Scene3D.visuals_for``): positions, colours and transforms, not only pixels.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rrformat as rr
from rrview.model import ViewerModel
from rrview.spaces import SpaceView, default_layout

vispy = pytest.importorskip("vispy")

from rrview.render import gl_unavailable_reason, offscreen_canvas  # noqa: E402
from rrview.scene3d import (  # noqa: E402
    FRUSTUM_FRACTION,
    Scene3D,
    box_corners,
    parse_obj,
    quats_to_matrices,
    up_axis,
)

Log = Callable[[rr.RecordingStream], None]
LATEST = ("log_time", 2**62)
"""Rows logged with no time set still have a log_time: the end of that timeline shows them."""


@pytest.fixture(scope="module")
def gl() -> None:
    reason = gl_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture
def make_scene(tmp_path: Path, gl: None) -> Iterator[Callable[..., tuple[Scene3D, ViewerModel]]]:
    """Write a recording with ``log(rec)``, open it, and build the 3D scene of its first 3D view."""
    scenes: list[Scene3D] = []

    def make(log: Log, *, name: str = "x.rrd", view: SpaceView | None = None) -> tuple[Scene3D, ViewerModel]:
        path = tmp_path / name
        rec = rr.RecordingStream("scene3d-test", save=path, strict=True)
        log(rec)
        rec.disconnect()
        model = ViewerModel(path)
        if view is None:
            view = next(v for v in default_layout(model) if v.kind == "3d")
        scene = Scene3D(model, view, canvas=offscreen_canvas((160, 120)))
        scenes.append(scene)
        return scene, model

    yield make
    for s in scenes:
        s.close()


def role(scene: Scene3D, entity: str, name: str) -> Any:
    found = [v for v in scene.visuals_for(entity) if v.name == f"{entity}#{name}"]
    assert len(found) == 1, [v.name for v in scene.visuals_for(entity)]
    return found[0]


def world(visual: Any, pts: Any) -> np.ndarray:
    """Entity-space points of a visual mapped through its transform into the view's space."""
    return np.asarray(visual.transform.map(np.asarray(pts, dtype=np.float64)))[:, :3]


def marker_positions(markers: Any) -> np.ndarray:
    return np.asarray(markers._data["a_position"], dtype=np.float64)


def rows_as_set(a: np.ndarray, decimals: int = 5) -> set[tuple[float, ...]]:
    return {tuple(r) for r in np.round(np.asarray(a, dtype=np.float64), decimals).tolist()}


# --- points ----------------------------------------------------------------------------------
def test_points_follow_the_time(make_scene: Callable[..., tuple[Scene3D, ViewerModel]]) -> None:
    def log(rec: rr.RecordingStream) -> None:
        for frame in range(3):
            rr.set_time_sequence("frame", frame, recording=rec)
            pts = np.array([[0, 0, 0], [1, 0, 0], [0, 1, float(frame)]], np.float32)
            rr.log_points("world/points", pts, colors=[[255, 0, 0], [0, 255, 0], [0, 0, 255]], radii=0.25,
                          recording=rec)  # fmt: skip

    scene, _ = make_scene(log)
    scene.update("frame", 0)
    markers = role(scene, "world/points", "points")
    assert marker_positions(markers).tolist() == [[0, 0, 0], [1, 0, 0], [0, 1, 0]]
    np.testing.assert_allclose(markers._data["a_bg_color"][:, :3], np.eye(3))
    # Radii are in scene units: marker size is the diameter, scaled with the visual.
    np.testing.assert_allclose(markers._data["a_size"], [0.5, 0.5, 0.5])
    assert markers.scaling == "visual"

    scene.update("frame", 2)
    again = role(scene, "world/points", "points")
    assert again is markers  # data is set on the same visual, not a new one
    assert marker_positions(markers)[2].tolist() == [0, 1, 2]

    # Before the first frame there is nothing to draw.
    scene.update("frame", -1)
    assert scene.visuals_for("world/points") == []


def test_history_draws_every_row_of_the_window(make_scene: Callable[..., tuple[Scene3D, ViewerModel]]) -> None:
    def log(rec: rr.RecordingStream) -> None:
        for frame in range(5):
            rr.set_time_sequence("frame", frame, recording=rec)
            rr.log_point("world/p", [float(frame), 0, 0], recording=rec)

    scene, _ = make_scene(log)
    scene.update("frame", 4, history=2)
    xs = sorted(marker_positions(role(scene, "world/p", "points"))[:, 0].tolist())
    assert xs == [2.0, 3.0, 4.0]
    scene.update("frame", 4)
    assert marker_positions(role(scene, "world/p", "points"))[:, 0].tolist() == [4.0]


def test_points_without_colors_use_class_colors_then_entity_color(
    make_scene: Callable[..., tuple[Scene3D, ViewerModel]],
) -> None:
    def log(rec: rr.RecordingStream) -> None:
        rr.log_annotation_context("world", [(7, "cup", (10, 20, 30))], timeless=True, recording=rec)
        rr.log_points("world/classed", [[0, 0, 0], [1, 1, 1]], class_ids=[7, 7], recording=rec)
        rr.log_points("world/plain", [[0, 0, 0]], recording=rec)

    scene, _ = make_scene(log)
    scene.update(*LATEST)
    classed = role(scene, "world/classed", "points")
    np.testing.assert_allclose(classed._data["a_bg_color"][0], np.array([10, 20, 30, 255]) / 255.0, atol=1e-6)
    labels = role(scene, "world/classed", "labels")
    assert list(labels.text) == ["cup", "cup"]
    plain = role(scene, "world/plain", "points")
    assert plain.scaling == "fixed"  # no radii: a fixed size on screen
    from rrview.colormaps import entity_color

    np.testing.assert_allclose(plain._data["a_bg_color"][0], np.array(entity_color("world/plain")) / 255.0, atol=1e-6)


def test_labels_only_for_few_instances(make_scene: Callable[..., tuple[Scene3D, ViewerModel]]) -> None:
    def log(rec: rr.RecordingStream) -> None:
        rr.log_points("world/few", [[0, 0, 0], [1, 0, 0]], labels=["a", "b"], recording=rec)
        many = np.zeros((60, 3))
        rr.log_points("world/many", many, labels=[f"p{i}" for i in range(60)], recording=rec)

    scene, _ = make_scene(log)
    scene.update(*LATEST)
    text = role(scene, "world/few", "labels")
    assert list(text.text) == ["a", "b"]
    np.testing.assert_allclose(np.asarray(text.pos)[:, :3], [[0, 0, 0], [1, 0, 0]])
    assert [v.name for v in scene.visuals_for("world/many")] == ["world/many#points"]


# --- boxes, lines, arrows --------------------------------------------------------------------
def test_boxes_are_rotated_by_their_quaternion(make_scene: Callable[..., tuple[Scene3D, ViewerModel]]) -> None:
    s = np.sqrt(0.5)

    def log(rec: rr.RecordingStream) -> None:
        rr.log_obbs(
            "world/boxes",
            half_sizes=[[1.0, 0.5, 0.25], [0.1, 0.1, 0.1]],
            positions=[[2.0, 0.0, 0.0], [0.0, 0.0, 5.0]],
            rotations_q=[[0, 0, s, s], [0, 0, 0, 1]],  # 90 degrees about z, then none
            labels=["big", "small"],
            recording=rec,
        )

    scene, _ = make_scene(log)
    scene.update(*LATEST)
    line = role(scene, "world/boxes", "boxes")
    assert line._connect == "segments"
    pos = np.asarray(line.pos, dtype=np.float64)
    assert pos.shape == (48, 3)  # 12 edges x 2 end points x 2 boxes
    # Rotating (x, y) by 90 degrees about z gives (-y, x): the long side now runs along y.
    expected = {(2 + sx * 0.5, sy * 1.0, sz * 0.25) for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)}
    assert rows_as_set(pos[:24]) == rows_as_set(np.array(sorted(expected)))
    lengths = sorted(np.round(np.linalg.norm(pos[1:24:2] - pos[0:24:2], axis=1), 5).tolist())
    assert lengths == [0.5] * 4 + [1.0] * 4 + [2.0] * 4
    assert rows_as_set(pos[24:]) == {(x, y, 5 + z) for x in (-0.1, 0.1) for y in (-0.1, 0.1) for z in (-0.1, 0.1)}
    assert list(role(scene, "world/boxes", "labels").text) == ["big", "small"]


def test_box_corners_match_the_rotation_matrix() -> None:
    rng = np.random.default_rng(3)
    q = rng.normal(size=(5, 4))
    hs = rng.random((5, 3)) + 0.1
    c = rng.normal(size=(5, 3))
    corners = box_corners(hs, c, q)
    from rrview.spaces import quat_to_matrix

    for i in range(5):
        r = quat_to_matrix(q[i])
        np.testing.assert_allclose(quats_to_matrices(q[i])[0], r, atol=1e-12)
        np.testing.assert_allclose(corners[i, 6], c[i] + r @ hs[i], atol=1e-12)  # the (+, +, +) corner
        np.testing.assert_allclose(corners[i, 0], c[i] - r @ hs[i], atol=1e-12)


def test_line_strips_segments_and_arrows(make_scene: Callable[..., tuple[Scene3D, ViewerModel]]) -> None:
    def log(rec: rr.RecordingStream) -> None:
        rr.log_line_strip("world/strip", [[0, 0, 0], [1, 0, 0], [1, 1, 0]], color=(255, 0, 0), recording=rec)
        rr.log_line_segments("world/segs", [[0, 0, 0], [0, 0, 1], [5, 5, 5], [6, 6, 6]], recording=rec)
        rr.log_arrow("world/arrow", [1, 2, 3], [0, 0, 2], color=(0, 0, 255), label="up", recording=rec)

    scene, _ = make_scene(log)
    scene.update(*LATEST)
    strip = np.asarray(role(scene, "world/strip", "lines").pos)
    assert strip.tolist() == [[0, 0, 0], [1, 0, 0], [1, 0, 0], [1, 1, 0]]
    segs = np.asarray(role(scene, "world/segs", "lines").pos)
    assert segs.tolist() == [[0, 0, 0], [0, 0, 1], [5, 5, 5], [6, 6, 6]]
    arrow = role(scene, "world/arrow", "arrows")
    pos = np.asarray(arrow.pos, dtype=np.float64)
    assert pos.shape == (10, 3)  # the shaft and 4 head lines
    assert pos[:2].tolist() == [[1, 2, 3], [1, 2, 5]]
    assert all(p.tolist() == [1, 2, 5] for p in pos[2::2])  # head lines start at the tip
    np.testing.assert_allclose(pos[3::2, 2], 5 - 0.2 * 2)  # and end 20% of the length back
    np.testing.assert_allclose(np.asarray(arrow.color)[0], [0, 0, 1, 1])
    assert list(role(scene, "world/arrow", "labels").text) == ["up"]


# --- transforms --------------------------------------------------------------------------------
def test_transforms_compose_down_the_tree(make_scene: Callable[..., tuple[Scene3D, ViewerModel]]) -> None:
    s = np.sqrt(0.5)

    def log(rec: rr.RecordingStream) -> None:
        rr.set_time_sequence("frame", 0, recording=rec)
        rr.log_rigid3("world/robot", parent_from_child=([1, 2, 3], [0, 0, s, s]), recording=rec)
        rr.log_rigid3("world/robot/arm", parent_from_child=([1, 0, 0], [0, 0, 0, 1]), recording=rec)
        rr.log_point("world/robot/arm/tip", [0, 0, 0], recording=rec)
        rr.log_point("world/robot/base", [1, 0, 0], recording=rec)
        rr.set_time_sequence("frame", 1, recording=rec)
        rr.log_rigid3("world/robot", parent_from_child=([10, 0, 0], [0, 0, 0, 1]), recording=rec)

    scene, _ = make_scene(log)
    scene.update("frame", 0)
    tip = role(scene, "world/robot/arm/tip", "points")
    base = role(scene, "world/robot/base", "points")
    # world = T_robot (R_z90 (T_arm p)): the arm's x offset turns into +y.
    np.testing.assert_allclose(world(tip, marker_positions(tip)), [[1, 3, 3]], atol=1e-6)
    np.testing.assert_allclose(world(base, marker_positions(base)), [[1, 3, 3]], atol=1e-6)
    # The robot moves: only the transform changes, the uploaded points stay the same.
    scene.update("frame", 1)
    assert marker_positions(tip).tolist() == [[0, 0, 0]]
    np.testing.assert_allclose(world(tip, marker_positions(tip)), [[11, 0, 0]], atol=1e-6)
    np.testing.assert_allclose(world(base, marker_positions(base)), [[11, 0, 0]], atol=1e-6)


def test_history_rows_are_placed_where_the_entity_was(
    make_scene: Callable[..., tuple[Scene3D, ViewerModel]],
) -> None:
    def log(rec: rr.RecordingStream) -> None:
        for frame in range(3):
            rr.set_time_sequence("frame", frame, recording=rec)
            rr.log_rigid3("world/car", parent_from_child=([float(frame), 0, 0], [0, 0, 0, 1]), recording=rec)
            rr.log_point("world/car/gps", [0, 0, 0], recording=rec)

    scene, _ = make_scene(log)
    scene.update("frame", 2, history=2)
    gps = role(scene, "world/car/gps", "points")
    assert sorted(world(gps, marker_positions(gps))[:, 0].round(6).tolist()) == [0.0, 1.0, 2.0]


# --- cameras ---------------------------------------------------------------------------------------
def test_frustum_corners_and_camera_image(make_scene: Callable[..., tuple[Scene3D, ViewerModel]]) -> None:
    def log(rec: rr.RecordingStream) -> None:
        rr.log_points("world/points", [[-2, -2, 0], [2, 2, 10]], recording=rec)
        rr.log_rigid3("world/cam", parent_from_child=([0, 0, 5], [0, 0, 0, 1]), recording=rec)
        rr.log_pinhole("world/cam/image", focal_length_px=100, width=200, height=100, camera_xyz="RDF",
                       recording=rec)  # fmt: skip
        img = np.zeros((100, 200, 3), np.uint8)
        img[:, :100] = (255, 0, 0)
        rr.log_image("world/cam/image", img, recording=rec)

    scene, _ = make_scene(log)
    scene.update(*LATEST)
    assert scene.view.cameras == ["world/cam/image"]
    b = scene.data_bounds()
    assert b is not None
    depth = FRUSTUM_FRACTION * float(np.linalg.norm(b[1] - b[0]))
    assert scene.frustum_depth == pytest.approx(depth)
    frustum = role(scene, "world/cam/image", "frustum")
    pos = np.asarray(frustum.pos, dtype=np.float64)
    # RDF camera at z=5 looking along +z: corners at (+-w/2, +-h/2) / f * depth.
    corners = np.array([[-1, -0.5, 1], [1, -0.5, 1], [1, 0.5, 1], [-1, 0.5, 1]]) * depth + [0, 0, 5]
    np.testing.assert_allclose(pos[0:8:2], [[0, 0, 5]] * 4, atol=1e-6)  # rays from the centre
    np.testing.assert_allclose(pos[1:8:2], corners, atol=1e-5)  # to the 4 corners
    assert rows_as_set(pos[8:]) == rows_as_set(corners)  # and the far rectangle
    # The image lies in the far plane: its pixel corners map onto the frustum corners.
    image = role(scene, "world/cam/image", "image")
    np.testing.assert_allclose(world(image, [[0, 0, 0], [200, 0, 0], [200, 100, 0], [0, 100, 0]]), corners, atol=1e-5)
    np.testing.assert_array_equal(np.asarray(image._data)[0, 0], [255, 0, 0, 255])


def test_camera_image_from_an_encoded_png(
    make_scene: Callable[..., tuple[Scene3D, ViewerModel]], tmp_path: Path
) -> None:
    pil = pytest.importorskip("PIL.Image")
    png = tmp_path / "img.png"
    pil.fromarray(np.full((20, 40, 3), (0, 200, 0), np.uint8)).save(png)

    def log(rec: rr.RecordingStream) -> None:
        rr.log_pinhole("world/cam/image", focal_length_px=20, width=40, height=20, recording=rec)
        rr.log_image_file("world/cam/image", img_path=png, recording=rec)

    scene, _ = make_scene(log)
    scene.update(*LATEST)
    image = role(scene, "world/cam/image", "image")
    np.testing.assert_array_equal(np.asarray(image._data)[5, 5], [0, 200, 0, 255])


# --- meshes ------------------------------------------------------------------------------------
def test_mesh_with_vertex_colors_and_albedo(make_scene: Callable[..., tuple[Scene3D, ViewerModel]]) -> None:
    square = [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]]

    def log(rec: rr.RecordingStream) -> None:
        rr.log_mesh("world/colored", square, indices=[[0, 1, 2], [0, 2, 3]],
                    vertex_colors=[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]], recording=rec)  # fmt: skip
        rr.log_mesh("world/flat", square[:3], albedo_factor=[1.0, 0.0, 0.0], recording=rec)

    scene, _ = make_scene(log)
    scene.update(*LATEST)
    mesh = role(scene, "world/colored", "mesh")
    md = mesh.mesh_data
    np.testing.assert_allclose(md.get_vertices(), square)
    assert md.get_faces().tolist() == [[0, 1, 2], [0, 2, 3]]
    np.testing.assert_allclose(md.get_vertex_colors()[1], [0, 1, 0, 1])
    flat = role(scene, "world/flat", "mesh")
    assert flat.mesh_data.get_faces().tolist() == [[0, 1, 2]]  # no indices: consecutive triples
    np.testing.assert_allclose(flat.color.rgba, [1, 0, 0, 1])


def _glb_triangle(offset: tuple[float, float, float]) -> bytes:
    """A minimal GLB: one node translated by ``offset`` holding one indexed triangle."""
    positions = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], dtype="<f4").tobytes()
    indices = np.array([0, 1, 2, 0], dtype="<u2").tobytes()  # padded to 4 bytes
    doc = {
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "translation": list(offset)}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
        "buffers": [{"byteLength": len(positions) + len(indices)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": len(positions)},
            {"buffer": 0, "byteOffset": len(positions), "byteLength": 6},
        ],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3"},
            {"bufferView": 1, "componentType": 5123, "count": 3, "type": "SCALAR"},
        ],
    }
    text = json.dumps(doc).encode()
    text += b" " * (-len(text) % 4)
    binary = positions + indices
    body = struct.pack("<II", len(text), 0x4E4F534A) + text + struct.pack("<II", len(binary), 0x004E4942) + binary
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body


def test_obj_and_glb_mesh_files(make_scene: Callable[..., tuple[Scene3D, ViewerModel]]) -> None:
    obj = b"# a quad\nv 0 0 0\nv 2 0 0\nv 2 2 0\nv 0 2 0\nvn 0 0 1\nf 1//1 2//1 3//1 4//1\n"

    def log(rec: rr.RecordingStream) -> None:
        rr.log_mesh_file("world/obj", "obj", mesh_bytes=obj,
                         transform=[[1, 0, 0, 10], [0, 1, 0, 0], [0, 0, 1, 0]], recording=rec)  # fmt: skip
        rr.log_mesh_file("world/glb", "glb", mesh_bytes=_glb_triangle((0.0, 0.0, 5.0)), recording=rec)
        rr.log_mesh_file("world/broken", "glb", mesh_bytes=b"glTF" + bytes(16), recording=rec)

    scene, _ = make_scene(log)
    scene.update(*LATEST)
    mesh = role(scene, "world/obj", "mesh")
    np.testing.assert_allclose(mesh.mesh_data.get_vertices()[:, 0], [10, 12, 12, 10])
    assert mesh.mesh_data.get_faces().tolist() == [[0, 1, 2], [0, 2, 3]]
    glb = role(scene, "world/glb", "mesh")
    np.testing.assert_allclose(glb.mesh_data.get_vertices(), [[0, 0, 5], [1, 0, 5], [0, 1, 5]])
    assert glb.mesh_data.get_faces().tolist() == [[0, 1, 2]]
    assert scene.visuals_for("world/broken") == []
    assert any("world/broken" in n and "GLB" in n for n in scene.notes)


def test_parse_obj_forms() -> None:
    v, f, c = parse_obj(
        b"v 0 0 0 1 0 0\nv 1 0 0 0 1 0\nv 1 1 0 0 0 1\nv 0 1 0 1 1 1\nf 1/1/1 2/2/2 3/3/3\nf -4 -2 -1\n"
    )
    assert v.shape == (4, 3)
    assert f.tolist() == [[0, 1, 2], [0, 2, 3]]
    assert c is not None and c[1].tolist() == [0, 1, 0, 1]
    with pytest.raises(ValueError, match="out of range"):
        parse_obj(b"v 0 0 0\nf 1 2 3\n")


# --- scene behaviour -----------------------------------------------------------------------------
def test_hidden_entities_and_unknown_kinds(make_scene: Callable[..., tuple[Scene3D, ViewerModel]]) -> None:
    def log(rec: rr.RecordingStream) -> None:
        rr.log_points("world/a/points", [[0, 0, 0]], recording=rec)
        rr.log_scalar("world/value", 1.0, recording=rec)

    scene, model = make_scene(log)
    scene.view.entities.append("world/value")  # not a 3D kind: skipped, not an error
    scene.update(*LATEST)
    assert scene.visuals_for("world/value") == []
    assert len(scene.visuals_for("world/a/points")) == 1
    model.nodes["world/a"].visible = False  # hiding a parent hides the subtree
    scene.update(*LATEST)
    assert scene.visuals_for("world/a/points") == []
    model.nodes["world/a"].visible = True
    scene.update(*LATEST)
    assert len(scene.visuals_for("world/a/points")) == 1


def test_up_axis_from_view_coordinates(make_scene: Callable[..., tuple[Scene3D, ViewerModel]]) -> None:
    assert up_axis("RFU") == "+z" and up_axis("RDF") == "-y" and up_axis("URF") == "+x" and up_axis(None) == "+z"

    def log_y(rec: rr.RecordingStream) -> None:
        rr.log_view_coordinates("world", up="+Y", timeless=True, recording=rec)
        rr.log_point("world/p", [0, 0, 0], recording=rec)

    scene, _ = make_scene(log_y, name="y.rrd")
    scene.update(*LATEST)
    assert scene.viewbox.camera.up == "+y"
    scene_z, _ = make_scene(lambda rec: rr.log_point("world/p", [0, 0, 0], recording=rec), name="z.rrd")
    assert scene_z.viewbox.camera.up == "+z"


def test_ray_camera_modes_and_render(make_scene: Callable[..., tuple[Scene3D, ViewerModel]]) -> None:
    def log(rec: rr.RecordingStream) -> None:
        rr.log_points("world/p", [[0, 0, 0], [1, 1, 1]], colors=[255, 255, 255], radii=0.2, recording=rec)

    scene, _ = make_scene(log)
    scene.update(*LATEST)
    scene.show_ray([0, 0, 0], [0, 0, 2])
    assert scene.ray.visible
    pos = np.asarray(scene.ray.pos)
    assert pos[0].tolist() == [0, 0, 0] and pos[1][2] > 1 and pos[1][:2].tolist() == [0, 0]
    scene.clear_ray()
    assert not scene.ray.visible
    scene.set_camera_mode("fly")
    assert type(scene.viewbox.camera).__name__ == "FlyCamera"
    scene.set_camera_mode("turntable")
    assert type(scene.viewbox.camera).__name__ == "TurntableCamera"
    with pytest.raises(ValueError, match="camera mode"):
        scene.set_camera_mode("orbit")  # type: ignore[arg-type]
    scene.reset_camera()
    img = scene.canvas.render()
    assert img.shape == (120, 160, 4)
    # The white points are on screen after fitting the camera.
    assert (img[..., :3].min(axis=2) > 200).sum() > 10
