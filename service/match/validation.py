"""Turn submitted hex hashes into validated signals, reporting every bad item at once."""

from collections.abc import Sequence
from typing import Any

from hashing import HashingError, get_algorithm
from hashing.pdq import PDQ
from hashing.registry import PDQ_ALGORITHM
from service.api.schemas import HashIn
from service.failures import Invalid, TooLarge
from service.store.signals import SignalInput


def parse_hashes(items: Sequence[HashIn], limit: int, field: str = "hashes") -> list[SignalInput]:
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
    algorithm_name: str, text: str, quality: int | None = None, image: int | None = None
) -> SignalInput:
    algorithm = get_algorithm(algorithm_name)
    value = algorithm.parse(text)
    if quality is not None and isinstance(algorithm, PDQ) and quality < PDQ_ALGORITHM.min_quality:
        raise HashingError(
            f"PDQ quality {quality} is below {PDQ_ALGORITHM.min_quality}: the image has too "
            "little detail to match reliably"
        )
    return SignalInput(algorithm.name, value, quality, image)
