"""The examples of the Python SDK guide, run as written (only ``import rerun as rr`` changes).

The guide elides its data (``…``); small synthetic data stands in for it. Each test then
checks that the file holds the entities and data kinds the example logs.
"""

from __future__ import annotations

import collections
import os
import pydoc
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

import rrformat as rr  # the guide: import rerun as rr

pytestmark = pytest.mark.skipif(
    not hasattr(rr, "log_rigid3"), reason="log_image, log_rect and the transform functions are not exported yet"
)


# --- synthetic stand-ins for the guide's data ---------------------------------------------------------
@dataclass
class Frame:
    idx: int
    timestamp: float
    points: npt.NDArray[np.float32]


def read_sensor_frames() -> Iterator[Frame]:
    rng = np.random.default_rng(1)
    for idx in range(5):
        yield Frame(idx, 1_700_000_000.0 + idx * 0.1, rng.random((10, 3), dtype=np.float32))


@dataclass
class Detection:
    bbox: list[float]


@dataclass
class Camera:
    id: str

    def detect(self) -> list[Detection]:
        return [Detection([10.0 * k, 5.0, 20.0, 30.0]) for k in range(3)]


@dataclass
class Pose:
    pos: list[float]
    rot: list[float]


cameras = [Camera("CA426571"), Camera("left cam")]
cam0_pose = Pose([0.0, 0.0, 1.5], [0.0, 0.0, 0.0, 1.0])
cam1_pose = Pose([1.0, 0.0, 1.5], [0.0, 0.0, float(np.sqrt(0.5)), float(np.sqrt(0.5))])
K = np.array([[50.0, 0.0, 32.0], [0.0, 50.0, 24.0], [0.0, 0.0, 1.0]])
image = np.zeros((48, 64, 3), dtype=np.uint8)


# --- helpers ------------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def no_global_recording() -> Iterator[None]:
    rr.set_global_recording(None)
    yield
    rr.disconnect()
    rr.set_global_recording(None)


def kinds(path: Path) -> dict[str, set[str]]:
    out: dict[str, set[str]] = collections.defaultdict(set)
    with rr.RrdReader(path) as r:
        assert r.opened_via == "footer"
        for info in r.chunks:
            out[info.entity].add(info.kind)
    return dict(out)


def column(path: Path, entity: str, kind: str, name: str) -> list[object]:
    values: list[object] = []
    with rr.RrdReader(path) as r:
        for info in r.chunks:
            if info.entity == entity and info.kind == kind:
                values.extend(r.read_chunk(info).batch.column(name).to_pylist())
    return values


# --- the examples -------------------------------------------------------------------------------------
def test_first_example_spawn_without_a_display_warns_and_logging_goes_on(tmp_path: Path) -> None:
    # The guide's first line starts a viewer; where none can start, the program still runs.
    script = tmp_path / "first.py"
    script.write_text(
        "import warnings, numpy as np\nimport rrformat as rr\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    rr.init('my_app', spawn=True)\n"
        "print([str(x.message) for x in w])\n"
        f"rr.save({str(tmp_path / 'first.rrd')!r})\n"
        "rr.log_image('rgb_image', np.zeros((4, 4, 3), np.uint8))\n"
        "rr.disconnect()\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert "rr.spawn" in done.stdout and "logging goes on" in done.stdout
    assert kinds(tmp_path / "first.rrd") == {"rgb_image": {"image"}}


def test_frames_loop(tmp_path: Path) -> None:
    path = tmp_path / "frames.rrd"
    rr.init("my_app", save=path, strict=True)
    for frame in read_sensor_frames():
        rr.set_time_sequence("frame_idx", frame.idx)
        rr.set_time_seconds("sensor_time", frame.timestamp)
        rr.log_points("sensor/points", frame.points)
    rr.disconnect()
    assert kinds(path) == {"sensor/points": {"points3d"}}
    with rr.RrdReader(path) as r:
        (info,) = r.chunks
        assert set(info.timelines) == {"log_time", "frame_idx", "sensor_time"}
        batch = r.read_chunk(info).batch
    assert batch.column("frame_idx").to_pylist() == [0, 1, 2, 3, 4]
    stamps = batch.column("sensor_time").to_pylist()
    assert [round((s - stamps[0]) / 1e8) for s in stamps] == [0, 1, 2, 3, 4]
    assert [len(p) for p in batch.column("positions3d").to_pylist()] == [10] * 5


def test_detection_rects_under_quoted_camera_ids(tmp_path: Path) -> None:
    path = tmp_path / "rects.rrd"
    rr.init("my_app", save=path, strict=True)
    for cam in cameras:
        for i, detection in enumerate(cam.detect()):
            rr.log_rect(f'camera/"{cam.id}"/detection/#{i}', detection.bbox)
    rr.disconnect()
    expected = {f'camera/"{cam.id}"/detection/#{i}': {"rects2d"} for cam in cameras for i in range(3)}
    assert kinds(path) == expected
    assert column(path, 'camera/"left cam"/detection/#2', "rects2d", "rects") == [[[20.0, 5.0, 20.0, 30.0]]]


def test_two_cameras_world(tmp_path: Path) -> None:
    path = tmp_path / "world.rrd"
    rr.init("my_app", save=path, strict=True)
    # Log some data to the 3D world:
    rr.log_points("world/points", np.random.default_rng(2).random((20, 3)))
    # Log first camera:
    rr.log_rigid3("world/camera/#0", parent_from_child=(cam0_pose.pos, cam0_pose.rot))
    rr.log_pinhole("world/camera/#0/image", child_from_parent=K, width=64, height=48)
    # Log second camera:
    rr.log_rigid3("world/camera/#1", parent_from_child=(cam1_pose.pos, cam1_pose.rot))
    rr.log_pinhole("world/camera/#1/image", child_from_parent=K, width=64, height=48)
    # Log some data to the image spaces of the first camera:
    rr.log_image("world/camera/#0/image", image)
    rr.log_rect("world/camera/#0/image/detection", [10, 10, 20, 15])
    # None of the names are special: a transform between any parent and child.
    rr.log_rigid3("foo/bar", parent_from_child=([1, 0, 0], [0, 0, 0, 1]))
    rr.log_rigid3("foo/bar/baz", parent_from_child=([0, 1, 0], [0, 0, 0, 1]))
    rr.disconnect()
    assert kinds(path) == {
        "world/points": {"points3d"},
        "world/camera/#0": {"rigid3"},
        "world/camera/#0/image": {"pinhole", "image"},  # a side kind next to the data
        "world/camera/#1": {"rigid3"},
        "world/camera/#1/image": {"pinhole"},
        "world/camera/#0/image/detection": {"rects2d"},
        "foo/bar": {"rigid3"},
        "foo/bar/baz": {"rigid3"},
    }
    assert column(path, "world/camera/#0", "rigid3", "translation") == [[0.0, 0.0, 1.5]]
    assert column(path, "world/camera/#1/image", "pinhole", "resolution") == [[64.0, 48.0]]
    (k,) = column(path, "world/camera/#0/image", "pinhole", "image_from_camera")
    assert k == K.reshape(-1).tolist()


def test_view_coordinates_and_unknown_transform(tmp_path: Path) -> None:
    path = tmp_path / "view.rrd"
    rr.init("my_app", save=path, strict=True)
    rr.log_view_coordinates("world/camera", xyz="RDF")
    rr.log_view_coordinates("world", up="+Z", timeless=True)
    rr.log_unknown_transform("parent/child")
    rr.disconnect()
    assert kinds(path) == {
        "world/camera": {"view_coordinates"},
        "world": {"view_coordinates"},
        "parent/child": {"unknown_transform"},
    }
    assert column(path, "world/camera", "view_coordinates", "view_coordinates") == ["RDF"]
    (up,) = column(path, "world", "view_coordinates", "view_coordinates")
    assert isinstance(up, str) and up[2] == "U"  # Z is up
    assert column(path, "parent/child", "unknown_transform", "disconnected") == [True]
    with rr.RrdReader(path) as r:
        (world,) = [c for c in r.chunks if c.entity == "world"]
        assert world.timeless and world.timelines == {}


def test_help_of_log_image_is_useful() -> None:
    text = pydoc.plain(pydoc.render_doc(rr.log_image))
    assert "Parameters" in text and "Examples" in text
    assert "image" in text
