"""Everything a video is submitted or matched with: its file's MD5, its vPDQ frames and its length.

`video_signals` is the one call the survivor's client, the platform's client
and the service make for a video file (a path, or bytes held in memory: an
upload is never written to disk). Nothing here touches the network.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from hashing.algorithm import Hash
from hashing.md5 import MD5_ALGORITHM
from hashing.video import DEFAULT_LIMITS, VideoLimits, VideoSource, open_input
from hashing.video_forms import Side
from hashing.vpdq import (
    DEFAULT_RATE,
    PRUNE_DISTANCE,
    VideoFrameHash,
    VideoProgress,
    hash_video,
    select_frames,
)

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class VideoSignals:
    """A video's hashes: `md5` of the file's bytes, the vPDQ `frames` kept, `duration` in seconds.

    `frames` are sampled at the chosen rate, of quality >= 50, near-duplicates
    pruned (`hashing.vpdq.select_frames`); `decoded` counts the frames decoded.
    """

    md5: Hash
    frames: tuple[VideoFrameHash, ...]
    duration: float
    decoded: int


def video_signals(
    source: VideoSource,
    *,
    rate: float | None = DEFAULT_RATE,
    limits: VideoLimits = DEFAULT_LIMITS,
    prune_distance: int | None = PRUNE_DISTANCE,
    on_progress: Callable[[VideoProgress], None] | None = None,
    forms: Side | None = None,
) -> VideoSignals:
    """Hash one video for submission or matching: MD5, vPDQ frames at `rate` per second, duration.

    Raises `UnreadableVideo`, `VideoTooLarge` or `VideoTooLong` (all
    `HashingError`) for what cannot be hashed within `limits`; a video with no
    frame of enough quality gives no frames (its MD5 still identifies copies).
    `forms`: each kept frame also carries that side's other forms
    (`hashing.video_forms`: SUBMITTED for a case, QUERIED for a match).
    """
    with open_input(source, limits) as file:
        digest = hashlib.md5(usedforsecurity=False)  # a fingerprint, not for security
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    hashes = hash_video(source, rate=rate, limits=limits, on_progress=on_progress, forms=forms)
    frames = select_frames(hashes.frames, prune_distance=prune_distance)
    return VideoSignals(
        Hash(MD5_ALGORITHM.name, digest.digest()), tuple(frames), hashes.duration, hashes.decoded
    )
