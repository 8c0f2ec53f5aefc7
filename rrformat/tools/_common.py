"""What the file tools share: progress callbacks, refusing damaged inputs, safe output files."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ..errors import CorruptFileError, RrdError
from ..reader import Damage, RrdReader
from ..writer import Compression

__all__ = [
    "Progress",
    "KEEP_RECORDS",
    "DamagedInputError",
    "damage_is_refusal",
    "open_sound",
    "atomic_output",
    "same_file",
    "source_compression",
]

Progress = Callable[[int, int], None]
"""Called as ``progress(done_bytes, total_bytes)`` while a tool works through its input."""

KEEP_RECORDS = 1 << 62
"""``chunk_bytes``/``chunk_rows`` that make a writer neither split nor re-pack: each
``write_chunks`` call then becomes exactly one record, so a tool that copies records
one call at a time keeps the source's record layout."""


class DamagedInputError(RrdError):
    """An input of ``compact`` or ``merge`` is truncated or corrupt; ``recover`` it first."""

    def __init__(self, path: str, damage: Damage) -> None:
        what = damage.describe() if damage.lost_bytes else f"{damage.kind} at byte {damage.offset}: {damage.reason}"
        super().__init__(f"{what}; run 'rrd recover' on it first", path=path)
        self.offset = damage.offset
        self.damage = damage


@contextlib.contextmanager
def damage_is_refusal() -> Iterator[None]:
    """Turn damage found while reading an input (a bad body checksum...) into :class:`DamagedInputError`."""
    try:
        yield
    except CorruptFileError as exc:
        offset = exc.offset or 0
        raise DamagedInputError(exc.path or "", Damage("corrupt", offset, 0, exc.reason)) from exc


def open_sound(path: str | os.PathLike[str]) -> RrdReader:
    """Open an input that must be whole; raise :class:`DamagedInputError` if it is not."""
    reader = RrdReader(path)
    if reader.damage is not None:
        reader.close()
        raise DamagedInputError(os.fspath(path), reader.damage)
    return reader


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether two paths name the same file (also through links); False if either is missing."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _check_output(dst: Path, srcs: Iterable[str | os.PathLike[str]], overwrite: bool) -> None:
    for src in srcs:
        if same_file(src, dst):
            raise ValueError(f"{dst}: the output is also an input; write to another file")
    if dst.is_dir():
        raise IsADirectoryError(f"{dst}: is a directory; expected the path of the .rrd file to write")
    if dst.exists() and not overwrite:
        raise FileExistsError(f"{dst}: file exists; pass overwrite=True to replace it")
    if not dst.parent.is_dir():
        raise FileNotFoundError(f"{dst.parent}: no such directory to write {dst.name} in")


@contextlib.contextmanager
def atomic_output(
    dst: str | os.PathLike[str], *, srcs: Iterable[str | os.PathLike[str]] = (), overwrite: bool = False
) -> Iterator[Path]:
    """Yield a temporary path next to ``dst``; move it to ``dst`` only if the block succeeds.

    A tool that fails or is interrupted half way must not leave a half-written file
    that looks like its result, nor destroy a file it was told to replace. If the block
    leaves no file at the temporary path, nothing is written.
    """
    target = Path(dst)
    _check_output(target, srcs, overwrite)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # the writer creates the file itself (and refuses an existing one)
    try:
        yield tmp
        if not tmp.exists():
            return
        if overwrite:
            os.replace(tmp, target)
        else:
            _move_no_clobber(tmp, target)
    except FileExistsError:
        raise FileExistsError(f"{target}: file exists; pass overwrite=True to replace it") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _move_no_clobber(tmp: Path, target: Path) -> None:
    try:
        # link() refuses an existing target: a file that appeared meanwhile is not clobbered.
        os.link(tmp, target)
    except FileExistsError:
        raise
    except OSError:
        # Some file systems have no hard links; fall back to a checked rename.
        if target.exists():
            raise FileExistsError(str(target)) from None
        os.replace(tmp, target)
    else:
        tmp.unlink()


def source_compression(readers: Iterable[RrdReader]) -> Compression:
    """``"none"`` if every chunk record of the inputs is uncompressed, else ``"zstd"``.

    Tools that copy data keep memory-mappable inputs memory-mappable.
    """
    codecs = {str(meta.get("codec")) for r in readers for _, _, meta in r.record_metas}
    return "none" if codecs == {"none"} else "zstd"
