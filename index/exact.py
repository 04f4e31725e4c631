"""`ExactIndex`: the FAISS-backed exact radius index, with multi-index hashing for large sets.

Layout: every code ever added since the last compaction has a *position* in
one array. Positions [0, main) are covered by the search structure (FAISS
`IndexBinaryFlat`, or `MIHTables` for large sets); positions [main, n) are
recent additions, scanned linearly until they are merged in. Removal marks a
position dead (a tombstone, effective for the very next search); compaction
rebuilds without the dead ones once they pass a quarter of the whole.

Thread safety: one re-entrant lock serialises mutation and search, so a
background thread applying the change log never races request threads. The
searches themselves run on all cores (FAISS OpenMP, numba prange).
"""

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import faiss
import numpy as np
import numpy.typing as npt

from index.config import IndexConfig
from index.errors import InvalidCodes
from index.kernels import scan_search
from index.mih import MIHTables
from index.protocol import Codes, Distances, Ids
from index.snapshot import write_snapshot

Result = tuple[Ids, Distances]
KernelOutput = tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.int64]]
Runner = Callable[[int], KernelOutput]
_EMPTY: Result = (np.empty(0, np.int64), np.empty(0, np.int32))


class ExactIndex:
    def __init__(self, bits: int, config: IndexConfig | None = None, algorithm: str = "") -> None:
        if bits <= 0 or bits % 64:
            raise InvalidCodes("code width must be a positive multiple of 64 bits")
        self._bits, self.algorithm = bits, algorithm
        self.config = config or IndexConfig()
        self.words = bits // 64
        self._lock = threading.RLock()
        self._codes = np.empty((0, self.words), np.uint64)
        self._ids = np.empty(0, np.int64)
        self._alive = np.empty(0, np.bool_)
        self._n = self._main = self._dead = 0
        self._flat: faiss.IndexBinaryFlat | None = None
        self._mih: MIHTables | None = None
        self._sorted_ids = np.empty(0, np.int64)  # ids of [0, main), sorted
        self._sorted_pos = np.empty(0, np.int64)
        self._recent: dict[int, int] = {}  # id -> position, for [main, n)

    # -- the protocol ------------------------------------------------------------------

    @property
    def bits(self) -> int:
        return self._bits

    def __len__(self) -> int:
        return self._n - self._dead

    @property
    def structure(self) -> str:
        """Which structure covers the main part: "flat" or "mih" (for reports and tests)."""
        return "mih" if self._mih is not None else "flat"

    def add(self, ids: Ids, codes: Codes) -> None:
        """Add codes under ids; an id already present is replaced."""
        ids, codes64 = self._check(ids, codes)
        if len(np.unique(ids)) != len(ids):
            raise InvalidCodes("ids within one add must be distinct")
        with self._lock:
            self.remove(ids)
            self._append(ids, codes64)
            kind = self._kind(len(self))
            if kind == "flat" and self._mih is None:
                self._extend_flat()
            elif self._n - self._main > self.config.delta_max or (kind == "mih") != (
                self._mih is not None
            ):
                self.compact()

    def remove(self, ids: Ids) -> int:
        ids = np.asarray(ids, dtype=np.int64).ravel()
        with self._lock:
            positions = self._positions(ids)
            newly_dead = positions[self._alive[positions]]
            self._alive[newly_dead] = False
            self._dead += len(newly_dead)
            for i in ids.tolist():
                self._recent.pop(i, None)
            if self._dead > max(1024, self._n // 4):
                self.compact()
            return len(newly_dead)

    def search(self, code: Codes, radius: int) -> Result:
        return self.search_batch(np.asarray(code, np.uint8).reshape(1, -1), radius)[0]

    def search_batch(self, codes: Codes, radius: int) -> list[Result]:
        _, queries = self._check(np.zeros(len(codes), np.int64), codes)
        if radius < 0:
            raise InvalidCodes("radius must be >= 0")
        with self._lock:
            if len(queries) == 0 or len(self) == 0:
                return [_EMPTY] * len(queries)
            hits = self._search_main(queries, radius)
            if self._n > self._main:
                recent = self._scan(queries, self._main, radius)
                hits = [
                    (np.concatenate([a[0], b[0]]), np.concatenate([a[1], b[1]]))
                    for a, b in zip(hits, recent, strict=True)
                ]
            return [(self._ids[pos], dist) for pos, dist in hits]

    def ids(self) -> Ids:
        with self._lock:
            return self._ids[: self._n][self._alive[: self._n]].copy()

    def codes_of_alive(self) -> tuple[Ids, Codes]:
        with self._lock:
            alive = self._alive[: self._n]
            codes = self._codes[: self._n][alive].view(np.uint8).reshape(-1, self._bits // 8)
            return self._ids[: self._n][alive].copy(), codes.copy()

    def save(self, path: Path, seq: int) -> None:
        with self._lock:
            ids, codes = self.codes_of_alive()
            write_snapshot(path, self.algorithm, self._bits, seq, ids, codes)

    # -- maintenance --------------------------------------------------------------------

    def compact(self) -> None:
        """Drop tombstones and rebuild the search structure over every live code."""
        with self._lock:
            alive = self._alive[: self._n]
            codes, ids = self._codes[: self._n][alive].copy(), self._ids[: self._n][alive].copy()
            self._codes, self._ids = codes, ids
            self._alive = np.ones(len(ids), np.bool_)
            self._n = self._main = len(ids)
            self._dead = 0
            self._recent = {}
            self._flat, self._mih = None, None
            if self._kind(self._n) == "mih":
                self._mih = MIHTables(self._codes)
            else:
                self._flat = faiss.IndexBinaryFlat(self._bits)
                if self._n:
                    self._flat.add(self._as_bytes(self._codes))
            order = np.argsort(self._ids, kind="stable")
            self._sorted_ids, self._sorted_pos = self._ids[order], order.astype(np.int64)

    def memory_bytes(self) -> int:
        structure = self._mih.nbytes if self._mih else self._main * (self._bits // 8)
        arrays = self._codes.nbytes + self._ids.nbytes + self._alive.nbytes
        return structure + arrays + self._sorted_ids.nbytes + self._sorted_pos.nbytes

    # -- internals ----------------------------------------------------------------------

    def _kind(self, size: int) -> str:
        if self.config.kind != "auto":
            return self.config.kind
        return "mih" if size >= self.config.mih_min_size else "flat"

    def _check(self, ids: Ids, codes: Codes) -> tuple[Ids, npt.NDArray[np.uint64]]:
        codes = np.asarray(codes)
        if codes.dtype != np.uint8 or codes.ndim != 2 or codes.shape[1] * 8 != self._bits:
            raise InvalidCodes(f"codes must be uint8 of shape (n, {self._bits // 8})")
        ids = np.asarray(ids, dtype=np.int64).ravel()
        if len(ids) != len(codes):
            raise InvalidCodes("ids and codes differ in length")
        return ids, np.ascontiguousarray(codes).view(np.uint64).reshape(len(codes), self.words)

    def _append(self, ids: Ids, codes64: npt.NDArray[np.uint64]) -> None:
        need = self._n + len(ids)
        if need > len(self._ids):
            capacity = max(need, int(len(self._ids) * 1.5), 1024)
            self._codes = _grow(self._codes, capacity)
            self._ids = _grow(self._ids, capacity)
            self._alive = _grow(self._alive, capacity)
        self._codes[self._n : need] = codes64
        self._ids[self._n : need] = ids
        self._alive[self._n : need] = True
        self._recent.update(zip(ids.tolist(), range(self._n, need), strict=True))
        self._n = need

    def _extend_flat(self) -> None:
        """Flat structures take additions directly: no recent-additions buffer needed."""
        if self._flat is None:
            self._flat = faiss.IndexBinaryFlat(self._bits)
        if self._n > self._main:
            self._flat.add(self._as_bytes(self._codes[self._main : self._n]))
            self._main = self._n

    def _positions(self, ids: Ids) -> npt.NDArray[np.int64]:
        found: list[int] = [self._recent[i] for i in ids.tolist() if i in self._recent]
        if len(self._sorted_ids):
            at = np.searchsorted(self._sorted_ids, ids)
            at = np.minimum(at, len(self._sorted_ids) - 1)
            hit = self._sorted_ids[at] == ids
            found.extend(self._sorted_pos[at[hit]].tolist())
        return np.array(found, dtype=np.int64)

    def _search_main(self, queries: npt.NDArray[np.uint64], radius: int) -> list[Result]:
        if self._main == 0:
            return [_EMPTY] * len(queries)
        if self._mih is not None and self._mih.supports(radius):
            return _collect(
                lambda cap: self._mih.search(  # type: ignore[union-attr]
                    queries, self._codes, self._alive, radius, cap
                ),
                dedupe=True,
            )
        if self._flat is not None:
            # FAISS keeps distances strictly below the radius it is given.
            lims, dist, labels = self._flat.range_search(self._as_bytes(queries), radius + 1)
            out: list[Result] = []
            for q in range(len(queries)):
                pos, d = labels[lims[q] : lims[q + 1]], dist[lims[q] : lims[q + 1]]
                keep = self._alive[pos]
                out.append((pos[keep].astype(np.int64), d[keep].astype(np.int32)))
            return out
        return self._scan(queries, 0, radius, end=self._main)

    def _scan(
        self, queries: npt.NDArray[np.uint64], start: int, radius: int, end: int | None = None
    ) -> list[Result]:
        stop = self._n if end is None else end
        codes, alive = self._codes[start:stop], self._alive[start:stop]

        def run(cap: int) -> KernelOutput:
            out_pos = np.empty((len(queries), cap), np.int64)
            out_dist = np.empty((len(queries), cap), np.int32)
            out_n = np.empty(len(queries), np.int64)
            scan_search(queries, codes, alive, stop - start, radius, out_pos, out_dist, out_n)
            return out_pos + start, out_dist, out_n

        return _collect(run, dedupe=False)

    def _as_bytes(self, codes64: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint8]:
        return np.ascontiguousarray(codes64).view(np.uint8).reshape(len(codes64), self._bits // 8)


def _collect(run: Runner, dedupe: bool) -> list[Result]:
    """Run a kernel with room for 32 hits per query, again with more if any overflowed."""
    out_pos, out_dist, out_n = run(32)
    if len(out_n) and out_n.max() > 32:
        out_pos, out_dist, out_n = run(int(out_n.max()))
    results: list[Result] = []
    for q, n in enumerate(out_n.tolist()):
        pos, dist = out_pos[q, :n], out_dist[q, :n]
        if dedupe and n > 1:  # one code can be found through several tables
            pos, first = np.unique(pos, return_index=True)
            dist = dist[first]
        results.append((pos, dist))
    return results


G = TypeVar("G", bound=np.generic)


def _grow(array: npt.NDArray[G], capacity: int) -> npt.NDArray[G]:
    grown = np.zeros((capacity, *array.shape[1:]), dtype=array.dtype)
    grown[: len(array)] = array
    return grown
