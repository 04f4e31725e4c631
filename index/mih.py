"""Multi-index hashing tables over a fixed set of codes (see `kernels` for the method)."""

from functools import cache
from itertools import combinations

import numpy as np
import numpy.typing as npt

from index.kernels import BUCKETS, CHUNK_BITS, build_tables, mih_search, mih_search_serial

MAX_FLIPS = 3  # 697 probes per table; beyond that a linear scan is faster
SERIAL_BELOW = 8  # smaller batches run on the calling thread (no thread-pool hand-off)


def chunk_values(codes64: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    """The 16-bit chunks of each code, most significant first: shape (n, bits // 16)."""
    big_endian = codes64.view(np.uint8).reshape(len(codes64), -1)
    return big_endian.view(">u2").astype(np.int64)


@cache
def flip_masks(flips: int) -> npt.NDArray[np.int64]:
    """Every 16-bit mask with at most `flips` bits set (computed once per count)."""
    masks = [0]
    for k in range(1, flips + 1):
        masks += [sum(1 << b for b in bits) for bits in combinations(range(CHUNK_BITS), k)]
    out = np.array(masks, dtype=np.int64)
    out.flags.writeable = False  # shared between callers
    return out


class MIHTables:
    """Immutable bucket tables for the codes at positions 0..n-1 of `codes64`."""

    def __init__(self, codes64: npt.NDArray[np.uint64]) -> None:
        n, words = codes64.shape
        self.size, self.words = n, words
        self.tables = words * 64 // CHUNK_BITS
        chunks = chunk_values(codes64)
        # The 128 bits kept beside each bucket entry: the half without the table's chunk.
        if words <= 2:
            part_words = np.tile(np.arange(words), (self.tables, 1))
        else:
            chunks_per_word = 64 // CHUNK_BITS
            half = words // 2
            part_words = np.array(
                [
                    np.arange(half, words) if t // chunks_per_word < half else np.arange(half)
                    for t in range(self.tables)
                ]
            )
        self.part_words = part_words.astype(np.int64)
        self.offsets = np.empty((self.tables, BUCKETS + 1), dtype=np.int64)
        self.positions = np.empty((self.tables, n), dtype=np.uint32)
        self.parts = np.empty((self.tables, n, self.part_words.shape[1]), dtype=np.uint64)
        build_tables(
            chunks,
            np.ascontiguousarray(codes64),
            self.part_words,
            self.offsets,
            self.positions,
            self.parts,
        )

    def flips_for(self, radius: int) -> int:
        return int(radius // self.tables)

    def supports(self, radius: int) -> bool:
        return self.flips_for(radius) <= MAX_FLIPS

    def search(
        self,
        queries64: npt.NDArray[np.uint64],
        codes64: npt.NDArray[np.uint64],
        alive: npt.NDArray[np.bool_],
        radius: int,
        capacity: int,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.int64]]:
        m = len(queries64)
        q_chunks = chunk_values(queries64)
        q_parts = queries64[:, self.part_words]  # (m, tables, part words)
        out_pos = np.empty((m, capacity), dtype=np.int64)
        out_dist = np.empty((m, capacity), dtype=np.int32)
        out_n = np.empty(m, dtype=np.int64)
        kernel = mih_search if m >= SERIAL_BELOW else mih_search_serial
        kernel(
            queries64,
            q_chunks,
            np.ascontiguousarray(q_parts),
            flip_masks(self.flips_for(radius)),
            self.offsets,
            self.positions,
            self.parts,
            codes64,
            alive,
            radius,
            out_pos,
            out_dist,
            out_n,
            np.empty(m, dtype=np.uint64),
        )
        return out_pos, out_dist, out_n

    @property
    def nbytes(self) -> int:
        return self.offsets.nbytes + self.positions.nbytes + self.parts.nbytes
