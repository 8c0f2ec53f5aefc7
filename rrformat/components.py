"""The component types and data kinds of the format, with their Arrow types.

A *component* is one named column of a chunk (``positions3d``, ``colors``...). Its
Arrow type is fixed by this catalog so that every reader can interpret it. A
component is either *batched* (each row holds a list of instances, e.g. the points
of one log call) or *mono* (each row holds one value, e.g. one scalar).

A *data kind* is what one entity path holds (``points3d``, ``image``...): the set of
components a chunk of that kind may carry. Transforms, pinholes, view coordinates
and annotation contexts are kinds that may share a path with data.

Names not in the catalog are user extension components and may have any Arrow type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa

__all__ = [
    "ComponentType",
    "DataKind",
    "COMPONENTS",
    "DATA_KINDS",
    "COLOR_TYPE",
    "TENSOR_TYPE",
    "CLASS_DESCRIPTION_TYPE",
    "SIDE_KINDS",
    "column_type",
    "component",
    "data_kind",
]


@dataclass(frozen=True, slots=True)
class ComponentType:
    """One named component: its per-instance Arrow type and whether rows hold lists."""

    name: str
    instance_type: pa.DataType
    batched: bool
    doc: str

    @property
    def column_type(self) -> pa.DataType:
        """The Arrow type of the chunk column (a list per row for batched components)."""
        return pa.list_(self.instance_type) if self.batched else self.instance_type


@dataclass(frozen=True, slots=True)
class DataKind:
    """What an entity path holds: required and optional components."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    doc: str

    @property
    def components(self) -> tuple[str, ...]:
        return self.required + self.optional


def _vec(n: int, t: pa.DataType | None = None) -> pa.DataType:
    return pa.list_(pa.field("item", t or pa.float32(), nullable=False), n)


COLOR_TYPE = _vec(4, pa.uint8())
"""RGBA, 8 bits per channel, sRGB with linear alpha."""

TENSOR_TYPE = pa.struct(
    [
        pa.field("shape", pa.list_(pa.uint64()), nullable=False),
        pa.field("names", pa.list_(pa.utf8()), nullable=True),
        pa.field("dtype", pa.utf8(), nullable=False),
        pa.field("data", pa.large_binary(), nullable=False),
    ]
)
"""An n-dimensional array: its shape, optional dimension names, numpy dtype name
(``uint8``, ``uint16``, ``float32``...), and one contiguous little-endian C-order buffer."""

_KEYPOINT_TYPE = pa.struct(
    [
        pa.field("id", pa.uint16(), nullable=False),
        pa.field("label", pa.utf8()),
        pa.field("color", COLOR_TYPE),
    ]
)
CLASS_DESCRIPTION_TYPE = pa.struct(
    [
        pa.field("id", pa.uint16(), nullable=False),
        pa.field("label", pa.utf8()),
        pa.field("color", COLOR_TYPE),
        pa.field("keypoints", pa.list_(_KEYPOINT_TYPE)),
        pa.field("keypoint_connections", pa.list_(_vec(2, pa.uint16()))),
    ]
)
"""One class of an annotation context: id, label, colour, its keypoints and their connections."""

_COMPONENT_LIST = [
    # --- batched: one list of instances per row -------------------------------------
    ComponentType("positions2d", _vec(2), True, "2D positions (x, y), in the space's units (pixels in images)."),
    ComponentType("positions3d", _vec(3), True, "3D positions (x, y, z), in the space's units."),
    ComponentType("colors", COLOR_TYPE, True, "RGBA colour per instance."),
    ComponentType("radii", pa.float32(), True, "Radius per instance, in the space's units."),
    ComponentType("labels", pa.utf8(), True, "Text label per instance."),
    ComponentType("class_ids", pa.uint16(), True, "Class id per instance, looked up in the annotation context."),
    ComponentType("keypoint_ids", pa.uint16(), True, "Keypoint id per instance, within its class."),
    ComponentType("instance_ids", pa.uint64(), True, "User-chosen identifier per instance."),
    ComponentType("rects", _vec(4), True, "2D rectangles as (x, y, width, height) from the minimum corner."),
    ComponentType("half_sizes", _vec(3), True, "Half extents of oriented boxes along their local axes."),
    ComponentType("centers", _vec(3), True, "Centres of oriented boxes."),
    ComponentType("rotations", _vec(4), True, "Rotation quaternions (x, y, z, w) of oriented boxes."),
    ComponentType("stroke_widths", pa.float32(), True, "Line width per instance, in the space's units."),
    ComponentType("strips2d", pa.list_(_vec(2)), True, "2D line strips, each a list of vertices."),
    ComponentType("strips3d", pa.list_(_vec(3)), True, "3D line strips, each a list of vertices."),
    ComponentType("origins", _vec(3), True, "Arrow start points."),
    ComponentType("vectors", _vec(3), True, "Arrow directions and lengths (tip = origin + vector)."),
    ComponentType("width_scales", pa.float32(), True, "Arrow shaft width."),
    # --- mono: one value per row -------------------------------------------------------
    ComponentType("draw_order", pa.float32(), False, "Drawing order in 2D views; higher is drawn on top."),
    ComponentType("vertex_positions", pa.list_(_vec(3)), False, "Mesh vertex positions."),
    ComponentType("triangle_indices", pa.list_(pa.uint32()), False, "Mesh triangles, 3 vertex indices each."),
    ComponentType("vertex_normals", pa.list_(_vec(3)), False, "Mesh vertex normals."),
    ComponentType("vertex_colors", pa.list_(COLOR_TYPE), False, "Mesh vertex colours."),
    ComponentType("albedo_factor", _vec(4), False, "Mesh base colour factor, linear RGBA 0-1."),
    ComponentType("mesh_blob", pa.large_binary(), False, "An encoded mesh file (GLB, glTF or OBJ bytes)."),
    ComponentType("mesh_format", pa.utf8(), False, "Format of mesh_blob: 'glb', 'gltf' or 'obj'."),
    ComponentType("mesh_transform", _vec(12), False, "Affine 3x4 transform (row-major) applied to a mesh file."),
    ComponentType("tensor", TENSOR_TYPE, False, "Image or tensor: shape, dtype and one contiguous buffer."),
    ComponentType("meter", pa.float32(), False, "Depth image units: how many values make one metre."),
    ComponentType("encoded_image", pa.large_binary(), False, "An encoded image file (JPEG or PNG bytes)."),
    ComponentType("image_format", pa.utf8(), False, "Format of encoded_image: 'jpeg' or 'png'."),
    ComponentType("scalar", pa.float64(), False, "One number of a time series."),
    ComponentType("label", pa.utf8(), False, "Label of a scalar series."),
    ComponentType("color", COLOR_TYPE, False, "Colour of a scalar point or text entry."),
    ComponentType("radius", pa.float32(), False, "Radius of a scalar point in plots."),
    ComponentType("scattered", pa.bool_(), False, "Plot the scalar as a point instead of a line."),
    ComponentType("text", pa.utf8(), False, "A text log entry."),
    ComponentType("level", pa.utf8(), False, "Log level of a text entry (TRACE, DEBUG, INFO, WARN, ERROR...)."),
    ComponentType("translation", _vec(3), False, "Rigid transform translation, parent from child."),
    ComponentType("rotation", _vec(4), False, "Rigid transform rotation quaternion (x, y, z, w), parent from child."),
    ComponentType("image_from_camera", _vec(9), False, "Pinhole intrinsics, a row-major 3x3 matrix."),
    ComponentType("resolution", _vec(2), False, "Pinhole image size (width, height) in pixels."),
    ComponentType(
        "view_coordinates", pa.utf8(), False, "Meaning of the X, Y, Z axes, three letters from R/L, U/D, F/B."
    ),
    ComponentType("disconnected", pa.bool_(), False, "The entity's space is not connected to its parent's."),
    ComponentType("class_descriptions", pa.list_(CLASS_DESCRIPTION_TYPE), False, "Annotation context: the class map."),
    ComponentType("recursive", pa.bool_(), False, "A clear that applies to the whole subtree."),
]

COMPONENTS: Mapping[str, ComponentType] = {c.name: c for c in _COMPONENT_LIST}
"""Every component of the format by name."""

_COMMON_2D = ("colors", "radii", "labels", "class_ids", "keypoint_ids", "instance_ids", "draw_order")
_COMMON_SHAPES = ("colors", "labels", "class_ids", "instance_ids")
_TENSOR_OPTS = ("meter", "draw_order")

_KIND_LIST = [
    DataKind("points2d", ("positions2d",), _COMMON_2D, "2D point cloud."),
    DataKind("points3d", ("positions3d",), _COMMON_2D[:-1], "3D point cloud."),
    DataKind("rects2d", ("rects",), (*_COMMON_SHAPES, "stroke_widths", "draw_order"), "2D rectangles."),
    DataKind("boxes3d", ("half_sizes",), ("centers", "rotations", "stroke_widths", *_COMMON_SHAPES), "3D boxes."),
    DataKind("line_strips2d", ("strips2d",), ("stroke_widths", *_COMMON_SHAPES, "draw_order"), "2D lines."),
    DataKind("line_strips3d", ("strips3d",), ("stroke_widths", *_COMMON_SHAPES), "3D lines."),
    DataKind("arrows3d", ("origins", "vectors"), ("width_scales", *_COMMON_SHAPES), "3D arrows."),
    DataKind(
        "mesh3d",
        ("vertex_positions",),
        ("triangle_indices", "vertex_normals", "vertex_colors", "albedo_factor"),
        "Triangle mesh.",
    ),
    DataKind("mesh_file", ("mesh_blob", "mesh_format"), ("mesh_transform",), "Encoded mesh file."),
    DataKind("image", ("tensor",), _TENSOR_OPTS, "Gray, RGB or RGBA image (HxW, HxWx3, HxWx4)."),
    DataKind("depth_image", ("tensor",), _TENSOR_OPTS, "Depth image; meter converts values to metres."),
    DataKind("segmentation_image", ("tensor",), _TENSOR_OPTS, "Image of class ids."),
    DataKind("tensor", ("tensor",), _TENSOR_OPTS, "N-dimensional tensor."),
    DataKind("encoded_image", ("encoded_image", "image_format"), ("draw_order",), "JPEG or PNG image."),
    DataKind("scalar", ("scalar",), ("label", "color", "radius", "scattered"), "Time series value."),
    DataKind("text_entry", ("text",), ("level", "color"), "Text log entry."),
    DataKind("rigid3", ("translation", "rotation"), ("view_coordinates",), "Rigid transform to the parent."),
    DataKind("pinhole", ("image_from_camera", "resolution"), ("view_coordinates",), "Camera projection."),
    DataKind("view_coordinates", ("view_coordinates",), (), "Axis meaning of the entity's space."),
    DataKind("unknown_transform", ("disconnected",), (), "The space is disconnected from its parent."),
    DataKind("annotation_context", ("class_descriptions",), (), "Class id to label, colour and keypoints."),
    DataKind("clear", ("recursive",), (), "Clears the entity (and its subtree if recursive)."),
    DataKind("extension", (), (), "User extension components, any Arrow columns."),
]

DATA_KINDS: Mapping[str, DataKind] = {k.name: k for k in _KIND_LIST}
"""Every data kind of the format by name."""

SIDE_KINDS = frozenset({"rigid3", "pinhole", "view_coordinates", "unknown_transform", "annotation_context", "clear"})
"""Kinds that may share a path with the path's data kind."""


def component(name: str) -> ComponentType:
    """Look up a component type by name; ``KeyError`` lists the known names."""
    try:
        return COMPONENTS[name]
    except KeyError:
        raise KeyError(f"unknown component {name!r}; known: {', '.join(sorted(COMPONENTS))}") from None


def data_kind(name: str) -> DataKind:
    """Look up a data kind by name; ``KeyError`` lists the known kinds."""
    try:
        return DATA_KINDS[name]
    except KeyError:
        raise KeyError(f"unknown data kind {name!r}; known: {', '.join(sorted(DATA_KINDS))}") from None


def column_type(name: str) -> pa.DataType | None:
    """The Arrow column type of a catalogued component, or None for an extension name."""
    c = COMPONENTS.get(name)
    return c.column_type if c is not None else None
