"""Byte layout of an .rrd file: the preamble and the record frame.

This module is the only place that knows how records are framed on disk; see
``spec/rrd.md`` sections 2 and 3 for the normative description.
"""

from __future__ import annotations

import enum
import json
import struct
import zlib
from dataclasses import dataclass
from typing import Any

import zstandard

from .errors import CorruptFileError, NotAnRrdFileError, UnsupportedVersionError

__all__ = [
    "MAGIC",
    "FORMAT_MAJOR",
    "FORMAT_MINOR",
    "PREAMBLE_SIZE",
    "RECORD_HEADER_SIZE",
    "TRAILER_SIZE",
    "RecordKind",
    "RecordHeader",
    "FLAG_BODY_ZSTD",
    "FLAG_META_ZSTD",
    "pack_preamble",
    "unpack_preamble",
    "pack_record",
    "unpack_record_header",
    "decode_meta",
    "align8",
    "pack_trailer_body",
    "unpack_trailer_body",
    "MAX_META_SIZE",
    "check_meta",
    "check_body",
]

MAGIC = b"\x89RRD\r\n\x1a\n"
"""Eight bytes that open every .rrd file (PNG-style: catches text-mode transfers)."""

FORMAT_MAJOR = 1
FORMAT_MINOR = 0

_PREAMBLE = struct.Struct("<8sHHI")
PREAMBLE_SIZE = _PREAMBLE.size  # 16: records start 8-aligned

# kind u16 | flags u16 | meta_len u32 | body_len u64 | meta_crc u32 | body_crc u32 | reserved u32 | head_crc u32
_HEADER = struct.Struct("<HHIQIIII")
RECORD_HEADER_SIZE = _HEADER.size  # 32

FLAG_BODY_ZSTD = 0x1
"""The body is one zstd frame; the record's meta says the uncompressed size."""
FLAG_META_ZSTD = 0x2
"""The meta is one zstd frame holding the JSON text (used for large index entries)."""
_KNOWN_FLAGS = FLAG_BODY_ZSTD | FLAG_META_ZSTD

MAX_META_SIZE = 64 * 1024 * 1024
"""Upper bound on a record's meta; larger values are treated as corruption."""

_TRAILER_BODY = struct.Struct("<Q8s")
TRAILER_SIZE = RECORD_HEADER_SIZE + _TRAILER_BODY.size  # 48, already 8-aligned


class RecordKind(enum.IntEnum):
    """Kinds of record. Readers skip kinds they do not know."""

    HEADER = 1
    RECORDING = 2
    SCHEMA = 3
    CHUNK = 4
    FOOTER = 5
    TRAILER = 6


@dataclass(frozen=True, slots=True)
class RecordHeader:
    """The fixed 32 bytes in front of every record."""

    offset: int
    kind: int
    flags: int
    meta_len: int
    body_len: int
    meta_crc: int
    body_crc: int

    @property
    def meta_offset(self) -> int:
        return self.offset + RECORD_HEADER_SIZE

    @property
    def body_offset(self) -> int:
        return self.offset + RECORD_HEADER_SIZE + self.meta_len

    @property
    def end(self) -> int:
        """Offset of the next record (the padding to 8 bytes included)."""
        return align8(self.body_offset + self.body_len)

    @property
    def size(self) -> int:
        return self.end - self.offset


def align8(n: int) -> int:
    return (n + 7) & ~7


def pack_preamble() -> bytes:
    return _PREAMBLE.pack(MAGIC, FORMAT_MAJOR, FORMAT_MINOR, 0)


def unpack_preamble(data: bytes, *, path: str) -> tuple[int, int]:
    """Check the magic and version; return ``(major, minor)``."""
    if len(data) < PREAMBLE_SIZE or not data.startswith(MAGIC):
        if MAGIC.startswith(data[: len(MAGIC)]) and len(data) < PREAMBLE_SIZE:
            raise NotAnRrdFileError(
                f"file is only {len(data)} bytes long, too short for an .rrd preamble", path=path, offset=0
            )
        raise NotAnRrdFileError("not an .rrd file (the magic bytes are missing)", path=path, offset=0)
    _, major, minor, _reserved = _PREAMBLE.unpack_from(data)
    if major > FORMAT_MAJOR:
        raise UnsupportedVersionError(
            f"format version {major}.{minor} is newer than this reader ({FORMAT_MAJOR}.{FORMAT_MINOR}); "
            "upgrade rrkit to read it",
            path=path,
            offset=8,
        )
    if major < 1:
        raise CorruptFileError(f"format major version {major} does not exist", path=path, offset=8)
    return major, minor


def _meta_bytes(meta: dict[str, Any] | None) -> tuple[bytes, int]:
    if meta is None:
        return b"", 0
    text = json.dumps(meta, separators=(",", ":"), ensure_ascii=False).encode()
    if len(text) > 4096:
        packed = zstandard.ZstdCompressor(level=3).compress(text)
        if len(packed) < len(text):
            return packed, FLAG_META_ZSTD
    return text, 0


def pack_record(
    kind: RecordKind,
    meta: dict[str, Any] | None,
    body: bytes | memoryview = b"",
    *,
    flags: int = 0,
    record_offset: int,
    body_crc: int | None = None,
) -> list[bytes | memoryview]:
    """Frame one record; returns the pieces to write in order (``body`` is not copied).

    The meta is padded (spaces after JSON, zeros after a zstd frame) so that the body
    starts 8-aligned in the file, which lets uncompressed Arrow bodies be memory-mapped.
    ``body_crc`` may be given when it was computed elsewhere (e.g. in a worker thread).
    """
    meta_bytes, meta_flag = _meta_bytes(meta)
    flags |= meta_flag
    if meta_bytes:
        unpadded = record_offset + RECORD_HEADER_SIZE + len(meta_bytes)
        # JSON ignores trailing spaces; a zstd frame's decoder stops at the frame's end.
        meta_bytes += (b"\0" if meta_flag else b" ") * (align8(unpadded) - unpadded)
    body_len = len(body)
    if body_crc is None:
        body_crc = zlib.crc32(body)
    head = _HEADER.pack(int(kind), flags, len(meta_bytes), body_len, zlib.crc32(meta_bytes), body_crc, 0, 0)
    header = head[:28] + struct.pack("<I", zlib.crc32(head[:28]))
    end = record_offset + RECORD_HEADER_SIZE + len(meta_bytes) + body_len
    pieces: list[bytes | memoryview] = [header + meta_bytes]
    if body_len:
        pieces.append(body)
    if align8(end) != end:
        pieces.append(b"\0" * (align8(end) - end))
    return pieces


def unpack_record_header(data: bytes, offset: int, *, path: str) -> RecordHeader:
    """Parse and check the fixed header: its checksum, reserved bits and flags."""
    kind, flags, meta_len, body_len, meta_crc, body_crc, reserved, head_crc = _HEADER.unpack_from(data)
    crc = zlib.crc32(data[:28])
    if crc != head_crc:
        raise CorruptFileError(
            f"record header checksum mismatch (stored {head_crc:#010x}, computed {crc:#010x})",
            path=path,
            offset=offset,
        )
    if reserved != 0 or flags & ~_KNOWN_FLAGS:
        raise CorruptFileError(
            f"record header has reserved bits set (flags {flags:#06x}, reserved {reserved:#x})",
            path=path,
            offset=offset,
        )
    return RecordHeader(offset, kind, flags, meta_len, body_len, meta_crc, body_crc)


def check_meta(header: RecordHeader, meta: bytes, *, path: str) -> None:
    crc = zlib.crc32(meta)
    if crc != header.meta_crc:
        raise CorruptFileError(
            f"record meta checksum mismatch (stored {header.meta_crc:#010x}, computed {crc:#010x})",
            path=path,
            offset=header.offset,
        )


def check_body(header: RecordHeader, body: bytes | memoryview, *, path: str) -> None:
    crc = zlib.crc32(body)
    if crc != header.body_crc:
        raise CorruptFileError(
            f"record body checksum mismatch (stored {header.body_crc:#010x}, computed {crc:#010x})",
            path=path,
            offset=header.offset,
        )


def decode_meta(header: RecordHeader, meta: bytes, *, path: str) -> dict[str, Any]:
    """Decode a record's JSON meta (decompressing it if flagged)."""
    if not meta:
        return {}
    try:
        if header.flags & FLAG_META_ZSTD:
            # decompressobj stops at the end of the frame and ignores the zero padding.
            meta = zstandard.ZstdDecompressor().decompressobj().decompress(meta)
        value = json.loads(meta)
    except (ValueError, zstandard.ZstdError) as exc:
        raise CorruptFileError(f"record meta is not valid JSON: {exc}", path=path, offset=header.offset) from exc
    if not isinstance(value, dict):
        raise CorruptFileError("record meta is not a JSON object", path=path, offset=header.offset)
    return value


def pack_trailer_body(footer_offset: int) -> bytes:
    return _TRAILER_BODY.pack(footer_offset, MAGIC)


def unpack_trailer_body(body: bytes) -> int | None:
    """Return the footer offset, or None if the body is not a trailer body."""
    if len(body) != _TRAILER_BODY.size:
        return None
    footer_offset, magic = _TRAILER_BODY.unpack(body)
    if magic != MAGIC:
        return None
    return int(footer_offset)
