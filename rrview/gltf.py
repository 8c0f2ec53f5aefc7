"""A small reader of glTF 2.0 meshes (GLB, or .gltf with embedded data URIs).

Only what the viewer draws: every triangle primitive of every mesh reached from the
scene's nodes, with the nodes' transforms applied, its POSITION, indices and COLOR_0.
Materials, textures, skins and animations are ignored.
"""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["load_gltf"]

_GLB_MAGIC = b"glTF"
_JSON_CHUNK = 0x4E4F534A
_BIN_CHUNK = 0x004E4942
_COMPONENT = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
_INT_MAX = {5120: 127.0, 5121: 255.0, 5122: 32767.0, 5123: 65535.0, 5125: 4294967295.0}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}
_TRIANGLES = 4

F32 = npt.NDArray[np.float32]


def _split_glb(data: bytes) -> tuple[dict[str, Any], bytes]:
    if len(data) < 20:
        raise ValueError("GLB file is shorter than its header")
    magic, version, length = struct.unpack_from("<4sII", data)
    if magic != _GLB_MAGIC or version != 2:
        raise ValueError("not a glTF 2.0 binary (GLB) file")
    pos, doc, binary = 12, None, b""
    while pos + 8 <= min(length, len(data)):
        size, kind = struct.unpack_from("<II", data, pos)
        body = data[pos + 8 : pos + 8 + size]
        if len(body) != size:
            raise ValueError("GLB chunk extends past the end of the file")
        if kind == _JSON_CHUNK:
            doc = json.loads(body)
        elif kind == _BIN_CHUNK and not binary:
            binary = body
        pos += 8 + size
    if doc is None:
        raise ValueError("GLB file has no JSON chunk")
    return doc, binary


def _buffers(doc: dict[str, Any], binary: bytes) -> list[bytes]:
    out = []
    for i, buf in enumerate(doc.get("buffers", [])):
        uri = buf.get("uri")
        if uri is None:
            if i != 0 or not binary:
                raise ValueError(f"buffer {i} has no data")
            out.append(binary)
        elif uri.startswith("data:") and ";base64," in uri:
            out.append(base64.b64decode(uri.split(";base64,", 1)[1]))
        else:
            raise ValueError(f"buffer {i} refers to an external file ({uri!r}), which a logged mesh cannot hold")
    return out


def _accessor(doc: dict[str, Any], buffers: list[bytes], index: int) -> npt.NDArray[Any]:
    acc = doc["accessors"][index]
    dtype = np.dtype(_COMPONENT[acc["componentType"]]).newbyteorder("<")
    width = _WIDTH[acc["type"]]
    count = int(acc["count"])
    if "bufferView" not in acc:
        return np.zeros((count, width), dtype=dtype)
    view = doc["bufferViews"][acc["bufferView"]]
    raw = buffers[view["buffer"]]
    start = int(view.get("byteOffset", 0)) + int(acc.get("byteOffset", 0))
    stride = int(view.get("byteStride", 0)) or dtype.itemsize * width
    needed = start + stride * (count - 1) + dtype.itemsize * width if count else start
    if needed > len(raw):
        raise ValueError(f"accessor {index} reads past the end of its buffer")
    rows = np.ndarray((count, width), dtype=dtype, buffer=raw, offset=start, strides=(stride, dtype.itemsize))
    out = rows.copy()
    if acc.get("normalized") and acc["componentType"] in _INT_MAX:
        out = out.astype(np.float32) / np.float32(_INT_MAX[acc["componentType"]])
    return out


def _node_matrix(node: dict[str, Any]) -> npt.NDArray[np.float64]:
    if "matrix" in node:
        return np.asarray(node["matrix"], dtype=np.float64).reshape(4, 4).T  # column-major in glTF
    m = np.eye(4)
    if "scale" in node:
        m = m @ np.diag([*node["scale"], 1.0])
    if "rotation" in node:
        x, y, z, w = node["rotation"]
        r = np.array(
            [
                [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
            ]
        )
        rot = np.eye(4)
        rot[:3, :3] = r
        m = rot @ m
    if "translation" in node:
        t = np.eye(4)
        t[:3, 3] = node["translation"]
        m = t @ m
    return m


def load_gltf(data: bytes, fmt: str) -> tuple[F32, npt.NDArray[np.uint32], F32 | None]:
    """Vertices (N, 3), triangles (M, 3) and optional RGBA 0-1 vertex colours of a glTF mesh.

    Raises ``ValueError`` for a file this reader cannot use.
    """
    if fmt == "glb":
        doc, binary = _split_glb(data)
    else:
        try:
            doc, binary = json.loads(data), b""
        except (ValueError, UnicodeError) as exc:
            raise ValueError(f"glTF file is not JSON: {exc}") from exc
    try:
        buffers = _buffers(doc, binary)
        meshes = doc.get("meshes", [])
        nodes = doc.get("nodes", [])
        scene_index = doc.get("scene", 0)
        scenes = doc.get("scenes") or [{"nodes": [i for i in range(len(nodes))]}]
        roots = scenes[scene_index].get("nodes", []) if scenes else []
        verts: list[F32] = []
        faces: list[npt.NDArray[np.uint32]] = []
        colors: list[F32 | None] = []
        base = 0
        stack: list[tuple[int, npt.NDArray[np.float64]]] = [(i, np.eye(4)) for i in roots]
        if not nodes:  # a file of bare meshes: draw each once
            stack = []
            for mesh in meshes:
                base = _add_mesh(doc, buffers, mesh, np.eye(4), verts, faces, colors, base)
        seen = 0
        while stack:
            i, parent = stack.pop()
            seen += 1
            if seen > 100_000:
                raise ValueError("node hierarchy too deep or cyclic")
            node = nodes[i]
            world = parent @ _node_matrix(node)
            if "mesh" in node:
                base = _add_mesh(doc, buffers, meshes[node["mesh"]], world, verts, faces, colors, base)
            stack.extend((c, world) for c in node.get("children", []))
    except (KeyError, IndexError, TypeError) as exc:
        raise ValueError(f"glTF file is missing a required part: {exc}") from exc
    if not verts:
        raise ValueError("glTF file has no triangle mesh")
    v = np.concatenate(verts)
    f = np.concatenate(faces)
    c = None if any(x is None for x in colors) else np.concatenate([x for x in colors if x is not None])
    return v, f, c


def _add_mesh(
    doc: dict[str, Any],
    buffers: list[bytes],
    mesh: dict[str, Any],
    world: npt.NDArray[np.float64],
    verts: list[F32],
    faces: list[npt.NDArray[np.uint32]],
    colors: list[F32 | None],
    base: int,
) -> int:
    for prim in mesh.get("primitives", []):
        if prim.get("mode", _TRIANGLES) != _TRIANGLES:
            continue
        attrs = prim["attributes"]
        pos = _accessor(doc, buffers, attrs["POSITION"]).astype(np.float64)
        pos = (np.c_[pos, np.ones(len(pos))] @ world.T)[:, :3].astype(np.float32)
        if "indices" in prim:
            idx = _accessor(doc, buffers, prim["indices"]).reshape(-1).astype(np.uint32)
        else:
            idx = np.arange(len(pos), dtype=np.uint32)
        if len(idx) % 3 or (len(idx) and int(idx.max()) >= len(pos)):
            raise ValueError("triangle indices do not fit the vertices")
        color: F32 | None = None
        if "COLOR_0" in attrs:
            col = _accessor(doc, buffers, attrs["COLOR_0"]).astype(np.float32)
            if col.max(initial=0) > 1.0:
                col = col / 255.0
            if col.shape[1] == 3:
                col = np.c_[col, np.ones(len(col), np.float32)]
            color = col.astype(np.float32)
        verts.append(pos)
        faces.append(idx.reshape(-1, 3) + np.uint32(base))
        colors.append(color)
        base += len(pos)
    return base
