"""This worker's in-memory indexes: one exact radius index per hash algorithm.

Applying the change log is idempotent (the index replaces an id added twice
and ignores removal of an absent one), so start-up may replay changes that a
snapshot or rebuild already contains.
"""

import itertools
import logging
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from hashing import ALGORITHMS
from index import ExactIndex, IndexConfig, SnapshotError, best_per_id, create_index, load_snapshot
from service.store.changes import ChangeRow

log = logging.getLogger("hashbank.index")


def _codes(values: Sequence[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(values), dtype=np.uint8).reshape(len(values), -1)


class IndexSet:
    def __init__(self, config: IndexConfig) -> None:
        self.config = config
        self._lock = threading.Lock()  # guards swapping whole indexes (rebuild, load)
        self._indexes = self._empty()

    def _empty(self) -> dict[str, ExactIndex]:
        return {name: create_index(name, a.bits, self.config) for name, a in ALGORITHMS.items()}

    def __len__(self) -> int:
        return sum(len(i) for i in self._indexes.values())

    def count(self, algorithm: str) -> int:
        return len(self._indexes[algorithm])

    def sizes(self) -> dict[str, int]:
        """Hashes per algorithm (for /metrics)."""
        return {name: len(index) for name, index in self._indexes.items()}

    def rebuild(self, signals: Iterable[tuple[int, str, bytes]]) -> None:
        grouped: dict[str, tuple[list[int], list[bytes]]] = {n: ([], []) for n in ALGORITHMS}
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

    def search(
        self, algorithm: str, queries: Sequence[Sequence[bytes]], radius: int
    ) -> list[dict[int, int]]:
        """Per query group (an item and its variants): signal id -> best distance within radius."""
        index = self._indexes.get(algorithm)
        if index is None:
            return [{} for _ in queries]
        flat = _codes([code for group in queries for code in group])
        bounds = np.cumsum([0, *(len(group) for group in queries)]).tolist()
        groups = [flat[a:b] for a, b in itertools.pairwise(bounds)]
        return best_per_id(index, groups, radius)

    def save(self, folder: Path, seq: int) -> None:
        for name, index in self._indexes.items():
            index.save(folder / name, seq)

    def load(self, folder: Path) -> int | None:
        """Load every algorithm's snapshot; the sequence all of them contain, or None."""
        loaded: dict[str, ExactIndex] = {}
        seqs: list[int] = []
        try:
            for name, algorithm in ALGORITHMS.items():
                index, seq = load_snapshot(folder / name, name, algorithm.bits, self.config)
                loaded[name] = index
                seqs.append(seq)
        except SnapshotError as exc:
            log.info("no usable index snapshot (%s); rebuilding from the database", exc)
            return None
        with self._lock:
            self._indexes = loaded
        return min(seqs)  # replaying from the oldest is safe: changes apply idempotently
