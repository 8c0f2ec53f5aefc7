"""Command-line entry points: ``rrd``, ``rrquery`` and ``rrview`` (argument parsing and presentation only)."""
