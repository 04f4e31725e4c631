"""Turn submitted hashes into validated signals, reporting every bad item at once.

Each hash is parsed by its signal type (`hashing.parse_hash`: format and
quality floor); `items` are anything with `algorithm`, `hash`, `quality` and
`image` (the API's `HashIn`), so nothing here depends on the HTTP layer.
"""

from collections.abc import Sequence
from typing import Any, Protocol

from hashing import HashingError, parse_hash
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


def parse_hashes(
    items: Sequence[SubmittedHash], limit: int, field: str = "hashes"
) -> list[SignalInput]:
    if len(items) > limit:
        raise TooLarge(f"at most {limit} hashes per request, got {len(items)}", "too_many_hashes")
    parsed: list[SignalInput] = []
    problems: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        try:
            parsed.append(parse_one(item.algorithm, item.hash, item.quality, item.image))
        except HashingError as exc:
            problems.append({"location": f"{field}.{i}", "reason": str(exc)})
    if problems:
        raise Invalid("some hashes are not valid; nothing was saved", "invalid_hash", problems)
    return parsed


def parse_one(
    algorithm: str, text: str, quality: int | None = None, image: int | None = None
) -> SignalInput:
    parsed = parse_hash(algorithm, text, quality)
    return SignalInput(parsed.algorithm, parsed.value, quality, image)
