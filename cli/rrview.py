"""The ``rrview`` command: open .rrd recordings in the desktop viewer."""

from __future__ import annotations

import click

from ._pending import not_available

__all__ = ["main"]


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.version_option(package_name="rrkit")
def main(files: tuple[str, ...]) -> None:
    """Open FILES (.rrd recordings) in the viewer: time panel, 3D and 2D views, plots and text logs.

    \b
    Example:
      rrview run.rrd
    """
    not_available("rrview", "the desktop viewer")
