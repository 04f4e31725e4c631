"""Turn submitted hashes into validated signals, reporting every bad item at once.

Each hash is parsed by its signal type (`hashing.parse_hash`: format and
quality floor); `items` are anything with `algorithm`, `hash`, `quality`,
`image` and `timestamp` (the API's `HashIn`), so nothing here depends on the
HTTP layer. A video frame hash (a `timed` signal type) must say which video of
the request it is of (`image`) and its time (`timestamp`); no other hash may
have a time. A frame's variant (another form of it, `hashing.video_forms`) is
a frame hash with `variant` true, at its frame's time. Images' hashes and
videos' frames (variants included) have separate limits: a video of an hour is
thousands of frames.
"""

from collections.abc import Sequence
from typing import Any, Protocol

from hashing import HashingError, get_algorithm, parse_hash
from service.failures import Invalid, TooLarge
from service.store.signals import SignalInput


class SubmittedHash(Protocol):
    @property
    def algorithm(self) -> str: ...
    @property
    def hash(self) -> str: ...
    @property
    def quality(self) -> int | None: ...
    @property
    def image(self) -> int | None: ...
    @property
    def timestamp(self) -> float | None: ...
    @property
    def variant(self) -> bool: ...


def parse_hashes(
    items: Sequence[SubmittedHash], limit: int, frame_limit: int, field: str = "hashes"
) -> list[SignalInput]:
    """Validated signals; `TooLarge` above `limit` hashes of images or `frame_limit`
    video frames, `Invalid` listing every bad item."""
    frames = sum(1 for item in items if _timed(item.algorithm))
    if frames > frame_limit:
        raise TooLarge(
            f"at most {frame_limit:,} video frame hashes per request, got {frames:,}",
            "too_many_frames",
        )
    if len(items) - frames > limit:
        raise TooLarge(
            f"at most {limit} hashes per request, got {len(items) - frames}", "too_many_hashes"
        )
    parsed: list[SignalInput] = []
    problems: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        try:
            parsed.append(
                parse_one(
                    item.algorithm,
                    item.hash,
                    item.quality,
                    item.image,
                    item.timestamp,
                    item.variant,
                )
            )
        except (HashingError, ValueError) as exc:
            problems.append({"location": f"{field}.{i}", "reason": str(exc)})
    if problems:
        raise Invalid("some hashes are not valid; nothing was saved", "invalid_hash", problems)
    return parsed


def parse_one(
    algorithm: str,
    text: str,
    quality: int | None = None,
    image: int | None = None,
    timestamp: float | None = None,
    variant: bool = False,
) -> SignalInput:
    """One validated signal; `HashingError` for a bad hash, `ValueError` for a frame
    without its video and time (or a time on something that is not a frame)."""
    parsed = parse_hash(algorithm, text, quality)
    if get_algorithm(parsed.algorithm).timed:
        if image is None or timestamp is None:
            raise ValueError(
                f"a {parsed.algorithm} hash is a video frame: give its video (image) "
                "and its time (timestamp)"
            )
    elif timestamp is not None:
        raise ValueError(f"only video frames have a timestamp, not {parsed.algorithm} hashes")
    elif variant:
        raise ValueError(f"only video frames have variants, not {parsed.algorithm} hashes")
    return SignalInput(parsed.algorithm, parsed.value, quality, image, timestamp, variant)


def _timed(algorithm: str) -> bool:
    try:
        return get_algorithm(algorithm).timed
    except HashingError:
        return False  # reported with the other bad items
