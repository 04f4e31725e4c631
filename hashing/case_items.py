"""What a case holds of one image or one video, and how items are packed into case requests.

An *item* is one image's hashes (`hashing.policy.submission_hashes`) or one
video's: its file's MD5 and its vPDQ frames, each frame with its time. The
service groups a request's hashes by item number (`image`), so a dispute, a
feedback or a video match treats one item's hashes together; it numbers the
items of a case across requests, so an item never straddles two requests.

A request holds at most `case_hashes` hashes that are not frames and at most
`video_frames` frame hashes (`GET /v1/limits`, `hashing.limits`). A video
with more frames than that keeps that many, evenly spaced through it
(`thin_frames`): a match needs a share of the stored frames, not all of them.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from hashing.algorithm import Hash
from hashing.video_signals import VideoSignals
from hashing.vpdq import VPDQ_ALGORITHM, VideoFrameHash

__all__ = ["CaseBatch", "CaseItem", "pack_items", "thin_frames"]


@dataclass(frozen=True, slots=True)
class CaseItem:
    """One image's or video's hashes; `times[i]` is the time in seconds of `hashes[i]`
    when that is a video frame, else None (an image's `times` may be left empty)."""

    hashes: tuple[Hash, ...]
    times: tuple[float | None, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.times and len(self.times) != len(self.hashes):
            raise ValueError("an item needs one time (or None) per hash")

    @classmethod
    def image(cls, hashes: Sequence[Hash]) -> "CaseItem":
        return cls(tuple(hashes))

    @classmethod
    def video(cls, signals: VideoSignals, max_frames: int | None = None) -> "CaseItem":
        """A video's MD5 and its frames (at most `max_frames` of them, `thin_frames`)."""
        frames = signals.frames if max_frames is None else thin_frames(signals.frames, max_frames)
        hashes = [signals.md5, *(Hash(VPDQ_ALGORITHM.name, f.hash, f.quality) for f in frames)]
        return cls(tuple(hashes), (None, *(f.timestamp for f in frames)))

    def time_of(self, i: int) -> float | None:
        return self.times[i] if self.times else None

    @property
    def frame_count(self) -> int:
        return sum(t is not None for t in self.times)


class CaseBatch(NamedTuple):
    """One case request: its hashes, the item of the request each is of (0, 1, ...)
    and each one's time (video frames) or None: `create_case(*batch)`'s arguments."""

    hashes: list[Hash]
    images: list[int]
    times: list[float | None]

    @classmethod
    def empty(cls) -> "CaseBatch":
        return cls([], [], [])

    @property
    def frames(self) -> int:
        return sum(t is not None for t in self.times)


def thin_frames(frames: Sequence[VideoFrameHash], limit: int) -> list[VideoFrameHash]:
    """At most `limit` of `frames`, evenly spaced, first and last kept, in order."""
    if limit < 1:
        return []
    if len(frames) <= limit:
        return list(frames)
    if limit == 1:
        return [frames[0]]
    step = (len(frames) - 1) / (limit - 1)
    return [frames[round(i * step)] for i in range(limit)]


def pack_items(items: Sequence[CaseItem], limit: int, frame_limit: int) -> list[CaseBatch]:
    """Pack whole items, in order, into requests of at most `limit` hashes that are
    not frames and `frame_limit` frames each.

    An item never straddles two requests; one larger than a request alone is cut
    to the limits (its first hashes and frames). Each request numbers its items
    from 0. At least one request, maybe empty.
    """
    packed = [CaseBatch.empty()]
    for item in items:
        kept = _within(item, limit, frame_limit)
        frames = sum(t is not None for _, t in kept)
        batch = packed[-1]
        if batch.hashes and (
            len(batch.hashes) - batch.frames + len(kept) - frames > limit
            or batch.frames + frames > frame_limit
        ):
            batch = CaseBatch.empty()
            packed.append(batch)
        number = batch.images[-1] + 1 if batch.images else 0
        for h, t in kept:
            batch.hashes.append(h)
            batch.images.append(number)
            batch.times.append(t)
    return packed


def _within(item: CaseItem, limit: int, frame_limit: int) -> list[tuple[Hash, float | None]]:
    kept: list[tuple[Hash, float | None]] = []
    plain = frames = 0
    for i, h in enumerate(item.hashes):
        t = item.time_of(i)
        if t is None and plain < limit:
            plain += 1
            kept.append((h, t))
        elif t is not None and frames < frame_limit:
            frames += 1
            kept.append((h, t))
    return kept
