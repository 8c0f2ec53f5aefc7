"""log_mesh and log_mesh_file: triangle meshes, raw or as encoded files (GLB, glTF, OBJ)."""

from __future__ import annotations

import enum
import os
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from . import _convert as cv
from ._errors import ArgumentError, describe_value, log_function
from ._log_shapes import float64_array, float_rows, parse_enum
from ._recording import RecordingStream
from .components import COMPONENTS

__all__ = ["MeshFormat", "log_mesh", "log_mesh_file"]

_GLB_MAGIC = b"glTF"


def _mono_list(values: pa.Array, component: str) -> pa.Array:
    """One row of a mono list component: a length-1 array of the catalog's column type."""
    offsets = pa.array([0, len(values)], type=pa.int32())
    # Cast: the catalog's fixed-size lists have non-nullable items, and the batcher
    # concatenates mono cells as they are, so each cell must already have the exact type.
    return pa.ListArray.from_arrays(offsets, values).cast(COMPONENTS[component].column_type)


def _indices(value: Any, n_vertices: int) -> npt.NDArray[np.uint32]:
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise ArgumentError("indices", describe_value(value), f"integer triangle indices ({exc})") from None
    if arr.size == 0 and arr.dtype.kind == "f":
        arr = arr.astype(np.int64)  # np.asarray([]) is float64; an empty list is fine
    if not np.issubdtype(arr.dtype, np.integer):
        raise ArgumentError("indices", describe_value(value), "integer vertex indices (Mx3 or a flat 3M array)")
    if arr.ndim == 1 and arr.shape[0] % 3 == 0:
        arr = arr.reshape(-1, 3)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ArgumentError("indices", describe_value(value), "an array of shape Mx3 (or a flat array of 3M indices)")
    if arr.size and (int(arr.min()) < 0 or int(arr.max()) >= n_vertices):
        raise ArgumentError(
            "indices",
            f"{describe_value(value)} with values {int(arr.min())}..{int(arr.max())}",
            f"vertex indices in 0..{n_vertices - 1} (the mesh has {n_vertices} vertices)",
        )
    return np.ascontiguousarray(arr, dtype=np.uint32).reshape(-1)


def _albedo(value: Any) -> list[float]:
    arr = float64_array(value, "albedo_factor")
    if arr.shape not in ((3,), (4,)):
        raise ArgumentError("albedo_factor", describe_value(value), "one RGB or RGBA colour of floats 0-1")
    if float(arr.min()) < 0.0 or float(arr.max()) > 1.0:
        raise ArgumentError(
            "albedo_factor", f"{describe_value(value)} with values {arr.min():g}..{arr.max():g}", "floats in 0-1"
        )
    return [float(x) for x in arr] + ([1.0] if arr.shape == (3,) else [])


@log_function
def log_mesh(
    entity_path: str,
    positions: Any,
    *,
    indices: Any = None,
    normals: Any = None,
    albedo_factor: Any = None,
    vertex_colors: Any = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log a 3D triangle mesh.

    Parameters
    ----------
    entity_path
        Path of the mesh, e.g. ``"world/map/floor"``.
    positions
        Nx3 vertex positions in the space's units (or a flat array of 3N numbers),
        stored as float32. NaN is refused.
    indices
        Optional Mx3 triangles (or a flat array of 3M), integer indices into the
        vertices, each in ``0..N-1``; stored as uint32. Without indices, every three
        consecutive vertices make a triangle.
    normals
        Optional Nx3 vertex normals (or a flat 3N array), one per vertex.
    albedo_factor
        Optional base colour of the whole mesh: RGB or RGBA floats in 0-1 (linear);
        alpha defaults to 1.
    vertex_colors
        Optional colours: one for all vertices or N, RGB or RGBA, uint8 0-255 or float 0-1.
    timeless
        Log for all timelines (scenery) instead of at the current time.
    recording
        The recording to log to (default: the global one from :func:`init`).

    Examples
    --------
    >>> square = [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]]
    >>> rr.log_mesh("world/floor", square, indices=[[0, 1, 2], [0, 2, 3]],
    ...             albedo_factor=[0.5, 0.5, 0.5], timeless=True)  # doctest: +SKIP
    """
    assert recording is not None
    entity = recording.entity(entity_path)
    pos = float_rows(positions, "positions", 3, allow_flat=True)
    n = len(pos)
    cells: dict[str, Any] = {"vertex_positions": _mono_list(cv.fixed_list(pos, 3, pa.float32()), "vertex_positions")}
    if indices is not None:
        idx = _indices(indices, n)
        cells["triangle_indices"] = _mono_list(pa.array(idx, type=pa.uint32()), "triangle_indices")
    if normals is not None:
        nrm = float_rows(normals, "normals", 3, n=n, per="vertex", allow_flat=True)
        cells["vertex_normals"] = _mono_list(cv.fixed_list(nrm, 3, pa.float32()), "vertex_normals")
    if vertex_colors is not None:
        cells["vertex_colors"] = _mono_list(cv.colors(vertex_colors, "vertex_colors", n), "vertex_colors")
    if albedo_factor is not None:
        cells["albedo_factor"] = _albedo(albedo_factor)
    nbytes = sum(a.nbytes for a in cells.values() if isinstance(a, pa.Array))
    recording.log_row(entity, "mesh3d", cells, timeless=timeless, nbytes=nbytes + 64)


class MeshFormat(enum.Enum):
    """Encoding of a mesh file; the value is what is stored in ``mesh_format``."""

    GLB = "glb"
    GLTF = "gltf"
    OBJ = "obj"


def _mesh_bytes(mesh_bytes: Any, mesh_path: Any) -> tuple[bytes, str]:
    """The file's bytes and the name of the argument they came from."""
    if (mesh_bytes is None) == (mesh_path is None):
        got = "neither mesh_bytes nor mesh_path" if mesh_bytes is None else "both mesh_bytes and mesh_path"
        raise ArgumentError("mesh_bytes", got, "exactly one of mesh_bytes or mesh_path")
    if mesh_path is not None:
        if not isinstance(mesh_path, (str, os.PathLike)):
            raise ArgumentError("mesh_path", describe_value(mesh_path), "a file path (str or os.PathLike)")
        path = os.fspath(mesh_path)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as exc:
            raise ArgumentError("mesh_path", repr(path), f"a readable mesh file ({exc.strerror or exc})") from None
        return data, "mesh_path"
    if isinstance(mesh_bytes, bytes):
        return mesh_bytes, "mesh_bytes"
    if isinstance(mesh_bytes, (bytearray, memoryview)):
        return bytes(mesh_bytes), "mesh_bytes"
    if isinstance(mesh_bytes, np.ndarray) and mesh_bytes.dtype == np.uint8 and mesh_bytes.ndim == 1:
        return mesh_bytes.tobytes(), "mesh_bytes"
    raise ArgumentError("mesh_bytes", describe_value(mesh_bytes), "the file's bytes (bytes, bytearray or memoryview)")


def _transform(value: Any) -> list[float]:
    m = float64_array(value, "transform")
    if m.shape == (4, 4):
        if not np.allclose(m[3], [0.0, 0.0, 0.0, 1.0], rtol=0.0, atol=1e-6):
            raise ArgumentError(
                "transform", f"a 4x4 matrix whose last row is {m[3].tolist()}", "an affine 4x4 (last row 0 0 0 1)"
            )
        m = m[:3]
    if m.shape != (3, 4):
        raise ArgumentError("transform", describe_value(value), "a 3x4 affine matrix (row-major) or an affine 4x4")
    out = m.astype(np.float32)
    if not np.isfinite(out).all():
        raise ArgumentError("transform", describe_value(value), "values within the float32 range")
    return [float(x) for x in out.reshape(-1)]


@log_function
def log_mesh_file(
    entity_path: str,
    mesh_format: MeshFormat | str,
    *,
    mesh_bytes: bytes | bytearray | memoryview | None = None,
    mesh_path: str | os.PathLike[str] | None = None,
    transform: Any = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log a mesh stored as an encoded file (GLB, glTF or OBJ), kept byte for byte.

    Parameters
    ----------
    entity_path
        Path of the mesh, e.g. ``"world/robot/model"``.
    mesh_format
        A :class:`MeshFormat` or its name (case-insensitive): ``GLB`` (binary glTF; the
        data must start with the magic ``glTF``), ``GLTF`` (JSON glTF, self-contained) or
        ``OBJ`` (Wavefront text).
    mesh_bytes
        The file's contents (bytes, bytearray, memoryview or a 1D uint8 array).
    mesh_path
        Or the path of the file to read now. Exactly one of ``mesh_bytes`` and
        ``mesh_path`` must be given.
    transform
        Optional affine transform applied to the mesh: a 3x4 matrix (row-major: rotation
        and scale in the first 3 columns, translation in the last) or a 4x4 matrix whose
        last row is ``0 0 0 1``. Stored as 12 float32.
    timeless
        Log for all timelines (scenery) instead of at the current time.
    recording
        The recording to log to (default: the global one from :func:`init`).

    Examples
    --------
    >>> rr.log_mesh_file("world/robot/model", rr.MeshFormat.GLB, mesh_path="robot.glb",
    ...                  transform=np.eye(4), timeless=True)  # doctest: +SKIP
    >>> rr.log_mesh_file("world/map", "obj", mesh_bytes=open("map.obj", "rb").read())  # doctest: +SKIP
    """
    assert recording is not None
    entity = recording.entity(entity_path)
    fmt: MeshFormat = parse_enum(mesh_format, MeshFormat, "mesh_format")
    data, arg = _mesh_bytes(mesh_bytes, mesh_path)
    if not data:
        raise ArgumentError(arg, "empty data (0 bytes)", "a non-empty mesh file")
    if fmt is MeshFormat.GLB and data[:4] != _GLB_MAGIC:
        raise ArgumentError(
            arg, f"{len(data)} bytes starting with {data[:4]!r}", f"GLB data starting with the magic {_GLB_MAGIC!r}"
        )
    cells: dict[str, Any] = {"mesh_blob": data, "mesh_format": fmt.value}
    if transform is not None:
        cells["mesh_transform"] = _transform(transform)
    recording.log_row(entity, "mesh_file", cells, timeless=timeless, nbytes=len(data) + 64)
