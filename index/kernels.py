"""Compiled inner loops (numba) for multi-index hashing and linear scans.

Multi-index hashing (Norouzi et al.) splits each code into 16-bit chunks. If
two codes are within distance r, then by the pigeonhole principle at least one
of the `nh` chunks differs in at most floor(r / nh) bits, so probing every
chunk's buckets at that many flips finds every true neighbour: the search is
exact by construction, and tests check it against brute force.

Each table keeps, in bucket order and contiguous, the position of every code
and a 128-bit part of it (the half not containing the table's chunk). The
partial distance is a lower bound of the full one, so it rejects almost every
candidate with sequential reads; only the survivors are verified against the
full code.
"""

import numpy as np
import numpy.typing as npt
from numba import njit, prange

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

CHUNK_BITS = 16
BUCKETS = 1 << CHUNK_BITS


@njit(inline="always")
def _popcount(x: np.uint64) -> np.uint64:
    # LLVM turns this idiom into the POPCNT instruction.
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


@njit(parallel=True, cache=True, nogil=True)
def build_tables(
    chunks: I64,
    codes: U64,
    part_words: I64,
    offsets: I64,  # pragma: no cover
    positions: npt.NDArray[np.uint32],
    parts: U64,
) -> None:
    """Counting-sort every table's codes by chunk value (one table per thread)."""
    n, nh = chunks.shape
    p_count = part_words.shape[1]
    for t in prange(nh):
        counts = np.zeros(BUCKETS + 1, np.int64)
        for i in range(n):
            counts[chunks[i, t] + 1] += 1
        for v in range(BUCKETS):
            counts[v + 1] += counts[v]
        offsets[t, :] = counts
        cursor = counts[:BUCKETS].copy()
        for i in range(n):
            slot = cursor[chunks[i, t]]
            cursor[chunks[i, t]] += 1
            positions[t, slot] = i
            for w in range(p_count):
                parts[t, slot, w] = codes[i, part_words[t, w]]


def _mih_search(
    queries: U64,
    q_chunks: I64,
    q_parts: U64,
    masks: I64,
    offsets: I64,  # pragma: no cover
    positions: npt.NDArray[np.uint32],
    parts: U64,
    codes: U64,
    alive: npt.NDArray[np.bool_],
    radius: int,
    out_pos: I64,
    out_dist: npt.NDArray[np.int32],
    out_n: I64,
    sink: U64,
) -> None:
    """Probe every table of every query; record (position, distance) of true neighbours.

    `sink` receives a meaningless value per query; writing it keeps pass 1's loads.
    """
    m, nh = q_chunks.shape
    nm = masks.shape[0]
    words = codes.shape[1]
    p_count = parts.shape[2]
    cap = out_pos.shape[1]
    full_check = words > p_count
    r = np.uint64(radius)
    per_line = max(1, 8 // p_count)  # bucket entries per 64-byte cache line
    for qi in prange(m):
        starts = np.empty(nh * nm, np.int64)
        ends = np.empty(nh * nm, np.int64)
        # Pass 1 only finds the buckets and touches each of their cache lines. These
        # loads do not depend on one another, so the CPU overlaps their misses;
        # scanning bucket after bucket instead waits out one miss at a time, which
        # made the search memory-latency bound (1.5x slower at 1M codes).
        touched = np.uint64(0)
        for t in range(nh):
            for k in range(nm):
                v = q_chunks[qi, t] ^ masks[k]
                a, b = offsets[t, v], offsets[t, v + 1]
                starts[t * nm + k], ends[t * nm + k] = a, b
                for slot in range(a, b, per_line):
                    touched ^= parts[t, slot, 0]
        found = 0
        for j in range(nh * nm):
            t = j // nm
            for slot in range(starts[j], ends[j]):
                d = np.uint64(0)
                for w in range(p_count):
                    d += _popcount(parts[t, slot, w] ^ q_parts[qi, t, w])
                if d > r:
                    continue
                pos = positions[t, slot]
                if full_check:
                    d = np.uint64(0)
                    for w in range(words):
                        d += _popcount(codes[pos, w] ^ queries[qi, w])
                    if d > r:
                        continue
                if not alive[pos]:
                    continue
                if found < cap:
                    out_pos[qi, found] = pos
                    out_dist[qi, found] = np.int32(d)
                found += 1
        out_n[qi] = found
        sink[qi] = touched


# A batch of a few queries is faster on the calling thread than fanned out to the
# thread pool; large batches use every core.
mih_search = njit(parallel=True, cache=True, nogil=True)(_mih_search)
mih_search_serial = njit(cache=True, nogil=True)(_mih_search)


@njit(parallel=True, cache=True, nogil=True)
def scan_search(
    queries: U64,
    codes: U64,
    alive: npt.NDArray[np.bool_],
    count: int,  # pragma: no cover
    radius: int,
    out_pos: I64,
    out_dist: npt.NDArray[np.int32],
    out_n: I64,
) -> None:
    """Compare every query with the first `count` codes (the recent-additions buffer)."""
    m = queries.shape[0]
    words = codes.shape[1]
    cap = out_pos.shape[1]
    r = np.uint64(radius)
    for qi in prange(m):
        found = 0
        for pos in range(count):
            d = np.uint64(0)
            for w in range(words):
                d += _popcount(codes[pos, w] ^ queries[qi, w])
            if d <= r and alive[pos]:
                if found < cap:
                    out_pos[qi, found] = pos
                    out_dist[qi, found] = np.int32(d)
                found += 1
        out_n[qi] = found
