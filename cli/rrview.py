"""The ``rrview`` command: open .rrd recordings in the desktop viewer, or render one to a PNG.

Exit codes: 0 success; 1 an unexpected failure (or the viewer's libraries are missing);
2 bad input (a missing or non-.rrd file, an unknown timeline, a bad time, size or memory
limit) or no display to open the window on. Every failure is one ``rrview: error: ...``
line on stderr.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from ._common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    ParsedValue,
    RrdFile,
    _error_line,
    _one_line,
    fail,
    usage_errors,
)

__all__ = ["main"]


class _ErrorHandlingCommand(click.Command):
    """A click command whose failures end as one ``rrview: error:`` line, never a traceback."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        prog = "rrview"
        try:
            rv = super().main(args, prog, complete_var, standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) else EXIT_OK
        except click.exceptions.Exit as exc:
            code = exc.exit_code
        except (click.Abort, KeyboardInterrupt):
            click.echo(f"{prog}: error: interrupted", err=True)
            code = 130
        except Exception as exc:
            if os.environ.get("RRD_DEBUG"):
                raise
            message, code = _error_line(exc)
            click.echo(f"{prog}: error: {_one_line(message)}", err=True)
        if not standalone_mode:
            return code
        sys.exit(code)


def _memory_limit(text: str) -> int:
    from rrview.store import parse_memory_limit  # imported when used: the viewer package is slow to load

    return parse_memory_limit(text)


class _PixelSize(click.ParamType):  # type: ignore[type-arg]
    name = "WxH"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", str(value))
        if m is None:
            self.fail(f"{value!r} is not a size in pixels (expected WIDTHxHEIGHT, e.g. 1280x720)", param, ctx)
        w, h = int(m.group(1)), int(m.group(2))
        if not (16 <= w <= 16384 and 16 <= h <= 16384):
            self.fail(f"{value!r}: width and height must be between 16 and 16384 pixels", param, ctx)
        return w, h


def _open_model(path: Path, memory_limit: int | None) -> Any:
    """Open a recording; a damaged file is opened on its sound part with one warning line."""
    from rrview.model import ViewerModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ViewerModel(path, memory_limit=memory_limit)
    if model.damage is not None:
        click.echo(
            f"rrview: warning: {path}: {_one_line(model.damage.describe())}; showing the data before it", err=True
        )
    return model


def _screenshot(
    file: Path, out: Path, size: tuple[int, int], memory_limit: int | None, timeline: str | None, time: str | None
) -> int:
    from rrview.app import resolve_start

    if out.is_dir():
        fail(f"--screenshot: {out} is a directory (expected the .png file to write)")
    if not out.parent.is_dir():
        fail(f"--screenshot: directory {out.parent} does not exist")
    model = _open_model(file, memory_limit)
    try:
        with usage_errors(ValueError):
            tl, t = resolve_start(model, timeline, time)
        if t is None and tl is not None:
            rng = model.time_range(tl)
            t = rng[1] if rng is not None else None  # the window's default: the end of the timeline
        try:
            from rrview.render import render_layout, save_png
        except ImportError as exc:
            fail(f"--screenshot needs vispy and the rrview renderer: {exc}", EXIT_FAILED)
        image = render_layout(model, timeline=tl, time=t, size=size)
        save_png(image, out)
    finally:
        model.close()
    click.echo(f"wrote {out} ({size[0]}x{size[1]})")
    return EXIT_OK


def _duration(text: str) -> float:
    from rrview.live import parse_duration

    return parse_duration(text)


def _listen_address(text: str) -> tuple[str, int]:
    from rrformat._sinks import parse_address

    try:
        return parse_address(text, arg="--listen")
    except ValueError as exc:
        fail(str(exc).replace("argument '--listen'", "--listen"))


def _window(
    files: Sequence[Path],
    memory_limit: int | None,
    timeline: str | None,
    time: str | None,
    *,
    follow: bool = False,
    listen: str | None = None,
    save: Path | None = None,
    drop_at_latency: float | None = None,
) -> int:
    from rrview.app import display_problem, run

    problem = display_problem()
    if problem is not None:
        fail(problem, EXIT_USAGE)
    # find_spec, not import: pyqtgraph is loaded only when a plot view needs it.
    missing = [m for m in ("PyQt6", "vispy", "pyqtgraph") if importlib.util.find_spec(m) is None]
    if missing:
        fail(f"the viewer needs {', '.join(missing)}; install it with: pip install 'rrkit[viewer]'", 1)
    server = None
    if listen is not None:
        from rrview.live import LiveServer

        host, port = _listen_address(listen)
        try:
            server = LiveServer(host, port, memory_limit=memory_limit, drop_at_latency=drop_at_latency, save=save)
        except OSError as exc:
            fail(str(exc.strerror or exc), EXIT_USAGE)
        click.echo(f"rrview: listening on {server.address}", err=True)
    try:
        with usage_errors(ValueError):
            return run(
                [str(f) for f in files],
                memory_limit=memory_limit,
                timeline=timeline,
                time=time,
                follow=follow,
                server=server,
            )
    finally:
        if server is not None:
            server.close()
            for path in server.saved.values():
                click.echo(f"rrview: saved {path}", err=True)


@click.command(
    cls=_ErrorHandlingCommand,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.argument("files", nargs=-1, type=RrdFile())
@click.option(
    "--memory-limit",
    type=ParsedValue("size", _memory_limit),
    default=None,
    metavar="SIZE",
    help="Memory the viewer may use, e.g. 16GB, 500MiB or 50% (of RAM): above it, the oldest "
    "decoded data is dropped first. Default: a quarter of the RAM.",
)
@click.option("--timeline", metavar="NAME", help="Timeline to start on (default: the first user timeline).")
@click.option(
    "--time",
    metavar="VALUE",
    help="Time to start at: a frame number, or seconds / an ISO-8601 time on a time timeline "
    "(default: the end of the timeline).",
)
@click.option(
    "--follow",
    is_flag=True,
    help="The FILES are still being written: keep reading what is appended, the time cursor "
    "following the newest data until you move it back (End follows again).",
)
@click.option(
    "--listen",
    is_flag=False,
    flag_value="127.0.0.1:9876",
    default=None,
    metavar="[HOST:]PORT",
    help="Accept live recordings from rr.connect() / rr.spawn() over TCP; one tab per recording. "
    "Alone, --listen uses 127.0.0.1:9876.",
)
@click.option(
    "--save",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="With --listen: also record what arrives to FILE (.rrd; further recordings to FILE-2.rrd...).",
)
@click.option(
    "--drop-at-latency",
    type=ParsedValue("duration", _duration),
    default=None,
    metavar="DURATION",
    help="With --listen: when the viewer falls behind, skip data that waited longer than this "
    "(e.g. 200ms); the amount skipped is shown under the views.",
)
@click.option(
    "--screenshot",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="OUT.png",
    help="Render the default layout of the (one) recording to a PNG file and exit, without a window.",
)
@click.option(
    "--size",
    type=_PixelSize(),
    default="1280x720",
    show_default=True,
    metavar="WxH",
    help="Image size of --screenshot.",
)
@click.version_option(package_name="rrkit")
def main(
    files: tuple[Path, ...],
    memory_limit: int | None,
    timeline: str | None,
    time: str | None,
    follow: bool,
    listen: str | None,
    save: Path | None,
    drop_at_latency: float | None,
    screenshot: Path | None,
    size: tuple[int, int],
) -> int:
    """Open FILES (.rrd recordings) in the viewer: one tab per recording, each with an entity
    tree, 3D and 2D views, plots and text logs, a selection panel and a time panel to scrub
    and play.

    Hover a camera image to see the ray through that pixel in the 3D view and its value
    (depth in metres, class label) in the status bar. Keys: Space play/pause, Left/Right
    step, Home/End jump. A truncated recording opens with a warning saying how much was lost.

    \b
    Examples:
      rrview run.rrd                      open a recording
      rrview day1.rrd day2.rrd            two recordings, one tab each
      rrview run.rrd --timeline frame --time 120
      rrview big.rrd --memory-limit 4GB   stay under 4 GB, dropping the oldest decoded data
      rrview run.rrd --screenshot view.png --size 1280x720 --timeline frame --time 120
      rrview --follow run.rrd             watch a recording while the robot writes it
      rrview --listen                     receive rr.connect() streams on 127.0.0.1:9876
      rrview --listen 0.0.0.0:9876 --save live.rrd --memory-limit 16GB --drop-at-latency 200ms
    """
    if (save is not None or drop_at_latency is not None) and listen is None:
        fail("--save and --drop-at-latency need --listen")
    if screenshot is not None and (follow or listen is not None):
        fail("--screenshot renders a file as it is; it cannot be combined with --follow or --listen")
    if follow and not files:
        fail("--follow needs the FILE to follow")
    if save is not None:
        if save.is_dir():
            fail(f"--save: {save} is a directory (expected the .rrd file to write)")
        if not save.parent.is_dir():
            fail(f"--save: directory {save.parent} does not exist")
    if screenshot is not None:
        if len(files) != 1:
            fail(f"--screenshot renders one recording; got {len(files)} files")
        return _screenshot(files[0], screenshot, size, memory_limit, timeline, time)
    if time is not None and not files:
        fail("--time needs a recording to open")
    return _window(
        files, memory_limit, timeline, time, follow=follow, listen=listen, save=save, drop_at_latency=drop_at_latency
    )


if __name__ == "__main__":
    main()
