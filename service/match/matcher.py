"""The match policy: from a platform's hashes (or image) to recorded matches.

What counts as a match is `hashing.policy` (shared with the clients, the web
page and the benchmark); this module applies it: each item is searched with all
of its variants (dihedral hashes, and those of its border-trimmed form), the
best distance per stored hash wins, PDQ hits are kept when the policy accepts
that distance (other algorithms: their own threshold), and only hashes still
active in the database are reported.

A request is bounded by the hashes it searches (`max_hashes`: items and their
variants), not only by its items, and an uploaded image is decoded only within
the worker's decode budget (`service.match.decode_budget`).
"""

from collections.abc import Sequence
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool

from hashing import Hash, HashingError, get_algorithm, load_image
from hashing.loading import read_header
from hashing.policy import DEFAULT_POLICY, MatchPolicy
from service.failures import Invalid, TooLarge
from service.match.decode_budget import DecodeBudget, give_back_memory, image_cost
from service.match.validation import parse_one
from service.store.matches import Hit, MatchRepository


class Searcher(Protocol):
    def search(
        self, algorithm: str, queries: Sequence[Sequence[bytes]], radius: int
    ) -> list[dict[int, int]]:
        """Per query group (an item and its variants): stored id -> best distance."""
        ...


def policy_search(
    searcher: Searcher,
    queries: Sequence[Sequence[bytes]],
    policy: MatchPolicy = DEFAULT_POLICY,
) -> list[dict[int, int]]:
    """Per query (one image's PDQ hashes): stored id -> best distance, where the policy accepts."""
    found = searcher.search(policy.algorithm, queries, policy.threshold)
    return [{i: d for i, d in best.items() if policy.accepts(d)} for best in found]


class MatchMeter(Protocol):
    """Where answered match requests are counted (`service.telemetry.metrics.Metrics`)."""

    def observe_match(
        self, source: str, *, searched: int, items: int, matched: int, hits: int
    ) -> None: ...


class MatchItem(Protocol):
    @property
    def algorithm(self) -> str: ...
    @property
    def hash(self) -> str: ...
    @property
    def variants(self) -> list[str]: ...


class Matcher:
    def __init__(
        self,
        searcher: Searcher,
        matches: MatchRepository,
        *,
        max_batch: int,
        max_hashes: int,
        max_image_pixels: int,
        budget: DecodeBudget,
        meter: MatchMeter | None = None,
    ) -> None:
        self.searcher, self.matches, self.budget, self.meter = searcher, matches, budget, meter
        self.max_batch, self.max_hashes = max_batch, max_hashes
        self.max_image_pixels = max_image_pixels

    def find(self, items: Sequence[MatchItem]) -> list[Hit]:
        """Validate a batch and search the indexes: CPU only, no database.

        At most `max_batch` items and `max_hashes` hashes (each item's hash and its
        variants) per batch, else 413.
        """
        if len(items) > self.max_batch:
            raise TooLarge(
                f"at most {self.max_batch} items per request, got {len(items)}", "batch_too_large"
            )
        searched = hashes_searched(items)
        if searched > self.max_hashes:
            raise TooLarge(
                f"at most {self.max_hashes:,} hashes (items and their variants) per request, "
                f"got {searched:,}; send fewer items per request",
                "too_many_hashes",
            )
        groups: dict[str, list[tuple[int, list[bytes]]]] = {}
        problems: list[dict[str, Any]] = []
        for i, item in enumerate(items):
            try:
                parsed = [parse_one(item.algorithm, text) for text in [item.hash, *item.variants]]
            except HashingError as exc:
                problems.append({"location": f"items.{i}", "reason": str(exc)})
                continue
            groups.setdefault(parsed[0].algorithm, []).append((i, [p.value for p in parsed]))
        if problems:
            raise Invalid("some items are not valid hashes", "invalid_hash", problems)
        return [
            hit for algorithm, group in groups.items() for hit in self._search(algorithm, group)
        ]

    def record(self, platform_id: int, count: int, hits: list[Hit]) -> list[list[dict[str, Any]]]:
        """Record the hits still active as matches; per item (of `count`), what was found."""
        results: list[list[dict[str, Any]]] = [[] for _ in range(count)]
        for m in self.matches.record(platform_id, hits) if hits else []:
            results[m.item].append(
                {"match_id": m.match_id, "algorithm": m.algorithm, "distance": m.distance}
            )
        return results

    def tally(self, source: str, searched: int, results: Sequence[Sequence[object]]) -> None:
        """Count one answered request's work (`results`: per item, its matches)."""
        if self.meter is not None:
            self.meter.observe_match(
                source,
                searched=searched,
                items=len(results),
                matched=sum(1 for found in results if found),
                hits=sum(len(found) for found in results),
            )

    def match_items(
        self, platform_id: int, items: Sequence[MatchItem]
    ) -> list[list[dict[str, Any]]]:
        results = self.record(platform_id, len(items), self.find(items))
        self.tally("hashes", hashes_searched(items), results)
        return results

    async def match_image(self, platform_id: int, data: bytes) -> tuple[list[dict[str, Any]], int]:
        """Hash image bytes in memory (`hashing.policy`'s query hashes) and match them.

        The header is read first (413 above `max_image_pixels`); the image's cost
        is then reserved from the decode budget (413 if it alone is over the
        per-image limit, 503 if no room comes in time) and given back once it is
        hashed, before the search and the database. The work runs in threads.
        """
        header = await run_in_threadpool(read_header, data, max_pixels=self.max_image_pixels)
        async with self.budget.reserve(image_cost(header, len(data))):
            hashes = await run_in_threadpool(self._query_hashes, data)
        return await run_in_threadpool(self._match_query, platform_id, hashes)

    def _query_hashes(self, data: bytes) -> list[Hash]:
        try:
            # One expression: the canonical image is dropped as soon as it is hashed.
            return DEFAULT_POLICY.query_hashes(load_image(data, max_pixels=self.max_image_pixels))
        finally:
            give_back_memory()

    def _match_query(
        self, platform_id: int, hashes: list[Hash]
    ) -> tuple[list[dict[str, Any]], int]:
        hits = self._search(DEFAULT_POLICY.algorithm, [(0, [h.value for h in hashes])])
        recorded = self.matches.record(platform_id, hits)
        self.tally("image", len(hashes), [recorded])
        quality = hashes[0].quality or 0
        return [
            {"match_id": m.match_id, "algorithm": m.algorithm, "distance": m.distance}
            for m in recorded
        ], quality

    def _search(self, algorithm: str, group: list[tuple[int, list[bytes]]]) -> list[Hit]:
        queries = [codes for _, codes in group]
        if algorithm == DEFAULT_POLICY.algorithm:
            found = policy_search(self.searcher, queries)
        else:
            found = self.searcher.search(algorithm, queries, get_algorithm(algorithm).threshold)
        return [
            Hit(item=i, signal_id=signal_id, algorithm=algorithm, distance=distance)
            for (i, _), best in zip(group, found, strict=True)
            for signal_id, distance in sorted(best.items(), key=lambda kv: kv[1])
        ]


def hashes_searched(items: Sequence[MatchItem]) -> int:
    """What a batch costs to search: each item's hash and its variants."""
    return sum(1 + len(item.variants) for item in items)
