"""log_scalar: one value of a time series."""

from __future__ import annotations

from typing import Any

from . import _convert as cv
from ._errors import ArgumentError, describe_value, log_function
from ._recording import RecordingStream

__all__ = ["log_scalar"]


@log_function
def log_scalar(
    entity_path: str,
    scalar: float,
    *,
    label: str | None = None,
    color: Any = None,
    radius: float | None = None,
    scattered: bool | None = None,
    timeless: bool = False,
    recording: RecordingStream | None = None,
) -> None:
    """Log one value of a time series (plotted against the chosen timeline).

    Parameters
    ----------
    entity_path
        Path of the series, e.g. ``"robot/battery/voltage"``. All series under one root
        share a plot.
    scalar
        The value (a real number; NaN is recorded as a gap).
    label
        Legend label (default: the path).
    color
        RGB or RGBA, uint8 0-255 or float 0-1.
    radius
        Point radius in the plot, in pixels.
    scattered
        Draw as points instead of a line.

    Examples
    --------
    >>> for t in range(100):  # doctest: +SKIP
    ...     rr.set_time_sequence("frame", t)
    ...     rr.log_scalar("detector/confidence", 0.9)
    """
    assert recording is not None
    # A known path and a float are the common case: keep it cheap.
    entity = recording._paths.get(entity_path) if type(entity_path) is str else None
    if entity is None:
        entity = recording.entity(entity_path)
    value = scalar if isinstance(scalar, float) else cv.finite_scalar(scalar, "scalar", allow_nan=True)
    cells: dict[str, Any] = {"scalar": value}
    if label is not None:
        if not isinstance(label, str):
            raise ArgumentError("label", describe_value(label), "a string")
        cells["label"] = label
    if color is not None:
        cells["color"] = cv.color(color, "color")
    if radius is not None:
        cells["radius"] = cv.finite_scalar(radius, "radius")
    if scattered is not None:
        cells["scattered"] = bool(scattered)
    recording.log_row(entity, "scalar", cells, timeless=timeless, nbytes=40)
