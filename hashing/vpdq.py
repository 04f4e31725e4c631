"""vPDQ: Meta's video hash, the PDQ hashes of a video's frames with their number, time and quality.

A video's vPDQ is a list of `VideoFrameHash` (frame number, timestamp in
seconds, PDQ quality, 256-bit PDQ hash). Each frame hash is one value of this
signal type, matched like PDQ (distance <= 31, quality floor 50); a video is
the group of its frame values (`timed`), and a photo's PDQ query also searches
them (`searched_by`), so a screenshot of a video finds it.

How a video becomes frame hashes (`hash_video`, then `select_frames`):

1. Decode it canonically (`hashing.video`: limits, timestamps, rotation, RGB).
2. Sample it (`hashing.sampling`): the frame displayed at each t = k / rate,
   1 per second by default (Meta's recommendation), or every frame
   (`rate=EVERY_FRAME`, as Meta's reference hashes are made).
3. PDQ-hash each sampled frame's full-resolution RGB pixels exactly as Meta's
   vpdq does (`pdqhash`: luma 0.299 R + 0.587 G + 0.114 B, Jarosz filters),
   optionally scaled to a fixed size first (Meta's `-128x128` variant).
4. Drop frames of quality < 50, then prune runs of near-identical frames: a
   frame is kept only when it is more than `PRUNE_DISTANCE` bits from the last
   frame kept (measured in docs/video.md).

Meta's text format is `hashing.vpdq_text`; the matching rule `hashing.vpdq_match`.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

from hashing.algorithm import RADIUS, BinaryCodec, IndexKind
from hashing.pdq import MIN_QUALITY, pdq_of_pixels
from hashing.sampling import sample
from hashing.video import DEFAULT_LIMITS, DecodedFrame, VideoLimits, VideoSource, open_video
from hashing.video_forms import Side, frame_variants

DEFAULT_RATE: Final = 1.0  # frames per second, as Meta recommends
EVERY_FRAME: Final = None  # `rate=EVERY_FRAME`: hash every decoded frame
# Keep a frame only when it differs from the last kept one by more than this many bits;
# chosen from the measurements in docs/video.md.
PRUNE_DISTANCE: Final = 8
THRESHOLD: Final = 31


@dataclass(frozen=True)
class VPDQ(BinaryCodec):
    name: str = "vpdq"
    bits: int = 256
    threshold: int = THRESHOLD
    min_quality: int | None = MIN_QUALITY
    index: IndexKind = RADIUS
    content_types: tuple[str, ...] = ("video",)
    stopncii: str | None = None  # StopNCII has only VideoMD5
    # python-threatexchange's vPDQ signal (`vpdq` in 1.2.17, `video_vpdq` before) is a whole
    # video, a JSON list of frames; one value here is one frame, which pytx cannot read alone.
    threatexchange: str | None = None
    description: str = (
        "Meta's vPDQ: the PDQ hash of one frame of a video, with its time; frames match "
        "within Hamming distance 31; quality below 50 is refused"
    )
    timed: bool = True
    searched_by: tuple[str, ...] = ("pdq",)

    def compute(
        self,
        source: VideoSource,
        *,
        rate: float | None = DEFAULT_RATE,
        limits: VideoLimits = DEFAULT_LIMITS,
    ) -> list["VideoFrameHash"]:
        """The frames a video is submitted and matched with: `select_frames(hash_video(...))`."""
        return select_frames(hash_video(source, rate=rate, limits=limits).frames)


VPDQ_ALGORITHM = VPDQ()


@dataclass(frozen=True, slots=True)
class VideoFrameHash:
    """One hashed frame: its number in decoding order, time in seconds, PDQ quality and hash."""

    frame_number: int
    timestamp: float
    quality: int
    hash: bytes  # 32 bytes, big-endian bit order like every hashbank value
    # Its other forms' hashes (`hashing.video_forms`), when asked for; not Meta's.
    variants: tuple[bytes, ...] = ()

    @property
    def hex(self) -> str:
        return self.hash.hex()

    def __repr__(self) -> str:
        # Hash values are sensitive (partly invertible): never in reprs or logs.
        return (
            f"VideoFrameHash(frame_number={self.frame_number}, "
            f"timestamp={self.timestamp:.3f}, quality={self.quality})"
        )


@dataclass(frozen=True, slots=True)
class VideoHashes:
    """`hash_video`'s result: every sampled frame's hash (none dropped yet) and the video's length.

    `duration` is the end of the last decoded frame in seconds; `decoded` the
    number of frames decoded.
    """

    frames: tuple[VideoFrameHash, ...]
    duration: float
    decoded: int


@dataclass(frozen=True, slots=True)
class VideoProgress:
    """How far `hash_video` is: frames decoded and hashed, and the frames the header announces."""

    decoded: int
    hashed: int
    expected: int | None


def hash_frame(
    frame: DecodedFrame, size: tuple[int, int] | None = None, forms: Side | None = None
) -> VideoFrameHash:
    """PDQ of one decoded frame, upright, at full resolution or scaled to `size` (width,
    height); with `forms`, also that side's other forms of a frame of enough quality
    (`hashing.video_forms.frame_variants`)."""
    rgb = frame.rgb(size)
    value, quality = pdq_of_pixels(rgb)
    variants = (
        frame_variants(rgb, value, forms) if forms is not None and quality >= MIN_QUALITY else ()
    )
    return VideoFrameHash(frame.number, float(frame.timestamp), quality, value, variants)


def hash_video(
    source: VideoSource,
    *,
    rate: float | None = DEFAULT_RATE,
    size: tuple[int, int] | None = None,
    limits: VideoLimits = DEFAULT_LIMITS,
    on_progress: Callable[[VideoProgress], None] | None = None,
    forms: Side | None = None,
) -> VideoHashes:
    """Decode a video (path or bytes) and PDQ-hash the frames sampled at `rate` per second.

    `rate=EVERY_FRAME` hashes every frame. `size` scales frames before
    hashing (Meta's downsampling); None hashes them at full resolution.
    `on_progress` is called after every decoded frame. `forms` adds each
    frame's other forms for that side (`hashing.video_forms`). Raises the
    `hashing.video` errors (`UnreadableVideo`, `VideoTooLarge`, `VideoTooLong`).
    """
    hashed: list[VideoFrameHash] = []
    decoded = 0
    end = Fraction(0)
    with open_video(source, limits=limits) as video:

        def counted() -> Iterable[DecodedFrame]:
            nonlocal decoded, end
            for frame in video.frames():
                decoded += 1
                end = frame.timestamp + frame.duration
                if on_progress is not None:
                    on_progress(VideoProgress(decoded, len(hashed), video.expected_frames))
                yield frame

        for frame in sample(counted(), rate):
            hashed.append(hash_frame(frame, size, forms))
    if on_progress is not None:
        on_progress(VideoProgress(decoded, len(hashed), decoded))
    return VideoHashes(tuple(hashed), float(end), decoded)


def select_frames(
    frames: Iterable[VideoFrameHash],
    *,
    min_quality: int = MIN_QUALITY,
    prune_distance: int | None = PRUNE_DISTANCE,
) -> list[VideoFrameHash]:
    """The frames worth storing and querying: quality >= `min_quality`, near-duplicates pruned.

    In order, a frame of enough quality is kept when it is more than
    `prune_distance` bits from the last frame kept (None keeps them all;
    0 drops only exact repeats).
    """
    kept: list[VideoFrameHash] = []
    last: int | None = None
    for frame in frames:
        if frame.quality < min_quality:
            continue
        value = int.from_bytes(frame.hash, "big")
        near = last is not None and (value ^ last).bit_count() <= (prune_distance or 0)
        if prune_distance is not None and near:
            continue
        kept.append(frame)
        last = value
    return kept
