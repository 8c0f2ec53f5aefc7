"""Shared text for commands whose implementation is not part of this release yet."""

from __future__ import annotations

import click

__all__ = ["not_available"]


def not_available(command: str, what: str) -> None:
    """Exit with a one-line message saying what is missing and what to use meanwhile."""
    click.echo(
        f"{command}: error: {what} is not part of this release yet; inspect recordings with 'rrd info FILE'", err=True
    )
    raise SystemExit(2)
