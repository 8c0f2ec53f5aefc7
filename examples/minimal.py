"""The shortest use of rrkit: log a few points to a file, then look at them.

Run it with ``python examples/minimal.py [OUT.rrd]``.
"""

from __future__ import annotations

import sys

import numpy as np

import rrformat as rr

out = sys.argv[1] if len(sys.argv) > 1 else "minimal.rrd"
rr.init("minimal", save=out)
positions = np.random.default_rng(0).uniform(-1.0, 1.0, size=(10, 3))
rr.log_points("world/points", positions, colors=[255, 120, 0], radii=0.05)
rr.disconnect()
print(f"wrote {out}; look at it with:  rrview {out}")
