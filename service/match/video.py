"""Matching a video: its frame hashes (and its MD5) against the case videos and images.

A platform sends a video as its vPDQ frames, each with its time, and its MD5
if it has it. The pipeline:

1. **Parse**: at most `max_frames` frames (413), every bad frame reported at
   once (422). Frames with the same hash count once (Meta's rule: a video is
   the set of its distinct frame hashes). A frame may carry variants, the
   hashes of its other forms (`hashing.video_forms`: trimmed, cropped,
   mirrored); a variant that matches counts as its frame matching.
2. **Search** every distinct frame hash and variant in one call: among stored
   video frames (and their variants: a stored frame matches when it or one of
   its variants does)
   and, since a photo's PDQ is comparable (`searched_by`), among stored photos,
   within the threshold; the MD5 among stored MD5s.
3. **Judge** each stored item (image or video) that a hit belongs to: the
   percentage of the query's distinct frames that match one of its hashes, and
   for a video the percentage of its frames that some query frame matches.
   A video matches when either percentage reaches `match_percent` (the query's
   share finds a trimmed or cut copy, the stored video's share finds the clip
   inside a longer video) or its MD5 is the upload's; an image matches when
   any frame shows it (a stored photo inside an uploaded video).
4. **Record** one match per matched item (its closest hash), checked active at
   write time like every match, and answer with the percentages and the
   matched time ranges on both sides.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool

from hashing import HashingError, Query, TimeRange
from hashing.md5 import MD5_ALGORITHM
from hashing.vpdq import VPDQ_ALGORITHM
from hashing.vpdq_match import time_ranges
from service.failures import Invalid, TooLarge
from service.match.matcher import Searcher
from service.store.items import StoredItem
from service.store.matches import Hit, MatchRepository

FRAME_TYPE = VPDQ_ALGORITHM.name


class FrameIn(Protocol):
    """One frame of the query video as the API receives it (`service.api.schemas.FrameIn`)."""

    @property
    def hash(self) -> str: ...
    @property
    def timestamp(self) -> float: ...
    @property
    def quality(self) -> int | None: ...
    @property
    def variants(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class ParsedVideo:
    """Step 1's result: the query's distinct frames and what to search for them."""

    frames: list[bytes]  # the distinct frame hashes
    times: list[tuple[float, bytes]]  # every (time, frame hash), in time order
    owner: dict[bytes, set[bytes]]  # each value searched -> the frames it is (a form) of
    md5: bytes | None


@dataclass(frozen=True)
class VideoFound:
    """One matched case item, as the video match route answers it."""

    match_id: str
    algorithm: str
    distance: int
    query_percent: float  # of the query's distinct frames, those that match the item
    stored_percent: float | None  # of the stored video's frames, those matched; None: an image
    query_ranges: tuple[TimeRange, ...]
    stored_ranges: tuple[TimeRange, ...]


@dataclass(frozen=True)
class _Judged:
    item: StoredItem
    best: tuple[int, int]  # (signal id, distance) of the closest hash
    query_percent: float
    stored_percent: float | None
    query_ranges: tuple[TimeRange, ...]
    stored_ranges: tuple[TimeRange, ...]


class VideoMatcher:
    def __init__(
        self,
        searcher: Searcher,
        matches: MatchRepository,
        *,
        max_frames: int,
        match_percent: float,
    ) -> None:
        self.searcher, self.matches = searcher, matches
        self.max_frames, self.match_percent = max_frames, match_percent

    async def match_video(
        self, platform_id: int, frames: Sequence[FrameIn], md5: str | None
    ) -> list[VideoFound]:
        """Steps 1 to 4 (see the module docstring); the matched items, closest first."""
        parsed = self.parse(frames, md5)
        return await run_in_threadpool(self._match, platform_id, parsed)

    def parse(self, frames: Sequence[FrameIn], md5: str | None) -> ParsedVideo:
        """Step 1: the distinct frames, every (time, hash) in time order, the values to
        search (frames and their variants) and the MD5."""
        if len(frames) > self.max_frames:
            raise TooLarge(
                f"at most {self.max_frames:,} frames per video, got {len(frames):,}",
                "too_many_frames",
            )
        if not frames and md5 is None:
            raise Invalid("a video needs its frame hashes, its md5 or both", "invalid_hash")
        frame_type = VPDQ_ALGORITHM
        problems: list[dict[str, Any]] = []
        times: list[tuple[float, bytes]] = []
        owner: dict[bytes, set[bytes]] = {}
        for i, frame in enumerate(frames):
            try:
                value = frame_type.parse(frame.hash)
                frame_type.check_quality(frame.quality)
                forms = [frame_type.parse(v) for v in frame.variants]
            except HashingError as exc:
                problems.append({"location": f"frames.{i}", "reason": str(exc)})
                continue
            times.append((frame.timestamp, value))
            for form in (value, *forms):
                owner.setdefault(form, set()).add(value)
        md5_value = None
        if md5 is not None:
            try:
                md5_value = MD5_ALGORITHM.parse(md5)
            except HashingError as exc:
                problems.append({"location": "md5", "reason": str(exc)})
        if problems:
            raise Invalid("some hashes are not valid", "invalid_hash", problems)
        times.sort(key=lambda t: t[0])
        return ParsedVideo(list(dict.fromkeys(v for _, v in times)), times, owner, md5_value)

    def _match(self, platform_id: int, video: ParsedVideo) -> list[VideoFound]:
        frame_type = VPDQ_ALGORITHM
        values = list(video.owner)
        queries = [Query(frame_type, (v,)) for v in values]
        if video.md5 is not None:
            queries.append(Query(MD5_ALGORITHM, (video.md5,)))
        found = self.searcher.search(queries)
        # stored signal -> the query frames with a form within the threshold of it, and
        # their distances
        by_signal: dict[int, list[tuple[bytes, int]]] = {}
        for value, best in zip(values, found[: len(values)], strict=True):
            for sid, distance in best.items():
                for frame in video.owner[value]:
                    by_signal.setdefault(sid, []).append((frame, distance))
        exact = set(found[-1]) if video.md5 is not None else set()
        judged = [
            j
            for item in self.matches.items_holding(by_signal.keys() | exact)
            if (j := self._judge(item, by_signal, video, exact)) is not None
        ]
        judged.sort(key=lambda j: (j.best[1], -j.query_percent))
        hits = [Hit(n, j.best[0], FRAME_TYPE, j.best[1]) for n, j in enumerate(judged)]
        recorded = self.matches.record(platform_id, hits) if hits else []
        return [
            VideoFound(
                r.match_id,
                r.algorithm,
                r.distance,
                judged[r.item].query_percent,
                judged[r.item].stored_percent,
                judged[r.item].query_ranges,
                judged[r.item].stored_ranges,
            )
            for r in recorded
        ]

    def _judge(
        self,
        item: StoredItem,
        by_signal: dict[int, list[tuple[bytes, int]]],
        video: ParsedVideo,
        exact: set[int],
    ) -> _Judged | None:
        matched: dict[bytes, int] = {}  # query frame -> its closest distance to this item
        hit_times: set[float] = set()  # stored frames (by time) with a form hit
        best: tuple[int, int] | None = None
        for h in item.hashes:
            for frame, distance in by_signal.get(h.signal_id, ()):
                if h.timestamp is not None:
                    hit_times.add(h.timestamp)
                matched[frame] = min(distance, matched.get(frame, distance))
                if best is None or distance < best[1]:
                    best = (h.signal_id, distance)
        md5_hit = next((h.signal_id for h in item.hashes if h.signal_id in exact), None)
        if md5_hit is not None:
            best = (md5_hit, 0)
        if best is None:
            return None
        distinct = len(video.frames)
        query_percent = 100.0 * len(matched) / distinct if distinct else 100.0
        stored = item.frames(FRAME_TYPE)
        stored_percent = (
            100.0 * sum(1 for h in stored if h.timestamp in hit_times) / len(stored)
            if stored
            else None
        )
        if stored_percent is None:
            accepted = md5_hit is not None or bool(matched)  # an image shown in the video
        else:
            accepted = (
                md5_hit is not None
                or query_percent >= self.match_percent
                or stored_percent >= self.match_percent
            )
        if not accepted:
            return None
        return _Judged(
            item,
            best,
            round(query_percent, 1),
            None if stored_percent is None else round(stored_percent, 1),
            time_ranges((t, v in matched) for t, v in video.times),
            time_ranges((h.timestamp or 0.0, h.timestamp in hit_times) for h in stored),
        )
