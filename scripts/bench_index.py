"""Benchmark the exact radius index: speed, memory and recall against brute force.

For each size N: N random 256-bit codes; queries are stored codes with 0-31
bits flipped (they must match) and random codes (they must not). Prints build
time, RSS growth, single-query p50/p99, batch queries/s with 1 and 2 threads,
recall and precision against a numpy brute-force ground truth (both must be
exactly 1.0), and the speed ratio to FAISS IndexBinaryFlat measured in the
same run.

    .venv/bin/python scripts/bench_index.py --sizes 100000,1000000
    .venv/bin/python scripts/bench_index.py --sizes 10000000 --flat-queries 30
"""

import argparse
import gc
import os
import sys
import time
from collections.abc import Callable

import faiss
import numba
import numpy as np
import psutil
from machine import cpu_model

from index import ExactIndex, IndexConfig

RADIUS = 31
Search = Callable[[np.ndarray], object]


def rss_mb() -> float:
    return float(psutil.Process().memory_info().rss) / 2**20


def queries(codes: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    near = codes[rng.integers(0, len(codes), count // 2)].copy()
    bits = np.unpackbits(near, axis=1)
    for row, flips in zip(bits, rng.integers(0, RADIUS + 1, len(near)), strict=True):
        row[rng.choice(256, int(flips), replace=False)] ^= 1
    far = rng.integers(0, 256, (count - len(near), 32), dtype=np.uint8)
    return np.vstack([np.packbits(bits, axis=1), far])


def brute_force(codes: np.ndarray, query: np.ndarray) -> set[int]:
    words, q = codes.view(np.uint64), query.view(np.uint64)
    distance = np.bitwise_count(words ^ q).sum(axis=1, dtype=np.int32)
    return set(np.flatnonzero(distance <= RADIUS).tolist())


def timed_single(search: Search, qs: np.ndarray) -> tuple[float, float]:
    times = []
    for q in qs:
        start = time.perf_counter()
        search(q.reshape(1, -1))
        times.append(time.perf_counter() - start)
    return float(np.percentile(times, 50)) * 1e3, float(np.percentile(times, 99)) * 1e3


def batch_qps(search: Search, qs: np.ndarray, batch: int = 100) -> float:
    start = time.perf_counter()
    for i in range(0, len(qs), batch):
        search(qs[i : i + batch])
    return len(qs) / (time.perf_counter() - start)


def set_threads(n: int) -> None:
    numba.set_num_threads(n)
    faiss.omp_set_num_threads(n)


def run(n: int, args: argparse.Namespace) -> None:
    rng = np.random.default_rng(n)
    codes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    qs = queries(codes, args.queries, rng)
    print(f"\n## N = {n:,}")

    before = rss_mb()
    start = time.perf_counter()
    index = ExactIndex(256, IndexConfig(kind=args.kind), "pdq")
    index.add(np.arange(n, dtype=np.int64), codes)
    build = time.perf_counter() - start
    gc.collect()
    grown = rss_mb() - before

    def ours(q: np.ndarray) -> object:
        return index.search_batch(q, RADIUS)

    index.search_batch(qs[:4], RADIUS)  # compile / warm up
    set_threads(1)
    p50, p99 = timed_single(ours, qs[: args.single])
    qps1 = batch_qps(ours, qs)
    set_threads(2)
    qps2 = batch_qps(ours, qs)

    truth_qs = np.vstack([qs[: args.truth // 2], qs[len(qs) // 2 : len(qs) // 2 + args.truth // 2]])
    got = index.search_batch(truth_qs, RADIUS)
    expected_total = found_total = correct = 0
    for q, (ids, _) in zip(truth_qs, got, strict=True):
        truth, found = brute_force(codes, q), set(ids.tolist())
        expected_total, found_total = expected_total + len(truth), found_total + len(found)
        correct += len(truth & found)
    recall = correct / expected_total if expected_total else 1.0
    precision = correct / found_total if found_total else 1.0

    flat = faiss.IndexBinaryFlat(256)
    flat.add(codes)

    def baseline(q: np.ndarray) -> object:
        return flat.range_search(q, RADIUS + 1)

    set_threads(1)
    flat_p50, _ = timed_single(baseline, qs[: args.flat_queries])
    set_threads(2)
    flat_qps2 = batch_qps(baseline, qs[: max(args.flat_queries, 100)])
    flat.reset()  # free its memory before the next size
    print(
        f"structure {index.structure}; build {build:.1f} s; RSS +{grown:,.0f} MB "
        f"(index arrays {index.memory_bytes() / 2**20:,.0f} MB), process RSS {rss_mb():,.0f} MB"
    )
    print(
        f"single query p50 {p50:.3f} ms, p99 {p99:.3f} ms (1 thread); "
        f"FAISS Flat p50 {flat_p50:.3f} ms -> {flat_p50 / p50:.1f}x faster"
    )
    print(
        f"batch of 100: {qps1:,.0f} q/s (1 thread), {qps2:,.0f} q/s (2 threads); "
        f"FAISS Flat {flat_qps2:,.0f} q/s (2 threads) -> {qps2 / flat_qps2:.1f}x"
    )
    print(
        f"recall {recall:.4f}, precision {precision:.4f} over {len(truth_qs)} queries "
        f"({expected_total} true neighbours)"
    )
    print(
        f"| {n:,} | {index.structure} | {build:.1f} s | {grown:,.0f} MB | {p50:.3f} | {p99:.3f} | "
        f"{qps1:,.0f} | {qps2:,.0f} | {flat_p50:.2f} | {flat_p50 / p50:.0f}x | {recall:.4f} |"
    )
    if recall != 1.0 or precision != 1.0:
        raise SystemExit("NOT EXACT: recall or precision below 1.0")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated N")
    parser.add_argument("--kind", default="auto", choices=["auto", "flat", "mih"])
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--single", type=int, default=500, help="queries timed one by one")
    parser.add_argument("--truth", type=int, default=200, help="queries checked by brute force")
    parser.add_argument("--flat-queries", type=int, default=200, help="queries timed on Flat")
    args = parser.parse_args()
    cpu = cpu_model()
    print(
        f"machine: {cpu}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB; "
        f"faiss {faiss.__version__}, numba {numba.__version__}, numpy {np.__version__}"
    )
    for n in (int(s) for s in args.sizes.split(",")):
        run(n, args)
        gc.collect()
    return 0


if __name__ == "__main__":
    sys.exit(main())
