"""The frame index at video scale: N frame hashes clustered like real videos' frames.

    .venv/bin/python scripts/bench_video_index.py [--frames 10000000] [--queries 200]

Real frame hashes are not uniform: the frames of one video are close to each
other (a scene changes little from one stored frame to the next), and that
is what makes a radius search slow (more candidates, more true neighbours).
The model: videos of 1-120 stored frames (median about 40, a minute of video
at 1 frame/s after pruning); a video is a run of scenes (a new scene on
average every 12 frames) and each scene a random walk from a random code,
every step flipping 9-24 random bits (stored frames are > 8 bits apart after
pruning). The script prints the model's statistics (distance between
consecutive frames, share of a video's frame pairs within 31) to compare
with real videos (scripts/bench_video_accuracy.py prints the same ones).

Then: RSS growth and build time of `index.ExactIndex` over all N frames;
a 60-frame query (60 consecutive frames of a stored video, each with 0-16
bits flipped: a re-encoded copy; or 60 frames of an unrelated video, which
match nothing) as one batched `search_batch` of 60 hashes and as 60 single
`search` calls: p50 and p99 over `--queries` queries of each kind; recall
checked against a numpy brute force on a few queries.
"""

import argparse
import gc
import os
import sys
import time
from datetime import UTC, datetime

import numba
import numpy as np
import numpy.typing as npt
import psutil
from machine import cpu_model

from index import ExactIndex, IndexConfig

RADIUS = 31
QUERY_FRAMES = 60
CHUNK = 1 << 19
U8 = npt.NDArray[np.uint8]


def rss_mb() -> float:
    return float(psutil.Process().memory_info().rss) / 2**20


def video_lengths(n: int, rng: np.random.Generator) -> npt.NDArray[np.int64]:
    """Stored frames per video, summing to n: lognormal around 40, between 1 and 120."""
    lengths = np.clip(rng.lognormal(np.log(40), 0.7, n // 20 + 10), 1, 120).astype(np.int64)
    ends = np.cumsum(lengths)
    lengths = lengths[: int(np.searchsorted(ends, n)) + 1]
    lengths[-1] -= int(lengths.sum()) - n
    return lengths[lengths > 0]


def flips(count: int, rng: np.random.Generator) -> U8:
    """`count` random 256-bit masks, packed (count, 32): each bit set with probability w / 256,
    w drawn from 9-24 per mask (so 9-24 bits on average)."""
    weights = rng.integers(9, 25, count, dtype=np.uint8)
    return np.packbits(
        rng.integers(0, 256, (count, 256), dtype=np.uint8) < weights[:, None], axis=1
    )


def clustered(n: int, rng: np.random.Generator) -> tuple[U8, npt.NDArray[np.int64]]:
    """n frame codes (n, 32) in video order, and where each video starts.

    Each scene is a random walk: its first code random, then a running XOR of
    the steps (so code = XOR of the scene's steps so far). A chunk of the
    computation always starts a scene (one extra cut every `CHUNK` frames).
    """
    lengths = video_lengths(n, rng)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    new_scene = rng.random(n) < 1 / 12
    new_scene[starts] = True
    new_scene[::CHUNK] = True
    codes = np.empty((n, 32), np.uint8)
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        steps = flips(hi - lo, rng)
        scene = new_scene[lo:hi]
        steps[scene] = rng.integers(0, 256, (int(scene.sum()), 32), dtype=np.uint8)
        walk = np.bitwise_xor.accumulate(steps, axis=0)
        first = np.maximum.accumulate(np.where(scene, np.arange(hi - lo), 0))
        before = walk[np.maximum(first - 1, 0)]
        before[first == 0] = 0
        codes[lo:hi] = walk ^ before
        del steps, walk, before
    return codes, starts


def distances(a: U8, b: U8) -> npt.NDArray[np.int64]:
    counted: npt.NDArray[np.int64] = np.bitwise_count(a.view(np.uint64) ^ b.view(np.uint64)).sum(
        axis=-1, dtype=np.int64
    )
    return counted


def model_stats(codes: U8, starts: npt.NDArray[np.int64], rng: np.random.Generator) -> str:
    ends = np.append(starts[1:], len(codes))
    within, consecutive = [], []
    for v in rng.choice(len(starts), 2000, replace=False):
        video = codes[starts[v] : ends[v]]
        if len(video) < 2:
            continue
        d = distances(video[:, None, :], video[None, :, :])
        within.append(float((d[np.triu_indices(len(video), 1)] <= RADIUS).mean()))
        consecutive.extend(distances(video[1:], video[:-1]).tolist())
    return (
        f"model: {len(starts):,} videos, {len(codes) / len(starts):.1f} frames each on average; "
        f"consecutive frames median {np.median(consecutive):.0f} bits "
        f"(p10 {np.percentile(consecutive, 10):.0f}, p90 {np.percentile(consecutive, 90):.0f}); "
        f"a video's frame pairs within {RADIUS}: {np.mean(within):.1%} (mean over 2,000 videos)"
    )


def query_sets(
    codes: U8, starts: npt.NDArray[np.int64], count: int, rng: np.random.Generator
) -> tuple[list[U8], list[U8]]:
    """Copies: 60 consecutive frames of a stored video, 0-16 bits flipped; unrelated: new codes."""
    copies = []
    long_enough = starts[:-1][np.diff(starts) >= QUERY_FRAMES]
    for start in rng.choice(long_enough, count):
        frames = codes[start : start + QUERY_FRAMES].copy()
        bits = np.unpackbits(frames, axis=1)
        for row, k in zip(bits, rng.integers(0, 17, QUERY_FRAMES), strict=True):
            row[rng.choice(256, int(k), replace=False)] ^= 1
        copies.append(np.packbits(bits, axis=1))
    unrelated_codes, _ = clustered(count * QUERY_FRAMES, rng)
    unrelated = [unrelated_codes[i * QUERY_FRAMES : (i + 1) * QUERY_FRAMES] for i in range(count)]
    return copies, unrelated


def percentiles(times: list[float]) -> str:
    return (
        f"p50 {np.percentile(times, 50) * 1e3:.2f} ms, p99 {np.percentile(times, 99) * 1e3:.2f} ms"
    )


def timed(index: ExactIndex, queries: list[U8]) -> tuple[list[float], list[float], int]:
    batch, single, hits = [], [], 0
    for q in queries:
        start = time.perf_counter()
        found = index.search_batch(q, RADIUS)
        batch.append(time.perf_counter() - start)
        hits += sum(len(ids) for ids, _ in found)
        start = time.perf_counter()
        for code in q:
            index.search(code.reshape(1, -1), RADIUS)
        single.append(time.perf_counter() - start)
    return batch, single, hits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000_000)
    parser.add_argument("--queries", type=int, default=200, help="60-frame queries of each kind")
    parser.add_argument("--truth", type=int, default=3, help="queries checked by brute force")
    args = parser.parse_args()
    cpu = cpu_model()
    print(
        f"run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {cpu}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB; numpy {np.__version__}, numba {numba.__version__}"
    )
    rng = np.random.default_rng(17)
    start = time.perf_counter()
    codes, starts = clustered(args.frames, rng)
    print(f"{args.frames:,} clustered frame codes made in {time.perf_counter() - start:.0f} s")
    print(model_stats(codes, starts, rng))
    copies, unrelated = query_sets(codes, starts, args.queries, rng)

    gc.collect()
    before = rss_mb()
    start = time.perf_counter()
    index = ExactIndex(256, IndexConfig(), "vpdq")
    index.add(np.arange(args.frames, dtype=np.int64), codes)
    build = time.perf_counter() - start
    gc.collect()
    grown = rss_mb() - before
    print(
        f"index: {index.structure}, build {build:.1f} s, RSS +{grown:,.0f} MB "
        f"({grown * 2**20 / args.frames:.0f} bytes per frame; index arrays "
        f"{index.memory_bytes() / 2**20:,.0f} MB = {index.memory_bytes() / args.frames:.0f} bytes "
        f"per frame), process RSS {rss_mb():,.0f} MB"
    )

    for q in copies[: args.truth] + unrelated[: args.truth]:
        for code, (ids, _) in zip(q, index.search_batch(q, RADIUS), strict=True):
            truth = np.flatnonzero(distances(codes, code[None, :]) <= RADIUS)
            if set(ids.tolist()) != set(truth.tolist()):
                raise SystemExit("NOT EXACT: the index and brute force disagree")
    print(f"exact: {2 * args.truth} queries x {QUERY_FRAMES} frames agree with brute force")

    index.search_batch(copies[0], RADIUS)  # warm up
    for threads in (1, 2):
        numba.set_num_threads(threads)
        for label, queries in (("copy", copies), ("unrelated", unrelated)):
            batch, single, hits = timed(index, queries)
            print(
                f"{threads} thread(s), {label} 60-frame queries ({len(queries)}): batched "
                f"{percentiles(batch)}; 60 single searches {percentiles(single)}; "
                f"{hits / len(queries):.1f} hits per query"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
