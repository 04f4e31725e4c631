"""This worker's in-memory indexes: one per signal type, of the kind its descriptor asks for.

A perceptual hash (PDQ, pHash, dHash) gets an exact Hamming radius index, a
cryptographic one (MD5) an exact-value index (`index.create_index`). Queries
arrive typed (`hashing.Query`): each is searched in its signal type's index
within that type's threshold, every query of a request in one batch search,
and also in the indexes of the types that name its type in `searched_by` (a
photo's PDQ among videos' vPDQ frames), within their thresholds.

Applying the change log is idempotent (the index replaces an id added twice
and ignores removal of an absent one), so start-up may replay changes that a
snapshot or rebuild already contains.
"""

import logging
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from hashing import SIGNAL_TYPES, Query, SignalType
from index import IndexConfig, RadiusIndex, SnapshotError, best_per_id, create_index, load_snapshot
from service.store.changes import ITEM, ChangeRow

log = logging.getLogger("hashbank.index")


def _codes(values: Sequence[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(values), dtype=np.uint8).reshape(len(values), -1)


class IndexSet:
    def __init__(self, config: IndexConfig) -> None:
        self.config = config
        self._lock = threading.Lock()  # guards swapping whole indexes (rebuild, load)
        self._indexes = self._empty()

    def _new(self, signal_type: SignalType) -> RadiusIndex:
        return create_index(signal_type.name, signal_type.bits, self.config, signal_type.index)

    def _empty(self) -> dict[str, RadiusIndex]:
        return {s.name: self._new(s) for s in SIGNAL_TYPES}

    def __len__(self) -> int:
        return sum(len(i) for i in self._indexes.values())

    def count(self, algorithm: str) -> int:
        return len(self._indexes[algorithm])

    def sizes(self) -> dict[str, int]:
        """Hashes per signal type (for /metrics)."""
        return {name: len(index) for name, index in self._indexes.items()}

    def rebuild(self, signals: Iterable[tuple[int, str, bytes]]) -> None:
        grouped: dict[str, tuple[list[int], list[bytes]]] = {n: ([], []) for n in self._indexes}
        for signal_id, algorithm, value in signals:
            if algorithm in grouped:
                grouped[algorithm][0].append(signal_id)
                grouped[algorithm][1].append(value)
        fresh = self._empty()
        for name, (ids, values) in grouped.items():
            if ids:
                fresh[name].add(np.array(ids, dtype=np.int64), _codes(values))
        with self._lock:
            self._indexes = fresh

    def apply(self, rows: Sequence[ChangeRow]) -> None:
        # Consecutive rows of one kind go in one call: a bulk import is one add, not thousands.
        batch: list[ChangeRow] = []
        for row in rows:
            if row.op == ITEM:
                continue  # a hash's place in a video changed, not whether it matches
            if batch and (row.op != batch[0].op or row.algorithm != batch[0].algorithm):
                self._apply_batch(batch)
                batch = []
            if row.algorithm in self._indexes:
                batch.append(row)
        if batch:
            self._apply_batch(batch)

    def _apply_batch(self, batch: list[ChangeRow]) -> None:
        latest = {row.signal_id: row for row in batch}  # an id twice in a batch: last wins
        ids = np.array(list(latest), dtype=np.int64)
        index = self._indexes[batch[0].algorithm]
        if batch[0].op == "add":
            index.add(ids, _codes([r.value for r in latest.values()]))
        else:
            index.remove(ids)

    def search(self, queries: Sequence[Query], radius: int | None = None) -> list[dict[int, int]]:
        """Per query: stored id -> best distance over its hashes, within its type's threshold.

        The queries of each signal type go to its index in one batch search.
        `radius` replaces the thresholds only to look at near misses (the
        accuracy benchmark); matching always uses each type's own.
        """
        found: list[dict[int, int]] = [{} for _ in queries]
        by_type: dict[str, list[int]] = {}
        for position, query in enumerate(queries):
            by_type.setdefault(query.signal_type.name, []).append(position)
        for positions in by_type.values():
            signal_type = queries[positions[0]].signal_type
            groups = [_codes(queries[p].values) for p in positions]
            # Its own index, and those of the types that its values are comparable with.
            for stored in self._searched_for(signal_type):
                index = self._indexes[stored.name]
                limit = stored.threshold if radius is None else radius
                for position, best in zip(
                    positions, best_per_id(index, groups, limit), strict=True
                ):
                    merged = found[position]
                    for signal_id, distance in best.items():
                        if distance < merged.get(signal_id, distance + 1):
                            merged[signal_id] = distance
        return found

    def _searched_for(self, query_type: SignalType) -> list[SignalType]:
        """The stored types a query of `query_type` is searched among (those indexed here)."""
        return [
            stored
            for stored in SIGNAL_TYPES
            if stored.name == query_type.name
            or (query_type.name in stored.searched_by and len(self._indexes[stored.name]))
        ]

    def save(self, folder: Path, seq: int) -> None:
        for name, index in self._indexes.items():
            index.save(folder / name, seq)

    def load(self, folder: Path) -> int | None:
        """Load every signal type's snapshot; the sequence all of them contain, or None."""
        loaded: dict[str, RadiusIndex] = {}
        seqs: list[int] = []
        try:
            for s in SIGNAL_TYPES:
                index, seq = load_snapshot(folder / s.name, s.name, s.bits, self.config, s.index)
                loaded[s.name] = index
                seqs.append(seq)
        except SnapshotError as exc:
            log.info("no usable index snapshot (%s); rebuilding from the database", exc)
            return None
        with self._lock:
            self._indexes = loaded
        return min(seqs)  # replaying from the oldest is safe: changes apply idempotently
