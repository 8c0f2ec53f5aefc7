"""A recording process for the SDK's exit, crash and disk-full tests.

Run as ``python sdk_child.py MODE PATH [ARG]``. Every mode records to PATH with
``rr.init``; frame ``i`` is logged as the scalar ``i`` on the ``frame`` sequence timeline.

Modes
-----
normal N
    Log N frames and end the script without ``rr.disconnect()``.
exception N
    Log N frames, then raise an uncaught exception.
loop K
    Log frames forever; every K frames call ``rr.flush()`` and print the last flushed
    frame on its own line (the parent signals or kills the process).
quiet N
    Log N frames with logging left to the environment (``RRKIT_ENABLED``, ``RRKIT_LOG``).
diskfull LIMIT
    Limit the size of files this process may write to LIMIT bytes (and ignore SIGXFSZ),
    log far more than that, and print ``warnings=<count>`` of the warnings it received.
"""

from __future__ import annotations

import signal
import sys
import warnings

import numpy as np

import rrformat as rr


def _log_frame(i: int) -> None:
    rr.set_time_sequence("frame", i)
    rr.log_scalar("counter", float(i))


def main() -> None:
    mode, path = sys.argv[1], sys.argv[2]
    arg = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    if mode == "quiet":
        rr.init("child", save=path)
        for i in range(arg):
            _log_frame(i)
        rr.disconnect()
        return
    if mode == "diskfull":
        _disk_full(path, arg)
        return
    rr.init("child", save=path)
    if mode in ("normal", "exception"):
        for i in range(arg):
            _log_frame(i)
        if mode == "exception":
            raise RuntimeError("the robot fell over")
        return
    if mode == "loop":
        i = 0
        while True:
            _log_frame(i)
            if i % arg == arg - 1:
                rr.flush()
                print(i, flush=True)
            i += 1
    raise SystemExit(f"unknown mode {mode!r}")


def _disk_full(path: str, limit: int) -> None:
    import resource

    received: list[str] = []

    def record(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> None:
        received.append(f"{category.__name__}: {message}")
        print(f"warning: {category.__name__}: {message}", file=sys.stderr, flush=True)

    # Show every warning (not only the first per place) so that repeated ones are counted.
    warnings.simplefilter("always")
    warnings.showwarning = record
    # Past the limit a write fails with EFBIG instead of the process dying of SIGXFSZ.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    rr.init("child", save=path)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    rng = np.random.default_rng(0)
    # Random points do not compress: 200 frames of 1,000 points are ~2.4 MB on disk.
    for i in range(200):
        rr.set_time_sequence("frame", i)
        rr.log_points("cloud", rng.random((1000, 3), dtype=np.float32))
        if i % 10 == 9:
            rr.flush()
    rr.disconnect()
    print(f"warnings={len(received)}", flush=True)
    for w in received:
        print(w, flush=True)


if __name__ == "__main__":
    main()
