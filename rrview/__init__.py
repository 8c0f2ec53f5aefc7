"""rrview: the desktop viewer for .rrd recordings."""
