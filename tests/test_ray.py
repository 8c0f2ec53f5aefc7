"""rrquery.ray: many recordings as Ray datasets, read by a local Ray instance with 2 worker processes."""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from polars.testing import assert_frame_equal
from test_fleet import FRAMES, LATE, N_RECORDINGS, flip_chunk_body, per_file, run_id, write_fleet

import rrquery

ray = pytest.importorskip("ray")
rq = pytest.importorskip("rrquery.ray")


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Ray's own, when its context is made
        ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    root = tmp_path_factory.mktemp("fleet")
    return root, write_fleet(root)


def collect(ds: ray.data.Dataset) -> pl.DataFrame:
    """A dataset of plain Arrow columns as one Polars frame."""
    tables = [t for t in ray.get(ds.to_arrow_refs()) if t.num_rows]
    frame = pl.from_arrow(pa.concat_tables(tables, promote_options="permissive"))
    assert isinstance(frame, pl.DataFrame)
    return frame


def test_rows_equal_each_file(fleet: tuple[Path, list[Path]]) -> None:
    root, paths = fleet
    ds = rq.read_rrd(str(root / "**/*.rrd"), entities="robot/**", timeline="frame", start=5, end=20)
    got = collect(ds).sort("recording_id", "row_id")
    expected = per_file(paths, "range", "robot/**", timeline="frame", start=5, end=20).sort("recording_id", "row_id")
    assert_frame_equal(got, expected)
    everything = collect(rq.read_rrd(root, tensors="struct")).sort("recording_id", "row_id")
    expected = per_file(paths, "range", "**").sort("recording_id", "row_id")
    assert_frame_equal(everything.select(expected.columns), expected, check_dtypes=False)
    assert everything.schema["tensor"] == expected.schema["tensor"]


def test_reads_run_in_worker_processes(fleet: tuple[Path, list[Path]]) -> None:
    root, _ = fleet
    assert rrquery.ray is rq  # reachable from the package, imported on first use
    ds = rq.read_rrd(root, entities="robot/speed").map_batches(
        lambda b: {"pid": np.full(len(b["row_id"]), os.getpid())}, batch_format="numpy"
    )
    pids = {int(r["pid"]) for r in ds.take_all()}
    assert pids and os.getpid() not in pids


def test_images_arrive_as_numpy_arrays(fleet: tuple[Path, list[Path]]) -> None:
    root, paths = fleet
    ds = rq.read_rrd(root, entities="camera/image", timeline="frame", columns=["tensor"])
    seen = 0
    for batch in ds.iter_batches(batch_size=16, batch_format="numpy"):
        images = batch["tensor"]
        assert isinstance(images, np.ndarray) and images.dtype == np.uint8 and images.shape[1:] == (4, 6, 3)
        k = np.array([int(r.removeprefix("run-")) for r in batch["recording_id"]])
        assert (images[:, 0, 0, 0] == (k * 7 + batch["frame"]) % 256).all()
        seen += len(images)
    assert seen == N_RECORDINGS * FRAMES // 5
    keys = {"application_id", "recording_id", "entity", "row_id", "frame", "sensor_time", "log_time"}
    assert set(ds.schema().names) == {*keys, "tensor"}  # columns= picks the components
    # Mixed with entities without images, the column stays a struct: a Ray tensor column holds no nulls.
    with pytest.warns(UserWarning, match="'tensor' stays a struct"):
        mixed = rq.read_rrd(root, entities=["camera/image", "robot/speed"], timeline="frame")
    assert collect(mixed).height == per_file(paths, "range", ["camera/image", "robot/speed"], timeline="frame").height


def test_filters_prune_what_is_planned(fleet: tuple[Path, list[Path]]) -> None:
    root, _ = fleet
    source = rq.RrdDatasource(root, entities="camera/image", timeline="frame", start=0, end=0)
    for part in source.parts:
        with rrquery.open(part.path) as rec:
            assert list(part.infos) == rec.select("camera/image", timeline="frame", start=0, end=0)
    assert len(source.parts) == N_RECORDINGS
    planned = {c.record_offset for p in source.parts for c in p.infos}
    tasks = source.get_read_tasks(4)
    assert {c.record_offset for t in tasks for c in _task_infos(t)} == planned
    points = rq.RrdDatasource(root, entities="lidar/points")
    assert sorted(p.recording_id for p in points.parts) == [run_id(k) for k in range(0, N_RECORDINGS, 4)]
    sorter = rq.RrdDatasource(
        root, application_id="sorter", recording_id=[run_id(1), run_id(2), run_id(3)], tensors="struct"
    )
    assert sorted(p.recording_id for p in sorter.parts) == [run_id(1), run_id(3)]
    assert rq.RrdDatasource(root, entities="robot/speed", timeline="frame", start=10**6).parts == []


def _task_infos(task: object) -> list[object]:
    """The chunks a read task will read (held by its reading function)."""
    read = task.read_fn  # type: ignore[attr-defined]
    group = read.__closure__[0].cell_contents
    return [c for part in group for c in part.infos]


def test_dataset_view_per_recording(fleet: tuple[Path, list[Path]]) -> None:
    root, paths = fleet
    columns = ["robot/speed:scalar", "camera/image:tensor", "robot/mass:scalar"]
    ds = rq.read_dataset(root, index="frame", columns=columns, sample=1, tensors="struct")
    got = collect(ds).sort("recording_id", "frame")
    expected = per_file(paths, "dataset", "frame", columns, sample=1)
    assert_frame_equal(got, expected)
    late = got.filter(pl.col("recording_id") == run_id(3)).get_column("robot/speed:scalar").to_list()
    assert late[:LATE] == [None] * LATE  # never filled from the recording before it
    # With numpy tensors, the rows without an image (none logged yet) are left out.
    ds = rq.read_dataset(root, index="frame", columns=columns, fill=None)
    rows = 0
    for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
        assert batch["camera/image:tensor"].shape[1:] == (4, 6, 3)
        assert (batch["frame"] % 5 == 0).all()
        rows += len(batch["frame"])
    assert rows == N_RECORDINGS * FRAMES // 5


def test_damaged_files_do_not_fail_the_job(fleet: tuple[Path, list[Path]], tmp_path: Path) -> None:
    _, paths = fleet
    for p in paths[:5]:
        shutil.copy(p, tmp_path / p.name)
    data = paths[5].read_bytes()
    (tmp_path / "cut.rrd").write_bytes(data[: len(data) * 2 // 3])
    (tmp_path / "notes.rrd").write_text("not a recording")
    offset = flip_chunk_body(paths[6], tmp_path / "flipped.rrd")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = rq.read_rrd(tmp_path, tensors="struct")
    messages = [str(w.message) for w in caught]
    assert any("notes.rrd at byte 0: not an .rrd file" in m for m in messages)
    assert any("cut.rrd is truncated" in m for m in messages)
    got = collect(ds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sound = sorted(p for p in tmp_path.glob("*.rrd") if p.name not in ("notes.rrd", "flipped.rrd"))
        expected = per_file(sound, "range", "**").sort("recording_id", "row_id")
    assert_frame_equal(got.filter(pl.col("recording_id") != run_id(6)).sort("recording_id", "row_id"), expected)
    with rrquery.open(tmp_path / "flipped.rrd") as rec:
        lost = sum(c.rows for c in rec.index if c.record_offset == offset)
        kept = sum(c.rows for c in rec.index) - lost
    assert lost > 0 and got.filter(pl.col("recording_id") == run_id(6)).height == kept
    assert got.filter(pl.col("recording_id") == run_id(5)).height > 0  # the truncated copy's sound prefix
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        strict = rq.read_rrd(sorted(tmp_path.glob("[!n]*.rrd")), on_error="raise")
    with pytest.raises(Exception, match=r"flipped\.rrd"):
        strict.materialize()
