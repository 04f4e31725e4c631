"""Canonical video decoding: the one way every video hash in hashbank sees a video's frames.

A video's canonical content is the sequence of its first video stream's
decoded frames, in presentation order, each

* numbered from 0 in decoding output order (Meta's vpdq numbers them so);
* timed by its own presentation timestamp, `pts x time_base`, minus the first
  frame's, so the video starts at 0 whatever its container's start offset
  (never `frame_number / fps`: variable frame rate stays right). A frame whose
  timestamp is missing or earlier than its predecessor's takes its
  predecessor's time (timestamps never decrease);
* lasting one frame period at the stream's average frame rate (the
  containers' own per-frame durations follow decoding order, not
  presentation order, when frames are reordered); so the video ends one
  period after its last frame's timestamp;
* converted to 8-bit RGB by FFmpeg's swscale (`CONVERSION`), and turned upright
  by the stream's display matrix rotation (what a player shows; Meta's vpdq
  ignores it, see docs/video.md).

Hostile input is refused with a `HashingError` in bounded time and memory,
under `VideoLimits`: only ISO base media (MP4, MOV, 3GP) and Matroska (MKV,
WebM) are accepted, recognised by their first bytes and opened with that one
demuxer (no other FFmpeg demuxer, protocol or referenced file is ever
reached); the input's size, the frame size declared in the header (checked
before any frame is decoded, and again on every frame), the duration, the
number of frames and the wall-clock time are bounded; a file that ends before
its declared content, or whose packets fail to decode, is refused whole
(`UnreadableVideo`): a video is hashed entirely or not at all.
"""

import io
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import av
import av.error
import numpy as np
from av.container import InputContainer
from av.video.reformatter import Interpolation
from av.video.stream import VideoStream

from hashing.errors import UnreadableVideo, VideoTooLarge, VideoTooLong

VideoSource = str | os.PathLike[str] | bytes
# The swscale flags that reproduce Meta's reference hashes most closely (docs/video.md):
# Lanczos for the 128x128 variant's scaling (Meta's source names SWS_AREA, further from its
# own reference files), accurate rounding so no SIMD path changes the pixels.
CONVERSION = Interpolation.LANCZOS | Interpolation.ACCURATE_RND
HEADER_BYTES = 12  # enough to recognise either accepted container
_MATROSKA_MAGIC = b"\x1a\x45\xdf\xa3"  # EBML header: MKV and WebM
# The first box of an ISO base media file: a brand box, or an old QuickTime file's first atom.
_ISO_FIRST_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot"})
# Brands of still images in the same box format (HEIC, AVIF): photos, not videos.
_IMAGE_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"mif1", b"msf1", b"avif", b"avis"}
)


@dataclass(frozen=True, slots=True)
class VideoLimits:
    """What a video may be before it is refused; the service passes its own.

    `max_bytes` (default 1 GiB): the file's size. `max_pixels` (default
    8192 x 4320, 8K): width x height of a frame, as declared and as decoded.
    `max_duration` (default 2 hours, seconds): the declared duration and every
    frame's timestamp. `max_frames` (default 432,000: 2 hours at 60 frames per
    second): frames decoded. `max_seconds` (default 1,800): wall-clock time for
    decoding and hashing the whole video.
    """

    max_bytes: int = 1 << 30
    max_pixels: int = 8192 * 4320
    max_duration: float = 2 * 3600.0
    max_frames: int = 2 * 3600 * 60
    max_seconds: float = 1800.0


def container_of(head: bytes) -> str | None:
    """The FFmpeg demuxer for a file starting with `head` ("mov" or "matroska"), or None.

    None for anything else, including HEIC and AVIF photos (same box format,
    image brands). Reads at most `HEADER_BYTES`.
    """
    if head[:4] == _MATROSKA_MAGIC:
        return "matroska"
    if len(head) >= 8 and head[4:8] in _ISO_FIRST_BOXES:
        if head[4:8] == b"ftyp" and head[8:12] in _IMAGE_BRANDS:
            return None
        return "mov"
    return None


@dataclass(frozen=True, slots=True)
class DecodedFrame:
    """One decoded frame: its number, time and duration in seconds, and its pixels on demand."""

    number: int
    timestamp: Fraction
    duration: Fraction
    _frame: av.VideoFrame
    _rotation: int

    def rgb(self, size: tuple[int, int] | None = None) -> np.ndarray:
        """The frame as upright 8-bit RGB (height x width x 3), optionally scaled to `size`.

        `size` (width, height) scales the coded frame before it is turned
        upright, as Meta's vpdq downsamples (`-128x128` reference hashes).
        """
        width, height = size or (self._frame.width, self._frame.height)
        rgb = self._frame.reformat(
            width=width, height=height, format="rgb24", interpolation=CONVERSION
        ).to_ndarray()
        turns = self._rotation // 90  # counterclockwise, as the display matrix says
        return np.ascontiguousarray(np.rot90(rgb, turns)) if turns % 4 else rgb


class Video:
    """An opened video whose header passed the limits; `frames()` decodes it once.

    Use as a context manager (`open_video`); it closes the container.
    """

    def __init__(
        self, file: BinaryIO, container: InputContainer, stream: VideoStream, limits: VideoLimits
    ) -> None:
        self._file, self._container, self._stream, self._limits = file, container, stream, limits
        self._started = time.monotonic()
        context = stream.codec_context
        self.coded_size = (context.width, context.height)
        rate = stream.average_rate or stream.guessed_rate
        self.frame_rate: Fraction | None = Fraction(rate) if rate else None
        self.declared_duration = _declared_duration(container, stream)
        declared_frames = stream.frames or None
        if declared_frames is None and self.declared_duration and self.frame_rate:
            declared_frames = round(self.declared_duration * self.frame_rate)
        self.expected_frames: int | None = declared_frames
        self._check_header()
        # The decoder refuses larger frames itself too (a stream may change size midway).
        context.options = {"max_pixels": str(limits.max_pixels)}

    def __enter__(self) -> "Video":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()
        self._file.close()

    def _check_header(self) -> None:
        width, height = self.coded_size
        if width <= 0 or height <= 0:
            raise UnreadableVideo("video declares no usable frame size")
        _check_pixels(width, height, self._limits)
        limits = self._limits
        if self.declared_duration is not None and self.declared_duration > limits.max_duration:
            raise VideoTooLong("duration", self.declared_duration, limits.max_duration, " s")
        if self.expected_frames is not None and self.expected_frames > limits.max_frames:
            raise VideoTooLong("frame count", self.expected_frames, limits.max_frames)

    def frames(self) -> Iterator[DecodedFrame]:
        """Decode every frame in presentation order, timed as the module docstring says.

        Raises `UnreadableVideo`, `VideoTooLarge` or `VideoTooLong` part-way;
        the wall-clock budget runs from `open_video` and includes whatever the
        caller does between frames (hashing).
        """
        limits, period = self._limits, _frame_period(self.frame_rate)
        origin: int | None = None
        previous = Fraction(0)
        number = 0
        try:
            for packet in self._container.demux(self._stream):
                self._check_clock()
                for frame in packet.decode():
                    if number >= limits.max_frames:
                        raise VideoTooLong("frame count", number + 1, limits.max_frames)
                    _check_pixels(frame.width, frame.height, limits)
                    time_base = frame.time_base or self._stream.time_base or Fraction(1)
                    if frame.pts is not None and origin is None:
                        origin = frame.pts
                    timestamp = previous
                    if frame.pts is not None and origin is not None:
                        timestamp = max(previous, (frame.pts - origin) * Fraction(time_base))
                    if timestamp > limits.max_duration:
                        raise VideoTooLong("duration", float(timestamp), limits.max_duration, " s")
                    yield DecodedFrame(number, timestamp, period, frame, _rotation(frame))
                    previous, number = timestamp, number + 1
                    self._check_clock()
        except av.error.FFmpegError as exc:
            raise UnreadableVideo(
                f"video is truncated or damaged (decoding stopped after {number} frames)"
            ) from exc
        if number == 0:
            raise UnreadableVideo("video has no decodable frames")

    def _check_clock(self) -> None:
        elapsed = time.monotonic() - self._started
        if elapsed > self._limits.max_seconds:
            raise VideoTooLong("decoding time", elapsed, self._limits.max_seconds, " s")


DEFAULT_LIMITS = VideoLimits()


def open_video(source: VideoSource, *, limits: VideoLimits = DEFAULT_LIMITS) -> Video:
    """Open a video from a path or from bytes in memory and check its header against `limits`.

    Nothing is written to disk. Raises `UnreadableVideo` (not an accepted
    container, no video stream, damaged header), `VideoTooLarge` (bytes,
    declared frame size) or `VideoTooLong` (declared duration or frame count).
    """
    file = open_input(source, limits)
    try:
        demuxer = container_of(file.read(HEADER_BYTES))
        if demuxer is None:
            raise UnreadableVideo("not a video: only MP4, MOV, 3GP, MKV and WebM are accepted")
        file.seek(0)
        try:
            container = av.open(file, "r", format=demuxer, options={"enable_drefs": "0"})
        except av.error.FFmpegError as exc:
            raise UnreadableVideo("video is damaged: its header cannot be read") from exc
    except BaseException:
        file.close()
        raise
    try:
        stream = _first_video_stream(container)
        return Video(file, container, stream, limits)
    except BaseException:
        container.close()
        file.close()
        raise


def open_input(source: VideoSource, limits: VideoLimits = DEFAULT_LIMITS) -> BinaryIO:
    """The source as a binary file, once it passes the byte limit and is a regular file.

    What `open_video` decodes from, and what the file's MD5 is computed over.
    Raises `VideoTooLarge` above `limits.max_bytes`, `UnreadableVideo` for an
    empty input or a path that is not a regular file (a FIFO, a device).
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        if len(data) > limits.max_bytes:
            raise VideoTooLarge("file size in bytes", len(data), limits.max_bytes)
        if not data:
            raise UnreadableVideo("video file is empty")
        return io.BytesIO(data)
    path = Path(source)
    # A FIFO or a device (/dev/zero) never ends: only regular files are read.
    if not path.is_file():
        raise UnreadableVideo("not a regular file")
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise VideoTooLarge("file size in bytes", size, limits.max_bytes)
    if size == 0:
        raise UnreadableVideo("video file is empty")
    # Opened here, not by FFmpeg: a path is never read as a URL or protocol.
    return path.open("rb")


def _first_video_stream(container: InputContainer) -> VideoStream:
    for stream in container.streams.video:
        # A cover picture in an audio file is a video stream of one still image: not a video.
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    kinds = "audio only" if container.streams.audio else "no video stream"
    raise UnreadableVideo(f"not a video: the file has {kinds}")


def _check_pixels(width: int, height: int, limits: VideoLimits) -> None:
    if width * height > limits.max_pixels:
        pixels = width * height
        raise VideoTooLarge(f"frame size {width}x{height}, pixels", pixels, limits.max_pixels)


def _declared_duration(container: InputContainer, stream: VideoStream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def _frame_period(rate: Fraction | None) -> Fraction:
    return 1 / rate if rate else Fraction(0)


def _rotation(frame: av.VideoFrame) -> int:
    # The display matrix as a multiple of 90 degrees counterclockwise; other angles (never
    # written by cameras) are ignored rather than resampled.
    rotation = round(frame.rotation or 0)
    return rotation % 360 if rotation % 90 == 0 else 0
