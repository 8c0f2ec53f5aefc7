"""rrformat: the .rrd file format and the logging SDK of rrkit.

The file layer lives in submodules (``rrformat.writer``, ``rrformat.reader``, ...);
this package's namespace is the face users import as ``import rrformat as rr``.
"""

from ._api import connect as connect
from ._api import disconnect as disconnect
from ._api import flush as flush
from ._api import init as init
from ._api import is_enabled as is_enabled
from ._api import reset_time as reset_time
from ._api import save as save
from ._api import set_time_nanos as set_time_nanos
from ._api import set_time_seconds as set_time_seconds
from ._api import set_time_sequence as set_time_sequence
from ._api import show as show
from ._api import spawn as spawn
from ._errors import RecordingError as RecordingError
from ._errors import RecordingWarning as RecordingWarning
from ._log_columns import log_columns as log_columns
from ._log_columns import log_extension_components as log_extension_components
from ._log_context import AnnotationInfo as AnnotationInfo
from ._log_context import ClassDescription as ClassDescription
from ._log_context import log_annotation_context as log_annotation_context
from ._log_context import log_cleared as log_cleared
from ._log_images import ImageFormat as ImageFormat
from ._log_images import log_depth_image as log_depth_image
from ._log_images import log_image as log_image
from ._log_images import log_image_file as log_image_file
from ._log_images import log_segmentation_image as log_segmentation_image
from ._log_images import log_tensor as log_tensor
from ._log_lines import log_arrow as log_arrow
from ._log_lines import log_line_segments as log_line_segments
from ._log_lines import log_line_strip as log_line_strip
from ._log_lines import log_line_strips_2d as log_line_strips_2d
from ._log_lines import log_line_strips_3d as log_line_strips_3d
from ._log_meshes import MeshFormat as MeshFormat
from ._log_meshes import log_mesh as log_mesh
from ._log_meshes import log_mesh_file as log_mesh_file
from ._log_points import log_point as log_point
from ._log_points import log_points as log_points
from ._log_scalars import log_scalar as log_scalar
from ._log_shapes import RectFormat as RectFormat
from ._log_shapes import log_obb as log_obb
from ._log_shapes import log_obbs as log_obbs
from ._log_shapes import log_rect as log_rect
from ._log_shapes import log_rects as log_rects
from ._log_text import LogLevel as LogLevel
from ._log_text import log_text_entry as log_text_entry
from ._log_transforms import log_disconnected_space as log_disconnected_space
from ._log_transforms import log_pinhole as log_pinhole
from ._log_transforms import log_rigid3 as log_rigid3
from ._log_transforms import log_unknown_transform as log_unknown_transform
from ._log_transforms import log_view_coordinates as log_view_coordinates
from ._recording import RecordingStream as RecordingStream
from ._recording import get_global_recording as get_global_recording
from ._recording import set_global_recording as set_global_recording
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
    # lifecycle and time
    "init",
    "save",
    "flush",
    "disconnect",
    "connect",
    "spawn",
    "show",
    "is_enabled",
    "set_time_sequence",
    "set_time_seconds",
    "set_time_nanos",
    "reset_time",
    "RecordingStream",
    "RecordingWarning",
    "RecordingError",
    "get_global_recording",
    "set_global_recording",
    # log functions
    "log_point",
    "log_points",
    "log_scalar",
    "log_rect",
    "log_rects",
    "RectFormat",
    "log_obb",
    "log_obbs",
    "log_line_strip",
    "log_line_segments",
    "log_line_strips_2d",
    "log_line_strips_3d",
    "log_arrow",
    "log_mesh",
    "log_mesh_file",
    "MeshFormat",
    "log_image",
    "log_depth_image",
    "log_segmentation_image",
    "log_tensor",
    "log_image_file",
    "ImageFormat",
    "log_text_entry",
    "LogLevel",
    "log_rigid3",
    "log_pinhole",
    "log_view_coordinates",
    "log_unknown_transform",
    "log_disconnected_space",
    "log_annotation_context",
    "AnnotationInfo",
    "ClassDescription",
    "log_cleared",
    "log_extension_components",
    "log_columns",
    # the file layer
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
