"""What the layers of 2D and 3D views share: an entity's visuals by role, their visibility,
and lines drawn one ``Line`` visual per stroke width (:mod:`rrview.strokes`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from vispy import scene

from . import strokes

__all__ = ["Layer"]


class Layer:
    """The visuals of one entity of a view, by role; subclasses place new visuals (``_new``)."""

    def __init__(self, owner: Any, entity: str, kind: str) -> None:
        self.owner = owner  # the scene: its ``pixels_per_unit`` converts stroke widths
        self.entity = entity
        self.kind = kind
        self.key: tuple[Any, ...] | None = None
        self.visuals: dict[str, Any] = {}
        self.empty: set[str] = set()
        self.shown = False
        self.widths: dict[str, float] = {}  # role -> stroke width in space units (NaN: the default)

    def _new(self, role: str, visual: Any) -> Any:
        raise NotImplementedError

    def _set(self, role: str, has_data: bool) -> None:
        if has_data:
            self.empty.discard(role)
        else:
            self.empty.add(role)
        v = self.visuals.get(role)
        if v is not None:
            v.visible = self.shown and has_data

    def show(self, visible: bool) -> None:
        self.shown = visible
        for role, v in self.visuals.items():
            v.visible = visible and role not in self.empty

    def _draw_width_groups(
        self,
        role: str,
        pos: npt.NDArray[Any] | None,
        cols: npt.NDArray[Any] | None,
        groups: list[tuple[float, npt.NDArray[np.intp]]],
    ) -> None:
        """Segments (``pos``: 2 points each) as one Line per width group: roles ``role``, ``role:1``..."""
        used = set()
        for i, (width, segs) in enumerate(groups):
            assert pos is not None and cols is not None
            name = strokes.group_role(role, i)
            used.add(name)
            if len(groups) == 1:
                p, c = pos, cols
            else:
                v = (2 * segs[:, None] + np.arange(2)).reshape(-1)
                p, c = pos[v], cols[v]
            px = strokes.width_px(width, self.owner.pixels_per_unit)
            line = self.visuals.get(name)
            if line is None:
                line = self._new(name, scene.visuals.Line(method="gl", connect="segments", width=px))
            line.set_data(pos=p, color=c, connect="segments", width=px)
            self.widths[name] = width
            self._set(name, True)
        for name in [n for n in self.visuals if (n == role or n.startswith(role + ":")) and n not in used]:
            self.widths.pop(name, None)
            self._set(name, False)

    def rescale(self, pixels_per_unit: float | None) -> None:
        """The view's scale changed: convert the stroke widths to pixels again."""
        strokes.rescale(((self.visuals[n], w) for n, w in self.widths.items() if n in self.visuals), pixels_per_unit)
