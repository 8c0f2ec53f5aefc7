"""Live streaming without a window: the TCP sink, the stream reader and the viewer's server.

Everything goes through real sockets on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import io
import socket
import struct
import time
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from waiting import wait_for

import rrformat as rr
from rrformat import _framing as fr
from rrformat._sinks import parse_address
from rrformat.stream import ProtocolError, StreamReader
from rrview.live import LiveServer, LiveSource, parse_duration
from rrview.model import ViewerModel


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    s = LiveServer("127.0.0.1", 0, save=tmp_path / "saved.rrd", bound_process=False)
    yield s
    s.close()


def rows_by_entity(path: Path) -> dict[str, list[object]]:
    """Every component value per entity, in row-id order (what a file holds, whatever its packing)."""
    out: dict[str, list[tuple[int, object]]] = {}
    with rr.RrdReader(path) as r:
        for info in r.chunks:
            batch = r.read_chunk(info).batch
            name = batch.schema.names[-1]
            rows = out.setdefault(info.entity, [])
            rows.extend(zip(batch.column("row_id").to_pylist(), batch.column(name).to_pylist(), strict=True))
    return {k: [v for _, v in sorted(rows, key=lambda x: x[0])] for k, rows in out.items()}


def log_frames(rec: rr.RecordingStream, start: int, n: int, points: int = 100) -> None:
    rng = np.random.default_rng(start)
    for i in range(start, start + n):
        rr.set_time_sequence("frame", i, recording=rec)
        rr.log_points("world/points", rng.random((points, 3), dtype=np.float32), recording=rec)
        rr.log_scalar("metrics/speed", float(i), recording=rec)


# --- addresses and durations ----------------------------------------------------------------------------
def test_addresses_parse_and_bad_ones_name_the_argument() -> None:
    assert parse_address(None) == ("127.0.0.1", 9876)
    assert parse_address("10.0.0.2:1234") == ("10.0.0.2", 1234)
    assert parse_address(":5000") == ("127.0.0.1", 5000)
    assert parse_address("5000") == ("127.0.0.1", 5000)
    assert parse_address("tcp://localhost:9") == ("localhost", 9)
    for bad in ("host:port", "1.2.3.4:70000", "", "a:b:c"):
        with pytest.raises(ValueError, match=r"argument 'addr'.*HOST:PORT"):
            parse_address(bad)
    with pytest.raises(ValueError, match="argument 'addr'"):
        rr.RecordingStream("app").connect("nowhere:xyz")


def test_durations() -> None:
    assert parse_duration("200ms") == pytest.approx(0.2)
    assert parse_duration("1.5s") == 1.5
    assert parse_duration("2m") == 120
    assert parse_duration("0.25") == 0.25
    for bad in ("fast", "-1s", "0ms"):
        with pytest.raises(ValueError, match="duration"):
            parse_duration(bad)


# --- the stream reader -----------------------------------------------------------------------------------
def test_a_file_is_a_valid_stream(sample_rrd: tuple[Path, list[object]]) -> None:
    path, _ = sample_rrd
    data = io.BytesIO(path.read_bytes())
    reader = StreamReader(data.read, name="file")
    assert reader.read_preamble() == (fr.FORMAT_MAJOR, fr.FORMAT_MINOR)
    kinds = []
    while (rec := reader.next_record()) is not None:
        kinds.append(rec.kind)
    assert kinds[0] == fr.RecordKind.HEADER and kinds[-2:] == [fr.RecordKind.FOOTER, fr.RecordKind.TRAILER]
    with rr.RrdReader(path) as r:
        assert kinds.count(fr.RecordKind.CHUNK) == len(r.record_metas)
    assert reader.offset == path.stat().st_size


def test_garbage_newer_versions_torn_and_oversized_records_are_refused() -> None:
    with pytest.raises(ProtocolError, match=r"not an \.rrd stream"):
        StreamReader(io.BytesIO(b"GET / HTTP/1.1\r\n\r\n").read, name="peer").read_preamble()
    newer = struct.pack("<8sHHI", fr.MAGIC, fr.FORMAT_MAJOR + 1, 0, 0)
    with pytest.raises(ProtocolError, match="newer"):
        StreamReader(io.BytesIO(newer).read, name="peer").read_preamble()
    with pytest.raises(ProtocolError, match="before sending anything"):
        StreamReader(io.BytesIO(b"").read, name="peer").read_preamble()

    # A header announcing a 1 TB body: refused from the header alone, nothing more is read.
    head = struct.pack("<HHIQIIII", fr.RecordKind.CHUNK, 0, 0, 1 << 40, 0, 0, 0, 0)
    head = head[:28] + struct.pack("<I", zlib.crc32(head[:28]))
    reads: list[int] = []
    stream = io.BytesIO(fr.pack_preamble() + head + b"x" * 64)

    def read(n: int) -> bytes:
        reads.append(n)
        return stream.read(n)

    reader = StreamReader(read, name="peer", max_record_bytes=1 << 20)
    reader.read_preamble()
    with pytest.raises(ProtocolError, match="exceeds the bound"):
        reader.next_record()
    assert sum(reads) == fr.PREAMBLE_SIZE + fr.RECORD_HEADER_SIZE

    # A damaged header checksum, and a stream that ends inside a record.
    bad = bytearray(fr.pack_preamble() + b"".join(fr.pack_record(fr.RecordKind.HEADER, {"a": 1}, record_offset=16)))
    bad[20] ^= 0xFF
    reader = StreamReader(io.BytesIO(bytes(bad)).read, name="peer")
    reader.read_preamble()
    with pytest.raises(ProtocolError, match="checksum"):
        reader.next_record()
    whole = fr.pack_preamble() + b"".join(fr.pack_record(fr.RecordKind.HEADER, {"a": 1}, record_offset=16))
    reader = StreamReader(io.BytesIO(whole[:-4]).read, name="peer")
    reader.read_preamble()
    with pytest.raises(ProtocolError, match="ended inside a record"):
        reader.next_record()


# --- SDK to server ----------------------------------------------------------------------------------------
def test_streamed_and_saved_data_equal_what_the_sdk_logged(server: LiveServer, tmp_path: Path) -> None:
    rec = rr.RecordingStream("streamer", save=tmp_path / "sdk.rrd", strict=True)
    rec.connect(f"127.0.0.1:{server.port}")
    log_frames(rec, 0, 300)
    rr.log_view_coordinates("world", up="+Z", timeless=True, recording=rec)
    rec.disconnect()
    assert rec.stream_stats["dropped_records"] == 0 and rec.stream_stats["sent_records"] > 0
    wait_for(lambda: server.sources and next(iter(server.sources.values())).stats.records
             >= rec.stream_stats["sent_records"], what="all records")
    server.close()
    saved = Path(server.saved[rec.recording_id])
    assert rows_by_entity(saved) == rows_by_entity(tmp_path / "sdk.rrd")
    with rr.RrdReader(saved) as r:
        assert r.opened_via == "footer" and r.damage is None
        assert r.recordings[0].recording_id == rec.recording_id
        assert r.recordings[0].application_id == "streamer"

    (source,) = server.take_new()
    model = ViewerModel(source=source)
    model.refresh()
    assert model.application_id == "streamer"
    assert model.time_range("frame") == (0, 299)
    row = model.latest("metrics/speed", "scalar", "frame", 123)
    assert row is not None and row.get("scalar") == 123.0
    assert model.latest("world/points", "points3d", "frame", 299) is not None


def test_data_logged_before_connect_is_sent_and_memory_is_not_kept(server: LiveServer) -> None:
    rec = rr.RecordingStream("early", strict=True)
    log_frames(rec, 0, 20)
    assert rec.flush() is None and rec.memory_chunks()
    rec.connect(f"127.0.0.1:{server.port}")
    assert rec.memory_chunks() == []  # a long live session must not grow in memory
    log_frames(rec, 20, 20)
    rec.disconnect()
    wait_for(lambda: bool(server.sources), what="the recording")
    (source,) = server.take_new()
    model = ViewerModel(source=source)
    wait_for(lambda: model.refresh() >= 0 and model.time_range("frame") == (0, 39), what="all frames")


def test_several_recordings_at_once_get_their_own_sources_and_files(server: LiveServer, tmp_path: Path) -> None:
    recs = [rr.RecordingStream(f"robot{i}", strict=True) for i in range(3)]
    for i, rec in enumerate(recs):
        rec.connect(f"127.0.0.1:{server.port}")
        rr.set_time_sequence("frame", i, recording=rec)
        rr.log_scalar("id", float(i), recording=rec)
    for rec in recs:
        rec.disconnect()
    wait_for(lambda: len(server.sources) == 3 and all(s.stats.records for s in server.sources.values()))
    server.close()
    files = sorted(server.saved.values())
    assert [Path(f).name for f in files] == ["saved-2.rrd", "saved-3.rrd", "saved.rrd"]
    for rec in recs:
        values = rows_by_entity(Path(server.saved[rec.recording_id]))
        assert values == {"id": [float(recs.index(rec))]}


def test_unreachable_viewer_warns_once_and_the_file_gets_everything(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rec = rr.RecordingStream("alone", save=tmp_path / "alone.rrd", strict=True)
    with pytest.warns(RuntimeWarning, match=f"no viewer at 127.0.0.1:{port}.*logging goes on"):
        rec.connect(f"127.0.0.1:{port}")
    start = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second warning
        log_frames(rec, 0, 50)
        rec.disconnect()
    assert time.monotonic() - start < 30  # closing does not wait for a viewer that is not there
    assert len(rows_by_entity(tmp_path / "alone.rrd")["metrics/speed"]) == 50


def test_a_slow_viewer_costs_a_bounded_buffer_then_the_oldest_is_dropped(tmp_path: Path) -> None:
    # A peer that accepts and never reads: the socket's buffers fill, then the sink's.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    rec = rr.RecordingStream("flood", save=tmp_path / "flood.rrd", strict=True, flush_age=0.01)
    rec.connect(f"127.0.0.1:{port}", buffer_bytes=1 << 20)
    conn, _ = listener.accept()
    with pytest.warns(RuntimeWarning, match="oldest unsent data is being dropped"):
        for i in range(60):
            rr.set_time_sequence("frame", i, recording=rec)
            rr.log_points("cloud", np.random.default_rng(i).random((20_000, 3), dtype=np.float32), recording=rec)
        wait_for(lambda: rec.stream_stats["dropped_records"] > 0, what="a drop")
    conn.close()  # the viewer goes away: closing the recording does not wait for it
    listener.close()
    rec.disconnect()
    stats = rec.stream_stats
    assert stats["dropped_records"] > 0 and stats["dropped_bytes"] > 0
    assert len(rows_by_entity(tmp_path / "flood.rrd")["cloud"]) == 60  # the file sink never drops


def test_a_viewer_restarted_on_the_same_port_gets_data_again(tmp_path: Path) -> None:
    first = LiveServer("127.0.0.1", 0, bound_process=False)
    port = first.port
    rec = rr.RecordingStream("robot", strict=True, flush_age=0.02)
    rec.connect(f"127.0.0.1:{port}")
    log_frames(rec, 0, 10)
    rec.flush()
    wait_for(lambda: bool(first.sources) and first.sources[rec.recording_id].stats.records > 0)
    first.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        log_frames(rec, 10, 10)  # nobody listens: the sink notices and retries
        rec.flush()
    second = LiveServer("127.0.0.1", port, bound_process=False)
    try:
        deadline = time.monotonic() + 20
        frame = 20
        while not (second.sources and second.sources[rec.recording_id].stats.records):
            assert time.monotonic() < deadline, "the restarted viewer got nothing"
            log_frames(rec, frame, 1)
            rec.flush()
            frame += 1
            time.sleep(0.05)
        rec.disconnect()
        (source,) = second.take_new()
        model = ViewerModel(source=source)
        wait_for(lambda: model.refresh() >= 0 and model.time_range("frame") is not None
                 and model.time_range("frame")[1] == frame - 1, what="the last frame")  # type: ignore[index]
        assert model.application_id == "robot"
    finally:
        second.close()


def test_garbage_and_other_versions_close_only_their_connection(server: LiveServer) -> None:
    rec = rr.RecordingStream("good", strict=True)
    rec.connect(f"127.0.0.1:{server.port}")
    for payload in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", struct.pack("<8sHHI", fr.MAGIC, 9, 0, 0)):
        with socket.create_connection(("127.0.0.1", server.port)) as bad:
            bad.sendall(payload)
            bad.settimeout(10)
            with contextlib.suppress(ConnectionResetError):  # closed with unread bytes: a reset
                assert bad.recv(1) == b""  # the viewer closed it
    wait_for(lambda: sum("refused" in e for e in server.events) == 2, what="two refusals")
    refusals = [e for e in server.events if "refused" in e]
    assert "not an .rrd stream" in refusals[0] and "newer" in refusals[1]
    log_frames(rec, 0, 5)
    rec.disconnect()
    wait_for(lambda: bool(server.sources) and server.sources[rec.recording_id].stats.records > 0)


def test_an_oversized_record_closes_the_connection(tmp_path: Path) -> None:
    server = LiveServer("127.0.0.1", 0, max_record_bytes=64 << 10, bound_process=False)
    try:
        rec = rr.RecordingStream("big", strict=True)
        rec.connect(f"127.0.0.1:{server.port}")
        rr.log_points("cloud", np.random.default_rng(0).random((100_000, 3), dtype=np.float32), recording=rec)
        rec.disconnect()
        wait_for(lambda: any("exceeds the bound" in e for e in server.events), what="the refusal")
    finally:
        server.close()


# --- the viewer's side: latency drops and the memory limit --------------------------------------------------
def slow_viewer_ages(drop_at_latency: float | None) -> tuple[list[float], LiveSource, ViewerModel]:
    """A burst logged while the viewer is busy for 0.4 s between looks; the age of every row it takes."""
    server = LiveServer("127.0.0.1", 0, drop_at_latency=drop_at_latency, bound_process=False)
    try:
        rec = rr.RecordingStream("burst", strict=True, flush_age=0.01)
        rec.connect(f"127.0.0.1:{server.port}")
        rr.log_scalar("timeless_setting", 1.0, timeless=True, recording=rec)
        wait_for(lambda: bool(server.sources))
        (source,) = server.take_new()
        model = ViewerModel(source=source)
        ages: list[float] = []
        for frame in range(40):
            for j in range(20):
                rr.set_time_sequence("frame", frame * 20 + j, recording=rec)
                rr.log_scalar("value", float(j), recording=rec)
            rec.flush()
            time.sleep(0.05)
            if frame % 8 == 7:  # the viewer is busy drawing for 0.4 s, then takes what arrived
                before = len(source.chunks)
                model.refresh()
                now = time.time_ns()
                for info in source.chunks[before:]:
                    if info.entity == "value":
                        log_times = model.store.chunk(info).batch.column("log_time").to_numpy()
                        ages.extend(((now - log_times) / 1e9).tolist())
        rec.disconnect()
        return ages, source, model
    finally:
        server.close()


def test_drop_at_latency_keeps_the_lag_of_a_slow_viewer_bounded() -> None:
    ages, source, model = slow_viewer_ages(0.2)
    assert source.stats.dropped_records > 0 and source.stats.dropped_rows > 0
    assert "dropped to keep up" in source.stats.describe()
    assert ages and max(ages) < 0.2 + 0.15  # every row taken waited at most the latency (plus transit)
    assert model.latest("timeless_setting", "scalar", "frame", 0) is not None  # timeless never dropped
    # Without the option the same slow viewer takes every row, up to its 0.4 s look interval old.
    all_ages, all_source, _ = slow_viewer_ages(None)
    assert all_source.stats.dropped_records == 0 and max(all_ages) > 0.35


def test_live_data_beyond_the_memory_limit_is_purged_oldest_first_timeless_kept() -> None:
    limit = 8 << 20
    server = LiveServer("127.0.0.1", 0, memory_limit=limit, bound_process=False)
    try:
        rec = rr.RecordingStream("long", strict=True, flush_age=0.01)
        rec.connect(f"127.0.0.1:{server.port}")
        rr.log_scalar("config", 42.0, timeless=True, recording=rec)
        wait_for(lambda: bool(server.sources))
        (source,) = server.take_new()
        model = ViewerModel(source=source, memory_limit=limit)
        rng = np.random.default_rng(0)
        for i in range(120):  # ~0.5 MB of incompressible points a frame: 60 MB through an 8 MB limit
            rr.set_time_sequence("frame", i, recording=rec)
            rr.log_points("cloud", rng.random((40_000, 3), dtype=np.float32), recording=rec)
            if i % 10 == 9:
                rec.flush()
                wait_for(lambda: source.stats.records > 0)
                model.refresh()
                assert source.held_bytes <= limit // 4 + (1 << 20)
        rec.disconnect()
        wait_for(lambda: model.refresh() >= 0 and model.time_range("frame") is not None
                 and model.time_range("frame")[1] == 119, what="the last frame")  # type: ignore[index]
        assert source.stats.purged_records > 0
        first, last = model.time_range("frame")  # type: ignore[misc]
        assert first > 0 and last == 119  # the oldest frames went
        assert model.latest("cloud", "points3d", "frame", 119) is not None
        assert model.latest("cloud", "points3d", "frame", 0) is None
        assert model.latest("config", "scalar", "frame", 0) is not None
    finally:
        server.close()


def test_the_port_in_use_is_a_clear_error() -> None:
    first = LiveServer("127.0.0.1", 0, bound_process=False)
    try:
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{first.port}.*another viewer"):
            LiveServer("127.0.0.1", first.port)
    finally:
        first.close()


def test_live_source_reads_like_a_file_for_the_store() -> None:
    # The model never sees that data is live: the same latest-at answers as from the file.
    server = LiveServer("127.0.0.1", 0, bound_process=False)
    try:
        rec = rr.RecordingStream("same", strict=True)
        rec.connect(f"127.0.0.1:{server.port}")
        log_frames(rec, 0, 30)
        rec.disconnect()
        wait_for(lambda: bool(server.sources))
        (source,) = server.take_new()
        assert isinstance(source, LiveSource)
        model = ViewerModel(source=source)
        wait_for(lambda: model.refresh() >= 0 and model.time_range("frame") == (0, 29))
        for t in (0, 7, 29):
            row = model.latest("metrics/speed", "scalar", "frame", t)
            assert row is not None and row.get("scalar") == float(t)
    finally:
        server.close()
