"""A small typed client for partner platforms: match uploads, report outcomes, follow the hash list.

Images and videos never leave the platform's machine: `match_image` hashes
locally (the match policy's query hashes, `hashing.policy`), `match_video`
too (its MD5 and vPDQ frames), and only the hex hashes are sent.
`sync` follows the service's change feed with a durable cursor, so a platform
can keep its own copy of the hash list and match locally.

    with PlatformClient("https://hashbank.example", api_key) as client:
        result = client.match_image("upload.jpg")
        for m in result.matches:
            client.feedback(m.match_id, "pending_review")

A refused request raises `ServiceError` (status, code, message, details), one
that gets no answer `ServiceUnreachable` (both `ClientError`, `hashing.transport`);
a hash that is not well-formed or an image that cannot be hashed raises the
`hashing` domain errors before anything is sent.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import httpx

from hashing.atomic import write_atomically
from hashing.case_items import thin_frames
from hashing.limits import DEFAULT_MATCH_HASHES, DEFAULT_MATCH_ITEMS, Limits, batches
from hashing.loading import ImageSource, load_image
from hashing.platform_replies import (
    Change,
    ChangesPage,
    FeedbackReceipt,
    Match,
    MatchResult,
    changes_page,
    feedback_receipt,
    invalid,
    match_results,
    response_shape,
)
from hashing.policy import query_hashes
from hashing.registry import get_algorithm
from hashing.transport import ClientError, ServiceError, ServiceUnreachable, Transport
from hashing.video import VideoSource
from hashing.video_forms import QUERIED
from hashing.video_replies import VideoMatch, VideoMatchResult, video_match_result
from hashing.video_signals import VideoSignals, video_signals

__all__ = [
    "MAX_HASHES",
    "MAX_ITEMS",
    "Change",
    "ChangesPage",
    "ClientError",
    "FeedbackReceipt",
    "Limits",
    "Match",
    "MatchQuery",
    "MatchResult",
    "Outcome",
    "PlatformClient",
    "ServiceError",
    "ServiceUnreachable",
    "VideoMatch",
    "VideoMatchResult",
    "read_checkpoint",
    "write_checkpoint",
]

# The service's default limits per /v1/match request, for code that imports them:
# requests are split by the server's own (`PlatformClient.limits`), these only
# stand in for them on a server older than GET /v1/limits.
MAX_ITEMS = DEFAULT_MATCH_ITEMS
MAX_HASHES = DEFAULT_MATCH_HASHES
START_CURSOR = "0"

Outcome = Literal["pending_review", "removed", "not_violating"]


@dataclass(frozen=True, slots=True)
class MatchQuery:
    """One image to match: its first query hash and the others (`hashing.policy.query_hashes`)."""

    hash: str = field(repr=False)  # hash values are sensitive: keep them out of reprs and logs
    variants: tuple[str, ...] = field(default=(), repr=False)
    ref: str | None = None  # your own reference, echoed back
    algorithm: str = "pdq"


class PlatformClient:
    """A partner platform's connection to a hashbank service (one keep-alive HTTP client)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._transport = Transport(base_url, api_key=api_key, timeout=timeout, transport=transport)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    def limits(self) -> Limits:
        """This server's limits per request (`GET /v1/limits`), asked on first use and
        kept; `hashing.limits.DEFAULT_LIMITS` from a server older than that route."""
        return self._transport.limits()

    # -- matching (scope `match`) ----------------------------------------------------

    def match_hashes(self, items: Sequence[str | MatchQuery]) -> list[MatchResult]:
        """Match hashes (a bare string is a PDQ hash without variants), one result per item.

        Sent in order, in requests of at most the server's `match_items` items and
        `match_hashes` hashes (each item's hash and its variants, `limits()`). Every
        item is checked first, so a malformed hash raises `InvalidHash` or
        `UnknownAlgorithm` before anything is sent, and an item with more variants
        than the server takes (`match_item_hashes` - 1) `ValueError` before any hash is.
        """
        if isinstance(items, str):
            raise TypeError("match_hashes takes a sequence of hashes, not one string")
        body = [_item(q if isinstance(q, MatchQuery) else MatchQuery(q)) for q in items]
        if not body:
            return []
        limits = self.limits()
        sizes = [1 + len(item["variants"]) for item in body]
        if max(sizes) > limits.match_item_hashes:
            raise ValueError(
                f"at most {limits.match_item_hashes - 1} variants per item, got {max(sizes) - 1}"
            )
        results: list[MatchResult] = []
        for start, end in batches(sizes, limits.match_items, limits.match_hashes):
            chunk = body[start:end]
            data = self._transport.request_json("POST", "/v1/match", json={"items": chunk})
            with response_shape():
                page = match_results(data, start)
            if [r.index for r in page] != list(range(start, start + len(chunk))):
                raise invalid(f"expected one result per item for items {start}..")
            results.extend(page)
        return results

    def match_image(self, image: ImageSource, *, ref: str | None = None) -> MatchResult:
        """Hash an image here (`hashing.policy.query_hashes`: PDQ, all 8 rotations and
        flips of each queried form in `hashing.policy.FORMS`) and match the hashes only.

        Raises the `hashing` errors (`UnreadableImage`, `ImageTooLarge`,
        `LowQualityImage`) before anything is sent.
        """
        original, *variants = query_hashes(load_image(image))
        query = MatchQuery(original.hex, tuple(h.hex for h in variants), ref)
        return self.match_hashes([query])[0]

    def match_video(self, video: VideoSource, *, ref: str | None = None) -> VideoMatchResult:
        """Hash a video here (`hashing.video_signals`: its MD5 and vPDQ frames at 1 per
        second, each with its queried forms, `hashing.video_forms`) and match the
        hashes only (`match_video_signals`).

        Raises the `hashing` errors (`UnreadableVideo`, `VideoTooLarge`,
        `VideoTooLong`) before anything is sent.
        """
        return self.match_video_signals(video_signals(video, forms=QUERIED), ref=ref)

    def match_video_signals(
        self, signals: VideoSignals, *, ref: str | None = None
    ) -> VideoMatchResult:
        """Match a video already hashed: the case videos (and photos) it matches, each
        with both match percentages and the matched time ranges.

        A video with more frames than the server takes (`limits().video_frames`)
        sends that many, evenly spaced (`hashing.case_items.thin_frames`).
        """
        frames = thin_frames(signals.frames, self.limits().video_frames)
        body = {
            "frames": [
                {
                    "hash": f.hex,
                    "timestamp": f.timestamp,
                    "quality": f.quality,
                    "variants": [v.hex() for v in f.variants],
                }
                for f in frames
            ],
            "md5": signals.md5.hex,
            "ref": ref,
        }
        data = self._transport.request_json("POST", "/v1/match/video", json=body)
        with response_shape():
            return video_match_result(data)

    # -- feedback (scope `feedback`) ---------------------------------------------------

    def feedback(self, match_id: str, outcome: Outcome) -> FeedbackReceipt:
        """Report what was done with a match."""
        data = self._transport.request_json(
            "POST", "/v1/feedback", json={"match_id": match_id, "outcome": outcome}
        )
        with response_shape():
            return feedback_receipt(data)

    # -- the hash list (scope `sync`) --------------------------------------------------

    def changes(self, cursor: str = START_CURSOR, limit: int = 500) -> ChangesPage:
        """One page of the change feed after `cursor` ("0": from the start), of at most
        `limit` changes; a `limit` above the server's largest page (`limits().feed_page`)
        asks for that page size instead."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        limit = min(limit, self.limits().feed_page)
        data = self._transport.request_json(
            "GET", "/v1/hashes/changes", params={"cursor": cursor, "limit": str(limit)}
        )
        with response_shape():
            return changes_page(data)

    def sync(self, checkpoint: Path, limit: int = 500) -> Iterator[Change]:
        """Yield every change after the cursor saved in `checkpoint`, in order, until caught up.

        A page's cursor is saved (atomically) only when the consumer asks for the
        change after that page's last one. A consumer that stops mid-page sees that
        page again next time (apply changes idempotently: add/remove by hash); one
        that runs to the end never sees a change twice. A missing file means from
        the start. Pages are of at most `limit` changes, as in `changes`.
        """
        cursor = read_checkpoint(checkpoint)
        while True:
            page = self.changes(cursor, limit)
            yield from page.changes
            if page.next_cursor != cursor:
                write_checkpoint(checkpoint, page.next_cursor)
            elif page.has_more:
                raise invalid("the change feed did not advance its cursor")
            cursor = page.next_cursor
            if not page.has_more:
                return


def read_checkpoint(path: Path) -> str:
    """The cursor saved in `path`, or "0" (the start) when there is none."""
    try:
        return path.read_text(encoding="utf-8").strip() or START_CURSOR
    except FileNotFoundError:
        return START_CURSOR


def write_checkpoint(path: Path, cursor: str) -> None:
    """Replace `path` with `cursor` atomically and durably (`hashing.atomic`), creating
    its folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, cursor + "\n")


# -- request bodies ------------------------------------------------------------------


def _item(query: MatchQuery) -> dict[str, Any]:
    algorithm = get_algorithm(query.algorithm)  # UnknownAlgorithm
    hashes = [algorithm.format(algorithm.parse(h)) for h in (query.hash, *query.variants)]
    return {
        "algorithm": algorithm.name,
        "hash": hashes[0],
        "variants": hashes[1:],
        "ref": query.ref,
    }
