"""An exact-value index: which stored ids hold exactly this code? For cryptographic hashes.

MD5 and its kind match only equal values, so a hash table answers at once
what a radius index would scan for. It keeps the `RadiusIndex` interface so
the service treats every index alike: a search returns the ids whose code
equals the query, each at distance 0, whatever the radius (a radius of 0 or
more; a cryptographic hash has no near values). Codes are any fixed width of
whole bytes. Thread-safe: one lock around each call.
"""

import threading
from pathlib import Path

import numpy as np

from index.errors import InvalidCodes
from index.protocol import Codes, Distances, Ids
from index.snapshot import write_snapshot

Result = tuple[Ids, Distances]


class ValueIndex:
    def __init__(self, bits: int, algorithm: str = "") -> None:
        if bits <= 0 or bits % 8:
            raise InvalidCodes("code width must be a positive number of whole bytes")
        self._bits, self.algorithm = bits, algorithm
        self._lock = threading.Lock()
        self._by_value: dict[bytes, set[int]] = {}
        self._value_of: dict[int, bytes] = {}

    @property
    def bits(self) -> int:
        return self._bits

    def __len__(self) -> int:
        return len(self._value_of)

    def add(self, ids: Ids, codes: Codes) -> None:
        """Add codes under ids; an id already present is replaced."""
        id_list, rows = self._check(ids, codes)
        if len(set(id_list)) != len(id_list):
            raise InvalidCodes("ids within one add must be distinct")
        with self._lock:
            for i, value in zip(id_list, rows, strict=True):
                self._drop(i)
                self._value_of[i] = value
                self._by_value.setdefault(value, set()).add(i)

    def remove(self, ids: Ids) -> int:
        """Remove ids (unknown ones are ignored); returns how many were removed."""
        with self._lock:
            return sum(self._drop(i) for i in np.asarray(ids, np.int64).ravel().tolist())

    def search(self, code: Codes, radius: int) -> Result:
        return self.search_batch(np.asarray(code, np.uint8).reshape(1, -1), radius)[0]

    def search_batch(self, codes: Codes, radius: int) -> list[Result]:
        if radius < 0:
            raise InvalidCodes("radius must be >= 0")
        _, rows = self._check(np.zeros(len(codes), np.int64), codes)
        with self._lock:
            found = [sorted(self._by_value.get(value, ())) for value in rows]
        return [(np.array(ids, np.int64), np.zeros(len(ids), np.int32)) for ids in found]

    def ids(self) -> Ids:
        with self._lock:
            return np.array(sorted(self._value_of), np.int64)

    def save(self, path: Path, seq: int) -> None:
        with self._lock:
            ids = np.array(list(self._value_of), np.int64)
            values = b"".join(self._value_of.values())
        codes = np.frombuffer(values, np.uint8).reshape(len(ids), self._bits // 8)
        write_snapshot(path, self.algorithm, self._bits, seq, ids, codes)

    def _drop(self, i: int) -> bool:
        value = self._value_of.pop(i, None)
        if value is None:
            return False
        holders = self._by_value[value]
        holders.discard(i)
        if not holders:
            del self._by_value[value]
        return True

    def _check(self, ids: Ids, codes: Codes) -> tuple[list[int], list[bytes]]:
        array = np.asarray(codes)
        width = self._bits // 8
        if array.dtype != np.uint8 or array.ndim != 2 or array.shape[1] != width:
            raise InvalidCodes(f"codes must be uint8 of shape (n, {width})")
        id_list = np.asarray(ids, np.int64).ravel().tolist()
        if len(id_list) != len(array):
            raise InvalidCodes("ids and codes must have the same length")
        return id_list, [bytes(row) for row in np.ascontiguousarray(array)]
