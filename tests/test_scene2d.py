"""The 2D scene: images (RGB, gray, depth, segmentation, encoded), overlays, probing and pixel mapping.

Recordings are written with the SDK and drawn on a small off-screen canvas (vispy's EGL
backend). Assertions read the visuals of ``Scene2D.visuals_for`` and, for overlays, the
rendered pixels.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rrformat as rr
from rrview.colormaps import depth_to_rgba, palette_color
from rrview.model import ViewerModel
from rrview.spaces import default_layout

vispy = pytest.importorskip("vispy")

from rrview.render import gl_unavailable_reason, offscreen_canvas  # noqa: E402
from rrview.scene2d import Scene2D  # noqa: E402

Log = Callable[[rr.RecordingStream], None]
LATEST = ("log_time", 2**62)
"""Rows logged with no time set still have a log_time: the end of that timeline shows them."""


@pytest.fixture(scope="module")
def gl() -> None:
    reason = gl_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture
def make_scene(tmp_path: Path, gl: None) -> Iterator[Callable[..., Scene2D]]:
    """Write a recording with ``log(rec)``, open it, and build the 2D scene of the view rooted at ``root``."""
    scenes: list[Scene2D] = []

    def make(log: Log, *, root: str | None = None, size: tuple[int, int] = (160, 120)) -> Scene2D:
        path = tmp_path / f"r{len(scenes)}.rrd"
        rec = rr.RecordingStream("scene2d-test", save=path, strict=True)
        log(rec)
        rec.disconnect()
        model = ViewerModel(path)
        view = next(v for v in default_layout(model) if v.kind == "2d" and (root is None or v.root == root))
        scene = Scene2D(model, view, canvas=offscreen_canvas(size))
        scenes.append(scene)
        return scene

    yield make
    for s in scenes:
        s.close()


def role(scene: Scene2D, entity: str, name: str) -> Any:
    found = [v for v in scene.visuals_for(entity) if v.name == f"{entity}#{name}"]
    assert len(found) == 1, [v.name for v in scene.visuals_for(entity)]
    return found[0]


def image_of(scene: Scene2D, entity: str) -> np.ndarray:
    return np.asarray(role(scene, entity, "image")._data)


def pixel(img: np.ndarray, scene: Scene2D, u: float, v: float) -> np.ndarray:
    """The rendered colour at image coordinates (u, v)."""
    tr = scene.viewbox.scene.node_transform(scene.canvas.scene)
    x, y = tr.map([u, v])[:2]
    return img[int(y), int(x), :3]


# --- images ------------------------------------------------------------------------------------
def test_rgb_image_changes_with_time(make_scene: Callable[..., Scene2D]) -> None:
    def log(rec: rr.RecordingStream) -> None:
        for frame, color in enumerate([(255, 0, 0), (0, 0, 255)]):
            rr.set_time_sequence("frame", frame, recording=rec)
            rr.log_image("cam", np.full((30, 40, 3), color, np.uint8), recording=rec)

    scene = make_scene(log)
    scene.update("frame", 0)
    visual = role(scene, "cam", "image")
    assert image_of(scene, "cam").shape == (30, 40, 4)
    assert image_of(scene, "cam")[0, 0].tolist() == [255, 0, 0, 255]
    img = scene.canvas.render()
    assert pixel(img, scene, 20, 15).tolist() == [255, 0, 0]
    scene.update("frame", 1)
    assert role(scene, "cam", "image") is visual  # same visual, new data
    assert image_of(scene, "cam")[0, 0].tolist() == [0, 0, 255, 255]
    assert scene.probe(3.5, 4.2) == {
        "entity": "cam",
        "kind": "image",
        "u": 3,
        "v": 4,
        "value": [0, 0, 255],
        "layers": [{"entity": "cam", "kind": "image", "u": 3, "v": 4, "value": [0, 0, 255]}],
    }
    assert scene.probe(40, 0) == {}  # just outside the image


def test_gray_uint16_and_float_images_get_a_sensible_range(make_scene: Callable[..., Scene2D]) -> None:
    ramp16 = np.tile(np.array([0, 1000, 2000, 4000], np.uint16), (2, 1))
    ramp_f = np.tile(np.array([0.0, 0.25, 0.5, 1.0], np.float32), (2, 1))

    def log(rec: rr.RecordingStream) -> None:
        rr.log_image("a/gray16", ramp16, recording=rec)
        rr.log_image("b/grayf", ramp_f, recording=rec)

    s16 = make_scene(log, root="a")
    s16.update(*LATEST)
    # uint16 data of 12 bits is stretched to its range (not divided by 65535).
    assert image_of(s16, "a/gray16")[0, :, 0].tolist() == [0, 63, 127, 255]
    sf = make_scene(log, root="b")
    sf.update(*LATEST)
    assert image_of(sf, "b/grayf")[0, :, 0].tolist() == [0, 63, 127, 255]


def test_depth_probe_gives_metres(make_scene: Callable[..., Scene2D]) -> None:
    depth = np.zeros((20, 30), np.uint16)
    depth[5, 7] = 1500
    depth[10:, :] = 4000

    def log(rec: rr.RecordingStream) -> None:
        rr.log_depth_image("mm/depth", depth, meter=1000, recording=rec)
        rr.log_depth_image("m/depth", depth.astype(np.float32) / 1000, recording=rec)

    scene = make_scene(log, root="mm")
    scene.update(*LATEST)
    hit = scene.probe(7.5, 5.5)
    assert hit["entity"] == "mm/depth" and hit["value"] == 1500
    assert hit["depth_m"] == pytest.approx(1.5)
    assert scene.probe(0, 15)["depth_m"] == pytest.approx(4.0)
    # Colours: the depth colour map over the valid range; zero depth (no data) is transparent.
    rgba = image_of(scene, "mm/depth")
    expected = depth_to_rgba(depth / 1000.0)
    np.testing.assert_array_equal(rgba, expected)
    assert rgba[0, 0, 3] == 0 and rgba[5, 7, 3] == 255 and not np.array_equal(rgba[5, 7], rgba[15, 0])
    metres = make_scene(log, root="m")  # float depth without meter: already metres
    metres.update(*LATEST)
    assert metres.probe(7, 5)["depth_m"] == pytest.approx(1.5)


def test_segmentation_colors_come_from_the_annotation_context(make_scene: Callable[..., Scene2D]) -> None:
    seg = np.zeros((10, 12), np.uint8)
    seg[:, 4:8] = 1
    seg[:, 8:] = 9

    def log(rec: rr.RecordingStream) -> None:
        # The context sits on an ancestor of the image: the closest one up the tree applies.
        rr.log_annotation_context("cam", [(1, "wall", (200, 100, 50)), (9, "unlabelled")], timeless=True,
                                  recording=rec)  # fmt: skip
        rr.log_pinhole("cam/image", focal_length_px=10, width=12, height=10, recording=rec)
        rr.log_segmentation_image("cam/image/seg", seg, recording=rec)

    scene = make_scene(log)
    scene.update(*LATEST)
    rgba = image_of(scene, "cam/image/seg")
    assert rgba[0, 0].tolist() == [0, 0, 0, 0]  # class 0 without a colour: transparent
    assert rgba[0, 5].tolist() == [200, 100, 50, 255]
    assert rgba[0, 10].tolist() == list(palette_color(9))  # described without a colour: the palette
    hit = scene.probe(5, 3)
    assert (hit["class_id"], hit["label"], hit["color"]) == (1, "wall", [200, 100, 50, 255])
    assert scene.probe(10, 3)["label"] == "unlabelled"
    img = scene.canvas.render()
    assert pixel(img, scene, 5.5, 5).tolist() == [200, 100, 50]


def test_segmentation_over_an_image_is_translucent(make_scene: Callable[..., Scene2D]) -> None:
    seg = np.ones((10, 10), np.uint8)

    def log(rec: rr.RecordingStream) -> None:
        rr.log_annotation_context("cam", [(1, "thing", (255, 0, 0))], timeless=True, recording=rec)
        rr.log_image("cam/rgb", np.full((10, 10, 3), (0, 0, 255), np.uint8), recording=rec)
        rr.log_segmentation_image("cam/seg", seg, recording=rec)

    scene = make_scene(log)
    scene.update(*LATEST)
    r, g, b = pixel(scene.canvas.render(), scene, 5, 5).tolist()
    assert 100 < r < 160 and g == 0 and 100 < b < 160  # half red over blue


def test_encoded_png_is_decoded(make_scene: Callable[..., Scene2D]) -> None:
    pil = pytest.importorskip("PIL.Image")
    buf = io.BytesIO()
    arr = np.zeros((8, 16, 3), np.uint8)
    arr[:, 8:] = (0, 255, 0)
    pil.fromarray(arr).save(buf, format="PNG")

    def log(rec: rr.RecordingStream) -> None:
        rr.log_image_file("photo", img_bytes=buf.getvalue(), recording=rec)

    scene = make_scene(log)
    scene.update(*LATEST)
    rgba = image_of(scene, "photo")
    assert rgba.shape == (8, 16, 4) and rgba[0, 12].tolist() == [0, 255, 0, 255]
    assert scene.probe(12, 1)["value"] == [0, 255, 0]


# --- shapes ------------------------------------------------------------------------------------
def test_rects_over_an_image_are_drawn_on_top(make_scene: Callable[..., Scene2D]) -> None:
    def log(rec: rr.RecordingStream) -> None:
        rr.log_image("cam", np.full((60, 80, 3), 40, np.uint8), recording=rec)
        rr.log_rects("cam/det", [[10, 10, 30, 20], [50, 30, 20, 20]], colors=[[0, 255, 0], [255, 0, 255]],
                     labels=["car", "bike"], recording=rec)  # fmt: skip

    scene = make_scene(log, size=(320, 240))
    scene.update(*LATEST)
    line = role(scene, "cam/det", "rects")
    pos = np.asarray(line.pos)
    assert line._connect == "segments" and pos.shape == (16, 2)
    assert {tuple(p) for p in pos[:8].tolist()} == {(10, 10), (40, 10), (40, 30), (10, 30)}
    assert list(role(scene, "cam/det", "labels").text) == ["car", "bike"]
    assert line.order > role(scene, "cam", "image").order
    img = scene.canvas.render()
    # The left edge of the first rectangle is green on screen (within a pixel), over the gray image.
    tr = scene.viewbox.scene.node_transform(scene.canvas.scene)
    x, y = (int(c) for c in tr.map([10, 20])[:2])
    patch = img[y - 1 : y + 2, x - 2 : x + 3, :3].reshape(-1, 3).tolist()
    assert [0, 255, 0] in patch
    assert pixel(img, scene, 25, 20).tolist() == [40, 40, 40]


def test_points_and_strips_with_class_colors(make_scene: Callable[..., Scene2D]) -> None:
    def log(rec: rr.RecordingStream) -> None:
        rr.log_annotation_context("view", [(3, "joint", (0, 0, 255))], timeless=True, recording=rec)
        rr.log_points("view/kp", [[1, 2], [3, 4]], class_ids=[3, 3], radii=[1.0, 2.0], recording=rec)
        rr.log_line_strip("view/path", [[0, 0], [10, 0], [10, 10]], color=(255, 255, 0), recording=rec)

    scene = make_scene(log)
    scene.update(*LATEST)
    markers = role(scene, "view/kp", "points")
    assert markers._data["a_position"][:, :2].tolist() == [[1, 2], [3, 4]]
    np.testing.assert_allclose(markers._data["a_bg_color"][0], [0, 0, 1, 1])
    assert markers._data["a_size"].tolist() == [2.0, 4.0]
    assert list(role(scene, "view/kp", "labels").text) == ["joint", "joint"]
    path = np.asarray(role(scene, "view/path", "lines").pos)
    assert path.tolist() == [[0, 0], [10, 0], [10, 0], [10, 10]]
    assert scene.extent() == (0.0, 0.0, 10.0, 10.0)


def test_draw_order_and_visibility(make_scene: Callable[..., Scene2D]) -> None:
    def log(rec: rr.RecordingStream) -> None:
        rr.log_image("v/top", np.full((10, 10, 3), 255, np.uint8), draw_order=50, recording=rec)
        rr.log_rect("v/box", [2, 2, 4, 4], recording=rec)

    scene = make_scene(log)
    scene.update(*LATEST)
    assert role(scene, "v/top", "image").order > role(scene, "v/box", "rects").order
    scene.model.nodes["v/top"].visible = False
    scene.update(*LATEST)
    assert scene.visuals_for("v/top") == []
    assert scene.probe(5, 5) == {}  # a hidden image is not probed


# --- mapping -----------------------------------------------------------------------------------
def test_pixel_at_maps_canvas_to_image(make_scene: Callable[..., Scene2D]) -> None:
    def log(rec: rr.RecordingStream) -> None:
        rr.log_image("cam", np.zeros((50, 100), np.uint8), recording=rec)

    scene = make_scene(log, size=(160, 120))
    scene.update(*LATEST)
    u, v = scene.pixel_at((80, 60))  # type: ignore[misc]
    assert u == pytest.approx(50, abs=0.5) and v == pytest.approx(25, abs=0.5)
    # The image (2:1) fills the canvas width: 1.6 canvas pixels per image pixel, y downwards.
    u2, v2 = scene.pixel_at((80 + 16, 60 + 16))  # type: ignore[misc]
    assert u2 - u == pytest.approx(10, abs=0.1) and v2 - v == pytest.approx(10, abs=0.1)
    assert scene.pixel_at((80, 5)) is None  # the letterbox above the image


def test_empty_pinhole_space_uses_the_resolution(make_scene: Callable[..., Scene2D]) -> None:
    def log(rec: rr.RecordingStream) -> None:
        rr.log_pinhole("world/cam", focal_length_px=50, width=64, height=48, recording=rec)
        rr.log_point("world/cam/kp", [5, 5], recording=rec)

    scene = make_scene(log)
    scene.update(*LATEST)
    assert scene.extent() == (0.0, 0.0, 64.0, 48.0)
