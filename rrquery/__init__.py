"""rrquery: query .rrd recordings with Polars."""
