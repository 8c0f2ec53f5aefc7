"""The recordings under a directory, summarised from their indexes and cached next to them.

A summary says what a recording holds without reading a chunk: its ids, start time,
entities, the span of each timeline, its chunk and row counts. It comes from the file's
footer (or, for a file that lacks one, a scan of its record headers). :func:`catalog`
keeps the summaries in ``DIR/.rrcatalog.json``, keyed by path and checked against each
file's size, modification time and inode, so only new or changed files are read again.
Multi-file queries (:func:`rrquery.open_many`) use a fresh cache entry to leave out files
outside their filters without opening them.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from rrformat.errors import RrdError
from rrformat.reader import RrdReader

from ._frames import TIME_DTYPE

__all__ = [
    "CACHE_NAME",
    "CatalogScan",
    "FileProblem",
    "RecordingSummary",
    "TimelineSpan",
    "catalog",
    "catalog_frame",
    "file_key",
    "find_cached",
    "scan_directory",
    "summarize",
]

CACHE_NAME = ".rrcatalog.json"
"""The cache file :func:`catalog` writes in the directory it lists."""

_CACHE_VERSION = 1

FileKey = tuple[int, int, int]
"""What tells that a file changed: size, modification time (ns), inode."""


@dataclass(frozen=True, slots=True)
class TimelineSpan:
    """The first and last value of a timeline in a recording (raw int64; None if no row is on it)."""

    kind: str
    min: int | None
    max: int | None

    def overlaps(self, lo: int | None, hi: int | None) -> bool:
        if self.min is None or self.max is None:
            return False
        return (hi is None or self.min <= hi) and (lo is None or self.max >= lo)


@dataclass(frozen=True)
class RecordingSummary:
    """One recording of a file, as its index describes it.

    Attributes
    ----------
    path
        The file.
    size, mtime_ns
        The file's size and modification time when it was summarised.
    index
        The recording's index in its file (most files hold one recording, index 0).
    status
        ``"ok"``, or ``"truncated"`` / ``"corrupt"`` for a damaged file, whose sound
        prefix the summary describes (``problem`` says what was lost).
    """

    path: str
    size: int
    mtime_ns: int
    index: int
    application_id: str
    recording_id: str
    start_time_ns: int
    timelines: dict[str, TimelineSpan]
    entities: tuple[str, ...]
    timeless_entities: tuple[str, ...]
    chunks: int
    rows: int
    status: str = "ok"
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "application_id": self.application_id,
            "recording_id": self.recording_id,
            "start_time_ns": self.start_time_ns,
            "timelines": {k: [v.kind, v.min, v.max] for k, v in self.timelines.items()},
            "entities": list(self.entities),
            "timeless_entities": list(self.timeless_entities),
            "chunks": self.chunks,
            "rows": self.rows,
            "status": self.status,
            "problem": self.problem,
        }

    @classmethod
    def from_json(cls, path: str, size: int, mtime_ns: int, d: dict[str, Any]) -> RecordingSummary:
        return cls(
            path=path,
            size=size,
            mtime_ns=mtime_ns,
            index=int(d["index"]),
            application_id=str(d["application_id"]),
            recording_id=str(d["recording_id"]),
            start_time_ns=int(d["start_time_ns"]),
            timelines={str(k): TimelineSpan(str(v[0]), v[1], v[2]) for k, v in d["timelines"].items()},
            entities=tuple(str(e) for e in d["entities"]),
            timeless_entities=tuple(str(e) for e in d["timeless_entities"]),
            chunks=int(d["chunks"]),
            rows=int(d["rows"]),
            status=str(d["status"]),
            problem=None if d["problem"] is None else str(d["problem"]),
        )


@dataclass(frozen=True)
class FileProblem:
    """A file that could not be read at all (not an .rrd file, unreadable, no recording).

    ``error`` names the file; ``reason`` and ``offset`` say what is wrong, and where.
    """

    path: str
    size: int
    mtime_ns: int
    error: str
    reason: str = ""
    offset: int | None = None

    @classmethod
    def of(cls, path: str, key: FileKey | None, exc: BaseException) -> FileProblem:
        size, mtime_ns = (key[0], key[1]) if key is not None else (0, 0)
        if isinstance(exc, RrdError):
            reason, offset = exc.reason, exc.offset
        elif isinstance(exc, OSError):
            reason, offset = str(exc.strerror or exc), None
        else:
            reason, offset = str(exc), None
        return cls(path, size, mtime_ns, _located(path, offset, reason), reason, offset)


def _located(path: str, offset: int | None, reason: str) -> str:
    return f"{path}{'' if offset is None else f' at byte {offset}'}: {reason}"


def file_key(path: str) -> FileKey:
    st = os.stat(path)
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def summarize(path: str, reader: RrdReader, key: FileKey | None = None) -> list[RecordingSummary]:
    """Summaries of the recordings of an open file, from its index alone.

    ``key`` is the file's :func:`file_key` taken before it was opened (stat'ed here if None).
    """
    size, mtime_ns, _ino = key if key is not None else file_key(path)
    damage = reader.damage
    status = "ok" if damage is None else damage.kind
    problem = None if damage is None else damage.describe()
    per: dict[int, dict[str, Any]] = {
        r.index: {"timelines": {}, "entities": set(), "timeless": set(), "chunks": 0, "rows": 0}
        for r in reader.recordings
    }
    for c in reader.chunks:
        acc = per.get(c.recording)
        if acc is None:
            continue  # a chunk of a recording the file does not declare: no query can reach it
        acc["chunks"] += 1
        acc["rows"] += c.rows
        acc["entities"].add(c.entity)
        if c.timeless:
            acc["timeless"].add(c.entity)
        spans: dict[str, list[Any]] = acc["timelines"]
        for name, tr in c.timelines.items():
            span = spans.get(name)
            if span is None:
                spans[name] = [tr.kind.value, tr.min, tr.max]
                continue
            if tr.min is not None:
                span[1] = tr.min if span[1] is None else min(span[1], tr.min)
            if tr.max is not None:
                span[2] = tr.max if span[2] is None else max(span[2], tr.max)
    out = []
    for r in reader.recordings:
        acc = per[r.index]
        out.append(
            RecordingSummary(
                path=path,
                size=size,
                mtime_ns=mtime_ns,
                index=r.index,
                application_id=r.application_id,
                recording_id=r.recording_id,
                start_time_ns=r.start_time_ns,
                timelines={k: TimelineSpan(*v) for k, v in sorted(acc["timelines"].items())},
                entities=tuple(sorted(acc["entities"])),
                timeless_entities=tuple(sorted(acc["timeless"])),
                chunks=acc["chunks"],
                rows=acc["rows"],
                status=status,
                problem=problem,
            )
        )
    return out


def _read_file(path: str, key: FileKey) -> list[RecordingSummary]:
    with RrdReader(path) as reader:
        if not reader.recordings:
            raise RrdError("the file declares no recording", path=path)
        return summarize(path, reader, key)


# --- the cache ----------------------------------------------------------------------------------
def _load_cache(directory: str) -> dict[str, Any]:
    """The cache's file entries, or nothing when it is missing, unreadable or of another version."""
    try:
        with open(os.path.join(directory, CACHE_NAME), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != _CACHE_VERSION or not isinstance(data.get("files"), dict):
        return {}
    files: dict[str, Any] = data["files"]
    return files


def _save_cache(directory: str, files: dict[str, Any]) -> bool:
    """Write the cache atomically; False when the directory cannot be written (read-only data)."""
    path = os.path.join(directory, CACHE_NAME)
    tmp = f"{path}.partial-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"version": _CACHE_VERSION, "files": files}, f, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False
    return True


def _entry_summaries(path: str, entry: Any) -> list[RecordingSummary] | FileProblem:
    size, mtime_ns = int(entry["key"][0]), int(entry["key"][1])
    if "error" in entry:
        reason, offset = str(entry["error"]), entry.get("offset")
        offset = None if offset is None else int(offset)
        return FileProblem(path, size, mtime_ns, _located(path, offset, reason), reason, offset)
    return [RecordingSummary.from_json(path, size, mtime_ns, r) for r in entry["recordings"]]


def _entry(key: FileKey, result: list[RecordingSummary] | FileProblem) -> dict[str, Any]:
    if isinstance(result, FileProblem):
        # Without the path: the cache is found through other names too (relative, absolute).
        return {"key": list(key), "error": result.reason, "offset": result.offset}
    return {"key": list(key), "recordings": [s.to_json() for s in result]}


class _CacheLookup:
    """Cached summaries of files anywhere below directories holding a catalog cache."""

    def __init__(self) -> None:
        self._dirs: dict[str, str | None] = {}
        self._caches: dict[str, dict[str, Any]] = {}

    def _cache_dir(self, directory: str) -> str | None:
        if directory in self._dirs:
            return self._dirs[directory]
        found: str | None = None
        if os.path.isfile(os.path.join(directory, CACHE_NAME)):
            found = directory
        else:
            parent = os.path.dirname(directory)
            if parent != directory:
                found = self._cache_dir(parent)
        self._dirs[directory] = found
        return found

    def get(self, path: str, key: FileKey) -> list[RecordingSummary] | FileProblem | None:
        real = os.path.abspath(path)
        root = self._cache_dir(os.path.dirname(real))
        if root is None:
            return None
        files = self._caches.get(root)
        if files is None:
            files = self._caches[root] = _load_cache(root)
        entry = files.get(os.path.relpath(real, root).replace(os.sep, "/"))
        if entry is None:
            return None
        try:
            if tuple(entry["key"]) != key:
                return None
            return _entry_summaries(path, entry)
        except (KeyError, TypeError, ValueError, IndexError):
            return None  # a damaged entry: read the file instead


Cached = list[RecordingSummary] | FileProblem


def find_cached(paths: Sequence[str]) -> Iterator[tuple[str, FileKey | None, Cached | None]]:
    """For each path: its key (None if it cannot be stat'ed) and its fresh cached summaries, if any."""
    lookup = _CacheLookup()
    for path in paths:
        try:
            key = file_key(path)
        except OSError:
            yield path, None, None
            continue
        yield path, key, lookup.get(path, key)


# --- listing a directory ---------------------------------------------------------------------------
@dataclass
class CatalogScan:
    """What :func:`scan_directory` found: summaries, files it could not read, and how."""

    directory: str
    summaries: list[RecordingSummary] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    files: int = 0
    read: int = 0
    """Files whose index was read (new or changed); the others came from the cache."""
    cache_written: bool = False


def _files_under(directory: str, pattern: str) -> list[str]:
    if not os.path.isdir(directory):
        if os.path.exists(directory):
            raise NotADirectoryError(20, "not a directory", directory)
        raise FileNotFoundError(2, "no such directory", directory)
    found = glob.glob(os.path.join(glob.escape(directory), pattern), recursive=True)
    return sorted(p for p in found if os.path.isfile(p))


def scan_directory(
    directory: str | os.PathLike[str],
    *,
    pattern: str = "**/*.rrd",
    cache: bool = True,
    refresh: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> CatalogScan:
    """Summarise the recordings of the files matching ``pattern`` under ``directory``.

    Files whose cache entry matches their size, modification time and inode are not
    opened; the others are read (footer only) and the cache is rewritten.
    ``progress(done, total)`` counts the files read.
    """
    root = os.fspath(directory)
    paths = _files_under(root, pattern)
    old = _load_cache(root) if cache and not refresh else {}
    new: dict[str, Any] = {}
    out = CatalogScan(root, files=len(paths))
    todo: list[tuple[str, str, FileKey]] = []
    results: dict[str, list[RecordingSummary] | FileProblem] = {}
    for path in paths:
        rel = os.path.relpath(path, root).replace(os.sep, "/")
        try:
            key = file_key(path)
        except OSError as exc:
            results[path] = FileProblem.of(path, None, exc)
            continue
        entry = old.get(rel)
        if entry is not None:
            try:
                if tuple(entry["key"]) == key:
                    results[path] = _entry_summaries(path, entry)
                    new[rel] = entry
                    continue
            except (KeyError, TypeError, ValueError, IndexError):
                pass
        todo.append((path, rel, key))
    if progress is not None:
        progress(0, len(todo))
    for i, (path, rel, key) in enumerate(todo):
        result: list[RecordingSummary] | FileProblem
        try:
            result = _read_file(path, key)
        except (RrdError, OSError) as exc:
            result = FileProblem.of(path, key, exc)
        results[path] = result
        new[rel] = _entry(key, result)
        if progress is not None:
            progress(i + 1, len(todo))
    out.read = len(todo)
    for path in paths:
        result = results[path]
        if isinstance(result, FileProblem):
            out.problems.append(result)
        else:
            out.summaries.extend(result)
    if cache and (todo or set(new) != set(old) or refresh):
        out.cache_written = _save_cache(root, new)
    return out


def catalog_frame(
    summaries: Iterable[RecordingSummary], problems: Iterable[FileProblem] = (), *, relative_to: str | None = None
) -> pl.DataFrame:
    """The catalog table of summaries (one row per recording) and unreadable files (one row each).

    Columns: ``path``, ``application_id``, ``recording_id``, ``recording`` (index in the
    file), ``start_time``, then for each timeline ``<name>_min``, ``<name>_max`` and
    ``<name>_duration`` (Datetime and Duration on time timelines, Int64 on sequences),
    then ``entities``, ``chunks``, ``rows``, ``size`` (bytes), ``modified``, ``status``
    and ``problem``.
    """
    items: list[RecordingSummary | FileProblem] = [*summaries, *problems]
    items.sort(key=lambda s: (s.path, s.index if isinstance(s, RecordingSummary) else -1))
    kinds: dict[str, set[str]] = {}
    for s in items:
        if isinstance(s, RecordingSummary):
            for name, span in s.timelines.items():
                kinds.setdefault(name, set()).add(span.kind)
    names = sorted(n for n in kinds if n != "log_time") + (["log_time"] if "log_time" in kinds else [])

    def shown(path: str) -> str:
        return os.path.relpath(path, relative_to) if relative_to is not None else path

    data: dict[str, list[Any]] = {k: [] for k in ("path", "application_id", "recording_id", "recording", "start_time")}
    for name in names:
        for end in ("min", "max", "duration"):
            data[f"{name}_{end}"] = []
    for k in ("entities", "chunks", "rows", "size", "modified", "status", "problem"):
        data[k] = []
    for s in items:
        data["path"].append(shown(s.path))
        data["size"].append(s.size)
        data["modified"].append(s.mtime_ns)
        if isinstance(s, FileProblem):
            for k in ("application_id", "recording_id", "recording", "start_time", "entities", "chunks", "rows"):
                data[k].append(None)
            for name in names:
                for end in ("min", "max", "duration"):
                    data[f"{name}_{end}"].append(None)
            data["status"].append("unreadable")
            data["problem"].append(s.error)
            continue
        data["application_id"].append(s.application_id)
        data["recording_id"].append(s.recording_id)
        data["recording"].append(s.index)
        data["start_time"].append(s.start_time_ns)
        for name in names:
            got = s.timelines.get(name)
            lo = got.min if got is not None else None
            hi = got.max if got is not None else None
            data[f"{name}_min"].append(lo)
            data[f"{name}_max"].append(hi)
            data[f"{name}_duration"].append(hi - lo if lo is not None and hi is not None else None)
        data["entities"].append(list(s.entities))
        data["chunks"].append(s.chunks)
        data["rows"].append(s.rows)
        data["status"].append(s.status)
        data["problem"].append(s.problem)
    schema: dict[str, pl.DataType] = {
        "path": pl.String(),
        "application_id": pl.String(),
        "recording_id": pl.String(),
        "recording": pl.Int64(),
        "start_time": pl.Int64(),
    }
    for name in names:
        for end in ("min", "max", "duration"):
            schema[f"{name}_{end}"] = pl.Int64()
    schema.update(
        {
            "entities": pl.List(pl.String()),
            "chunks": pl.Int64(),
            "rows": pl.Int64(),
            "size": pl.Int64(),
            "modified": pl.Int64(),
            "status": pl.String(),
            "problem": pl.String(),
        }
    )
    frame = pl.DataFrame(data, schema=schema)
    casts = [pl.col("start_time").cast(TIME_DTYPE), pl.col("modified").cast(TIME_DTYPE)]
    for name in names:
        # A timeline that is a time in some recordings and a sequence in others stays raw int64.
        if kinds[name] == {"time"}:
            casts += [
                pl.col(f"{name}_min").cast(TIME_DTYPE),
                pl.col(f"{name}_max").cast(TIME_DTYPE),
                pl.col(f"{name}_duration").cast(pl.Duration("ns")),
            ]
    return frame.with_columns(casts)


def catalog(
    directory: str | os.PathLike[str],
    *,
    pattern: str = "**/*.rrd",
    cache: bool = True,
    refresh: bool = False,
) -> pl.DataFrame:
    """A table of the recordings under a directory, from their indexes (no chunk is read).

    Parameters
    ----------
    directory
        Where to look; files matching ``pattern`` (default every ``.rrd`` file below it).
    cache
        Keep the summaries in ``directory/.rrcatalog.json``: a file whose size,
        modification time and inode match its entry is not opened again. A directory that
        cannot be written to is listed all the same, without a cache.
    refresh
        Read every file again, ignoring the cache (and rewrite it).

    Returns
    -------
    polars.DataFrame
        One row per recording (a file holding several has a row for each), sorted by path:
        ``path`` (under ``directory``), ``application_id``, ``recording_id``, ``recording``
        (its index in the file), ``start_time``, then per timeline ``<name>_min``,
        ``<name>_max`` and ``<name>_duration``, then ``entities``, ``chunks``, ``rows``,
        ``size`` (of the file, in bytes), ``modified``, ``status`` (``ok``, ``truncated``,
        ``corrupt`` for a damaged file whose sound prefix is described, ``unreadable`` for a
        file that is no recording) and ``problem``.

    Examples
    --------
    >>> runs = rrquery.catalog("runs/")  # doctest: +SKIP
    >>> runs.filter(pl.col("application_id") == "picker").select("path", "frame_duration")  # doctest: +SKIP
    """
    found = scan_directory(directory, pattern=pattern, cache=cache, refresh=refresh)
    return catalog_frame(found.summaries, found.problems)
