"""Reading .rrd records from a byte stream (a TCP connection, a pipe).

A stream carries the records of a file in file order, without footer and trailer
(spec/rrd.md, "Streams"). Every record is checked before anything is allocated for it:
the header checksum first (garbage is refused at once), then its size against a bound,
so that a bad peer can never make the reader allocate a huge buffer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import zstandard

from . import _framing as fr
from .errors import RrdError

__all__ = ["StreamRecord", "StreamReader", "ProtocolError", "decode_chunk_body", "DEFAULT_MAX_RECORD_BYTES"]

DEFAULT_MAX_RECORD_BYTES = 1 << 30
"""The largest record a stream reader accepts (meta plus body). A writer keeps chunk
records near 1 MiB; only one very large row (a 4K float image, a huge cloud) makes a
record bigger, and none reaches this."""


class ProtocolError(RrdError):
    """The peer sent something that is not an .rrd stream this reader can read."""


@dataclass(frozen=True, slots=True)
class StreamRecord:
    """One record read from a stream: its header, decoded meta and raw (maybe compressed) body."""

    kind: int
    flags: int
    meta: dict[str, Any]
    body: bytes
    body_crc: int
    size: int
    """Bytes the record took in the stream (header, meta, body, padding)."""


class StreamReader:
    """Reads the preamble, then records one by one, from ``read(n)``.

    Parameters
    ----------
    read
        Returns up to ``n`` bytes, ``b""`` at the end of the stream (``socket.recv``).
    name
        Names the peer in errors ("127.0.0.1:51234").
    max_record_bytes
        Records larger than this are refused (:class:`ProtocolError`) before any
        allocation for them.
    """

    def __init__(
        self,
        read: Callable[[int], bytes] | None = None,
        *,
        name: str,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        read_into: Callable[[memoryview], int] | None = None,
    ) -> None:
        if (read is None) == (read_into is None):
            raise ValueError("StreamReader: give read or read_into")
        self._read = read
        # socket.recv_into: bodies land in their final buffer, without joining pieces.
        self._read_into = read_into
        self.name = name
        self.max_record_bytes = max_record_bytes
        self.offset = 0
        self.version: tuple[int, int] | None = None

    def _exact(self, n: int, *, eof_ok: bool = False) -> bytes | None:
        if self._read_into is not None:
            buf = bytearray(n)
            view = memoryview(buf)
            got = 0
            while got < n:
                k = self._read_into(view[got:])
                if not k:
                    if eof_ok and got == 0:
                        return None
                    raise ProtocolError(
                        f"the stream ended inside a record ({got} of {n} bytes)", path=self.name, offset=self.offset
                    )
                got += k
            self.offset += n
            return buf  # type: ignore[return-value]  # a bytes-like object; nobody mutates it
        assert self._read is not None
        parts: list[bytes] = []
        got = 0
        while got < n:
            data = self._read(min(n - got, 1 << 20))
            if not data:
                if eof_ok and got == 0:
                    return None
                raise ProtocolError(
                    f"the stream ended inside a record ({got} of {n} bytes)", path=self.name, offset=self.offset
                )
            parts.append(data)
            got += len(data)
        self.offset += n
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def read_preamble(self) -> tuple[int, int]:
        """Read and check the 16-byte preamble; returns (major, minor)."""
        data = self._exact(fr.PREAMBLE_SIZE, eof_ok=True)
        if data is None:
            raise ProtocolError("the peer closed the connection before sending anything", path=self.name, offset=0)
        if data[:8] != fr.MAGIC:
            raise ProtocolError(f"not an .rrd stream (it starts with {data[:8]!r})", path=self.name, offset=0)
        try:
            self.version = fr.unpack_preamble(data, path=self.name)
        except RrdError as exc:
            raise ProtocolError(exc.reason, path=self.name, offset=0) from exc
        return self.version

    def next_record(self) -> StreamRecord | None:
        """The next record, or None when the stream ends cleanly between records."""
        start = self.offset
        head = self._exact(fr.RECORD_HEADER_SIZE, eof_ok=True)
        if head is None:
            return None
        try:
            h = fr.unpack_record_header(head, start, path=self.name)
        except RrdError as exc:
            raise ProtocolError(exc.reason, path=self.name, offset=start) from exc
        if h.meta_len > fr.MAX_META_SIZE or h.meta_len + h.body_len > self.max_record_bytes:
            raise ProtocolError(
                f"record of {h.meta_len + h.body_len} bytes exceeds the bound of {self.max_record_bytes}",
                path=self.name,
                offset=start,
            )
        meta_raw = self._exact(h.meta_len) if h.meta_len else b""
        body = self._exact(h.body_len) if h.body_len else b""
        end = start + fr.RECORD_HEADER_SIZE + h.meta_len + h.body_len
        pad = fr.align8(end) - end
        if pad:
            self._exact(pad)
        assert meta_raw is not None and body is not None
        try:
            fr.check_meta(h, meta_raw, path=self.name)
            fr.check_body(h, body, path=self.name)
            meta = fr.decode_meta(h, meta_raw, path=self.name)
        except RrdError as exc:
            raise ProtocolError(exc.reason, path=self.name, offset=start) from exc
        return StreamRecord(h.kind, h.flags, meta, body, h.body_crc, self.offset - start)


def decode_chunk_body(record: StreamRecord, schema: pa.Schema, *, name: str = "<stream>") -> pa.RecordBatch:
    """The Arrow batch of a CHUNK record (decompressing its body if flagged)."""
    data = record.body
    if record.flags & fr.FLAG_BODY_ZSTD:
        raw = int(record.meta.get("raw", 0))
        try:
            data = zstandard.ZstdDecompressor().decompress(data, max_output_size=raw)
        except zstandard.ZstdError as exc:
            raise ProtocolError(f"chunk body does not decompress: {exc}", path=name) from exc
    try:
        batch = pa.ipc.read_record_batch(pa.py_buffer(data), schema)
        batch.validate(full=False)
    except pa.ArrowException as exc:
        raise ProtocolError(f"chunk body is not a valid Arrow batch: {exc}", path=name) from exc
    return batch
