"""Decoding chunk records for queries: one read per record, and records decoded in parallel.

A query knows each record's offset, size, schema, row count and uncompressed size from
the index, so a record is read with a single ``pread`` and decoded without parsing its
JSON meta again. Every checksum is still verified (header, meta, body). Bodies are
decompressed with Arrow's zstd codec straight into an Arrow buffer of the known size.
The checksum, the read and the decompression release the GIL, so records decode in
parallel threads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import pyarrow as pa

from rrformat import _framing as fr
from rrformat.chunk import ChunkInfo
from rrformat.errors import CorruptFileError, TruncatedFileError

__all__ = ["PARALLEL_MIN_BYTES", "decode_record", "parallel_map"]

_T = TypeVar("_T")
_R = TypeVar("_R")

_WORKERS = max(1, min(4, os.cpu_count() or 2))
"""Threads decoding one query's records, the calling thread included."""

PARALLEL_MIN_BYTES = 1 << 20
"""Records smaller than this together are decoded by the calling thread alone: they take
about a millisecond, and on a busy machine waiting for a helper thread to be scheduled
can cost more than the work it takes over."""

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _get_pool() -> ThreadPoolExecutor:
    # One pool for the process: starting threads for every query costs more than a small
    # query itself (a range of two records decodes in about a millisecond).
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(_WORKERS, thread_name_prefix="rrquery-decode")
        return _pool


def _forget_pool() -> None:
    # A forked child has none of the parent's threads: it starts its own pool when needed.
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def parallel_map(fn: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
    """``[fn(x) for x in items]``, spread over the decoding threads and the calling thread.

    The calling thread works too, taking items from the same queue as the helpers: a
    query of two records does not wait for a thread hand-over, and no thread sits idle
    while another has a backlog. Up to ``min(4, cpu_count)`` threads work at once. After
    an error no new item is started; the first error (in item order) is raised once every
    thread has stopped, so no decoding goes on behind the caller's back.
    """
    n = len(items)
    helpers = min(_WORKERS - 1, n - 1)
    if helpers <= 0:
        return [fn(x) for x in items]
    results: list[_R | None] = [None] * n
    errors: dict[int, BaseException] = {}
    lock = threading.Lock()
    next_item = iter(range(n))

    def drain() -> None:
        while True:
            with lock:
                i = None if errors else next(next_item, None)
            if i is None:
                return
            try:
                results[i] = fn(items[i])
            except BaseException as exc:  # handed to the caller below
                with lock:
                    errors[i] = exc
                return

    pool = _get_pool()
    futures: list[Future[None]] = [pool.submit(drain) for _ in range(helpers)]
    drain()
    for f in futures:
        f.result()
    if errors:
        raise errors[min(errors)]
    return results  # type: ignore[return-value]  # every slot was filled


def decode_record(fd: int, path: str, info: ChunkInfo, schema: pa.Schema) -> pa.RecordBatch:
    """Read, check and decode the chunk record holding ``info`` (safe to call from threads).

    Raises :class:`TruncatedFileError` if the record is cut short and
    :class:`CorruptFileError` if a checksum fails or the body is not the batch the index
    describes.
    """
    offset, size = info.record_offset, info.record_size
    data = os.pread(fd, size, offset)
    if len(data) != size:
        raise TruncatedFileError(f"expected a record of {size} bytes, file has {len(data)}", path=path, offset=offset)
    if size < fr.RECORD_HEADER_SIZE:
        raise CorruptFileError(f"index gives a record size of {size} bytes", path=path, offset=offset)
    h = fr.unpack_record_header(data, offset, path=path)
    if h.kind != fr.RecordKind.CHUNK:
        raise CorruptFileError("index points at a record that is not a chunk", path=path, offset=offset)
    if h.size != size:
        raise CorruptFileError(f"record is {h.size} bytes, the index says {size}", path=path, offset=offset)
    view = memoryview(data)
    meta_at = fr.RECORD_HEADER_SIZE
    body_at = meta_at + h.meta_len
    fr.check_meta(h, view[meta_at:body_at], path=path)  # type: ignore[arg-type]
    body = view[body_at : body_at + h.body_len]
    fr.check_body(h, body, path=path)
    raw = info.record_raw_size
    if h.flags & fr.FLAG_BODY_ZSTD:
        try:
            buf = pa.Codec("zstd").decompress(body, decompressed_size=raw)
        except (OSError, pa.ArrowException) as exc:
            raise CorruptFileError(
                f"zstd body does not decompress to the {raw} bytes the meta says: {exc}", path=path, offset=offset
            ) from exc
    else:
        if len(body) != raw:
            raise CorruptFileError(f"body is {len(body)} bytes, the meta says {raw}", path=path, offset=offset)
        buf = pa.py_buffer(body)  # no copy: the batch keeps the record's bytes alive
    try:
        batch = pa.ipc.read_record_batch(buf, schema)
        batch.validate(full=False)
    except pa.ArrowException as exc:
        raise CorruptFileError(f"chunk body is not a valid Arrow batch: {exc}", path=path, offset=offset) from exc
    if batch.num_rows != info.record_rows:
        raise CorruptFileError(
            f"chunk holds {batch.num_rows} rows, its index says {info.record_rows}", path=path, offset=offset
        )
    return batch
