"""A tiny simulated apartment and vacuum robot, used by the examples (numpy only, nothing to download).

The world is "2.5D": every object is an axis-aligned box standing on the floor plan (walls,
door frame, furniture), so a camera that looks level can be rendered by casting one ray per
image column through the floor plan, and a lidar by casting rays in the plane of the scan.
None of this is part of rrkit: it only makes data worth logging.

Coordinates: metres, x east, y north, z up. A pose is ``(x, y, yaw)`` with yaw in radians
from the x axis.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = [
    "CEILING",
    "CLASSES",
    "DOOR",
    "FLOOR",
    "OBSTACLE",
    "WALL",
    "Apartment",
    "Box",
    "CameraModel",
    "Frame",
    "Robot",
    "lidar_scan",
    "range_colors",
    "yaw_quaternion",
]

F64 = npt.NDArray[np.float64]

# Segmentation classes (ids of the annotation context).
FLOOR, WALL, DOOR, OBSTACLE, CEILING = 1, 2, 3, 4, 5
CLASSES = {  # id: (label, colour); vivid colours, so that the segmentation stands out over the camera image
    FLOOR: ("floor", (190, 70, 200)),
    WALL: ("wall", (70, 110, 255)),
    DOOR: ("door", (0, 230, 120)),
    OBSTACLE: ("obstacle", (255, 120, 0)),
    CEILING: ("ceiling", (255, 230, 60)),
}

CEILING_HEIGHT = 2.4
DOOR_HEIGHT = 2.05


@dataclass(frozen=True)
class Box:
    """An axis-aligned box: a wall, a door frame, a piece of furniture, or a doorway.

    A doorway (``solid=False``) is never drawn and never stops anything: a camera pixel that
    looks through it gets the class ``door`` in the segmentation.
    """

    name: str
    x0: float
    y0: float
    x1: float
    y1: float
    z1: float = CEILING_HEIGHT
    z0: float = 0.0
    color: tuple[int, int, int] = (200, 200, 200)
    cls: int = WALL
    solid: bool = True

    @property
    def center(self) -> F64:
        return np.array([(self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2, (self.z0 + self.z1) / 2])

    @property
    def half_size(self) -> F64:
        return np.array([(self.x1 - self.x0) / 2, (self.y1 - self.y0) / 2, (self.z1 - self.z0) / 2])


def _walls() -> list[Box]:
    """Two rooms, 5 m and 4 m wide, joined by a 0.9 m doorway in the wall at x = 5."""
    living, bedroom, hall = (222, 205, 170), (150, 190, 160), (170, 185, 215)
    t = 0.05  # half a wall's thickness
    return [
        Box("wall south (living room)", 0 - t, 0 - t, 5, 0 + t, color=living),
        Box("wall west", 0 - t, 0, 0 + t, 6, color=hall),
        Box("wall north (living room)", 0 - t, 6 - t, 5, 6 + t, color=living),
        Box("wall south (bedroom)", 5, 0 - t, 9 + t, 0 + t, color=bedroom),
        Box("wall east", 9 - t, 0, 9 + t, 6, color=bedroom),
        Box("wall north (bedroom)", 5, 6 - t, 9 + t, 6 + t, color=bedroom),
        Box("wall between the rooms, south of the door", 5 - t, 0, 5 + t, 3.6, color=hall),
        Box("wall between the rooms, north of the door", 5 - t, 4.5, 5 + t, 6, color=hall),
        Box("wall above the door", 5 - t, 3.6, 5 + t, 4.5, z0=DOOR_HEIGHT, color=hall),
    ]


def _door() -> list[Box]:
    wood = (150, 95, 50)
    t = 0.07
    return [
        Box("door frame south", 5 - t, 3.52, 5 + t, 3.6, z1=DOOR_HEIGHT + 0.08, color=wood, cls=DOOR),
        Box("door frame north", 5 - t, 4.5, 5 + t, 4.58, z1=DOOR_HEIGHT + 0.08, color=wood, cls=DOOR),
        Box("doorway", 5 - 0.05, 3.6, 5 + 0.05, 4.5, z1=DOOR_HEIGHT, cls=DOOR, solid=False),
    ]


def _furniture() -> list[Box]:
    return [
        Box("sofa", 1.0, 5.1, 3.0, 5.9, z1=0.8, color=(170, 60, 50), cls=OBSTACLE),
        Box("armchair", 0.2, 0.2, 1.0, 1.0, z1=0.9, color=(60, 90, 160), cls=OBSTACLE),
        Box("plant", 4.4, 0.3, 4.8, 0.7, z1=1.3, color=(40, 150, 60), cls=OBSTACLE),
        Box("bookshelf", 3.6, 5.6, 4.8, 5.95, z1=1.9, color=(110, 70, 40), cls=OBSTACLE),
        Box("bed", 6.8, 3.8, 8.9, 5.9, z1=0.55, color=(230, 230, 240), cls=OBSTACLE),
        Box("wardrobe", 8.3, 0.1, 8.9, 1.7, z1=2.0, color=(140, 110, 80), cls=OBSTACLE),
    ]


@dataclass
class Apartment:
    """The floor plan: walls, the door frame and doorway, and the furniture."""

    walls: list[Box] = field(default_factory=_walls)
    door: list[Box] = field(default_factory=_door)
    furniture: list[Box] = field(default_factory=_furniture)

    @property
    def boxes(self) -> list[Box]:
        return [*self.walls, *self.door, *self.furniture]

    @property
    def doorway(self) -> Box:
        return next(b for b in self.door if not b.solid)

    def __post_init__(self) -> None:
        boxes = self.boxes
        self._lo = np.array([[b.x0, b.y0] for b in boxes])
        self._hi = np.array([[b.x1, b.y1] for b in boxes])
        self._z = np.array([[b.z0, b.z1] for b in boxes])
        self._solid = np.array([b.solid for b in boxes])
        self.classes = np.array([b.cls for b in boxes], dtype=np.uint8)
        self.colors = np.array([b.color for b in boxes], dtype=np.float64)

    def cast(self, origin: F64, dirs: F64) -> tuple[F64, npt.NDArray[np.intp]]:
        """Distances along each ray to each box (inf when missed) and the face axis hit (0: x, 1: y).

        ``dirs`` (N, 2) need not be unit vectors: distances are in multiples of them.
        Returns arrays of shape (N, boxes).
        """
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = 1.0 / dirs[:, None, :]  # (N, 1, 2)
            ta = (self._lo[None] - origin[:2]) * inv
            tb = (self._hi[None] - origin[:2]) * inv
        near = np.minimum(ta, tb)
        far = np.maximum(ta, tb)
        near = np.nan_to_num(near, nan=-np.inf)
        far = np.nan_to_num(far, nan=np.inf)
        t_in = near.max(axis=2)
        t_out = far.min(axis=2)
        hit = (t_in <= t_out) & (t_in > 1e-6)
        return np.where(hit, t_in, np.inf), near.argmax(axis=2)

    def collides(self, x: float, y: float, radius: float) -> Box | None:
        """The solid box a disc of ``radius`` at (x, y) touches on the floor, if any."""
        nearest = np.clip([x, y], self._lo, self._hi)
        d = np.hypot(nearest[:, 0] - x, nearest[:, 1] - y)
        touching = (d < radius) & self._solid & (self._z[:, 0] < 0.05)
        return self.boxes[int(np.argmax(touching))] if touching.any() else None


def yaw_quaternion(yaw: float) -> list[float]:
    """The rotation about +z by ``yaw`` radians as a quaternion (x, y, z, w)."""
    return [0.0, 0.0, float(np.sin(yaw / 2)), float(np.cos(yaw / 2))]


@dataclass
class Frame:
    """One rendered camera frame."""

    rgb: npt.NDArray[np.uint8]  # (H, W, 3)
    depth_mm: npt.NDArray[np.uint16]  # (H, W), millimetres along the view axis
    classes: npt.NDArray[np.uint8]  # (H, W), segmentation class ids
    instances: npt.NDArray[np.int16]  # (H, W), index into Apartment.boxes, -1 for floor and ceiling


@dataclass
class CameraModel:
    """A level pinhole camera (90 degree horizontal field of view) mounted on the robot.

    ``forward`` and ``mount_height`` place it on the robot (metres in front of its centre, above the floor).
    """

    width: int
    height: int
    forward: float = 0.12
    mount_height: float = 0.12

    @property
    def focal(self) -> float:
        return self.width / 2.0  # tan(45 degrees) = 1

    @property
    def intrinsics(self) -> F64:
        f = self.focal
        return np.array([[f, 0.0, self.width / 2.0], [0.0, f, self.height / 2.0], [0.0, 0.0, 1.0]])

    def position(self, pose: F64) -> F64:
        x, y, yaw = pose
        return np.array([x + self.forward * np.cos(yaw), y + self.forward * np.sin(yaw), self.mount_height])

    def render(self, apartment: Apartment, pose: F64) -> Frame:
        """Render what the camera sees from a robot ``pose``: colours, depth, classes.

        One ray per column through the floor plan gives each box's distance along the view
        axis; each pixel row then tells the height at which that column's ray meets it, so a
        z-buffer picks the nearest box covering the pixel, else the floor or the ceiling.
        """
        w, h, f = self.width, self.height, self.focal
        cam = self.position(pose)
        yaw = pose[2]
        fwd = np.array([np.cos(yaw), np.sin(yaw)])
        right = np.array([np.sin(yaw), -np.cos(yaw)])
        xs = (np.arange(w) + 0.5 - w / 2.0) / f
        dirs = fwd[None] + xs[:, None] * right[None]  # distance along these = depth along the view axis
        t, face = apartment.cast(cam, dirs)  # (W, boxes)
        slope = ((np.arange(h) + 0.5 - h / 2.0) / f)[:, None]  # (H, 1): height drop per metre of depth

        # Floor and ceiling everywhere first, with planks in the living room and carpet in the bedroom.
        with np.errstate(divide="ignore"):
            floor_z = np.where(slope > 0, cam[2] / slope, np.inf)
            ceil_z = np.where(slope < 0, (CEILING_HEIGHT - cam[2]) / -slope, np.inf)
        zbuf = np.broadcast_to(np.minimum(floor_z, ceil_z), (h, w)).copy()
        is_floor = np.broadcast_to(floor_z < ceil_z, (h, w))
        classes = np.where(is_floor, FLOOR, CEILING).astype(np.uint8)
        instances = np.full((h, w), -1, np.int16)
        px = cam[0] + zbuf * dirs[None, :, 0]
        py = cam[1] + zbuf * dirs[None, :, 1]
        row = np.floor(py / 0.2) % 2
        planks = row * 14 + (np.floor(px / 1.2 + 0.5 * row) % 2) * 8
        carpet = ((np.floor(px / 0.5) + np.floor(py / 0.5)) % 2) * 6
        in_bedroom = px >= 5.0
        color = np.empty((h, w, 3))
        for c, (wood, rug) in enumerate(((150.0, 120.0), (110.0, 125.0), (70.0, 140.0))):
            color[..., c] = np.where(is_floor, np.where(in_bedroom, rug + carpet, wood + planks), 235.0)

        # Walls from floor to ceiling hide everything behind them: per column, only the nearest counts.
        full = np.array([b.solid and b.z0 <= 0.0 and b.z1 >= CEILING_HEIGHT for b in apartment.boxes])
        t_full = np.where(full[None, :], t, np.inf)
        wall = t_full.argmin(axis=1)
        wall_d = t_full[np.arange(w), wall]
        cover = wall_d[None, :] < zbuf
        self._paint(apartment, cover, wall, wall_d, face[np.arange(w), wall], zbuf, classes, instances, color)

        # Then what stands in front of those walls (door frame, doorway, furniture), a z-buffer deciding.
        for b in np.flatnonzero(~full):
            cols = np.flatnonzero(t[:, b] < wall_d)
            if cols.size == 0:
                continue
            c0, c1 = int(cols[0]), int(cols[-1]) + 1  # a box is convex: its columns are contiguous
            depth = t[c0:c1, b]
            z = cam[2] - slope * depth[None, :]  # height where each pixel's ray meets the box
            box = apartment.boxes[b]
            cover = (z >= box.z0) & (z <= box.z1) & (depth[None, :] < zbuf[:, c0:c1])
            if not box.solid:  # a doorway: only the class of the pixels seen through it changes
                classes[:, c0:c1][cover] = box.cls
                continue
            idx = np.full(c1 - c0, b)
            view = (zbuf[:, c0:c1], classes[:, c0:c1], instances[:, c0:c1], color[:, c0:c1])
            self._paint(apartment, cover, idx, depth, face[c0:c1, b], *view)

        # Light falls off with distance; the far end of a room is a little darker.
        color *= (1.0 / (1.0 + 0.06 * np.minimum(zbuf, 20.0)))[..., None] * 1.1
        rgb = np.clip(color, 0, 255).astype(np.uint8)
        depth_mm = np.clip(zbuf * 1000.0, 0, 65535).astype(np.uint16)
        return Frame(rgb, depth_mm, classes, instances)

    @staticmethod
    def _paint(
        apartment: Apartment,
        cover: npt.NDArray[np.bool_],
        box: npt.NDArray[np.intp],
        depth: F64,
        face: npt.NDArray[np.intp],
        zbuf: F64,
        classes: npt.NDArray[np.uint8],
        instances: npt.NDArray[np.int16],
        color: F64,
    ) -> None:
        """Draw, where ``cover`` is set, the box ``box[column]`` seen at ``depth[column]``."""
        h, w = cover.shape
        shade = np.where(face == 0, 0.82, 1.0)  # faces lit unequally, so corners show
        lit = apartment.colors[box] * shade[:, None]  # (W, 3)
        zbuf[cover] = np.broadcast_to(depth[None, :], (h, w))[cover]
        classes[cover] = np.broadcast_to(apartment.classes[box][None, :], (h, w))[cover]
        instances[cover] = np.broadcast_to(box[None, :], (h, w))[cover]
        color[cover] = np.broadcast_to(lit[None], (h, w, 3))[cover]

    def project(self, pose: F64, points: F64) -> F64:
        """Pixel coordinates (N, 2) of world points (N, 3) seen from a robot ``pose`` (NaN behind the camera)."""
        cam = self.position(pose)
        yaw = pose[2]
        rel = points - cam
        fwd = rel[:, 0] * np.cos(yaw) + rel[:, 1] * np.sin(yaw)
        right = rel[:, 0] * np.sin(yaw) - rel[:, 1] * np.cos(yaw)
        down = -rel[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = np.stack([right / fwd, down / fwd], axis=1) * self.focal + [self.width / 2.0, self.height / 2.0]
        uv[fwd < 0.05] = np.nan
        return uv


def lidar_scan(apartment: Apartment, pose: F64, rays: int, *, height: float = 0.1, max_range: float = 8.0) -> F64:
    """Ranges (metres) of a 360 degree scan, counter-clockwise from the robot's heading; inf: no return."""
    angles = pose[2] + np.linspace(0.0, 2 * np.pi, rays, endpoint=False)
    dirs = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    t, _ = apartment.cast(np.array([pose[0], pose[1], height]), dirs)
    blocks = np.array([b.solid and b.z0 <= height <= b.z1 for b in apartment.boxes])
    ranges = np.where(blocks[None, :], t, np.inf).min(axis=1)
    return np.where(ranges <= max_range, ranges, np.inf)


_RANGE_STOPS = np.array([[255, 40, 40], [255, 200, 0], [60, 220, 90], [0, 170, 255], [120, 60, 255]], dtype=np.float64)


def range_colors(ranges: F64, max_range: float = 8.0) -> npt.NDArray[np.uint8]:
    """RGB per range: red when near, through yellow and green, to blue and violet when far."""
    x = np.clip(ranges / max_range, 0.0, 1.0) * (len(_RANGE_STOPS) - 1)
    stops = np.arange(len(_RANGE_STOPS))
    return np.stack([np.interp(x, stops, _RANGE_STOPS[:, c]) for c in range(3)], axis=1).astype(np.uint8)


@dataclass
class Robot:
    """A differential-drive vacuum robot that follows waypoints using its *believed* pose.

    Until ``drift_start`` (a frame number), localization keeps the belief equal to the true
    pose. From then on the robot runs on wheel odometry alone, whose yaw rate is off by
    ``yaw_bias`` radians per second: the believed pose drifts away from the true one while
    the robot keeps steering by it.
    """

    true_pose: F64
    drift_start: int
    yaw_bias: float = float(np.radians(5.0))
    radius: float = 0.17
    frame: int = 0
    believed_pose: F64 = field(init=False)

    def __post_init__(self) -> None:
        self.believed_pose = self.true_pose.copy()

    @property
    def drifting(self) -> bool:
        return self.frame >= self.drift_start

    def command_to(self, target: F64) -> tuple[float, float]:
        """Speed (m/s) and turn rate (rad/s) toward ``target`` (x, y), judged from the believed pose."""
        dx, dy = target - self.believed_pose[:2]
        err = (np.arctan2(dy, dx) - self.believed_pose[2] + np.pi) % (2 * np.pi) - np.pi
        turn = float(np.clip(2.5 * err, -1.5, 1.5))
        if abs(err) > 0.35:
            return 0.0, turn  # turn on the spot first
        return float(min(0.3, np.hypot(dx, dy) * 1.5 + 0.05)), turn

    def step(self, apartment: Apartment, speed: float, turn: float, dt: float) -> Box | None:
        """Drive for ``dt`` seconds; returns the box the bumper hit (the robot then did not move)."""
        x, y, yaw = self.true_pose
        yaw_new = yaw + turn * dt
        mid = (yaw + yaw_new) / 2
        nx, ny = x + speed * dt * np.cos(mid), y + speed * dt * np.sin(mid)
        bumped = apartment.collides(nx, ny, self.radius) if speed > 0 else None
        moved = 0.0 if bumped is not None else speed
        if bumped is None:
            self.true_pose = np.array([nx, ny, yaw_new])
        else:
            self.true_pose = np.array([x, y, yaw_new])
        if self.drifting:
            bx, by, byaw = self.believed_pose
            byaw_new = byaw + (turn + self.yaw_bias) * dt  # the odometry's biased yaw rate
            bmid = (byaw + byaw_new) / 2
            self.believed_pose = np.array([bx + moved * dt * np.cos(bmid), by + moved * dt * np.sin(bmid), byaw_new])
        else:
            self.believed_pose = self.true_pose.copy()
        self.frame += 1
        return bumped
