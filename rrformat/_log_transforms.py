"""Transforms between spaces: log_rigid3, log_pinhole, log_view_coordinates, log_unknown_transform.

A rigid transform is stored as ``parent_from_child`` (it maps points of the child space
into the parent space, spec 9.1 note 3): a translation and a unit quaternion (x, y, z, w).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from . import _convert as cv
from ._errors import ArgumentError, describe_value, log_function
from ._recording import RecordingStream

__all__ = [
    "log_rigid3",
    "log_pinhole",
    "log_view_coordinates",
    "log_unknown_transform",
    "log_disconnected_space",
    "view_coordinates",
    "up_to_view_coordinates",
    "is_right_handed",
    "quat_rotate",
    "invert_rigid",
]

F64 = npt.NDArray[np.float64]

# Each letter is a unit direction in a reference frame where R, F, U are +x, +y, +z; so
# "RFU" is right-handed by definition, and so are "RDF" (OpenCV cameras), "RUB" (OpenGL)
# and "FLU" (ROS bodies), as they should be.
_DIRECTIONS: dict[str, tuple[int, int]] = {
    "R": (0, 1),
    "L": (0, -1),
    "F": (1, 1),
    "B": (1, -1),
    "U": (2, 1),
    "D": (2, -1),
}
_PAIRS = ("R/L", "F/B", "U/D")
_XYZ_EXPECTED = "three letters from R/L (right/left), U/D (up/down), F/B (forward/back), each pair once, e.g. 'RDF'"


def _matrix(xyz: str) -> F64:
    m = np.zeros((3, 3))
    for row, letter in enumerate(xyz):
        axis, sign = _DIRECTIONS[letter]
        m[row, axis] = sign
    return m


def is_right_handed(xyz: str) -> bool:
    """Whether a valid view-coordinates string describes a right-handed system."""
    return bool(np.linalg.det(_matrix(xyz)) > 0)


def view_coordinates(value: Any, arg: str = "xyz") -> str:
    """Validate view coordinates such as ``"RDF"`` (case-insensitive); returns upper case."""
    if not isinstance(value, str):
        raise ArgumentError(arg, describe_value(value), _XYZ_EXPECTED)
    xyz = value.strip().upper()
    unknown = sorted({c for c in xyz if c not in _DIRECTIONS})
    if unknown:
        raise ArgumentError(arg, f"{value!r} with unknown letter(s) {', '.join(unknown)}", _XYZ_EXPECTED)
    if len(xyz) != 3:
        raise ArgumentError(arg, f"{value!r} ({len(xyz)} letters)", _XYZ_EXPECTED)
    axes = [_DIRECTIONS[c][0] for c in xyz]
    if len(set(axes)) != 3:
        twice = sorted({_PAIRS[a] for a in axes if axes.count(a) > 1})
        raise ArgumentError(arg, f"{value!r}, which uses the {' and '.join(twice)} axis twice", _XYZ_EXPECTED)
    return xyz


_UP_EXPECTED = "one of '+X', '-X', '+Y', '-Y', '+Z', '-Z' (the axis that points up)"


def up_to_view_coordinates(up: Any, right_handed: bool = True, arg: str = "up") -> str:
    """The view coordinates of a space whose ``up`` axis is given.

    The rule: the up axis gets ``U`` (``+``) or ``D`` (``-``); the first remaining axis,
    in X, Y, Z order, gets ``R``; the last one gets ``F`` or ``B``, whichever gives the
    asked handedness. So ``+Z`` is ``"RFU"``, ``+Y`` is ``"RUB"``, ``-Y`` is ``"RDF"``,
    ``+X`` is ``"URF"`` (all right-handed); left-handed ``+Z`` is ``"RBU"``.
    """
    if not isinstance(up, str):
        raise ArgumentError(arg, describe_value(up), _UP_EXPECTED)
    text = up.strip().upper()
    if len(text) == 1:
        text = "+" + text
    if len(text) != 2 or text[0] not in "+-" or text[1] not in "XYZ":
        raise ArgumentError(arg, repr(up), _UP_EXPECTED)
    axis = "XYZ".index(text[1])
    letters = ["", "", ""]
    letters[axis] = "U" if text[0] == "+" else "D"
    first, last = (i for i in range(3) if i != axis)
    letters[first] = "R"
    letters[last] = "F"
    if is_right_handed("".join(letters)) != right_handed:
        letters[last] = "B"
    return "".join(letters)


def _vector(value: Any, arg: str, part: str, n: int) -> F64:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ArgumentError(arg, f"{part} {describe_value(value)}", f"{n} numbers") from None
    if arr.shape != (n,):
        raise ArgumentError(arg, f"{part} {describe_value(value)}", f"a {part} of {n} numbers")
    if not np.isfinite(arr).all():
        raise ArgumentError(arg, f"{part} {arr.tolist()} with NaN or infinite values", f"a {part} of finite numbers")
    return arr


def _rigid(value: Any, arg: str) -> tuple[F64, F64]:
    """A (translation, quaternion) pair, the quaternion normalised."""
    expected = "a pair (translation [x, y, z], rotation quaternion [x, y, z, w])"
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ArgumentError(arg, describe_value(value), expected)
    t = _vector(value[0], arg, "translation", 3)
    q = _vector(value[1], arg, "rotation quaternion (x, y, z, w)", 4)
    norm = float(np.linalg.norm(q))
    if norm < 1e-12:
        raise ArgumentError(arg, f"the zero quaternion {q.tolist()}", "a non-zero rotation quaternion (x, y, z, w)")
    return t, q / norm


def quat_rotate(q: F64, v: F64) -> F64:
    """Rotate ``v`` (3,) by the unit quaternion ``q`` (x, y, z, w)."""
    u, w = q[:3], q[3]
    uv = np.cross(u, v)
    out: F64 = v + 2.0 * (w * uv + np.cross(u, uv))
    return out


def invert_rigid(translation: F64, rotation: F64) -> tuple[F64, F64]:
    """The inverse of ``p -> R p + t``: ``p -> R^T p - R^T t`` (R^T is the conjugate quaternion)."""
    conj = np.array([-rotation[0], -rotation[1], -rotation[2], rotation[3]])
    return -quat_rotate(conj, translation), conj


def _floats(v: F64) -> list[float]:
    return [float(x) for x in v]


@log_function
def log_rigid3(
    entity_path: str,
    *,
    parent_from_child: Any = None,
    child_from_parent: Any = None,
    xyz: str | None = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log the pose of a space relative to its parent (e.g. a camera in the world).

    Give exactly one of ``parent_from_child`` and ``child_from_parent``.

    Parameters
    ----------
    entity_path
        The child space, e.g. ``"world/camera"``; its parent is ``"world"``.
    parent_from_child
        ``(translation, rotation)``: translation ``[x, y, z]`` in the parent's units and
        rotation quaternion ``[x, y, z, w]`` (scalar last). It maps a point of the child
        space into the parent space: ``p_parent = R p_child + t``. For a camera this is
        its pose (the camera's position and orientation in the world).
    child_from_parent
        The inverse transform, ``p_child = R p_parent + t`` (e.g. a camera's extrinsics
        as computer-vision libraries give them). It is inverted before storing.
    xyz
        Optional view coordinates of the child space, e.g. ``"RDF"`` for a camera
        (see :func:`log_view_coordinates`).
    timeless
        Log for all timelines instead of at the current time.
    recording
        The recording to log to (default: the global one).

    Notes
    -----
    Stored as data kind ``rigid3``: ``translation`` and ``rotation`` (parent from child;
    the quaternion normalised to unit length, float32) and optionally
    ``view_coordinates``. NaN or infinite values, a zero quaternion or a wrong length are
    refused.

    Examples
    --------
    >>> # a camera 1.5 m above the world origin, rotated 90 degrees about Z
    >>> s = np.sqrt(0.5)
    >>> rr.log_rigid3("world/camera", parent_from_child=([0, 0, 1.5], [0, 0, s, s]), xyz="RDF")  # doctest: +SKIP
    """
    assert recording is not None
    entity = recording.entity(entity_path)
    if (parent_from_child is None) == (child_from_parent is None):
        got = "both" if parent_from_child is not None else "neither"
        raise ArgumentError(
            "parent_from_child",
            f"{got} parent_from_child and child_from_parent",
            "exactly one of them, a (translation, rotation) pair",
        )
    if parent_from_child is not None:
        t, q = _rigid(parent_from_child, "parent_from_child")
    else:
        t, q = invert_rigid(*_rigid(child_from_parent, "child_from_parent"))
    cells: dict[str, Any] = {"translation": _floats(t), "rotation": _floats(q)}
    if xyz is not None:
        cells["view_coordinates"] = view_coordinates(xyz, "xyz")
    recording.log_row(entity, "rigid3", cells, timeless=timeless, nbytes=96)


def _positive(value: Any, arg: str, what: str) -> float:
    if value is None:
        raise ArgumentError(arg, "None", f"{what} (a positive number; required)")
    x = cv.finite_scalar(value, arg)
    if x <= 0:
        raise ArgumentError(arg, repr(value), f"{what} (a positive number)")
    return x


@log_function
def log_pinhole(
    entity_path: str,
    *,
    child_from_parent: Any = None,
    focal_length_px: Any = None,
    principal_point_px: Any = None,
    width: float | None = None,
    height: float | None = None,
    camera_xyz: str | None = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log a pinhole camera: the projection from a camera space into its image.

    Give either the intrinsics matrix ``child_from_parent`` or ``focal_length_px``
    (with an optional ``principal_point_px``), not both.

    Parameters
    ----------
    entity_path
        The image space, e.g. ``"world/camera/image"``; its parent (``"world/camera"``)
        is the 3D camera space. Log images and 2D detections at or under this path.
    child_from_parent
        The 3x3 intrinsics matrix K (image from camera), row-major, in pixels::

            [[fx,  0, cx],
             [ 0, fy, cy],
             [ 0,  0,  1]]

        Any finite, invertible 3x3 matrix is accepted (a skew term too).
    focal_length_px
        Focal length in pixels: one number (fx = fy) or ``(fx, fy)``, positive.
    principal_point_px
        ``(cx, cy)`` in pixels; default the image centre ``(width / 2, height / 2)``.
        Only with ``focal_length_px``.
    width, height
        Image resolution in pixels (positive; required).
    camera_xyz
        Optional view coordinates of the camera space, e.g. ``"RDF"`` (the OpenCV
        convention: X right, Y down, Z forward), stored with the pinhole.
    timeless
        Log for all timelines instead of at the current time.
    recording
        The recording to log to (default: the global one).

    Notes
    -----
    Stored as data kind ``pinhole``: ``image_from_camera`` (the 3x3 matrix as 9 float32,
    row-major), ``resolution`` ``(width, height)`` and optionally ``view_coordinates``.

    Examples
    --------
    >>> rr.log_pinhole("world/camera/image", focal_length_px=500, width=640, height=480)  # doctest: +SKIP
    >>> K = np.array([[525.0, 0, 319.5], [0, 525.0, 239.5], [0, 0, 1]])
    >>> rr.log_pinhole("world/camera/image", child_from_parent=K, width=640, height=480)  # doctest: +SKIP
    """
    assert recording is not None
    entity = recording.entity(entity_path)
    w = _positive(width, "width", "the image width in pixels")
    h = _positive(height, "height", "the image height in pixels")
    if (child_from_parent is None) == (focal_length_px is None):
        got = "both" if child_from_parent is not None else "neither"
        raise ArgumentError(
            "child_from_parent",
            f"{got} child_from_parent and focal_length_px",
            "exactly one: a 3x3 intrinsics matrix, or focal_length_px (and principal_point_px)",
        )
    if child_from_parent is not None:
        if principal_point_px is not None:
            raise ArgumentError(
                "principal_point_px",
                describe_value(principal_point_px),
                "None when child_from_parent is given (the matrix holds the principal point)",
            )
        try:
            k = np.asarray(child_from_parent, dtype=np.float64)
        except (TypeError, ValueError):
            raise ArgumentError("child_from_parent", describe_value(child_from_parent), "a 3x3 matrix") from None
        if k.shape != (3, 3):
            raise ArgumentError("child_from_parent", describe_value(child_from_parent), "a 3x3 intrinsics matrix")
        if not np.isfinite(k).all():
            raise ArgumentError("child_from_parent", f"{k.tolist()} with NaN or infinite values", "finite numbers")
        if abs(float(np.linalg.det(k))) < 1e-12:
            raise ArgumentError("child_from_parent", f"the singular matrix {k.tolist()}", "an invertible 3x3 matrix")
    else:
        try:
            f = np.asarray(focal_length_px, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            f = np.zeros(0)
        if f.shape not in ((1,), (2,)) or not np.isfinite(f).all() or (f <= 0).any():
            raise ArgumentError(
                "focal_length_px", describe_value(focal_length_px), "a positive number or (fx, fy) in pixels"
            )
        fx, fy = float(f[0]), float(f[-1])
        cx, cy = w / 2.0, h / 2.0
        if principal_point_px is not None:
            cx, cy = _vector(principal_point_px, "principal_point_px", "principal point (cx, cy)", 2)
        k = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
    cells: dict[str, Any] = {"image_from_camera": _floats(k.reshape(-1)), "resolution": [w, h]}
    if camera_xyz is not None:
        cells["view_coordinates"] = view_coordinates(camera_xyz, "camera_xyz")
    recording.log_row(entity, "pinhole", cells, timeless=timeless, nbytes=96)


@log_function
def log_view_coordinates(
    entity_path: str,
    *,
    xyz: str | None = None,
    up: str | None = None,
    right_handed: bool | None = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log what the X, Y and Z axes of a space mean (which way is right, up, forward).

    Give either ``xyz`` or ``up``.

    Parameters
    ----------
    entity_path
        The space, e.g. ``"world"`` or ``"world/camera"``.
    xyz
        Three letters, one per axis X, Y, Z, from ``R``/``L`` (right/left), ``U``/``D``
        (up/down) and ``F``/``B`` (forward/back), each pair used once (any case):
        ``"RDF"`` (X right, Y down, Z forward: OpenCV cameras), ``"RUB"`` (OpenGL),
        ``"FLU"`` (ROS bodies), ``"RFU"`` (east-north-up maps).
    up
        For world spaces: which axis points up, ``"+X"``, ``"-X"``, ``"+Y"``, ``"-Y"``,
        ``"+Z"`` or ``"-Z"`` (a missing sign means ``+``). It is stored as an ``xyz`` string
        by this rule: the up axis gets ``U`` (``D`` for ``-``), the first remaining axis in
        X, Y, Z order gets ``R``, the last gets ``F`` or ``B`` to give the asked
        handedness. Right-handed: ``+Z`` -> ``"RFU"``, ``-Z`` -> ``"RBD"``, ``+Y`` ->
        ``"RUB"``, ``-Y`` -> ``"RDF"``, ``+X`` -> ``"URF"``, ``-X`` -> ``"DRB"``.
    right_handed
        With ``up``: the handedness wanted (default True). With ``xyz``: if given, it
        must match the handedness of ``xyz`` (a check).
    timeless
        Log for all timelines instead of at the current time (usual for a world's up axis).
    recording
        The recording to log to (default: the global one).

    Notes
    -----
    Stored as data kind ``view_coordinates`` with a ``view_coordinates`` string component.

    Examples
    --------
    >>> rr.log_view_coordinates("world", up="+Z", timeless=True)  # doctest: +SKIP
    >>> rr.log_view_coordinates("world/camera", xyz="RDF")  # doctest: +SKIP
    """
    assert recording is not None
    entity = recording.entity(entity_path)
    if (xyz is None) == (up is None):
        got = "both xyz and up" if xyz is not None else "neither xyz nor up"
        raise ArgumentError("xyz", got, "exactly one of xyz (e.g. 'RDF') or up (e.g. '+Z')")
    if right_handed is not None and not isinstance(right_handed, (bool, np.bool_)):
        raise ArgumentError("right_handed", describe_value(right_handed), "True, False or None")
    if xyz is not None:
        text = view_coordinates(xyz, "xyz")
        if right_handed is not None and is_right_handed(text) != bool(right_handed):
            hand = "right" if is_right_handed(text) else "left"
            raise ArgumentError(
                "right_handed", f"{right_handed!r} for the {hand}-handed {text!r}", "None or the handedness of xyz"
            )
    else:
        text = up_to_view_coordinates(up, True if right_handed is None else bool(right_handed))
    recording.log_row(entity, "view_coordinates", {"view_coordinates": text}, timeless=timeless, nbytes=48)


@log_function
def log_unknown_transform(
    entity_path: str,
    *,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log that a space is not connected to its parent (their transform is unknown).

    Parameters
    ----------
    entity_path
        The child space, e.g. ``"world/lost_robot"``. A later :func:`log_rigid3` on the
        same path connects it again.
    timeless
        Log for all timelines instead of at the current time.
    recording
        The recording to log to (default: the global one).

    Notes
    -----
    Stored as data kind ``unknown_transform`` with component ``disconnected = True``.
    ``log_disconnected_space`` is the same function.

    Examples
    --------
    >>> rr.log_unknown_transform("world/camera")  # doctest: +SKIP
    """
    assert recording is not None
    entity = recording.entity(entity_path)
    recording.log_row(entity, "unknown_transform", {"disconnected": True}, timeless=timeless, nbytes=40)


log_disconnected_space = log_unknown_transform
"""Another name of :func:`log_unknown_transform`."""
