"""Pieces the benchmark scripts share: peak memory measurement and the lidar-like test data."""

from __future__ import annotations

import math
import resource

import numpy as np
import numpy.typing as npt

__all__ = ["PeakRss", "lidar_frames"]


def _status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class PeakRss:
    """Peak resident memory growth from ``start()`` to ``stop()``, in MiB."""

    def __init__(self) -> None:
        self.method = "ru_maxrss"
        self._start_kib = 0

    def start(self) -> None:
        try:
            # "5" resets VmHWM to the current RSS (Linux >= 4.0): the imports' peak is forgotten.
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            rss = _status_kib("VmRSS")
            if rss is not None and _status_kib("VmHWM") is not None:
                self.method, self._start_kib = "VmHWM", rss
                return
        except OSError:
            pass
        self._start_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def stop(self) -> float:
        end = _status_kib("VmHWM") if self.method == "VmHWM" else None
        if end is None:
            end = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return max(0, end - self._start_kib) / 1024


def lidar_frames(
    n_frames: int, points: int, seed: int = 7
) -> list[tuple[npt.NDArray[np.float32], npt.NDArray[np.uint8]]]:
    """``n_frames`` distinct lidar-like scans: positions (N x 3 float32) and RGB colours (N x 3 uint8).

    A 64-beam scan of a street (ground, facades) with 2 cm range noise, coloured by height:
    the coordinates compress only somewhat, like real scans.
    """
    rng = np.random.default_rng(seed)
    cols = math.ceil(points / 64)
    el, az = np.meshgrid(
        np.deg2rad(np.linspace(-24.8, 2.0, 64)), np.linspace(-np.pi, np.pi, cols, endpoint=False), indexing="ij"
    )
    el, az = el.ravel()[:points], az.ravel()[:points]
    d = np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=1)
    out = []
    for i in range(n_frames):
        with np.errstate(divide="ignore", invalid="ignore"):
            ground = np.where(d[:, 2] < -1e-3, -1.8 / d[:, 2], np.inf)
            along = 0.05 * i + 12.0 * d[:, 0]
            facade = 7.0 + 1.5 * np.sign(np.sin(along / 4.0)) + 0.3 * np.sin(along * 1.3)
            wall = np.where(np.abs(d[:, 1]) > 1e-3, facade / np.abs(d[:, 1]), np.inf)
        r = np.minimum(np.minimum(ground, wall), 80.0) + rng.normal(0.0, 0.02, points)
        pos = (d * r[:, None]).astype(np.float32)
        h = np.clip((pos[:, 2] + 1.8) / 8.0, 0.0, 1.0)
        rgb = np.empty((points, 3), dtype=np.uint8)
        rgb[:, 0] = (255 * h).astype(np.uint8)
        rgb[:, 1] = (255 * (1.0 - np.abs(2 * h - 1))).astype(np.uint8)
        rgb[:, 2] = (255 * (1.0 - h)).astype(np.uint8)
        out.append((pos, rgb))
    return out
