"""The ``rrquery`` command: query .rrd recordings and export datasets."""

from __future__ import annotations

import click

from ._pending import not_available

__all__ = ["main"]


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("args", nargs=-1)
@click.version_option(package_name="rrkit")
def main(args: tuple[str, ...]) -> None:
    """Query recordings by entity path and time range and export them to Parquet, CSV or Arrow.

    \b
    Example:
      rrquery ls run.rrd
    """
    not_available("rrquery", "the query command")
