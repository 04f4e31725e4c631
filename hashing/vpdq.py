"""vPDQ: Meta's video hash, the PDQ hash of a video's frames, each with its time.

A video's vPDQ is a list of frames (frame number, timestamp in seconds, PDQ
quality, 256-bit PDQ hash). Each frame hash is one value of this signal type,
matched like PDQ (distance <= 31, quality floor 50); a video is the group of
its frame values (`timed`), and a photo's PDQ query also searches them
(`searched_by`), so a screenshot of a video finds it.
"""

from dataclasses import dataclass

from hashing.algorithm import RADIUS, BinaryCodec, IndexKind
from hashing.pdq import MIN_QUALITY


@dataclass(frozen=True)
class VPDQ(BinaryCodec):
    name: str = "vpdq"
    bits: int = 256
    threshold: int = 31
    min_quality: int | None = MIN_QUALITY
    index: IndexKind = RADIUS
    content_types: tuple[str, ...] = ("video",)
    stopncii: str | None = None  # StopNCII has only VideoMD5
    threatexchange: str | None = None  # pytx's video_vpdq is a whole video, not a frame
    description: str = (
        "Meta's vPDQ: the PDQ hash of one frame of a video, with its time; frames match "
        "within Hamming distance 31; quality below 50 is refused"
    )
    timed: bool = True
    searched_by: tuple[str, ...] = ("pdq",)


VPDQ_ALGORITHM = VPDQ()
