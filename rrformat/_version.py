"""The rrkit version, written into every file's header record."""

__version__ = "0.1.0"
