"""vPDQ figures for docs/video.md: conformance with Meta's reference hashes, pruning, match conventions.

    .venv/bin/python scripts/bench_video.py [--scaler lanczos-accurate|area-accurate|area]
                                            [--conformance-only]

Hashes every frame of every video in ../shared/vpdq-reference/videos at full
size and at 128x128 (one decode), then prints, as Markdown tables:

1. conformance per video against Meta's expected hashes (frames whose expected
   quality is >= 50): the fraction within distance 31, median and max;
2. which versions Meta's own reference hashes (every frame) match both ways;
3. sampling rate (1, 2, 5 per second, every frame) x pruning (D = none, 0,
   4, 8, 16): frames kept, those versions matched under each convention,
   false matches across scenes;
4. every pair of videos at 1 frame per second (pruned as adopted): query%
   and stored% and the verdict under both of Meta's conventions;
5. a clip inside a longer unrelated video, and trimmed clips, under both.

`--scaler` swaps the RGB conversion (hashing.video.CONVERSION) to show what
the choice does.
"""

import argparse
import itertools
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

from av.video.reformatter import Interpolation

import hashing.video
from hashing.sampling import sample
from hashing.video import open_video
from hashing.vpdq import DEFAULT_RATE, PRUNE_DISTANCE, VideoFrameHash, hash_frame, select_frames
from hashing.vpdq_match import MATCH_PERCENT, match_videos
from hashing.vpdq_text import parse_vpdq

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "vpdq-reference"
SCALERS = {
    "lanczos-accurate": Interpolation.LANCZOS | Interpolation.ACCURATE_RND,  # adopted
    "area-accurate": Interpolation.AREA | Interpolation.ACCURATE_RND,
    "area": Interpolation.AREA,  # Meta's source
}
PRUNINGS: list[int | None] = [None, 0, 4, 8, 16]
RATES: list[float | None] = [1, 2, 5, None]


@dataclass(frozen=True)
class Timed:
    """A hashed frame with the times the sampling rule needs."""

    timestamp: Fraction
    duration: Fraction
    full: VideoFrameHash
    small: VideoFrameHash


def scene(name: str) -> str:
    return name.split("-")[0]


def hash_reference(path: Path) -> tuple[list[Timed], float]:
    start = time.monotonic()
    frames = []
    with open_video(path) as video:
        for frame in video.frames():
            frames.append(
                Timed(
                    frame.timestamp,
                    frame.duration,
                    hash_frame(frame),
                    hash_frame(frame, (128, 128)),
                )
            )
    return frames, time.monotonic() - start


def distance(a: bytes, b: bytes) -> int:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


def conformance(ours: list[VideoFrameHash], expected_file: Path) -> tuple[int, float, float, int]:
    expected = {f.frame_number: f for f in parse_vpdq(expected_file.read_text())}
    mine = {f.frame_number: f for f in ours}
    distances = [
        distance(mine[n].hash, e.hash) if n in mine else 256
        for n, e in expected.items()
        if e.quality >= 50
    ]
    within = sum(d <= 31 for d in distances) / len(distances)
    return len(distances), within, statistics.median(distances), max(distances)


def at_one_per_second(frames: list[Timed]) -> list[VideoFrameHash]:
    return [f.full for f in sample(frames, DEFAULT_RATE)]


def families(reference: dict[str, list[VideoFrameHash]]) -> set[tuple[str, str]]:
    """Ordered pairs of different videos that Meta's own every-frame hashes match both ways."""
    pairs = set()
    for q, s in itertools.permutations(reference, 2):
        m = match_videos(reference[q], reference[s])
        if min(m.query_percent, m.stored_percent) >= MATCH_PERCENT:
            pairs.add((q, s))
    return pairs


def verdicts(
    videos: dict[str, list[VideoFrameHash]], should: set[tuple[str, str]]
) -> tuple[int, int, int, float]:
    """Versions matched (query convention, stored convention), cross-scene false matches, mean stored%."""
    by_query = by_stored = false = 0
    stored = []
    for q, s in itertools.permutations(videos, 2):
        m = match_videos(videos[q], videos[s])
        if (q, s) in should:
            by_query += m.query_percent >= MATCH_PERCENT
            by_stored += m.stored_percent >= MATCH_PERCENT
            stored.append(m.stored_percent)
        elif scene(q) != scene(s):
            false += max(m.query_percent, m.stored_percent) >= MATCH_PERCENT
    return by_query, by_stored, false, statistics.mean(stored)


def short(name: str) -> str:
    return name.replace("chair-", "c-").replace("pattern-", "p-").replace("-no-bar", "")


def print_matrix(
    videos: dict[str, list[VideoFrameHash]], should: set[tuple[str, str]], label: str
) -> None:
    """query% / stored% for every ordered pair; q, s: a match under the query, stored convention."""
    print(
        f"\nEvery pair, {label}: query% / stored%; q = match under the query convention "
        f"(>= {MATCH_PERCENT:g}% of the query's frames), s = under the stored convention\n"
    )
    print("| query \\ stored | " + " | ".join(short(n) for n in videos) + " |")
    print("|---|" + "---|" * len(videos))
    found = {"q": 0, "s": 0}
    false = {"q": 0, "s": 0}
    for q_name, q in videos.items():
        cells = []
        for s_name, s in videos.items():
            m = match_videos(q, s)
            marks = ("q" if m.query_percent >= MATCH_PERCENT else "") + (
                "s" if m.stored_percent >= MATCH_PERCENT else ""
            )
            for mark in marks:
                found[mark] += (q_name, s_name) in should
                false[mark] += scene(q_name) != scene(s_name)
            cells.append(f"{m.query_percent:.0f}/{m.stored_percent:.0f} {marks or '-'}")
        print(f"| {short(q_name)} | " + " | ".join(cells) + " |")
    print(
        f"\nversions matched (of {len(should)}): query convention {found['q']}, stored "
        f"convention {found['s']}; cross-scene false matches: {false['q']}, {false['s']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scaler", choices=SCALERS, default="lanczos-accurate")
    parser.add_argument("--conformance-only", action="store_true", help="only table 1")
    args = parser.parse_args()
    hashing.video.CONVERSION = SCALERS[args.scaler]
    print(f"run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, scaler {args.scaler}\n")

    hashed: dict[str, list[Timed]] = {}
    print(
        "| video | frames, quality >= 50 | s | frames/s (decode + 2 hashes) "
        "| full: within 31 | median | max "
        "| 128x128: within 31 | median | max |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for path in sorted((REFERENCE / "videos").glob("*.mp4")):
        frames, seconds = hash_reference(path)
        hashed[path.stem] = frames
        n, within, median, worst = conformance(
            [f.full for f in frames], REFERENCE / "hashes" / f"{path.stem}.txt"
        )
        small = REFERENCE / "hashes" / f"{path.stem}-128x128.txt"
        cells = "| - | - | - |"
        if small.exists():
            _, s_within, s_median, s_worst = conformance([f.small for f in frames], small)
            cells = f"| {s_within:.1%} | {s_median:g} | {s_worst} |"
        print(
            f"| {path.stem} | {n} | {seconds:.1f} | {len(frames) / seconds:.0f} "
            f"| {within:.1%} | {median:g} | {worst} {cells}"
        )

    if args.conformance_only:
        return
    reference = {
        p.stem: parse_vpdq(p.read_text())
        for p in sorted((REFERENCE / "hashes").glob("*.txt"))
        if not p.stem.endswith("128x128") and p.stem in hashed
    }
    should = families(reference)
    print(
        f"\nVersions Meta's own every-frame hashes match both ways (>= {MATCH_PERCENT:g}%): "
        f"{len(should)} ordered pairs"
    )
    for q, s in sorted(should):
        if q < s:
            print(f"- {q} <-> {s}")

    print(
        "\n| sampling | D | frames kept | versions matched, query conv. | stored conv. "
        "| mean stored% | cross-scene false matches |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for rate in RATES:
        raw = {name: [f.full for f in sample(frames, rate)] for name, frames in hashed.items()}
        for prune in PRUNINGS:
            kept = {n: select_frames(f, prune_distance=prune) for n, f in raw.items()}
            by_query, by_stored, false, mean_stored = verdicts(kept, should)
            total = sum(len(k) for k in kept.values())
            print(
                f"| {'every frame' if rate is None else f'{rate:g}/s'} | "
                f"{'none' if prune is None else prune} | {total} | {by_query}/{len(should)} "
                f"| {by_stored}/{len(should)} | {mean_stored:.1f} | {false} |"
            )

    videos = {n: select_frames(at_one_per_second(f)) for n, f in hashed.items()}
    print_matrix(videos, should, f"{DEFAULT_RATE:g} frame/s, D = {PRUNE_DISTANCE} (adopted)")
    every = {n: select_frames([f.full for f in frames]) for n, frames in hashed.items()}
    print_matrix(every, should, f"every frame, D = {PRUNE_DISTANCE}")

    found = {"query": 0, "stored": 0}
    for q, s in sorted(should):
        m = match_videos(videos[q], every[s])
        found["query"] += m.query_percent >= MATCH_PERCENT
        found["stored"] += m.stored_percent >= MATCH_PERCENT
    print(
        f"\nQuery at {DEFAULT_RATE:g}/s against stored every frame: versions matched (of "
        f"{len(should)}): query convention {found['query']}, stored convention {found['stored']}"
    )

    print(
        "\n| re-post of chair-orig-22-sd-bar (1/s) | query% | stored% | query conv. | stored conv. |"
    )
    print("|---|---:|---:|---|---|")
    clip = videos["chair-orig-22-sd-bar"]
    unrelated = (
        videos["pattern-longer-no-bar"] + videos["doorknob-hd-no-bar"] + videos["pattern-hd-no-bar"]
    )
    cases = {
        "inside unrelated videos (x2.5 longer)": unrelated[: len(unrelated) // 2]
        + clip
        + unrelated[len(unrelated) // 2 :],
        "first half only": clip[: len(clip) // 2],
        "middle 60% (20% trimmed each end)": clip[len(clip) // 5 : len(clip) - len(clip) // 5],
        "first 90%": clip[: len(clip) * 9 // 10],
    }
    for label, query in cases.items():
        m = match_videos(query, clip)
        print(
            f"| {label} | {m.query_percent:.0f} | {m.stored_percent:.0f} "
            f"| {'match' if m.query_percent >= MATCH_PERCENT else 'missed'} "
            f"| {'match' if m.stored_percent >= MATCH_PERCENT else 'missed'} |"
        )


if __name__ == "__main__":
    main()
