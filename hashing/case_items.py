"""What a case holds of one image or one video, and how items are packed into case requests.

An *item* is one image's hashes (`hashing.policy.submission_hashes`) or one
video's: its file's MD5 and its vPDQ frames, each frame with its time and
followed by its variants (its other forms, `hashing.video_forms`: same time,
flagged `variant`). The
service groups a request's hashes by item number (`image`), so a dispute, a
feedback or a video match treats one item's hashes together; it numbers the
items of a case across requests, so an item never straddles two requests.

A request holds at most `case_hashes` hashes that are not frames and at most
`video_frames` frame hashes, variants included (`GET /v1/limits`,
`hashing.limits`). A video with more than that keeps as many frames as fit,
evenly spaced through it (`thin_frames`): a match needs a share of the stored
frames, not all of them.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from hashing.algorithm import Hash
from hashing.video_signals import VideoSignals
from hashing.vpdq import VPDQ_ALGORITHM, VideoFrameHash

__all__ = ["CaseBatch", "CaseItem", "fitting_frames", "pack_items", "thin_frames"]


@dataclass(frozen=True, slots=True)
class CaseItem:
    """One image's or video's hashes; `times[i]` is the time in seconds of `hashes[i]`
    when that is a video frame, else None, and `variants[i]` whether it is another
    form of that frame (an image leaves both empty)."""

    hashes: tuple[Hash, ...]
    times: tuple[float | None, ...] = field(default=())
    variants: tuple[bool, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.times and len(self.times) != len(self.hashes):
            raise ValueError("an item needs one time (or None) per hash")
        if self.variants and len(self.variants) != len(self.hashes):
            raise ValueError("an item needs one variant flag per hash")

    @classmethod
    def image(cls, hashes: Sequence[Hash]) -> "CaseItem":
        return cls(tuple(hashes))

    @classmethod
    def video(cls, signals: VideoSignals, max_frames: int | None = None) -> "CaseItem":
        """A video's MD5 and its frames, each followed by its variants; at most
        `max_frames` frame hashes, variants included (`fitting_frames`)."""
        frames = signals.frames
        if max_frames is not None:
            frames = tuple(fitting_frames(frames, max_frames))
        hashes: list[Hash] = [signals.md5]
        times: list[float | None] = [None]
        variants = [False]
        for f in frames:
            for n, value in enumerate((f.hash, *f.variants)):
                hashes.append(Hash(VPDQ_ALGORITHM.name, value, f.quality if n == 0 else None))
                times.append(f.timestamp)
                variants.append(n > 0)
        return cls(tuple(hashes), tuple(times), tuple(variants))

    def time_of(self, i: int) -> float | None:
        return self.times[i] if self.times else None

    def variant_of(self, i: int) -> bool:
        return self.variants[i] if self.variants else False

    @property
    def frame_count(self) -> int:
        """Frame hashes, variants included."""
        return sum(t is not None for t in self.times)

    @property
    def variant_count(self) -> int:
        return sum(self.variants)


class CaseBatch(NamedTuple):
    """One case request: its hashes, the item of the request each is of (0, 1, ...)
    each one's time (video frames) or None, and whether it is a frame's variant:
    `create_case(*batch)`'s arguments."""

    hashes: list[Hash]
    images: list[int]
    times: list[float | None]
    variants: list[bool]

    @classmethod
    def empty(cls) -> "CaseBatch":
        return cls([], [], [], [])

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


def fitting_frames(frames: Sequence[VideoFrameHash], limit: int) -> list[VideoFrameHash]:
    """As many of `frames`, evenly spaced (`thin_frames`), as have at most `limit`
    hashes together, each frame's variants included."""
    total = sum(1 + len(f.variants) for f in frames)
    count = len(frames) if total <= limit else int(len(frames) * limit / total)
    while True:
        kept = thin_frames(frames, count)
        if sum(1 + len(f.variants) for f in kept) <= limit:
            return kept
        count -= 1


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
        frames = sum(t is not None for _, t, _ in kept)
        batch = packed[-1]
        if batch.hashes and (
            len(batch.hashes) - batch.frames + len(kept) - frames > limit
            or batch.frames + frames > frame_limit
        ):
            batch = CaseBatch.empty()
            packed.append(batch)
        number = batch.images[-1] + 1 if batch.images else 0
        for h, t, v in kept:
            batch.hashes.append(h)
            batch.images.append(number)
            batch.times.append(t)
            batch.variants.append(v)
    return packed


def _within(item: CaseItem, limit: int, frame_limit: int) -> list[tuple[Hash, float | None, bool]]:
    kept: list[tuple[Hash, float | None, bool]] = []
    plain = frames = 0
    for i, h in enumerate(item.hashes):
        t = item.time_of(i)
        if t is None and plain < limit:
            plain += 1
            kept.append((h, t, False))
        elif t is not None and frames < frame_limit:
            frames += 1
            kept.append((h, t, item.variant_of(i)))
    return kept
