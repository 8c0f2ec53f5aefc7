"""rrformat: the .rrd file format and the logging SDK of rrkit.

The file layer lives in submodules (``rrformat.writer``, ``rrformat.reader``, ...);
this package's namespace is the face users import as ``import rrformat as rr``.
"""

from ._version import __version__ as __version__
from .chunk import Chunk as Chunk
from .chunk import ChunkInfo as ChunkInfo
from .chunk import TimelineKind as TimelineKind
from .chunk import TimeRange as TimeRange
from .entity_path import EntityPath as EntityPath
from .errors import CorruptFileError as CorruptFileError
from .errors import NotAnRrdFileError as NotAnRrdFileError
from .errors import RrdError as RrdError
from .errors import TruncatedFileError as TruncatedFileError
from .errors import UnsupportedVersionError as UnsupportedVersionError
from .reader import Damage as Damage
from .reader import RrdReader as RrdReader
from .reader import open_rrd as open_rrd
from .writer import RecordingInfo as RecordingInfo
from .writer import RrdWriter as RrdWriter

__all__ = [
    "__version__",
    "Chunk",
    "ChunkInfo",
    "CorruptFileError",
    "Damage",
    "EntityPath",
    "NotAnRrdFileError",
    "RecordingInfo",
    "RrdError",
    "RrdReader",
    "RrdWriter",
    "TimeRange",
    "TimelineKind",
    "TruncatedFileError",
    "UnsupportedVersionError",
    "open_rrd",
]
