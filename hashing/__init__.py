"""hashbank hashing: canonical image loading, hash algorithms and the survivor's client.

The small public API::

    from hashing import load_image, PDQ_ALGORITHM, get_algorithm, SIGNAL_TYPES
    image = load_image("photo.jpg")          # canonical RGB, or a HashingError
    h = PDQ_ALGORITHM.compute(image)         # Hash(algorithm="pdq", value=..., quality=...)
    h.hex, PDQ_ALGORITHM.distance(h.value, other)

A video (`docs/video.md`)::

    from hashing import video_signals, match_videos, VideoLimits
    v = video_signals("clip.mp4")            # v.md5, v.frames (vPDQ), v.duration
    match_videos(query_frames, v.frames)     # both percentages, time ranges, .is_match

This package must stay installable alone: no web framework, database or FAISS.
"""

from hashing.algorithm import EXACT, RADIUS, Hash, HashAlgorithm, SignalType
from hashing.content import PHOTO, VIDEO, ContentType
from hashing.errors import (
    HashingError,
    ImageTooLarge,
    InvalidHash,
    LowQualityImage,
    UnknownAlgorithm,
    UnreadableImage,
    UnreadableVideo,
    VideoTooLarge,
    VideoTooLong,
)
from hashing.imagehashes import DHASH, PHASH
from hashing.loading import DEFAULT_MAX_PIXELS, MIN_SIDE, load_image, reduction_factor
from hashing.md5 import MD5, MD5_ALGORITHM
from hashing.pdq import DIHEDRAL_NAMES, PDQ
from hashing.query import Query, parse_query
from hashing.registry import (
    ALGORITHMS,
    CONTENT_TYPES,
    PDQ_ALGORITHM,
    SIGNAL_TYPES,
    get_algorithm,
    parse_hash,
    signal_types_for,
)
from hashing.video import VideoLimits
from hashing.video_signals import VideoSignals, video_signals
from hashing.vpdq import VPDQ_ALGORITHM, VideoFrameHash
from hashing.vpdq_match import TimeRange, VideoMatch, match_videos
from hashing.vpdq_text import format_pytx_vpdq, format_vpdq, parse_pytx_vpdq, parse_vpdq

__all__ = [
    "ALGORITHMS",
    "CONTENT_TYPES",
    "DEFAULT_MAX_PIXELS",
    "DHASH",
    "DIHEDRAL_NAMES",
    "EXACT",
    "MD5",
    "MD5_ALGORITHM",
    "MIN_SIDE",
    "PDQ",
    "PDQ_ALGORITHM",
    "PHASH",
    "PHOTO",
    "RADIUS",
    "SIGNAL_TYPES",
    "VIDEO",
    "VPDQ_ALGORITHM",
    "ContentType",
    "Hash",
    "HashAlgorithm",
    "HashingError",
    "ImageTooLarge",
    "InvalidHash",
    "LowQualityImage",
    "Query",
    "SignalType",
    "TimeRange",
    "UnknownAlgorithm",
    "UnreadableImage",
    "UnreadableVideo",
    "VideoFrameHash",
    "VideoLimits",
    "VideoMatch",
    "VideoSignals",
    "VideoTooLarge",
    "VideoTooLong",
    "format_pytx_vpdq",
    "format_vpdq",
    "get_algorithm",
    "load_image",
    "match_videos",
    "parse_hash",
    "parse_pytx_vpdq",
    "parse_query",
    "parse_vpdq",
    "reduction_factor",
    "signal_types_for",
    "video_signals",
]
