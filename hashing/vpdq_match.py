"""How two videos' vPDQ frames match: Meta's rule, as a pure function over two frame lists.

Meta's rule (vpdq's `matchTwoHash`, python-threatexchange's brute matcher):
on each side take the distinct frame hashes of quality >= 50; a frame hash
matches when some frame hash of the other side is within distance 31
(inclusive, as every hashbank threshold). Two percentages follow:

* `query_percent`: of the query's distinct frame hashes, how many match;
* `stored_percent`: of the stored video's distinct frame hashes, how many match.

A frame that carries variants (its other forms, `hashing.video_forms`) matches
when its hash or any of its variants is within the distance of the other
side's hash or variants; it still counts as one frame. Without variants this
is Meta's rule exactly.

Either side empty (no frame of enough quality) gives 0 and 0. The matched
stretches of each video are given as time ranges: in order, the frames of
enough quality that match, consecutive ones merged into one `TimeRange` from
the first one's timestamp to the last one's.

Meta uses two conventions on these percentages: python-threatexchange calls
it a match at >= 80% of the query's frames, the vpdq README at >= 80% of the
stored video's. hashbank adopts `VideoMatch.is_match` (docs/video.md gives
the measurements behind it).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from hashing.pdq import MIN_QUALITY
from hashing.vpdq import THRESHOLD, VideoFrameHash

MATCH_PERCENT: Final = 80.0
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint16)
_CHUNK_BYTES = 1 << 25  # bounds the distance computation's memory, whatever the lengths


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A matched stretch of a video, from one frame's timestamp to another's (seconds)."""

    start: float
    end: float


@dataclass(frozen=True, slots=True)
class VideoMatch:
    """Both of Meta's percentages and the matched time ranges on each side."""

    query_percent: float
    stored_percent: float
    query_ranges: tuple[TimeRange, ...]
    stored_ranges: tuple[TimeRange, ...]

    @property
    def is_match(self) -> bool:
        """The adopted convention: either side's percentage is at least 80.

        A re-poster who puts the clip inside a longer unrelated video lowers only
        the query's percentage (the stored side finds it); one who posts an
        excerpt lowers only the stored video's (the query side finds it). The
        union made no false match on 23,409 unrelated pairs (docs/video.md,
        Accuracy), and it is the service's rule (`HASHBANK_VIDEO_MATCH_PERCENT`).
        """
        return max(self.query_percent, self.stored_percent) >= MATCH_PERCENT


def match_videos(
    query: Sequence[VideoFrameHash],
    stored: Sequence[VideoFrameHash],
    *,
    threshold: int = THRESHOLD,
    min_quality: int = MIN_QUALITY,
) -> VideoMatch:
    """Compare a query video's frames with a stored video's by Meta's rule (module docstring)."""
    query_frames = [f for f in query if f.quality >= min_quality]
    stored_frames = [f for f in stored if f.quality >= min_quality]
    query_rows, query_owner, query_index = _distinct(query_frames)
    stored_rows, stored_owner, stored_index = _distinct(stored_frames)
    if not len(query_rows) or not len(stored_rows):
        return VideoMatch(0.0, 0.0, (), ())
    query_row_hit, stored_row_hit = _hits(query_rows, stored_rows, threshold)
    query_hit = _owners_hit(query_owner, query_row_hit, int(query_index.max()) + 1)
    stored_hit = _owners_hit(stored_owner, stored_row_hit, int(stored_index.max()) + 1)
    return VideoMatch(
        100.0 * float(query_hit.mean()),
        100.0 * float(stored_hit.mean()),
        _ranges(query_frames, query_hit[query_index]),
        _ranges(stored_frames, stored_hit[stored_index]),
    )


def _ranges(frames: Sequence[VideoFrameHash], hit: np.ndarray) -> tuple[TimeRange, ...]:
    return time_ranges(zip((f.timestamp for f in frames), hit.tolist(), strict=True))


def _distinct(frames: Sequence[VideoFrameHash]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The hashes to compare (n x 32 bytes: each distinct frame hash, then the frames'
    variants), the distinct frame each row belongs to, and each frame's distinct frame."""
    if not frames:
        return np.zeros((0, 32), np.uint8), np.zeros(0, np.intp), np.zeros(0, np.intp)
    codes = np.frombuffer(b"".join(f.hash for f in frames), np.uint8).reshape(len(frames), -1)
    values, index = np.unique(codes, axis=0, return_inverse=True)
    index = index.reshape(-1)
    variants = [(int(index[i]), v) for i, f in enumerate(frames) for v in f.variants]
    if not variants:
        return values, np.arange(len(values)), index
    extra = np.frombuffer(b"".join(v for _, v in variants), np.uint8).reshape(len(variants), -1)
    owners = np.concatenate([np.arange(len(values)), [o for o, _ in variants]])
    return np.concatenate([values, extra]), owners.astype(np.intp), index


def _owners_hit(owner: np.ndarray, row_hit: np.ndarray, count: int) -> np.ndarray:
    """For each distinct frame: did any of its rows (its hash or a variant) match."""
    hit = np.zeros(count, bool)
    hit[owner[row_hit]] = True
    return hit


def _hits(a: np.ndarray, b: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """For each row of a, and of b: is some row of the other within `threshold` bits."""
    a_hit = np.zeros(len(a), bool)
    b_hit = np.zeros(len(b), bool)
    rows = max(1, _CHUNK_BYTES // max(1, b.size))
    for start in range(0, len(a), rows):
        chunk = a[start : start + rows]
        distances = _POPCOUNT[chunk[:, None, :] ^ b[None, :, :]].sum(axis=2)
        near = distances <= threshold
        a_hit[start : start + rows] = near.any(axis=1)
        b_hit |= near.any(axis=0)
    return a_hit, b_hit


def time_ranges(frames: Iterable[tuple[float, bool]]) -> tuple[TimeRange, ...]:
    """Runs of consecutive matched frames, given as (timestamp, matched) in time order,
    as time ranges from the first frame of a run to its last."""
    runs: list[list[float]] = []  # [start, end] of each run
    previous = False
    for timestamp, matched in frames:
        if matched and previous:
            runs[-1][1] = timestamp
        elif matched:
            runs.append([timestamp, timestamp])
        previous = matched
    return tuple(TimeRange(start, end) for start, end in runs)
