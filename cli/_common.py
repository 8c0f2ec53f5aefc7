"""What the command-line tools share: error reporting, file arguments, sizes, progress bars.

Every failure a user can cause (a missing file, a file that is not an .rrd file, an
output that exists, a bad option value) ends as one line on stderr,
``<prog>: error: <what>``, and exit code 2 — never a traceback. Set ``RRD_DEBUG=1``
to see the traceback of an unexpected error.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from rrformat import _framing as fr
from rrformat.errors import CorruptFileError, NotAnRrdFileError, RrdError, TruncatedFileError, UnsupportedVersionError
from rrformat.tools import DamagedInputError, Progress

__all__ = [
    "EXIT_OK",
    "EXIT_FAILED",
    "EXIT_USAGE",
    "EXIT_TRUNCATED",
    "ErrorHandlingGroup",
    "RrdFile",
    "ParsedValue",
    "check_distinct",
    "check_output",
    "human_size",
    "parse_size",
    "progress_bar",
    "fail",
    "usage_errors",
]

EXIT_OK = 0
EXIT_FAILED = 1
"""The file is corrupt, or nothing could be done with it."""
EXIT_USAGE = 2
"""Bad arguments: a missing or unreadable file, an output that exists, a bad option value."""
EXIT_TRUNCATED = 3
"""The file ends early (or something was lost) but what is there is sound."""

PROGRESS_MIN_BYTES = 256 * 1024 * 1024
"""Work this large shows its progress even when stderr is not a terminal (the label only)."""


class UserError(click.ClickException):
    """A failure to report in one line with a given exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        # click declares exit_code a ClassVar, but it reads the attribute from the instance.
        self.exit_code = exit_code  # type: ignore[misc]


def fail(message: str, exit_code: int = EXIT_USAGE) -> NoReturn:
    raise UserError(message, exit_code)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _error_line(exc: BaseException) -> tuple[str, int]:
    """The message and exit code for an exception that ends a command."""
    if isinstance(exc, click.UsageError):
        msg = exc.format_message()
        if exc.ctx is not None:
            msg += f" (see '{exc.ctx.command_path} --help')"
        return msg, EXIT_USAGE
    if isinstance(exc, click.ClickException):
        return exc.format_message(), exc.exit_code
    if isinstance(exc, (NotAnRrdFileError, UnsupportedVersionError)):
        return str(exc), EXIT_USAGE
    if isinstance(exc, (DamagedInputError, CorruptFileError)):
        return str(exc), EXIT_FAILED
    if isinstance(exc, TruncatedFileError):
        return str(exc), EXIT_TRUNCATED
    if isinstance(exc, RrdError):
        # Without a more precise class: the reader refusing a path (e.g. a directory).
        return str(exc), EXIT_USAGE
    if isinstance(exc, (FileNotFoundError, FileExistsError, IsADirectoryError, PermissionError, NotADirectoryError)):
        name = exc.filename if exc.filename is not None else ""
        text = f"{name}: {exc.strerror}" if name and exc.strerror else str(exc)
        return text, EXIT_USAGE
    if isinstance(exc, OSError):
        return f"{exc.filename + ': ' if exc.filename else ''}{exc.strerror or exc}", EXIT_FAILED
    if isinstance(exc, ValueError):
        return str(exc), EXIT_FAILED
    return f"unexpected {type(exc).__name__}: {exc} (set RRD_DEBUG=1 for details)", EXIT_FAILED


class ErrorHandlingGroup(click.Group):
    """A click group whose ``main`` turns every failure into one ``<prog>: error:`` line.

    Commands return their exit code (an int, or None for 0).
    """

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        prog = prog_name or self.name or "rrd"
        try:
            rv = super().main(args, prog, complete_var, standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) else EXIT_OK
        except click.exceptions.Exit as exc:
            code = exc.exit_code
        except (click.Abort, KeyboardInterrupt):
            click.echo(f"{prog}: error: interrupted", err=True)
            code = 130
        except BrokenPipeError:
            # The reader of our output went away (``rrd print x.rrd | head``): stop quietly.
            _silence_stdout()
            code = EXIT_FAILED
        except Exception as exc:
            if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
                _silence_stdout()
                code = EXIT_FAILED
            else:
                if os.environ.get("RRD_DEBUG"):
                    raise
                message, code = _error_line(exc)
                click.echo(f"{prog}: error: {_one_line(message)}", err=True)
        if not standalone_mode:
            return code
        sys.exit(code)


def _silence_stdout() -> None:
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


class RrdFile(click.ParamType):  # type: ignore[type-arg]  # generic only since click 8.2
    """An existing, readable .rrd file (checked by its magic bytes and version)."""

    name = "rrd_file"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(value)
        if not path.exists():
            self.fail(f"{path}: no such file (expected an .rrd file)", param, ctx)
        if path.is_dir():
            self.fail(f"{path}: is a directory (expected an .rrd file)", param, ctx)
        try:
            with open(path, "rb") as f:
                head = f.read(fr.PREAMBLE_SIZE)
        except OSError as exc:
            self.fail(f"{path}: cannot be read: {exc.strerror or exc}", param, ctx)
        try:
            fr.unpack_preamble(head, path=str(path))
        except (NotAnRrdFileError, UnsupportedVersionError) as exc:
            self.fail(f"{path}: {exc.reason}", param, ctx)
        except CorruptFileError:
            pass  # a damaged version field: the commands report that themselves
        return path


class ParsedValue(click.ParamType):  # type: ignore[type-arg]
    """An option value read from text by ``parse``, whose ``ValueError`` names the accepted forms.

    A value that is not text (an option's default) is taken as it is.

    Examples
    --------
    >>> size = ParsedValue("size", parse_size)  # 1000000, 512KB, 4MiB, 1.5GiB
    """

    def __init__(self, name: str, parse: Callable[[str], Any]) -> None:
        self.name = name
        self._parse = parse

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return self._parse(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1 << 10,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1 << 20,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1 << 30,
}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*$")


def parse_size(text: str) -> int:
    """Parse a byte count such as ``4MiB``, ``512KB`` or ``1000000``.

    Examples
    --------
    >>> parse_size("4MiB"), parse_size("512KB"), parse_size("1000000"), parse_size("1.5k")
    (4194304, 512000, 1000000, 1500)
    """
    m = _SIZE_RE.match(text)
    unit = m.group(2).lower() if m else ""
    if m is None or unit not in _UNITS:
        raise ValueError(f"{text!r} is not a size (expected a byte count like 1000000, 512KB or 4MiB)")
    value = int(float(m.group(1)) * _UNITS[unit])
    if value < 1:
        raise ValueError(f"{text!r} is too small (expected at least 1 byte)")
    return value


def human_size(n: int) -> str:
    """A byte count for people: ``512 B``, ``1.5 KiB``, ``12.3 MiB``.

    Examples
    --------
    >>> human_size(512), human_size(1536), human_size(5 << 30)
    ('512 B', '1.5 KiB', '5.0 GiB')
    """
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def check_output(path: Path, *, force: bool, inputs: Sequence[Path], option: str = "-o/--output") -> None:
    """Refuse an output that exists (without ``--force``), is a directory, or is an input."""
    for src in inputs:
        if _same_file(src, path):
            raise click.BadParameter(f"{path} is also an input; write to another file", param_hint=option)
    if path.is_dir():
        raise click.BadParameter(f"{path} is a directory (expected the .rrd file to write)", param_hint=option)
    if path.exists() and not force:
        raise click.BadParameter(f"{path} exists (pass --force to overwrite it)", param_hint=option)
    parent = path.parent
    if not parent.is_dir():
        raise click.BadParameter(f"directory {parent} does not exist (needed for {path.name})", param_hint=option)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def check_distinct(paths: Sequence[Path], *, param_hint: str) -> None:
    """Refuse the same input file given twice (also through another name)."""
    for i, a in enumerate(paths):
        for b in paths[:i]:
            if _same_file(a, b):
                raise click.BadParameter(f"{a} is given twice (also as {b})", param_hint=param_hint)


@contextlib.contextmanager
def progress_bar(label: str, total: int) -> Iterator[Progress | None]:
    """A ``progress(done, total)`` callback drawing a bar on stderr, or None when not wanted.

    The bar is drawn only on a terminal; a large job on a pipe or log file gets its
    label once and nothing else, so piped output never holds bar redraws.
    """
    stderr = sys.stderr
    if not (sys.stderr.isatty() or total >= PROGRESS_MIN_BYTES):
        yield None
        return
    with click.progressbar(length=max(1, total), label=label, file=stderr, show_pos=False, width=30) as bar:
        last = 0

        def update(done: int, _total: int) -> None:
            nonlocal last
            step = min(done, total) - last
            if step > 0:
                bar.update(step)
                last += step

        yield update


@contextlib.contextmanager
def usage_errors(*types: type[Exception]) -> Iterator[None]:
    """Report these exceptions as bad input: their message in one line, exit code 2.

    For library errors that mean the user asked for something wrong (an unknown name,
    a bad value), which would otherwise be reported as failures (exit code 1).
    """
    try:
        yield
    except types as exc:
        raise UserError(str(exc), EXIT_USAGE) from exc
