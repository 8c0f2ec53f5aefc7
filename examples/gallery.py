"""Every log function of the SDK, each used once, in one recording that the viewer shows whole.

The recording has a 3D space ``world`` (points, boxes, lines, arrows, meshes, a camera
with its image, keypoints with a skeleton), a 2D space ``image`` (an image with
rectangles, points and lines over it), ``depth`` and ``segmentation`` images, an encoded
PNG, a tensor, scalar plots, a text log and custom components, over three frames.

Run it with ``python examples/gallery.py [OUT.rrd]``, then ``rrview gallery.rrd``.
"""

from __future__ import annotations

import struct
import sys
import zlib

import numpy as np

import rrformat as rr

FRAMES = 3


def png_bytes(rgb: np.ndarray) -> bytes:
    """A minimal PNG file of an HxWx3 uint8 image (so that no image library is needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    h, w, _ = rgb.shape
    rows = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))  # filter type 0 on every row
    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


OBJ_PYRAMID = b"""# a square pyramid
v -0.5 -0.5 0
v 0.5 -0.5 0
v 0.5 0.5 0
v -0.5 0.5 0
v 0 0 0.8
f 1 3 2
f 1 4 3
f 1 2 5
f 2 3 5
f 3 4 5
f 4 1 5
"""


def log_scenery() -> None:
    """Timeless data: it belongs to every timeline."""
    rr.log_view_coordinates("world", up="+Z", timeless=True)
    person = rr.ClassDescription(
        info=rr.AnnotationInfo(1, "person", (255, 200, 0)),
        keypoint_annotations=[rr.AnnotationInfo(0, "head"), rr.AnnotationInfo(1, "hip"),
                              rr.AnnotationInfo(2, "left foot"), rr.AnnotationInfo(3, "right foot")],
        keypoint_connections=[(0, 1), (1, 2), (1, 3)],
    )  # fmt: skip
    rr.log_annotation_context("world", [person, (2, "crate", (60, 160, 255))], timeless=True)
    rr.log_mesh(
        "world/ground",
        [[-3, -3, 0], [3, -3, 0], [3, 3, 0], [-3, 3, 0]],
        indices=[[0, 1, 2], [0, 2, 3]],
        albedo_factor=[0.25, 0.25, 0.3],
        timeless=True,
    )
    rr.log_mesh_file("world/pyramid", rr.MeshFormat.OBJ, mesh_bytes=OBJ_PYRAMID,
                     transform=[[1, 0, 0, -2], [0, 1, 0, 2], [0, 0, 1, 0]], timeless=True)  # fmt: skip
    # A camera 4 m back and 1.5 m up, turned -90 degrees about x: it looks along the world's +y.
    rr.log_rigid3("world/camera", parent_from_child=([0, -4, 1.5], [-0.7071068, 0, 0, 0.7071068]), xyz="RDF",
                  timeless=True)  # fmt: skip
    rr.log_pinhole("world/camera/image", focal_length_px=40, width=64, height=48, timeless=True)
    rr.log_annotation_context("segmentation", [(1, "road", (128, 64, 128)), (2, "car", (0, 0, 142))], timeless=True)
    rr.log_unknown_transform("world/lost", timeless=True)
    rr.log_disconnected_space("world/elsewhere", timeless=True)  # the same, by another name


def log_frame(frame: int, rng: np.random.Generator) -> None:
    s = frame * 0.3
    # 3D: the world space.
    rr.log_points("world/points", rng.normal([0, 0, 1], 0.3, size=(200, 3)), colors=[80, 200, 255], radii=0.03)
    rr.log_point("world/point", [1.5, -1.5, 0.5 + s], radius=0.15, color=[255, 60, 60], label="a point")
    rr.log_obbs(
        "world/crates",
        half_sizes=[[0.3, 0.3, 0.3], [0.2, 0.4, 0.2]],
        positions=[[2, 0, 0.3], [2, 1, 0.2 + s]],
        rotations_q=[[0, 0, 0, 1], [0, 0, 0.383, 0.924]],
        class_ids=[2, 2],  # colour and label from the annotation context
    )
    rr.log_obb("world/box", half_size=[0.25, 0.25, 0.5], position=[-2, -1, 0.5], rotation_q=[0, 0, 0, 1],
               color=[255, 255, 255], label="one box")  # fmt: skip
    rr.log_line_strip("world/strip", [[-2, -2, 0.1], [-1, -2, 0.5 + s], [0, -2, 0.1]], color=[255, 150, 0],
                      stroke_width=0.03)  # fmt: skip
    rr.log_line_segments("world/segments", [[0, 2, 0], [0, 2, 1], [1, 2, 0], [1, 2, 1]], color=[200, 255, 120])
    rr.log_line_strips_3d("world/strips", [[[-3, 0, 0], [-3, 1, 1]], [[-2.5, 0, 0], [-2.5, 1, 1], [-2.5, 2, 0]]],
                          colors=[[255, 0, 255], [0, 255, 255]], labels=["one", "two"])  # fmt: skip
    rr.log_arrow("world/arrow", [0, 0, 0], [1.0, 0.5 * s, 1.0], color=[255, 255, 0], label="arrow")
    skeleton = [[-1, 1, 1.7], [-1, 1, 1.0], [-1.2, 1, 0], [-0.8, 1, 0]]
    rr.log_points("world/person", skeleton, class_ids=1, keypoint_ids=[0, 1, 2, 3], radii=0.05)
    rr.log_rigid3("world/robot", parent_from_child=([1, -1 + s, 0], [0, 0, 0, 1]))
    rr.log_points("world/robot/scan", [[0.3, 0, 0.2], [0.3, 0.1, 0.2], [0.3, -0.1, 0.2]], colors=[255, 0, 0])
    # Spaces of their own: their pose in the world is unknown, so they get views of their own.
    rr.log_points("world/lost/points", [[0, 0, 0], [1, 1, 1]], radii=0.05)
    rr.log_points("world/elsewhere/points", [[0, 0, 0], [-1, 1, 0]], radii=0.05)

    # A camera in the world: its image is drawn in the 3D view's frustum and in a 2D view.
    yy, xx = np.mgrid[0:48, 0:64]
    rr.log_image("world/camera/image", np.stack([xx * 4, yy * 5, np.full_like(xx, 60 * frame)], -1).astype(np.uint8))

    # 2D: the image space, things drawn over an image in pixel coordinates.
    checker = (((xx // 8) + (yy // 8)) % 2 * 120 + 60).astype(np.uint8)
    rr.log_image("image/photo", checker)
    rr.log_rects("image/rects", [[4, 4, 20, 12], [30, 20, 16, 20]], labels=["left", "right"],
                 colors=[[255, 0, 0], [0, 255, 0]])  # fmt: skip
    rr.log_rect("image/rect", [40, 2, 62, 14], rect_format=rr.RectFormat.XYXY, label="xyxy", color=[255, 255, 0])
    rr.log_points("image/points", [[10 + 5 * frame, 30], [20, 40], [50, 40]], colors=[0, 200, 255], radii=2.0)
    rr.log_line_strips_2d("image/lines", [[[0, 47], [32, 24 - 4 * frame], [63, 47]]], colors=[[255, 128, 0]])
    rr.log_line_strip("image/line", [[0, 0], [63, 47]], color=[255, 255, 255], stroke_width=1.0)

    # Depth, segmentation, an encoded image and a tensor, each in a space of its own.
    rr.log_depth_image("depth", (500 + 40 * xx + 10 * frame).astype(np.uint16), meter=1000)
    seg = np.ones((48, 64), np.uint8)
    seg[10:30, 10 + 5 * frame : 30 + 5 * frame] = 2
    rr.log_segmentation_image("segmentation/classes", seg)
    gradient = np.stack([xx * 4, 255 - yy * 5, np.full_like(xx, 90)], -1).astype(np.uint8)
    rr.log_image_file("encoded", img_bytes=png_bytes(gradient))  # JPEG or PNG bytes, kept as they are
    rr.log_tensor("tensor", rng.random((4, 8, 8)).astype(np.float32), names=["channel", "y", "x"])

    # Scalars (one plot), text, and components of your own.
    rr.log_scalar("plots/sine", float(np.sin(frame)), label="sin(frame)", color=[255, 100, 100])
    rr.log_text_entry("logs", f"frame {frame}", level=rr.LogLevel.WARN if frame == 1 else rr.LogLevel.INFO)
    rr.log_extension_components("world/crate_info", {"weight_kg": np.array([12.5, 3.0]), "owner": ["ann", "bob"]},
                                identifiers=[0, 1])  # fmt: skip


def main() -> int:
    out = sys.argv[1] if len(sys.argv) > 1 else "gallery.rrd"
    rr.init("gallery", save=out)
    log_scenery()
    rng = np.random.default_rng(0)
    for frame in range(FRAMES):
        rr.set_time_sequence("frame", frame)
        log_frame(frame, rng)
    rr.log_cleared("world/point")  # at the last frame: the point is gone from then on

    # Many rows in one call, as columns: here one scalar per frame, without set_time calls.
    frames = np.arange(FRAMES)
    rr.log_columns("plots/columns", "scalar", times={"frame": frames}, scalar=np.cos(frames))
    rr.disconnect()
    print(f"wrote {out}; look at it with:  rrview {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
