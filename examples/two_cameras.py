"""Two cameras watching one 3D world: extrinsics with log_rigid3, intrinsics with log_pinhole.

Two wall-mounted cameras look into the living room of the apartment of
``robot_vacuum.py`` while the vacuum robot crosses it. The world space (``world``) holds a
point cloud of the room and the robot; each camera is a space of its own under it:

- ``world/camera/#0`` and ``world/camera/#1``: the camera poses (rigid transforms, parent
  from child, with ``xyz="RDF"``: x right, y down, z forward);
- ``world/camera/#0/image``: the pinhole projection of camera 0, its image, and its
  detections ``world/camera/#0/image/detection/#<i>``, one rectangle per entity.

In the viewer, the 3D view draws both cameras as frustums with their images, and hovering
an image shows the ray through that pixel in the 3D view.

Run it with ``python examples/two_cameras.py [OUT.rrd] [--frames N] [--size WxH]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from vacuum_sim import OBSTACLE, Apartment, Box, CameraModel, yaw_quaternion

import rrformat as rr

CAMERA_FROM_BODY_Q = [-0.5, 0.5, -0.5, 0.5]  # a camera looking along +x: right = -y, down = -z
CAMERAS = [(0.3, 0.3, np.radians(40)), (4.7, 5.0, np.radians(-140))]  # (x, y, heading) in the living room


def quat_mul(a: list[float], b: list[float]) -> list[float]:
    """The rotation ``a`` after ``b`` (quaternions x, y, z, w)."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return [
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    ]


def room_cloud(apartment: Apartment, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Points on the faces of every box of the living room, with the box's colour."""
    boxes = [b for b in apartment.boxes if b.solid and b.x0 < 5.1]
    pick = rng.integers(0, len(boxes), n)
    lo = np.array([[b.x0, b.y0, b.z0] for b in boxes])[pick]
    hi = np.array([[b.x1, b.y1, b.z1] for b in boxes])[pick]
    points = rng.uniform(lo, hi)
    axis = rng.integers(0, 2, n)  # snap x or y to a face: points on the vertical sides
    side = np.where(rng.random((n, 1)) < 0.5, lo, hi)
    points[np.arange(n), axis] = side[np.arange(n), axis]
    colors = np.array([b.color for b in boxes], dtype=np.uint8)[pick]
    return points, colors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=Path("two_cameras.rrd"))
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--size", default="320x240", help="image size WxH")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))

    rr.init("two_cameras", save=args.out)
    room = Apartment()
    rng = np.random.default_rng(1)

    # The shared 3D world: which way is up, and the scenery (timeless: on every timeline).
    rr.log_view_coordinates("world", up="+Z", timeless=True)
    points, colors = room_cloud(room, 4000, rng)
    rr.log_points("world/points", points, colors=colors, radii=0.015, timeless=True)

    # Each camera: its pose in the world (extrinsics) and its projection (intrinsics).
    cameras = [CameraModel(width, height, forward=0.0, mount_height=1.4) for _ in CAMERAS]
    for i, (camera, (x, y, heading)) in enumerate(zip(cameras, CAMERAS, strict=True)):
        pose = np.array([x, y, heading])
        rotation = quat_mul(yaw_quaternion(heading), CAMERA_FROM_BODY_Q)
        rr.log_rigid3(f"world/camera/#{i}", parent_from_child=(camera.position(pose), rotation), xyz="RDF",
                      timeless=True)  # fmt: skip
        rr.log_pinhole(f"world/camera/#{i}/image", child_from_parent=camera.intrinsics, width=width, height=height,
                       timeless=True)  # fmt: skip

    for frame in range(args.frames):
        rr.set_time_sequence("frame", frame)
        # The robot crosses the room; the cameras see it as one more box.
        rx, ry = 0.8 + 3.4 * frame / max(1, args.frames - 1), 2.4 + 0.6 * np.sin(frame / 6)
        robot = Box("robot", rx - 0.17, ry - 0.17, rx + 0.17, ry + 0.17, z1=0.1, color=(255, 130, 30), cls=OBSTACLE)
        rr.log_obb("world/robot", half_size=robot.half_size, position=robot.center, color=robot.color, label="robot")
        scene = Apartment(furniture=[*room.furniture, robot])

        for i, (camera, (x, y, heading)) in enumerate(zip(cameras, CAMERAS, strict=True)):
            view = camera.render(scene, np.array([x, y, heading]))
            rr.log_image(f"world/camera/#{i}/image", view.rgb)
            # Detections: one entity each, cleared first so that objects out of view disappear.
            rr.log_cleared(f"world/camera/#{i}/image/detection", recursive=True)
            for j, b in enumerate(scene.boxes):
                ys, xs = np.nonzero(view.instances == j)
                if b.cls == OBSTACLE and len(xs) >= 20:
                    rect = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
                    rr.log_rect(f"world/camera/#{i}/image/detection/#{j}", rect, rect_format=rr.RectFormat.XYXY,
                                label=b.name, color=b.color)  # fmt: skip
    rr.disconnect()
    print(f"wrote {args.out}; look at it with:  rrview {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
