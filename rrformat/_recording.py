"""Recording streams: time per thread, the path-kind rule, and the sink of a recording."""

from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
import weakref
from collections.abc import Callable
from typing import Any

from ._batcher import LOG_TIME, Batcher, BatcherConfig, TimePoint
from ._errors import ArgumentError, RecordingWarning, report
from ._sinks import DEFAULT_TCP_BUFFER, FileSink, MemorySink, Sink, TcpSink, parse_address
from .chunk import ROW_ID, Chunk, TimelineKind
from .components import COMPONENTS, SIDE_KINDS
from .entity_path import EntityPath
from .writer import RrdWriter

__all__ = ["RecordingStream", "resolve", "get_global_recording", "set_global_recording", "LOG_TIME"]

log = logging.getLogger("rrkit")

_EMPTY: TimePoint = {}
LIVE_FLUSH_AGE = 0.05
"""Flush age once a live viewer is connected (unless one was chosen): see ``connect``."""
_PATH_CACHE_LIMIT = 100_000
_PLAIN_PART = r"(?:[A-Za-z_][A-Za-z0-9_]*|#?(?:0|[1-9][0-9]{0,17}))"
_PLAIN_PATH = re.compile(rf"{_PLAIN_PART}(?:/{_PLAIN_PART})*")
"""Paths already in canonical form, of names without '.' or '-' (so never UUID-shaped) and
numbers without leading zeros: the common case, taken without the full parser."""


def _env_flag(name: str) -> bool | None:
    value = os.environ.get(name)
    if value is None or value == "":
        return None
    return value.strip().lower() not in ("0", "false", "no", "off")


def _env_number(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"environment variable {name} must be a number, got {value!r}") from None


def _configure_logging() -> None:
    level = os.environ.get("RRKIT_LOG", "").strip().lower()
    if level in ("debug", "info", "warning", "warn"):
        if not log.handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("[rrkit %(levelname)s %(threadName)s] %(message)s"))
            log.addHandler(handler)
        log.setLevel({"debug": logging.DEBUG, "info": logging.INFO}.get(level, logging.WARNING))


class RecordingStream:
    """One recording: what is logged to it goes to its sink (a file, or memory).

    Create one with :func:`rrformat.init` (the global default) or directly to log several
    recordings at once; every log function takes ``recording=`` to choose one.

    Parameters
    ----------
    application_id
        Name of the program that records ("vacuum").
    recording_id
        Unique id of this run; a random UUID by default.
    save
        Stream to this .rrd file from the first call.
    default_enabled
        With False (or environment ``RRKIT_ENABLED=0``) every call is a cheap no-op.
        ``RRKIT_ENABLED=1`` enables a recording whose default is disabled.
    strict
        Raise on bad input instead of warning and dropping the call.
    flush_bytes, flush_age, max_bytes_in_flight
        Batching: an entity's rows are written once they reach ``flush_bytes`` (default
        1 MiB, env ``RRKIT_FLUSH_BYTES``) or are ``flush_age`` seconds old (default 0.2,
        env ``RRKIT_FLUSH_AGE``); log calls wait while more than ``max_bytes_in_flight``
        (default 256 MiB, env ``RRKIT_MAX_BYTES_IN_FLIGHT``) are not yet written.

    Examples
    --------
    >>> import rrformat as rr
    >>> rec = rr.RecordingStream("my_app", save="/tmp/example.rrd")  # doctest: +SKIP
    >>> rr.log_scalar("sensor/temperature", 21.5, recording=rec)  # doctest: +SKIP
    >>> rec.disconnect()  # doctest: +SKIP
    """

    def __init__(
        self,
        application_id: str,
        *,
        recording_id: str | None = None,
        save: str | os.PathLike[str] | None = None,
        default_enabled: bool = True,
        strict: bool = False,
        flush_bytes: int | None = None,
        flush_age: float | None = None,
        max_bytes_in_flight: int | None = None,
    ) -> None:
        if not isinstance(application_id, str) or not application_id.strip():
            raise ValueError(f"init: application_id must be a non-empty string, got {application_id!r}")
        if recording_id is not None and (not isinstance(recording_id, str) or not recording_id):
            raise ValueError(f"init: recording_id must be a non-empty string, got {recording_id!r}")
        _configure_logging()
        env = _env_flag("RRKIT_ENABLED")
        self.enabled = env if env is not None else bool(default_enabled)
        self.strict = bool(strict)
        self.application_id = application_id
        self.recording_id = recording_id or str(uuid.uuid4())
        self.start_time_ns = time.time_ns()
        self.config = BatcherConfig(
            flush_bytes=int(flush_bytes if flush_bytes is not None else _env_number("RRKIT_FLUSH_BYTES", 1 << 20)),
            flush_age=float(flush_age if flush_age is not None else _env_number("RRKIT_FLUSH_AGE", 0.2)),
            max_bytes_in_flight=int(
                max_bytes_in_flight
                if max_bytes_in_flight is not None
                else _env_number("RRKIT_MAX_BYTES_IN_FLIGHT", 256 << 20)
            ),
        )
        if self.config.flush_bytes <= 0 or self.config.flush_age <= 0 or self.config.max_bytes_in_flight <= 0:
            raise ValueError(
                f"init: flush_bytes, flush_age and max_bytes_in_flight must be positive, got {self.config}"
            )
        self._flush_age_given = flush_age is not None or "RRKIT_FLUSH_AGE" in os.environ
        self._tls = threading.local()
        self._kinds: dict[str, str] = {}
        self._timeline_kinds: dict[str, TimelineKind] = {LOG_TIME: TimelineKind.TIME}
        self._paths: dict[str, str] = {}
        self._settable: dict[str, TimelineKind] = {}  # timelines that passed _set_time's checks
        self._sink_lock = threading.Lock()
        self._sinks: list[Sink] = []
        self._memory: MemorySink | None = None
        self._tcp_sinks: list[TcpSink] = []
        self._closed = False
        self._batcher: Batcher | None = None
        if not self.enabled:
            log.debug("recording %s is disabled", self.recording_id)
            return
        if save is not None:
            self._sinks.append(self._file_sink(save))
        else:
            self._memory = MemorySink()
            self._sinks.append(self._memory)
        self._batcher = Batcher(self.config, self._write, name=self.application_id)
        _live.add(self)
        _install_exit_hooks()
        log.debug("recording %s of %r started", self.recording_id, application_id)

    # --- sinks -------------------------------------------------------------------------
    def _file_sink(self, path: str | os.PathLike[str]) -> FileSink:
        try:
            return FileSink(
                path,
                application_id=self.application_id,
                recording_id=self.recording_id,
                start_time_ns=self.start_time_ns,
                flush_bytes=self.config.flush_bytes,
            )
        except OSError as exc:
            raise OSError(exc.errno, f"cannot record to {os.fspath(path)!r}: {exc.strerror or exc}") from exc

    def _write(self, chunks: list[Chunk]) -> None:
        with self._sink_lock:
            sinks = list(self._sinks)
        for sink in sinks:
            sink.write(chunks)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Stream this recording to an .rrd file; what was logged before is written too."""
        if not self.enabled:
            return
        self._check_open("save")
        self._add_sink(self._file_sink(path))

    def _add_sink(self, sink: Sink) -> None:
        """Start writing to ``sink``, after giving it what the memory sink kept so far.

        The memory sink then goes: a file keeps everything from here on, and a live
        stream may run for hours, which memory must not follow.
        """
        assert self._batcher is not None
        self._batcher.flush()
        with self._sink_lock:
            earlier = self._memory.take() if self._memory is not None else []
            if self._memory is not None:
                self._sinks.remove(self._memory)
                self._memory = None
            if earlier:
                sink.write(earlier)
            self._sinks.append(sink)

    def memory_chunks(self) -> list[Chunk]:
        """Chunks kept in memory because no file sink was chosen yet."""
        with self._sink_lock:
            return list(self._memory.chunks) if self._memory is not None else []

    def flush(self, *, timeout: float | None = None) -> None:
        """Write everything logged so far to the sinks (it is then readable in the file)."""
        if self._batcher is None or self._closed:
            return
        self._batcher.flush(timeout)
        with self._sink_lock:
            sinks = list(self._sinks)
        for s in sinks:
            s.flush()

    def disconnect(self) -> None:
        """Flush, write the file's footer and close. Later log calls are no-ops."""
        if self._closed:
            return
        self._closed = True
        _live.discard(self)
        if self._batcher is not None:
            self._batcher.stop()
        with self._sink_lock:
            sinks, self._sinks = self._sinks, []
        for s in sinks:
            s.close()
        log.debug("recording %s closed", self.recording_id)

    def _check_open(self, what: str) -> None:
        if self._closed:
            raise RuntimeError(f"{what}: the recording {self.recording_id} was disconnected")

    # --- time ----------------------------------------------------------------------------
    def _set_time(self, timeline: str, kind: TimelineKind, value: int | None, func: str) -> None:
        if not self.enabled:
            return
        # A timeline already set once with this kind passed the checks below: skip them.
        if type(timeline) is not str or self._settable.get(timeline) is not kind:
            if not isinstance(timeline, str) or not timeline:
                report(self, f"{func}: argument 'timeline': got {timeline!r}; expected a non-empty string")
                return
            if timeline in COMPONENTS or timeline in (ROW_ID, "entity"):
                report(
                    self,
                    f"{func}: argument 'timeline': got {timeline!r}, which names a component column; "
                    "expected a timeline name that is not a component name, 'row_id' or 'entity'",
                )
                return
            if timeline == LOG_TIME:
                report(self, f"{func}: the {LOG_TIME!r} timeline is set automatically and cannot be set")
                return
            known = self._timeline_kinds.setdefault(timeline, kind)
            if known is not kind:
                report(
                    self,
                    f"{func}: timeline {timeline!r} is a {known.value} timeline; "
                    f"it cannot also be set as a {kind.value}",
                )
                return
            if type(timeline) is str:
                self._settable[timeline] = kind
        tls = self._tls
        new = dict(getattr(tls, "time", _EMPTY))  # copy on write: rows already logged keep the old snapshot
        if value is None:
            new.pop(timeline, None)
        else:
            new[timeline] = (kind, value)
        tls.time = new

    def reset_time(self) -> None:
        """Clear every timeline set on the calling thread (``log_time`` stays)."""
        self._tls.time = _EMPTY

    def current_time(self) -> dict[str, int]:
        """The calling thread's timelines and their values."""
        return {k: v for k, (_, v) in getattr(self._tls, "time", _EMPTY).items()}

    # --- logging (used by the log functions) -------------------------------------------------
    def entity(self, path: Any, arg: str = "entity_path") -> str:
        """Canonical text of a path; raises ArgumentError for a bad one."""
        cached = self._paths.get(path) if isinstance(path, str) else None
        if cached is not None:
            return cached
        try:
            canonical = path if type(path) is str and _PLAIN_PATH.fullmatch(path) else str(EntityPath.parse(path))
        except (ValueError, TypeError) as exc:
            raise ArgumentError(arg, repr(path), f"a valid entity path ({exc})") from None
        if not canonical:
            raise ArgumentError(arg, repr(path), "a non-root entity path such as 'world/points'")
        if isinstance(path, str):
            if len(self._paths) > _PATH_CACHE_LIMIT:
                self._paths.clear()
            self._paths[path] = canonical
        return canonical

    def check_kind(self, entity: str, kind: str) -> None:
        """Enforce: one data kind per path for its life (side kinds may sit beside it)."""
        if kind in SIDE_KINDS:
            return
        known = self._kinds.setdefault(entity, kind)
        if known != kind:
            raise ArgumentError(
                "entity_path",
                f"{entity!r}, which already holds {known} data",
                f"a path that holds {kind} data or none yet (one path keeps one kind of data)",
            )

    def log_row(self, entity: str, kind: str, cells: dict[str, Any], *, timeless: bool, nbytes: int = 64) -> None:
        """Queue one row (called by the log functions after conversion)."""
        batcher = self._batcher
        if batcher is None or self._closed:
            return
        if self._kinds.get(entity) is not kind:  # else this path already holds this kind
            self.check_kind(entity, kind)
        # The thread's time dict is replaced, never mutated, on each set_time: share it.
        when = _EMPTY if timeless else getattr(self._tls, "time", _EMPTY)
        batcher.add_row(entity, kind, timeless, when, time.time_ns(), cells, nbytes)

    def reserve_row_ids(self, n: int) -> int:
        """Reserve ``n`` consecutive row ids for columnar logging; returns the first."""
        if self._batcher is None:
            return 0
        return self._batcher.reserve_row_ids(n)

    def log_chunk(self, chunk: Chunk) -> None:
        """Queue a chunk built by columnar logging."""
        if self._batcher is None or self._closed:
            return
        self.check_kind(chunk.entity, chunk.kind)
        self._batcher.add_chunk(chunk)

    # --- live viewing ----------------------------------------------------------------
    def connect(self, addr: str | None = None, *, buffer_bytes: int | None = None) -> None:
        """Stream to a viewer listening on TCP (``rrview --listen``), besides any file.

        Data logged before the call is sent too. The robot is never held up by the
        viewer: at most ``buffer_bytes`` (default 64 MiB, env ``RRKIT_TCP_BUFFER``) of
        unsent data wait for it, then the oldest is dropped with one warning. An
        unreachable viewer is a warning; logging goes on and the connection is retried
        every second. Data is no longer kept in memory for a later :meth:`save`: from
        here on only a file given to ``save`` keeps everything.

        Parameters
        ----------
        addr
            ``"HOST:PORT"`` (default ``"127.0.0.1:9876"``).
        """
        if not self.enabled:
            return
        self._check_open("connect")
        host, port = parse_address(addr)
        with self._sink_lock:
            if any(isinstance(s, TcpSink) and (s.host, s.port) == (host, port) for s in self._sinks):
                return
        size = buffer_bytes if buffer_bytes is not None else int(_env_number("RRKIT_TCP_BUFFER", DEFAULT_TCP_BUFFER))
        if size <= 0:
            raise ValueError(f"connect: argument 'buffer_bytes': got {size}; expected a positive byte count")
        sink = TcpSink(
            f"{host}:{port}",
            application_id=self.application_id,
            recording_id=self.recording_id,
            start_time_ns=self.start_time_ns,
            flush_bytes=self.config.flush_bytes,
            buffer_bytes=size,
        )
        self._add_sink(sink)
        with self._sink_lock:
            self._tcp_sinks.append(sink)
        assert self._batcher is not None
        if not self._flush_age_given:
            # A live viewer wants rows soon: 50 ms batches keep the latency well under 100 ms.
            self._batcher.set_flush_age(min(self.config.flush_age, LIVE_FLUSH_AGE))

    def spawn(self, addr: str | None = None, *, timeout: float = 20.0) -> None:
        """Start a viewer (``rrview --listen``) as a separate process if none listens, and connect to it.

        The viewer lives on when this program ends. If it cannot start (no display, say),
        a warning tells why and logging goes on.
        """
        if not self.enabled:
            return
        self._check_open("spawn")
        host, port = parse_address(addr)
        if not _listening(host, port):
            problem = _start_viewer(
                ["--listen", f"{host}:{port}"], until=lambda: _listening(host, port), timeout=timeout
            )
            if problem is not None:
                warnings.warn(f"rrkit: rr.spawn: {problem}; logging goes on", RuntimeWarning, stacklevel=3)
                return
        self.connect(f"{host}:{port}")

    def show(self) -> None:
        """Open a viewer on everything logged so far and wait until its window is closed.

        Call it at the end of a script instead of :meth:`connect` at the start. It shows
        the recording's file (``save=``) or, without one, the data kept in memory.
        """
        if not self.enabled:
            return
        self.flush()
        path = None
        with self._sink_lock:
            files = [s for s in self._sinks if isinstance(s, FileSink)]
            chunks = list(self._memory.chunks) if self._memory is not None else None
        tmpdir = None
        if files:
            path = files[0].path
        elif chunks is not None:
            tmpdir = tempfile.mkdtemp(prefix="rrkit-show-")
            path = os.path.join(tmpdir, f"{self.application_id or 'recording'}.rrd".replace(os.sep, "_"))
            with RrdWriter(
                path,
                application_id=self.application_id,
                recording_id=self.recording_id,
                start_time_ns=self.start_time_ns,
            ) as w:
                w.write_chunks(chunks)
        else:
            warnings.warn(
                "rrkit: rr.show: this recording keeps no data to show (it streams to a viewer without a file); "
                "pass save= to keep it",
                RuntimeWarning,
                stacklevel=3,
            )
            return
        try:
            problem = _run_viewer([path])
        finally:
            if tmpdir is not None:
                shutil.rmtree(tmpdir, ignore_errors=True)
        if problem is not None:
            warnings.warn(f"rrkit: rr.show: {problem}", RuntimeWarning, stacklevel=3)

    @property
    def stream_stats(self) -> dict[str, int]:
        """What the live streams of this recording sent and dropped (chunk records and bytes)."""
        with self._sink_lock:
            tcp = list(self._tcp_sinks)
        return {
            "sent_records": sum(s.sent_records for s in tcp),
            "dropped_records": sum(s.dropped_records for s in tcp),
            "dropped_bytes": sum(s.dropped_bytes for s in tcp),
        }

    def __repr__(self) -> str:
        state = "disabled" if not self.enabled else ("closed" if self._closed else "open")
        return f"RecordingStream({self.application_id!r}, recording_id={self.recording_id!r}, {state})"

    def __enter__(self) -> RecordingStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect()


# --- the global default and exit handling ---------------------------------------------------
_global: RecordingStream | None = None
_global_lock = threading.Lock()
_live: weakref.WeakSet[RecordingStream] = weakref.WeakSet()
_hooks_installed = False
_warned_no_init = False


def get_global_recording() -> RecordingStream | None:
    return _global


def set_global_recording(stream: RecordingStream | None) -> RecordingStream | None:
    """Make ``stream`` the default of the module-level functions; returns the previous one."""
    global _global
    with _global_lock:
        previous, _global = _global, stream
    return previous


def resolve(recording: RecordingStream | None) -> RecordingStream | None:
    """The stream a call should log to, or None if logging is off for it."""
    global _warned_no_init
    stream = recording if recording is not None else _global
    if stream is None:
        if not _warned_no_init:
            _warned_no_init = True
            import warnings

            warnings.warn(
                "rrkit: nothing is recorded: call rr.init(...) before logging", RecordingWarning, stacklevel=3
            )
        return None
    if not stream.enabled or stream._closed:
        return None
    return stream


def shutdown_all() -> None:
    """Flush and close every open recording (at interpreter exit)."""
    for stream in list(_live):
        try:
            stream.disconnect()
        except Exception as exc:  # exit must go on
            log.warning("rrkit: closing %s failed: %s", stream.recording_id, exc)


def _on_sigterm(signum: int, frame: Any) -> None:
    # The handler runs on the main thread between two bytecodes, possibly inside a log call
    # that holds a recording's lock: closing from here could deadlock. Close from another
    # thread while the main thread goes on (and releases its locks), then die of SIGTERM.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        threading.Thread(target=_close_and_terminate, name="rrkit-sigterm").start()
    except RuntimeError:  # interpreter shutting down: no new threads, close from here
        _close_and_terminate()


def _close_and_terminate() -> None:
    shutdown_all()
    os.kill(os.getpid(), signal.SIGTERM)


def _install_exit_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(shutdown_all)
    # Only take over SIGTERM if nobody else did, and only from the main thread (Python's rule).
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)


# --- viewer processes -------------------------------------------------------------------------
def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _viewer_command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "cli.rrview", *args]


def _tail(f: Any) -> str:
    f.seek(0)
    lines = [ln for ln in f.read().decode(errors="replace").splitlines() if ln.strip()]
    return lines[-1] if lines else "no message"


def _start_viewer(args: list[str], *, until: Callable[[], bool], timeout: float) -> str | None:
    """Start a detached viewer and wait until ``until()``; returns what went wrong, or None."""
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(
                _viewer_command(args),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,
            )
        except OSError as exc:
            return f"cannot start the viewer ({exc})"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if until():
                return None
            code = proc.poll()
            if code is not None:
                return f"the viewer exited at start (code {code}): {_tail(err)}"
            time.sleep(0.05)
    return f"the viewer did not start listening within {timeout:g} s"


def _run_viewer(args: list[str]) -> str | None:
    """Run a viewer and wait for it to exit; returns what went wrong, or None."""
    with tempfile.TemporaryFile() as err:
        try:
            code = subprocess.call(_viewer_command(args), stdin=subprocess.DEVNULL, stderr=err)
        except OSError as exc:
            return f"cannot start the viewer ({exc})"
        if code != 0:
            return f"the viewer failed (code {code}): {_tail(err)}"
    return None
