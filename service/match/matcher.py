"""The match pipeline: from a platform's query (hashes, or an uploaded image) to recorded matches.

One path for both match routes:

1. **Parse** each item once into a typed `hashing.Query` (its signal type and
   the bytes of its hash and variants), checking the request's bounds first:
   at most `max_batch` items and `max_hashes` hashes in all (413), every bad
   item reported at once (422). An uploaded image instead becomes one query
   from the injected match policy's query hashes (`hashing.policy`), decoded
   within the worker's decode budget (`service.match.decode_budget`).
2. **Search** every query in one call to the live indexes: each in its signal
   type's index, within that type's threshold; the best distance per stored
   hash wins.
3. **Record** the hits whose hash is still active in the database (a
   withdrawal or dispute counts at once, before the index hears of it), each
   as a match with an id to report feedback against.
4. **Answer** per item with `Found` entries, the one reply shape of both routes,
   and count the work (`MatchMeter`).

Small batches are searched on the event loop, larger ones and all database
work in the thread pool: a search of a few hashes takes well under a
millisecond, less than the hand-off to a thread.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool

from hashing import Hash, HashingError, Query, load_image, parse_query
from hashing.loading import read_header
from hashing.policy import MatchPolicy
from service.failures import Invalid, TooLarge
from service.match.decode_budget import DecodeBudget, give_back_memory, image_cost
from service.store.matches import Hit, MatchRepository, RecordedMatch

# Batches up to this many items are searched on the event loop (see the module docstring).
INLINE_ITEMS = 8


class Searcher(Protocol):
    def search(self, queries: Sequence[Query]) -> list[dict[int, int]]:
        """Per query: stored id -> best distance, within its signal type's threshold."""
        ...


class MatchMeter(Protocol):
    """Where answered match requests are counted (`service.telemetry.metrics.Metrics`)."""

    def observe_match(
        self, source: str, *, searched: int, items: int, matched: int, hits: int
    ) -> None: ...


class MatchItem(Protocol):
    """One item of a match request as the API receives it (`service.api.schemas.MatchItemIn`)."""

    @property
    def algorithm(self) -> str: ...
    @property
    def hash(self) -> str: ...
    @property
    def variants(self) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class Found:
    """One recorded match, as both match routes answer it."""

    match_id: str
    algorithm: str
    distance: int


@dataclass(frozen=True)
class ImageMatch:
    found: list[Found]
    quality: int  # the uploaded image's PDQ quality


class Matcher:
    def __init__(
        self,
        searcher: Searcher,
        matches: MatchRepository,
        *,
        policy: MatchPolicy,
        max_batch: int,
        max_hashes: int,
        max_image_pixels: int,
        budget: DecodeBudget,
        meter: MatchMeter | None = None,
    ) -> None:
        self.searcher, self.matches, self.budget, self.meter = searcher, matches, budget, meter
        self.policy = policy
        self.max_batch, self.max_hashes = max_batch, max_hashes
        self.max_image_pixels = max_image_pixels

    async def match_items(self, platform_id: int, items: Sequence[MatchItem]) -> list[list[Found]]:
        """Match a batch of items (step 1 to 4); per item, what was found."""
        if len(items) <= INLINE_ITEMS:
            queries, hits = self._find(items)
        else:
            queries, hits = await run_in_threadpool(self._find, items)
        # Only a hit touches the database (to check it is still active and record it).
        recorded = await run_in_threadpool(self.matches.record, platform_id, hits) if hits else []
        return self._answer("hashes", queries, recorded)

    async def match_image(self, platform_id: int, data: bytes) -> ImageMatch:
        """Hash image bytes in memory with the policy's query hashes and match them.

        The header is read first (413 above `max_image_pixels`); the image's cost
        is then reserved from the decode budget (413 if it alone is over the
        per-image limit, 503 if no room comes in time) and given back once it is
        hashed, before the search and the database. The work runs in threads.
        """
        header = await run_in_threadpool(read_header, data, max_pixels=self.max_image_pixels)
        async with self.budget.reserve(image_cost(header, len(data))):
            hashes = await run_in_threadpool(self._query_hashes, data)
        query = Query.of(hashes)
        recorded = await run_in_threadpool(self._search_and_record, platform_id, query)
        (found,) = self._answer("image", [query], recorded)
        return ImageMatch(found, hashes[0].quality or 0)

    def parse(self, items: Sequence[MatchItem]) -> list[Query]:
        """Step 1 for a batch of items: bounds first (413), then every bad item at once (422)."""
        if len(items) > self.max_batch:
            raise TooLarge(
                f"at most {self.max_batch} items per request, got {len(items)}", "batch_too_large"
            )
        searched = sum(1 + len(item.variants) for item in items)
        if searched > self.max_hashes:
            raise TooLarge(
                f"at most {self.max_hashes:,} hashes (items and their variants) per request, "
                f"got {searched:,}; send fewer items per request",
                "too_many_hashes",
            )
        queries: list[Query] = []
        problems: list[dict[str, Any]] = []
        for i, item in enumerate(items):
            try:
                queries.append(parse_query(item.algorithm, [item.hash, *item.variants]))
            except HashingError as exc:
                problems.append({"location": f"items.{i}", "reason": str(exc)})
        if problems:
            raise Invalid("some items are not valid hashes", "invalid_hash", problems)
        return queries

    def _find(self, items: Sequence[MatchItem]) -> tuple[list[Query], list[Hit]]:
        queries = self.parse(items)
        return queries, self._search(queries)

    def _search(self, queries: Sequence[Query]) -> list[Hit]:
        """Step 2: one search for all queries; each item's hits, nearest first."""
        return [
            Hit(item=i, signal_id=signal_id, algorithm=query.signal_type.name, distance=distance)
            for i, (query, best) in enumerate(
                zip(queries, self.searcher.search(queries), strict=True)
            )
            for signal_id, distance in sorted(best.items(), key=lambda kv: kv[1])
        ]

    def _search_and_record(self, platform_id: int, query: Query) -> list[RecordedMatch]:
        hits = self._search([query])
        return self.matches.record(platform_id, hits) if hits else []

    def _query_hashes(self, data: bytes) -> list[Hash]:
        try:
            # One expression: the canonical image is dropped as soon as it is hashed.
            return self.policy.query_hashes(load_image(data, max_pixels=self.max_image_pixels))
        finally:
            give_back_memory()

    def _answer(
        self, source: str, queries: Sequence[Query], recorded: Sequence[RecordedMatch]
    ) -> list[list[Found]]:
        """Step 4: per query, its recorded matches; the request counted once."""
        results: list[list[Found]] = [[] for _ in queries]
        for m in recorded:
            results[m.item].append(Found(m.match_id, m.algorithm, m.distance))
        if self.meter is not None:
            self.meter.observe_match(
                source,
                searched=sum(len(q.values) for q in queries),
                items=len(results),
                matched=sum(1 for found in results if found),
                hits=sum(len(found) for found in results),
            )
        return results
