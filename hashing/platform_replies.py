"""What the platform routes answer, typed, and the checks that turn a reply into it.

`PlatformClient` (`hashing.platform_client`, which exports these types) parses
every reply here: a reply that is not the documented shape (a missing field, a
wrong type, an unknown action) becomes `ServiceError` with code
`invalid_response` rather than a KeyError deep in the caller. Hash values stay
out of the reprs, so they stay out of logs.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar, cast

from hashing.transport import ServiceError

__all__ = [
    "Action",
    "Change",
    "ChangesPage",
    "FeedbackReceipt",
    "Match",
    "MatchResult",
    "changes_page",
    "feedback_receipt",
    "field_of",
    "invalid",
    "match_results",
    "response_shape",
]

Action = Literal["add", "remove"]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Match:
    match_id: str  # report what you did with it: `PlatformClient.feedback`
    algorithm: str
    distance: int


@dataclass(frozen=True, slots=True)
class MatchResult:
    index: int  # position in the sequence given to `match_hashes`
    ref: str | None
    matches: tuple[Match, ...]

    @property
    def matched(self) -> bool:
        return bool(self.matches)


@dataclass(frozen=True, slots=True)
class FeedbackReceipt:
    match_id: str
    outcome: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of the hash list's change feed: `add` makes a hash matchable, `remove` drops it."""

    seq: int
    algorithm: str
    hash: str = field(repr=False)
    action: Action
    state: str  # active, withdrawn, disputed or retired
    changed_at: datetime
    quality: int | None = None
    # A video's hash: the video's opaque reference, whether the hash joins (add) or
    # leaves (remove) it, and a frame's time in it. None for others (and older servers).
    item: str | None = None
    item_action: Action | None = None
    timestamp: float | None = None
    variant: bool = False  # another form of the frame at `timestamp`, not a frame of its own


@dataclass(frozen=True, slots=True)
class ChangesPage:
    changes: tuple[Change, ...]
    next_cursor: str
    has_more: bool


def invalid(message: str, status: int = 200) -> ServiceError:
    """A reply of the wrong kind: `ServiceError` with code `invalid_response`."""
    return ServiceError(status, "invalid_response", message)


@contextmanager
def response_shape() -> Iterator[None]:
    """Turn a response of the wrong shape (missing or mistyped fields) into `ServiceError`."""
    try:
        yield
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise invalid(f"unexpected response shape ({type(exc).__name__}: {exc})") from None


def field_of(data: Any, name: str, kind: type[T]) -> T:
    """`data[name]`, which must be a `kind` (TypeError otherwise)."""
    value = data[name]
    if not isinstance(value, kind):
        raise TypeError(f"{name!r} is not {kind.__name__}")
    return value


def match_results(data: Any, offset: int) -> list[MatchResult]:
    """The `results` of a POST /v1/match reply; `offset` is added to each index, which
    counts from 0 within the request."""
    return [_match_result(r, offset) for r in field_of(data, "results", list)]


def _match_result(data: Any, offset: int) -> MatchResult:
    matches = tuple(
        Match(
            field_of(m, "match_id", str),
            field_of(m, "algorithm", str),
            field_of(m, "distance", int),
        )
        for m in field_of(data, "matches", list)
    )
    ref = data.get("ref")
    return MatchResult(
        offset + field_of(data, "index", int), None if ref is None else str(ref), matches
    )


def feedback_receipt(data: Any) -> FeedbackReceipt:
    return FeedbackReceipt(
        field_of(data, "match_id", str),
        field_of(data, "outcome", str),
        datetime.fromisoformat(field_of(data, "recorded_at", str)),
    )


def _change(data: Any) -> Change:
    action = field_of(data, "action", str)
    if action not in ("add", "remove"):
        raise ValueError(f"unknown action {action!r}")
    return Change(
        seq=field_of(data, "seq", int),
        algorithm=field_of(data, "algorithm", str),
        hash=field_of(data, "hash", str),
        action=cast(Action, action),
        state=field_of(data, "state", str),
        changed_at=datetime.fromisoformat(field_of(data, "changed_at", str)),
        quality=_optional(data, "quality", int),
        item=_optional(data, "item", str),
        item_action=_item_action(data),
        timestamp=None if (t := _optional(data, "timestamp", (int, float))) is None else float(t),
        variant=data.get("variant") is True,
    )


def _optional(data: Any, name: str, kind: type | tuple[type, ...]) -> Any:
    """`data[name]` if present and not null, checked like `field_of`; None otherwise."""
    value = data.get(name)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise TypeError(f"{name!r} has the wrong type")
    return value


def _item_action(data: Any) -> Action | None:
    action = _optional(data, "item_action", str)
    if action not in (None, "add", "remove"):
        raise ValueError(f"unknown item_action {action!r}")
    if (action is None) != (data.get("item") is None):
        raise ValueError("item and item_action come together")
    return cast(Action | None, action)


def changes_page(data: Any) -> ChangesPage:
    return ChangesPage(
        tuple(_change(c) for c in field_of(data, "changes", list)),
        field_of(data, "next_cursor", str),
        field_of(data, "has_more", bool),
    )
