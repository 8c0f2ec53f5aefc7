"""log_annotation_context (class ids to labels, colours and keypoint skeletons) and log_cleared."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from . import _convert as cv
from ._errors import ArgumentError, describe_value, log_function
from ._recording import RecordingStream
from .components import CLASS_DESCRIPTION_TYPE

__all__ = ["AnnotationInfo", "ClassDescription", "log_annotation_context", "log_cleared", "annotation_cell"]

_MAX_ID = 0xFFFF


@dataclass(frozen=True)
class AnnotationInfo:
    """The label and colour of a class id or of a keypoint id.

    Parameters
    ----------
    id
        The class id (or keypoint id within its class), 0..65535.
    label
        Optional text shown for it.
    color
        Optional colour: RGB or RGBA, uint8 0-255 or float 0-1.

    Examples
    --------
    >>> AnnotationInfo(1, "car", (255, 0, 0))
    AnnotationInfo(id=1, label='car', color=(255, 0, 0))
    """

    id: int
    label: str | None = None
    color: Any = None


@dataclass(frozen=True)
class ClassDescription:
    """One class of an annotation context, with its keypoints and skeleton.

    Parameters
    ----------
    info
        The class: an :class:`AnnotationInfo` or a tuple ``(id, label)`` /
        ``(id, label, color)``.
    keypoint_annotations
        The labels and colours of the class's keypoint ids (each an
        :class:`AnnotationInfo` or a tuple).
    keypoint_connections
        Pairs of keypoint ids joined by a line (a skeleton), e.g. ``[(0, 1), (1, 2)]``.

    Examples
    --------
    >>> person = ClassDescription(
    ...     info=AnnotationInfo(1, "person"),
    ...     keypoint_annotations=[AnnotationInfo(0, "nose"), AnnotationInfo(1, "left eye")],
    ...     keypoint_connections=[(0, 1)],
    ... )
    """

    info: AnnotationInfo | tuple[Any, ...]
    keypoint_annotations: Sequence[AnnotationInfo | tuple[Any, ...]] = field(default_factory=list)
    keypoint_connections: Sequence[Sequence[int]] = field(default_factory=list)


def _id(value: Any, arg: str, what: str) -> int:
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise ArgumentError(arg, f"{what} {describe_value(value)}", f"an integer id in 0..{_MAX_ID}")
    i = int(value)
    if not 0 <= i <= _MAX_ID:
        raise ArgumentError(arg, f"{what} {i}", f"an integer id in 0..{_MAX_ID}")
    return i


def _info(value: Any, arg: str, what: str) -> dict[str, Any]:
    """An AnnotationInfo or an ``(id[, label[, color]])`` tuple as a struct value."""
    if isinstance(value, AnnotationInfo):
        ident, label, color = value.id, value.label, value.color
    elif isinstance(value, tuple) and 1 <= len(value) <= 3:
        ident, label, color = (*value, None, None)[:3]
    elif hasattr(value, "__index__") and not isinstance(value, bool):
        ident, label, color = value, None, None
    else:
        raise ArgumentError(
            arg, f"{what} {describe_value(value)}", "AnnotationInfo(id, label, color) or a tuple (id, label[, color])"
        )
    i = _id(ident, arg, f"{what} id")
    if label is not None and not isinstance(label, str):
        raise ArgumentError(arg, f"label {describe_value(label)} of {what} {i}", "a string or None")
    rgba = cv.color(color, arg) if color is not None else None
    return {"id": i, "label": label, "color": rgba}


def _class(value: Any, arg: str) -> dict[str, Any]:
    if not isinstance(value, ClassDescription):
        out = _info(value, arg, "class")
        out["keypoints"] = []
        out["keypoint_connections"] = []
        return out
    out = _info(value.info, arg, "class")
    cid = out["id"]
    keypoints = [_info(k, arg, f"keypoint of class {cid}") for k in value.keypoint_annotations]
    ids = [k["id"] for k in keypoints]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ArgumentError(arg, f"keypoint id(s) {dupes} described twice in class {cid}", "unique keypoint ids")
    pairs = []
    for pair in value.keypoint_connections:
        if isinstance(pair, (str, bytes)) or not hasattr(pair, "__len__") or len(pair) != 2:
            raise ArgumentError(
                arg, f"keypoint connection {describe_value(pair)} of class {cid}", "pairs (keypoint id, keypoint id)"
            )
        pairs.append([_id(p, arg, f"keypoint connection of class {cid}") for p in pair])
    out["keypoints"] = keypoints
    out["keypoint_connections"] = pairs
    return out


def _is_single(value: Any) -> bool:
    """A lone class (ClassDescription, AnnotationInfo or an (id, ...) tuple) rather than a list of them."""
    if isinstance(value, (ClassDescription, AnnotationInfo)):
        return True
    return (
        isinstance(value, tuple)
        and len(value) > 0
        and hasattr(value[0], "__index__")
        and not isinstance(value[0], bool)
    )


def annotation_cell(value: Any, arg: str = "class_descriptions") -> pa.Array:
    """The ``class_descriptions`` cell (a list array of one row) of an annotation context."""
    if _is_single(value):
        items = [value]
    elif isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ArgumentError(
            arg, describe_value(value), "a ClassDescription, an AnnotationInfo, an (id, label[, color]) tuple or a list"
        )
    else:
        items = list(value)
    classes = [_class(item, arg) for item in items]
    ids = [c["id"] for c in classes]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ArgumentError(arg, f"class id(s) {dupes} described twice", "each class id described once")
    return pa.array([classes], type=pa.list_(CLASS_DESCRIPTION_TYPE))


@log_function
def log_annotation_context(
    entity_path: str,
    class_descriptions: Any,
    *,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log the meaning of class ids: labels, colours and keypoint skeletons.

    Class ids of points, boxes and segmentation images at this path and under it are
    looked up here (the closest context up the tree wins).

    Parameters
    ----------
    entity_path
        Where the context applies, e.g. ``"world"`` or ``"camera"``.
    class_descriptions
        One class or a list of classes, each a :class:`ClassDescription` (with keypoints
        and connections), an :class:`AnnotationInfo`, or a tuple ``(id, label)`` /
        ``(id, label, color)``. Ids are integers 0..65535, each described once; colours
        are RGB or RGBA, uint8 0-255 or float 0-1. An empty list clears the classes.
    timeless
        Log for all timelines (usual: a context rarely changes).
    recording
        The recording to log to (default: the global one).

    Notes
    -----
    Stored as data kind ``annotation_context`` with one ``class_descriptions`` value per
    row: a list of structs (id, label, color, keypoints, keypoint_connections).

    Examples
    --------
    >>> rr.log_annotation_context(  # doctest: +SKIP
    ...     "camera",
    ...     [(0, "background", (0, 0, 0)), (1, "car", (255, 0, 0)),
    ...      rr.ClassDescription(info=rr.AnnotationInfo(2, "person"),
    ...                          keypoint_annotations=[rr.AnnotationInfo(0, "head"), rr.AnnotationInfo(1, "hand")],
    ...                          keypoint_connections=[(0, 1)])],
    ...     timeless=True,
    ... )
    """
    assert recording is not None
    entity = recording.entity(entity_path)
    cell = annotation_cell(class_descriptions)
    recording.log_row(entity, "annotation_context", {"class_descriptions": cell}, timeless=timeless, nbytes=cell.nbytes)


@log_function
def log_cleared(
    entity_path: str,
    *,
    recursive: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log that an entity is cleared from now on (it stops being shown until logged again).

    Parameters
    ----------
    entity_path
        The entity to clear, e.g. ``"world/detections/#3"``.
    recursive
        Also clear every entity under the path.
    recording
        The recording to log to (default: the global one).

    Notes
    -----
    Stored as data kind ``clear`` with component ``recursive``, at the current time
    (a clear is never timeless).

    Examples
    --------
    >>> rr.log_cleared("world/detections", recursive=True)  # doctest: +SKIP
    """
    assert recording is not None
    entity = recording.entity(entity_path)
    if not isinstance(recursive, bool):
        raise ArgumentError("recursive", describe_value(recursive), "True or False")
    recording.log_row(entity, "clear", {"recursive": recursive}, timeless=False, nbytes=40)
