"""Content types: the kinds of thing hashbank hashes, and how raw bytes become canonical content.

A content type has a `name` (`photo`, `video`), says how a file's bytes
become the one canonical content every hash of that kind is computed from
(`load`), and which signal types apply to it: those whose descriptor lists the
content type (`hashing.registry.signal_types_for`): for a photo PDQ, pHash
and dHash; for a video vPDQ (its frames' PDQ hashes) and MD5 (the file's
bytes, for exact copies). A signal type may name a content type that has no
loader here: its values can then be submitted and matched as text, but not
computed by hashbank.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image

from hashing.loading import DEFAULT_MAX_PIXELS, ImageSource, load_image
from hashing.video import DEFAULT_LIMITS, Video, VideoLimits, VideoSource, open_video


@dataclass(frozen=True)
class ContentType:
    name: str
    description: str
    load: Callable[..., Any]


def _load_photo(source: ImageSource, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """`hashing.loading.load_image`: canonical 8-bit RGB, oriented and reduced."""
    return load_image(source, max_pixels=max_pixels)


PHOTO = ContentType(
    "photo",
    "a still image (JPEG, PNG, WebP, HEIC, ...): canonical 8-bit RGB, EXIF-oriented",
    _load_photo,
)


def _load_video(source: VideoSource, *, limits: VideoLimits = DEFAULT_LIMITS) -> Video:
    """`hashing.video.open_video`: the header checked; `frames()` then decodes it once."""
    return open_video(source, limits=limits)


VIDEO = ContentType(
    "video",
    "a video file (MP4, MOV, 3GP, MKV, WebM): its first video stream's frames, upright 8-bit "
    "RGB, each timed by its own presentation timestamp; MD5 hashes the file's bytes",
    _load_video,
)
