"""Write the conformance vectors of spec/rrd.md section 10.

Each vector is a small .rrd file and NAME.expected.jsonl: the output of
``rrd print --json --data NAME.rrd`` followed by a last line ``{"exit": CODE}``.
Running this script rewrites both; the tests only read them, so a change in what a
reader returns shows up as a test failure, never as a silently regenerated file.

Usage: python spec/vectors/generate.py [--check]
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from unittest import mock
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from rrformat import _framing as fr
from rrformat.chunk import Chunk, TimelineKind
from rrformat.components import TENSOR_TYPE
from rrformat.writer import RrdWriter

HERE = Path(__file__).resolve().parent
START = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
REC_A = "00000000-0000-4000-8000-00000000000a"
REC_B = "00000000-0000-4000-8000-00000000000b"

SEQ = TimelineKind.SEQUENCE
TIME = TimelineKind.TIME


def _writer(path: Path, **kw: object) -> RrdWriter:
    return RrdWriter(
        path, application_id="vectors", recording_id=REC_A, start_time_ns=START, threads=0, overwrite=True, **kw  # type: ignore[arg-type]
    )


def _tensor(arr: np.ndarray, names: list[str] | None) -> pa.Array:
    data = np.ascontiguousarray(arr)
    return pa.array(
        [{"shape": list(data.shape), "names": names, "dtype": data.dtype.name, "data": data.tobytes()}],
        type=TENSOR_TYPE,
    )


def _timed(i: int) -> dict[str, tuple[TimelineKind, list[int]]]:
    return {"frame": (SEQ, [i]), "log_time": (TIME, [START + i * 1_000_000])}


def every_component_chunks() -> list[Chunk]:
    """One chunk per data kind, together carrying every catalogued component."""
    red, green = [255, 0, 0, 255], [0, 255, 0, 128]
    class_desc = [
        {
            "id": 1,
            "label": "wall",
            "color": [200, 200, 200, 255],
            "keypoints": [{"id": 0, "label": "corner", "color": red}],
            "keypoint_connections": [[0, 0]],
        },
        {"id": 2, "label": "door", "color": green, "keypoints": [], "keypoint_connections": []},
    ]
    specs: list[tuple[str, str, dict[str, object]]] = [
        (
            "world/points2d",
            "points2d",
            {
                "positions2d": [[[1.0, 2.0], [3.5, -4.0]]],
                "colors": [[red, green]],
                "radii": [[0.5, 1.0]],
                "labels": [["a", "b"]],
                "class_ids": [[1, 2]],
                "keypoint_ids": [[0, 3]],
                "instance_ids": [[10, 11]],
                "draw_order": [2.0],
            },
        ),
        ("world/points3d", "points3d", {"positions3d": [[[1.0, 2.0, 3.0]]], "colors": [[red]], "radii": [[0.1]]}),
        (
            "image/rects",
            "rects2d",
            {"rects": [[[10.0, 20.0, 30.0, 40.0]]], "stroke_widths": [[2.0]], "labels": [["car"]]},
        ),
        (
            "world/boxes",
            "boxes3d",
            {
                "half_sizes": [[[1.0, 2.0, 3.0]]],
                "centers": [[[0.0, 0.0, 1.0]]],
                "rotations": [[[0.0, 0.0, 0.0, 1.0]]],
                "stroke_widths": [[0.05]],
            },
        ),
        ("image/lines", "line_strips2d", {"strips2d": [[[[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]]]]}),
        ("world/lines", "line_strips3d", {"strips3d": [[[[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]]]}),
        (
            "world/arrows",
            "arrows3d",
            {"origins": [[[0.0, 0.0, 0.0]]], "vectors": [[[1.0, 0.0, 0.0]]], "width_scales": [[0.1]]},
        ),
        (
            "world/mesh",
            "mesh3d",
            {
                "vertex_positions": [[[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]],
                "triangle_indices": [[0, 1, 2]],
                "vertex_normals": [[[0.0, 0.0, 1.0]] * 3],
                "vertex_colors": [[red, red, green]],
                "albedo_factor": [[1.0, 1.0, 1.0, 1.0]],
            },
        ),
        (
            "world/mesh_file",
            "mesh_file",
            {
                "mesh_blob": [b"o tri\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"],
                "mesh_format": ["obj"],
                "mesh_transform": [[1.0, 0, 0, 0, 0, 1.0, 0, 0, 0, 0, 1.0, 0]],
            },
        ),
        ("camera/image", "image", {"tensor": _tensor(np.arange(12, dtype=np.uint8).reshape(2, 2, 3), None)}),
        (
            "camera/depth",
            "depth_image",
            {"tensor": _tensor(np.array([[1000, 2000]], dtype=np.uint16), ["height", "width"]), "meter": [1000.0]},
        ),
        ("camera/segmentation", "segmentation_image", {"tensor": _tensor(np.array([[1, 2]], dtype=np.uint8), None)}),
        ("tensors/t", "tensor", {"tensor": _tensor(np.array([0.5, -1.0], dtype=np.float32), ["x"])}),
        ("camera/jpeg", "encoded_image", {"encoded_image": [b"\xff\xd8\xff\xe0fake"], "image_format": ["jpeg"]}),
        (
            "plots/speed",
            "scalar",
            {"scalar": [1.25], "label": ["speed"], "color": [red], "radius": [2.0], "scattered": [False]},
        ),
        ("logs", "text_entry", {"text": ["Going through doorway"], "level": ["WARN"], "color": [green]}),
        (
            "world/camera",
            "rigid3",
            {"translation": [[1.0, 2.0, 3.0]], "rotation": [[0.0, 0.0, 0.0, 1.0]], "view_coordinates": ["RDF"]},
        ),
        (
            "world/camera/image",
            "pinhole",
            {"image_from_camera": [[500.0, 0, 320, 0, 500.0, 240, 0, 0, 1]], "resolution": [[640.0, 480.0]]},
        ),
        ("world", "view_coordinates", {"view_coordinates": ["RFU"]}),
        ("world/detached", "unknown_transform", {"disconnected": [True]}),
        ("segmentation", "annotation_context", {"class_descriptions": [class_desc]}),
        ("world/points3d", "clear", {"recursive": [False]}),
        ("custom", "extension", {"confidence": pa.array([[0.9, 0.8]], type=pa.list_(pa.float16()))}),
    ]
    chunks = []
    for i, (entity, kind, components) in enumerate(specs):
        chunks.append(Chunk.build(entity, kind, row_ids=[i], timelines=_timed(i), components=components))
    return chunks


def _scalars(entity: str, first_row: int, frames: range) -> Chunk:
    n = len(frames)
    return Chunk.build(
        entity,
        "scalar",
        row_ids=np.arange(first_row, first_row + n),
        timelines={"frame": (SEQ, list(frames))},
        components={"scalar": np.linspace(0.0, 1.0, n)},
    )


def v_minimal(path: Path) -> None:
    with _writer(path) as w:
        w.write_chunk(_scalars("plots/x", 0, range(3)))


def v_every_component(path: Path) -> None:
    with _writer(path) as w:
        for c in every_component_chunks():
            w.write_chunk(c)


def v_packed(path: Path) -> None:
    with _writer(path) as w:
        boxes = [
            Chunk.build(
                f"objects/#{i}/box",
                "boxes3d",
                row_ids=[i],
                timelines=_timed(0),
                components={"half_sizes": [[[1.0, 1.0, float(i)]]]},
            )
            for i in range(4)
        ]
        w.write_chunks(boxes)


def v_timelines(path: Path) -> None:
    with _writer(path) as w:
        w.write_chunk(
            Chunk.build("world/map", "points3d", row_ids=[0], components={"positions3d": [[[0.0, 0.0, 0.0]]]})
        )
        w.write_chunk(
            Chunk.build(
                "plots/y",
                "scalar",
                row_ids=[1, 2, 3],
                timelines={"frame": (SEQ, [5, None, 3]), "sensor_time": (TIME, [START, START + 10, START + 5])},
                components={"scalar": [1.0, float("nan"), 3.0]},
            )
        )


def v_split(path: Path) -> None:
    with _writer(path, chunk_rows=4) as w:
        w.write_chunk(_scalars("plots/long", 0, range(10)))


def v_uncompressed(path: Path) -> None:
    with _writer(path, compression="none") as w:
        w.write_chunk(_scalars("plots/x", 0, range(3)))


def v_two_recordings(path: Path) -> None:
    with _writer(path) as w:
        second = w.add_recording(application_id="vectors-b", recording_id=REC_B, start_time_ns=START + 1)
        w.write_chunk(_scalars("plots/x", 0, range(2)))
        c = _scalars("plots/x", 0, range(2))
        w.write_chunk(Chunk(c.entity, c.kind, c.batch, recording=second))


def v_appended(path: Path) -> None:
    with _writer(path) as w:
        w.write_chunk(_scalars("plots/x", 0, range(2)))
    w = RrdWriter.append(path, threads=0)
    w.write_chunk(_scalars("plots/x", 2, range(2, 4)))
    w.close()


def v_unknown_record(path: Path) -> None:
    w = _writer(path)
    w.write_chunk(_scalars("plots/x", 0, range(2)))
    w.flush()
    # A record kind from the future: readers must skip it.
    w._write_raw(fr.pack_record(99, {"note": "from a later minor version"}, b"\x01\x02\x03", record_offset=w._offset))  # type: ignore[arg-type]
    w.write_chunk(_scalars("plots/z", 2, range(2)))
    w.close()


def v_truncated(path: Path) -> None:
    v_minimal_two(path)
    data = path.read_bytes()
    # Cut in the middle of the last chunk record: the first chunk survives.
    with _open_reader(path) as r:
        last = r.record_metas[-1][0]
    path.write_bytes(data[: last + 40])


def v_corrupt(path: Path) -> None:
    v_minimal_two(path)
    with _open_reader(path) as r:
        off, size, _ = r.record_metas[0]
    data = bytearray(path.read_bytes())
    data[off + size - 9] ^= 0xFF  # inside the first chunk's body
    path.write_bytes(bytes(data))


def v_newer_major(path: Path) -> None:
    v_minimal(path)
    data = bytearray(path.read_bytes())
    data[8:10] = (2).to_bytes(2, "little")
    path.write_bytes(bytes(data))


def v_minimal_two(path: Path) -> None:
    with _writer(path) as w:
        w.write_chunk(_scalars("plots/x", 0, range(3)))
        w.write_chunk(_scalars("plots/y", 3, range(3)))


def _open_reader(path: Path):  # type: ignore[no-untyped-def]
    from rrformat.reader import RrdReader

    return RrdReader(path)


VECTORS: dict[str, Callable[[Path], None]] = {
    "minimal": v_minimal,
    "every_component": v_every_component,
    "packed": v_packed,
    "timelines": v_timelines,
    "split": v_split,
    "uncompressed": v_uncompressed,
    "two_recordings": v_two_recordings,
    "appended": v_appended,
    "unknown_record": v_unknown_record,
    "truncated": v_truncated,
    "corrupt": v_corrupt,
    "newer_major": v_newer_major,
}


def expected_output(path: Path) -> str:
    """``rrd print --json --data`` of a vector plus its exit code, as stored in NAME.expected.jsonl."""
    from click.testing import CliRunner

    from cli.rrd import main

    result = CliRunner().invoke(main, ["print", "--json", "--data", str(path)])
    lines = result.stdout if result.exit_code in (0, 1, 3) else ""
    return lines + '{"exit": %d}\n' % result.exit_code


def main(argv: list[str]) -> int:
    check = "--check" in argv
    failures = 0
    # A fixed clock makes the header records, and so the files, byte-for-byte reproducible.
    with tempfile.TemporaryDirectory() as tmp, mock.patch("rrformat.writer.time.time_ns", return_value=START):
        for name, make in VECTORS.items():
            target = Path(tmp) / f"{name}.rrd"
            make(target)
            if check:
                stored = (HERE / f"{name}.expected.jsonl").read_text()
                got = expected_output(HERE / f"{name}.rrd")
                if got != stored:
                    print(f"{name}: stored vector no longer reads as expected")
                    failures += 1
                continue
            shutil.copyfile(target, HERE / f"{name}.rrd")
            (HERE / f"{name}.expected.jsonl").write_text(expected_output(HERE / f"{name}.rrd"))
            print(f"wrote {name}.rrd ({os.path.getsize(HERE / f'{name}.rrd')} bytes)")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
