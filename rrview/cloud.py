"""A light point-cloud visual for dense clouds: round points of one size on screen.

vispy's ``Markers`` is general (symbols, edges, anti-aliased rims, sizes in scene units),
and its vertex shader is the cost of a 100,000-point frame on a software renderer (Mesa
llvmpipe shades vertices on one thread). A dense cloud of one fixed size needs only the
position transform, the colour and a round sprite: this visual draws the same points in
about half the time. The 3D scene uses it for clouds of ``scene3d.DENSE_POINTS`` points
or more without radii; smaller clouds and clouds with radii keep ``Markers``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from vispy import gloo
from vispy.scene.visuals import create_visual_node
from vispy.visuals import Visual

__all__ = ["CloudVisual", "Cloud"]

_VERTEX = """
attribute vec3 a_position;
attribute vec4 a_color;
uniform float u_size;
uniform float u_px_scale;
varying vec4 v_color;

void main() {
    gl_Position = $transform(vec4(a_position, 1.0));
    gl_PointSize = u_size * u_px_scale;
    v_color = a_color;
}
"""

_FRAGMENT = """
varying vec4 v_color;

void main() {
    vec2 d = gl_PointCoord - vec2(0.5);
    if (dot(d, d) > 0.25) {
        discard;  // round points
    }
    gl_FragColor = v_color;
}
"""


class CloudVisual(Visual):  # type: ignore[misc]
    """Points of one size in screen pixels, each with its RGBA colour (0-1 floats)."""

    def __init__(self) -> None:
        self._positions = gloo.VertexBuffer(np.zeros((1, 3), np.float32))
        self._colors = gloo.VertexBuffer(np.zeros((1, 4), np.float32))
        self.count = 0
        self.size = 4.0
        self.pos: npt.NDArray[np.float32] = np.zeros((0, 3), np.float32)
        self.colors: npt.NDArray[np.float32] = np.zeros((0, 4), np.float32)
        super().__init__(vcode=_VERTEX, fcode=_FRAGMENT)
        self.shared_program["a_position"] = self._positions
        self.shared_program["a_color"] = self._colors
        self.shared_program["u_size"] = self.size
        self._draw_mode = "points"
        self.set_gl_state("translucent", depth_test=True)
        self.freeze()

    def set_data(self, pos: npt.ArrayLike, colors: npt.ArrayLike, size: float) -> None:
        """``pos`` (N, 3), ``colors`` (N, 4) in 0-1, ``size`` the diameter in pixels."""
        self.pos = np.ascontiguousarray(pos, dtype=np.float32).reshape(-1, 3)
        self.colors = np.ascontiguousarray(colors, dtype=np.float32).reshape(-1, 4)
        self.count = len(self.pos)
        if self.count:
            self._positions.set_data(self.pos)
            self._colors.set_data(self.colors)
        self.size = float(size)
        self.shared_program["u_size"] = self.size
        self.update()

    def _prepare_transforms(self, view: Any) -> None:
        view.view_program.vert["transform"] = view.get_transform()

    def _prepare_draw(self, view: Any) -> bool:
        if self.count == 0:
            return False
        view.view_program["u_px_scale"] = view.transforms.pixel_scale
        return True

    def _compute_bounds(self, axis: int, view: Any) -> tuple[float, float] | None:
        if self.count == 0:
            return None
        column = self.pos[:, axis]
        return float(column.min()), float(column.max())


Cloud = create_visual_node(CloudVisual)
"""The scene-graph node of :class:`CloudVisual` (``Cloud(parent=view.scene)``)."""
