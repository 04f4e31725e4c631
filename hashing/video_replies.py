"""What `POST /v1/match/video` answers, typed, and the check that turns a reply into it.

A matched case item is a video (both percentages and the matched time ranges
on each side) or a photo one of the query's frames shows (`stored_percent`
None). `PlatformClient.match_video` (`hashing.platform_client`) parses every
reply here; a reply of another shape is `ServiceError` `invalid_response`.
"""

from dataclasses import dataclass
from typing import Any

from hashing.platform_replies import field_of
from hashing.vpdq_match import TimeRange

__all__ = ["VideoMatch", "VideoMatchResult", "video_match_result"]


@dataclass(frozen=True, slots=True)
class VideoMatch:
    """One matched case item: report what you did with it (`PlatformClient.feedback`)."""

    match_id: str
    algorithm: str  # vpdq (frames), pdq (a photo the video shows) or md5 (the same file)
    distance: int
    query_percent: float  # of the query's distinct frames, the share matching this item
    stored_percent: float | None  # of the case video's frames, the share matched
    query_ranges: tuple[TimeRange, ...]  # where in the query video, in seconds
    stored_ranges: tuple[TimeRange, ...]  # where in the case video


@dataclass(frozen=True, slots=True)
class VideoMatchResult:
    ref: str | None
    matches: tuple[VideoMatch, ...]

    @property
    def matched(self) -> bool:
        return bool(self.matches)


def _number(data: Any, name: str) -> float:
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name!r} is not a number")
    return float(value)


def _ranges(data: Any, name: str) -> tuple[TimeRange, ...]:
    return tuple(
        TimeRange(_number(r, "start"), _number(r, "end")) for r in field_of(data, name, list)
    )


def _match(data: Any) -> VideoMatch:
    stored = data.get("stored_percent")
    return VideoMatch(
        match_id=field_of(data, "match_id", str),
        algorithm=field_of(data, "algorithm", str),
        distance=field_of(data, "distance", int),
        query_percent=_number(data, "query_percent"),
        stored_percent=None if stored is None else _number(data, "stored_percent"),
        query_ranges=_ranges(data, "query_ranges"),
        stored_ranges=_ranges(data, "stored_ranges"),
    )


def video_match_result(data: Any) -> VideoMatchResult:
    ref = data.get("ref")
    return VideoMatchResult(
        None if ref is None else str(ref),
        tuple(_match(m) for m in field_of(data, "matches", list)),
    )
