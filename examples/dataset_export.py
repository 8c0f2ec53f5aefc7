"""Turn a recording into a training set: camera image, pose and labels on a fixed 10 Hz grid.

The data logged to debug the robot is also the data to train its models on. This script
reads ``robot_vacuum.rrd`` (written by ``examples/robot_vacuum.py``) with rrquery, takes
one row every 100 ms of ``sensor_time`` with, at each row, the latest value of:

- the camera image (the model's input) and the pose the robot believed it had;
- the labels: the segmentation image and the true position (from the simulator);

writes the table to Parquet, then reads it back in batches of numpy arrays, as a training
loop would. A similar table (every component of these entities) comes from the shell with::

    rrquery export robot_vacuum.rrd -o train.parquet --wide --index sensor_time --sample 10 \\
        --entity world/robot --entity world/robot/camera/image --entity world/robot/camera/image/segmentation \\
        --entity world/ground_truth

Run it with ``python examples/dataset_export.py [robot_vacuum.rrd] [-o train.parquet]``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

import rrquery

COLUMNS = {  # recording column ("entity:component") -> dataset column
    "world/robot/camera/image:tensor": "image",
    "world/robot:translation": "position",
    "world/robot:rotation": "rotation",
    "world/robot/camera/image/segmentation:tensor": "segmentation",
    "world/ground_truth:translation": "true_position",
}


def export(recording: Path, out: Path, *, hz: float = 10.0) -> int:
    """Write the dataset to ``out`` (Parquet); returns its number of rows."""
    with rrquery.open(recording) as rec:
        table = rec.dataset("sensor_time", list(COLUMNS), sample=hz)  # latest value at each grid time
    table = table.rename(COLUMNS).drop_nulls()  # rows before the first image have nothing to learn from
    table.write_parquet(out, compression="zstd")
    return table.height


def batches(path: Path, batch_size: int) -> Iterator[pl.DataFrame]:
    """Yield the Parquet file's rows in batches, reading one batch at a time."""
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_size):
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        yield frame


def stacked(column: pl.Series) -> np.ndarray:
    """An image column as one (rows, H, W[, C]) array: a view of the column's buffer, no per-pixel Python."""
    arrays = rrquery.to_numpy(column)  # a list instead when the rows' shapes differ
    return arrays if isinstance(arrays, np.ndarray) else np.stack([a for a in arrays if a is not None])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording", nargs="?", type=Path, default=Path("robot_vacuum.rrd"))
    parser.add_argument("-o", "--output", type=Path, default=Path("train.parquet"))
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    if not args.recording.exists():
        print(f"{args.recording} does not exist: make it with  python examples/robot_vacuum.py", file=sys.stderr)
        return 2

    rows = export(args.recording, args.output)
    print(f"wrote {args.output}: {rows} samples at 10 Hz ({args.output.stat().st_size / 1e6:.1f} MB)")

    # A training loop's view: numpy arrays, one batch at a time.
    seen = 0
    class_pixels = np.zeros(256, np.int64)
    errors = []
    for i, batch in enumerate(batches(args.output, args.batch_size)):
        images = stacked(batch["image"])  # (B, H, W, 3) uint8
        labels = stacked(batch["segmentation"])  # (B, H, W) class ids
        position = batch["position"].to_numpy()  # (B, 3) float32
        true_position = batch["true_position"].to_numpy()
        x = images.astype(np.float32) / 255.0  # what a model would be fed
        if i == 0:
            print(f"batch 0: image {x.shape} {x.dtype}, segmentation {labels.shape} {labels.dtype}, "
                  f"position {position.shape}, true_position {true_position.shape}")  # fmt: skip
        class_pixels += np.bincount(labels.reshape(-1), minlength=256)
        errors.append(np.linalg.norm(true_position - position, axis=1))
        seen += len(images)
    share = class_pixels / max(1, class_pixels.sum())
    names = {1: "floor", 2: "wall", 3: "door", 4: "obstacle", 5: "ceiling"}
    print(f"read back {seen} samples; label pixels: " + ", ".join(f"{n} {share[c]:.0%}" for c, n in names.items()))
    error = np.concatenate(errors) if errors else np.zeros(0)
    print(f"localization error over the set: median {np.median(error):.2f} m, max {error.max(initial=0):.2f} m")
    return 0


if __name__ == "__main__":
    sys.exit(main())
