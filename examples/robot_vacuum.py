"""A vacuum robot keeps running into a wall. Why? Record everything it sees and believes, then look.

A simulated robot cleans the living room of a small apartment, then heads for the bedroom
doorway. Late in the cleaning its localization quietly stops matching lidar scans
against the map and falls back on wheel odometry, whose heading drifts by 3 degrees a
second. The robot keeps steering by the pose it *believes* it has; it drives confidently
to where its map says the doorway is, logs "Going through doorway", and hits the wall.

This script logs every representation of the world the robot holds, on the timelines
``frame`` and ``sensor_time`` (and ``log_time``, which every call gets):

- ``world/map/...``: the apartment's 3D map (walls, door frame, furniture), timeless;
- ``world/robot``: the believed pose, and under it the body, the camera and the lidar scan;
- ``world/ground_truth``: the true pose (the simulator knows it; a motion-capture system
  would in a lab);
- ``world/robot/camera/image``: the RGB camera (pinhole, ``xyz="RDF"``) with its
  segmentation and its detections; ``world/robot/camera/depth``: the depth image;
- ``world/detections``: detected furniture as 3D boxes, placed using the believed pose;
- ``detector/confidence/...`` and ``localization/...``: scalars; ``logs/...``: text.

Run it, then open the moment of the first collision (the script prints the command)::

    python examples/robot_vacuum.py                      # writes robot_vacuum.rrd
    rrview robot_vacuum.rrd --timeline frame --time 446

Options: ``python examples/robot_vacuum.py OUT.rrd --size 160x120`` (the camera's resolution; the
default 320x240 takes about 10 s) and ``--frames N`` (stop after N frames).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from vacuum_sim import CLASSES, DOOR, OBSTACLE, WALL, Apartment, CameraModel, Frame, Robot, lidar_scan, range_colors
from vacuum_sim import yaw_quaternion as yaw_q

import rrformat as rr

FPS = 10
START_TIME = 1_767_261_600.0  # sensor clock at frame 0: 2026-01-01 10:00:00 UTC
DRIFT_START = 310  # the frame at which localization stops using the lidar (the bug)
YAW_BIAS_DEG_PER_S = 3.0
LIDAR_HEIGHT = 0.1
MAX_BUMPS = 3

# The cleaning route, then through the doorway into the bedroom (map coordinates, metres).
ROUTE = [(4.2, 2.5), (4.2, 1.7), (1.6, 1.7), (1.6, 3.3), (4.2, 3.3)]
DOOR_APPROACH = (4.2, 4.05)
BEYOND_DOOR = [(5.9, 4.05), (6.2, 2.5), (8.0, 2.5)]

# The camera looks along the robot's +x: camera right = robot -y, down = -z, forward = +x.
CAMERA_FROM_ROBOT_Q = [-0.5, 0.5, -0.5, 0.5]


def log_map(apartment: Apartment, camera: CameraModel) -> None:
    """What does not change: the map, the classes, the robot's body and sensor mounts."""
    rr.log_view_coordinates("world", up="+Z", timeless=True)
    rr.log_annotation_context("world", [(cid, label, color) for cid, (label, color) in CLASSES.items()], timeless=True)

    walls = [*apartment.walls, *(b for b in apartment.door if b.solid)]
    rr.log_obbs(
        "world/map/walls",
        half_sizes=[b.half_size for b in walls],
        positions=[b.center for b in walls],
        colors=[(150, 150, 160) if b.cls == WALL else (0, 230, 120) for b in walls],
        timeless=True,
    )
    rr.log_obbs(
        "world/map/furniture",
        half_sizes=[b.half_size for b in apartment.furniture],
        positions=[b.center for b in apartment.furniture],
        colors=[b.color for b in apartment.furniture],
        labels=[b.name for b in apartment.furniture],
        timeless=True,
    )
    # The robot's own parts, in the robot's space (they move with world/robot's transform).
    body_vertices, body_triangles = cylinder(radius=0.17, height=0.09)
    rr.log_mesh("world/robot/body", body_vertices, indices=body_triangles, albedo_factor=[1.0, 0.5, 0.1], timeless=True)
    rr.log_obb("world/ground_truth/body", half_size=[0.17, 0.17, 0.05], position=[0, 0, 0.05],
               color=[80, 255, 120], label="true pose", timeless=True)  # fmt: skip
    mount = [camera.forward, 0.0, camera.mount_height]
    rr.log_rigid3("world/robot/camera", parent_from_child=(mount, CAMERA_FROM_ROBOT_Q), xyz="RDF", timeless=True)
    for sensor in ("world/robot/camera/image", "world/robot/camera/depth"):
        rr.log_pinhole(
            sensor, child_from_parent=camera.intrinsics, width=camera.width, height=camera.height, timeless=True
        )


def cylinder(radius: float, height: float, sides: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Vertices and triangles of a closed cylinder standing on z = 0."""
    a = np.linspace(0, 2 * np.pi, sides, endpoint=False)
    ring = np.stack([radius * np.cos(a), radius * np.sin(a)], axis=1)
    vertices = np.concatenate([np.c_[ring, np.zeros(sides)], np.c_[ring, np.full(sides, height)], [[0, 0, height]]])
    i = np.arange(sides)
    j = (i + 1) % sides
    top = len(vertices) - 1
    sides_low = np.c_[i, j, sides + j]  # two triangles per side face
    sides_high = np.c_[i, sides + j, sides + i]
    lid = np.c_[sides + i, sides + j, np.full(sides, top)]
    return vertices, np.concatenate([sides_low, sides_high, lid])


def log_camera(apartment: Apartment, camera: CameraModel, robot: Robot, frame: Frame, rng: np.random.Generator) -> None:
    """The camera's images and what the detector makes of them (2D rectangles, 3D boxes, confidences)."""
    rr.log_image("world/robot/camera/image", frame.rgb)
    rr.log_segmentation_image("world/robot/camera/image/segmentation", frame.classes)
    rr.log_depth_image("world/robot/camera/depth", frame.depth_mm, meter=1000)

    rects, labels, class_ids, boxes = [], [], [], []
    min_pixels = 0.003 * camera.width * camera.height
    for b, obj in enumerate(apartment.boxes):
        if obj.cls != OBSTACLE:
            continue
        ys, xs = np.nonzero(frame.instances == b)
        if len(xs) < min_pixels:
            continue
        seen = min(1.0, len(xs) / (0.05 * frame.instances.size))  # the bigger in the image, the surer
        confidence = float(np.clip(0.6 + 0.35 * seen + rng.normal(0, 0.01), 0.0, 0.99))
        rects.append([xs.min(), ys.min(), xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()])
        labels.append(f"{obj.name} {confidence:.2f}")
        class_ids.append(OBSTACLE)
        boxes.append((obj, confidence))
    if boxes:
        rr.log_scalar("detector/confidence/furniture", max(c for _, c in boxes))

    # The door: where the map says it is, seen from where the robot believes it stands. The
    # camera judges how much of that rectangle really looks like a door.
    door = apartment.doorway
    corners = np.array([[x, y, z] for x in (door.x0, door.x1) for y in (door.y0, door.y1) for z in (door.z0, door.z1)])
    uv = camera.project(robot.believed_pose, corners)
    if not np.isnan(uv).any():
        lo = np.clip(uv.min(axis=0), 0, [camera.width, camera.height])
        hi = np.clip(uv.max(axis=0), 0, [camera.width, camera.height])
        if (hi - lo).min() >= 2:
            x0, y0 = lo.astype(int)
            x1, y1 = np.ceil(hi).astype(int)
            confidence = float(np.mean(frame.classes[y0:y1, x0:x1] == DOOR))
            rects.append([lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]])
            labels.append(f"door {confidence:.2f}")
            class_ids.append(DOOR)
            rr.log_scalar("detector/confidence/door", confidence)
    rr.log_rects("world/robot/camera/image/detections", np.reshape(rects, (-1, 4)), labels=labels, class_ids=class_ids)

    # Detections in 3D: measured relative to the robot (its true pose), placed in the map by
    # the believed pose. When the two differ, detected furniture floats away from the map's.
    placed = [to_believed_world(robot, obj.center) for obj, _ in boxes]
    turn = robot.believed_pose[2] - robot.true_pose[2]
    rr.log_obbs(
        "world/detections",
        half_sizes=np.reshape([obj.half_size for obj, _ in boxes], (-1, 3)),
        positions=np.reshape(placed, (-1, 3)),
        rotations_q=[yaw_q(turn)] * len(boxes),
        labels=[f"{obj.name} {c:.2f}" for obj, c in boxes],
        class_ids=[OBSTACLE] * len(boxes),
    )


def to_believed_world(robot: Robot, point: np.ndarray) -> np.ndarray:
    """Where the robot puts a world point it observes: true relative position, believed pose."""
    (tx, ty, tyaw), (bx, by, byaw) = robot.true_pose, robot.believed_pose
    dx, dy = point[0] - tx, point[1] - ty
    fx, fy = dx * np.cos(-tyaw) - dy * np.sin(-tyaw), dx * np.sin(-tyaw) + dy * np.cos(-tyaw)  # robot frame
    return np.array([bx + fx * np.cos(byaw) - fy * np.sin(byaw), by + fx * np.sin(byaw) + fy * np.cos(byaw), point[2]])


def log_lidar(apartment: Apartment, robot: Robot, rays: int) -> None:
    """The 2D lidar scan as 3D points in the robot's space, coloured by range."""
    ranges = lidar_scan(apartment, robot.true_pose, rays, height=LIDAR_HEIGHT)  # what the sensor measures
    angles = np.linspace(0, 2 * np.pi, rays, endpoint=False)
    ok = np.isfinite(ranges)
    r, a = ranges[ok], angles[ok]
    points = np.stack([r * np.cos(a), r * np.sin(a), np.full(len(r), LIDAR_HEIGHT)], axis=1)
    rr.log_points("world/robot/lidar", points, colors=range_colors(r), radii=0.04)

    # How well the scan fits the map seen from the believed pose: 1 when the belief is right.
    expected = lidar_scan(apartment, robot.believed_pose, rays, height=LIDAR_HEIGHT)
    both = ok & np.isfinite(expected)
    rr.log_scalar("localization/scan_match", float(np.mean(np.abs(ranges[both] - expected[both]) < 0.05)))


class Planner:
    """Drives the route waypoint after waypoint, judging by the believed pose; backs up after a bump."""

    def __init__(self) -> None:
        self.waypoints = [*ROUTE, DOOR_APPROACH, *BEYOND_DOOR]
        self.target = 0
        self.backing = 0
        self.bumps = 0
        self.idle = 0

    @property
    def finished(self) -> bool:
        return self.idle > 2 * FPS  # stopped for 2 s: the end of the story

    def bumped(self, robot: Robot) -> None:
        self.bumps += 1
        x, y, _ = robot.believed_pose
        rr.log_text_entry("logs/bumper", f"Bumper pressed at ({x:.2f}, {y:.2f})", level=rr.LogLevel.WARN)
        if self.bumps < MAX_BUMPS:
            self.backing = 4
            rr.log_text_entry("logs/planner", f"Backing up; going through doorway again (attempt {self.bumps + 1})")
        else:
            rr.log_text_entry("logs/planner", f"Stuck after {self.bumps} bumps at the doorway; stopping",
                              level=rr.LogLevel.ERROR)  # fmt: skip

    def command(self, robot: Robot) -> tuple[float, float]:
        """Speed (m/s) and turn rate (rad/s) for the next step."""
        if self.bumps >= MAX_BUMPS or self.target >= len(self.waypoints):
            self.idle += 1
            return 0.0, 0.0
        if self.backing > 0:
            self.backing -= 1
            return -0.15, 0.0
        goal = np.array(self.waypoints[self.target])
        to_goal = goal - robot.believed_pose[:2]
        rr.log_arrow("world/plan", [*robot.believed_pose[:2], 0.05], [*to_goal, 0.0], color=[255, 220, 0], label="plan")
        if np.hypot(*to_goal) > 0.08:
            return robot.command_to(goal)
        self.target += 1
        if self.target == len(ROUTE):
            rr.log_text_entry("logs/planner", "Living room done; heading for the bedroom door")
        elif self.target == len(ROUTE) + 1:
            rr.log_text_entry("logs/planner", "Going through doorway")
        return 0.0, 0.0


def log_poses(robot: Robot, believed_path: list[np.ndarray], true_path: list[np.ndarray]) -> None:
    """Where the robot believes it is, where it truly is, and the paths both took so far."""
    (bx, by, byaw), (tx, ty, tyaw) = robot.believed_pose, robot.true_pose
    rr.log_rigid3("world/robot", parent_from_child=([bx, by, 0.0], yaw_q(byaw)))
    rr.log_rigid3("world/ground_truth", parent_from_child=([tx, ty, 0.0], yaw_q(tyaw)))
    for name, path, color in (("believed", believed_path, [255, 140, 30]), ("true", true_path, [80, 255, 120])):
        strip = np.c_[path, np.full(len(path), 0.02)]
        rr.log_line_strip(f"world/trajectory/{name}", strip, color=color, stroke_width=0.04)
    rr.log_scalar("localization/position_error_m", float(np.hypot(tx - bx, ty - by)))


def record(path: Path, *, size: tuple[int, int] = (320, 240), frames: int | None = None) -> int | None:
    """Simulate the run and write it to ``path``; returns the frame of the first collision (None if none)."""
    apartment = Apartment()
    camera = CameraModel(*size)
    robot = Robot(np.array([1.0, 2.5, 0.0]), drift_start=DRIFT_START, yaw_bias=np.radians(YAW_BIAS_DEG_PER_S))
    planner = Planner()
    rng = np.random.default_rng(0)
    rays = 360 if size[0] >= 160 else 90

    rr.init("robot_vacuum", save=path)
    log_map(apartment, camera)

    first_bump: int | None = None
    hit = None
    believed_path, true_path = [robot.believed_pose[:2]], [robot.true_pose[:2]]
    frame = 0
    while not planner.finished and (frames is None or frame < frames):
        t = START_TIME + frame / FPS
        rr.set_time_sequence("frame", frame)
        rr.set_time_seconds("sensor_time", t)
        if frame == 0:
            rr.log_text_entry("logs/planner", "Starting: cleaning the living room")
        if frame == DRIFT_START:
            rr.log_text_entry("logs/localization", "Scan matcher paused while the map reloads; using wheel odometry",
                              level=rr.LogLevel.WARN)  # fmt: skip
        if hit is not None:  # the last step ended against something
            first_bump = frame if first_bump is None else first_bump
            planner.bumped(robot)

        # What the robot believes and what is true; what its sensors see (from where it truly is).
        log_poses(robot, believed_path, true_path)
        log_camera(apartment, camera, robot, camera.render(apartment, robot.true_pose), rng)
        rr.set_time_seconds("sensor_time", t + 0.05)  # a scan takes 0.1 s; it is stamped at its middle
        log_lidar(apartment, robot, rays)
        rr.set_time_seconds("sensor_time", t)

        speed, turn = planner.command(robot)
        hit = robot.step(apartment, speed, turn, 1.0 / FPS)
        believed_path.append(robot.believed_pose[:2])
        true_path.append(robot.true_pose[:2])
        frame += 1

    rr.disconnect()
    return first_bump


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=Path("robot_vacuum.rrd"), help="the .rrd file to write")
    parser.add_argument("--size", default="320x240", help="camera resolution WxH (default 320x240)")
    parser.add_argument("--frames", type=int, default=None, help="stop after this many frames (default: the whole run)")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))

    start = time.perf_counter()
    collision = record(args.out, size=(width, height), frames=args.frames)
    size_mb = args.out.stat().st_size / 1e6
    print(f"wrote {args.out} ({size_mb:.1f} MB) in {time.perf_counter() - start:.1f} s")
    if collision is not None:
        print(f"the robot hits the wall at frame {collision}; look at that moment with:")
        print(f"  rrview {args.out} --timeline frame --time {collision}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
