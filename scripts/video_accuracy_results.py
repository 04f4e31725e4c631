"""The figures of scripts/bench_video_accuracy.py, printed as Markdown tables from its hashes.

Conventions on Meta's two percentages (`hashing.vpdq_match.match_videos`):
`stored` (stored% >= P, Meta's vpdq README and `VideoMatch.is_match`),
`query` (query% >= P, python-threatexchange), `either` (max >= P, the
service's `video_match_percent`), `both` (min >= P). "any frame" is one
frame within 31, for reference.
"""

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import video_transforms as vt
from video_frames import (
    RADIUS,
    codes,
    distance_matrix,
    expanded,
    frame_grabs,
    kept,
    min_distance,
    photo_cross,
    side_by_side,
)

from hashing.vpdq_match import match_videos
from index import ExactIndex

CONVENTIONS: dict[str, Callable[[float, float, float], bool]] = {
    "stored": lambda q, s, p: s >= p,
    "either": lambda q, s, p: max(q, s) >= p,
    "query": lambda q, s, p: q >= p,
    "both": lambda q, s, p: min(q, s) >= p,
}
PERCENTS = (50, 60, 70, 80, 90)
PRUNINGS: tuple[int | None, ...] = (None, 0, 4, 8, 16)
ADOPTED = (1, 8)  # rate, prune distance


def percentages(results: Any, rate: int, prune: int | None) -> dict[str, Any]:
    """Own-source (q, s, any-frame) for each copy; (q, s) for every unrelated ordered pair."""
    videos = results.videos
    frames = {n: kept(v, rate, prune) for n, v in videos.items()}
    # Queries with their queried forms, stored videos with their submitted forms (the
    # plain frames when the run hashed no forms).
    asked = {n: kept(v, rate, prune, "q") for n, v in videos.items()}
    held = {n: kept(v, rate, prune, "s") for n, v in videos.items()}
    flat_q, flat_s = expanded(asked), expanded(held)
    stored = [n for n, v in videos.items() if v.role != "copy"]
    own, unrelated = {}, []
    for name, v in videos.items():
        if v.role == "copy":
            m = match_videos(asked[name], held[v.source])
            hit = min_distance(codes(flat_q[name]), codes(flat_s[v.source])) <= RADIUS
            own[name] = (m.query_percent, m.stored_percent, hit)
        for other in stored:
            o = videos[other]
            if o.scene == v.scene or other in (v.host, v.name):
                continue
            m = match_videos(asked[name], held[other])
            unrelated.append((name, other, m.query_percent, m.stored_percent))
    return {
        "own": own,
        "unrelated": unrelated,
        "frames": frames,
        "stored_forms": flat_s,
        "query_forms": flat_q,
    }


def recall(
    results: Any, own: dict[str, Any], rule: Callable[[float, float], bool], half: str
) -> float:
    hits = [rule(q, s) for n, (q, s, _) in own.items() if half in ("", results.videos[n].half)]
    return 100.0 * sum(hits) / max(1, len(hits))


def false(
    results: Any, unrelated: list[Any], rule: Callable[[float, float], bool], half: str
) -> int:
    return sum(
        rule(q, s)
        for a, _, q, s in unrelated
        if half == "" or (results.videos[a].role == "copy" and results.videos[a].half == half)
    )


def report(results: Any, out: Path, inspect: int) -> None:
    videos = results.videos
    roles: dict[str, list[Any]] = defaultdict(list)
    for v in videos.values():
        roles[v.role].append(v)
    print(
        "\n## Videos\n\n| role | videos | minutes | 1/s frames kept (D=8) |\n|---|---:|---:|---:|"
    )
    for role, vs in roles.items():
        n = sum(len(kept(v, 1, 8)) for v in vs)
        print(f"| {role} | {len(vs)} | {sum(v.duration for v in vs) / 60:.1f} | {n} |")
    halves: dict[str, int] = defaultdict(int)
    for v in roles["source"]:
        halves[v.half] += 1
    print(f"\nsources: tuning half {halves['tune']}, held-out half {halves['held']}")

    # With forms (`--forms`), the adopted pruning only: every pair is compared with all forms.
    forms = any(isinstance(k, str) for v in videos.values() for k in v.frames)
    prunings = (ADOPTED[1],) if forms else PRUNINGS
    grid = {(r, d): percentages(results, r, d) for r in (1, 2) for d in prunings}
    tuning_table(results, grid)
    per_transform(results, grid)
    false_matches(results, grid, out, inspect)
    frame_grabs(results, grid[ADOPTED]["stored_forms"])
    photo_cross(results, grid[ADOPTED]["stored_forms"], out, inspect, grid[ADOPTED]["query_forms"])
    cost(results, grid)


def tuning_table(results: Any, grid: dict[tuple[int, int | None], Any]) -> None:
    print(
        "\n## Tuning half: every setting (recall over all tuning copies; false = unrelated pairs "
        "with a tuning copy as the query)\n"
    )
    print("| rate | D | convention | P | recall tune | false tune | recall held | false held |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    rows = []
    for (rate, prune), g in grid.items():
        for conv, fn in CONVENTIONS.items():
            for p in PERCENTS:

                def rule(
                    q: float, s: float, fn: Callable[[float, float, float], bool] = fn, p: int = p
                ) -> bool:
                    return fn(q, s, p)

                rows.append(
                    (
                        recall(results, g["own"], rule, "tune"),
                        false(results, g["unrelated"], rule, "tune"),
                        rate,
                        prune,
                        conv,
                        p,
                        recall(results, g["own"], rule, "held"),
                        false(results, g["unrelated"], rule, "held"),
                    )
                )
    # the chosen: no false match on the tuning half, then most recall; ties: fewer frames
    # (rate 1, larger D), then the higher percentage
    clean = [r for r in rows if r[1] == 0]
    best = max(clean, key=lambda r: (r[0], -r[2], r[3] if r[3] is not None else -1, r[5]))
    for r in [*sorted(rows, key=lambda r: (-r[0], r[1]))[:25], best]:
        mark = " **chosen**" if r is best else ""
        d = "none" if r[3] is None else r[3]
        print(
            f"| {r[2]}/s | {d} | {r[4]} | {r[5]} | {r[0]:.1f} | {r[1]} | {r[6]:.1f} | {r[7]} |{mark}"
        )
    print(
        f"\nChosen on the tuning half: {best[2]}/s, D = {best[3]}, {best[4]} >= {best[5]}%: "
        f"held-out recall {best[6]:.1f}%, held-out false {best[7]}"
    )
    for rate, prune in ((1, 8), (2, 8)):
        g = grid[(rate, prune)]
        cells = []
        for conv in ("stored", "either", "query", "both"):

            def at80(q: float, s: float, conv: str = conv) -> bool:
                return CONVENTIONS[conv](q, s, 80)

            cells.append(
                f"{conv} {recall(results, g['own'], at80, 'tune'):.1f}/{recall(results, g['own'], at80, 'held'):.1f}%"
            )
        print(f"- {rate}/s, D=8, P=80, recall tune/held: " + "; ".join(cells))


def per_transform(results: Any, grid: dict[tuple[int, int | None], Any]) -> None:
    for rate in (1, 2):
        own = grid[(rate, 8)]["own"]
        print(
            f"\n## Recall per transform, held-out half ({rate}/s, D = 8, P = 80); "
            "in brackets the tuning half\n"
        )
        print(
            "| transform | copies | stored >= 80 | either >= 80 | query >= 80 | any frame | median q% / s% |"
        )
        print("|---|---:|---:|---:|---:|---:|---|")
        for transform in vt.TRANSFORMS:
            cells = []
            for half in ("held", "tune"):
                rows = [
                    own[n]
                    for n, v in results.videos.items()
                    if v.role == "copy" and v.transform == transform and v.half == half
                ]
                cells.append(rows)
            held, tune = cells

            def pct(rows: list[Any], fn: Callable[[Any], bool]) -> str:
                return f"{100 * sum(map(fn, rows)) / max(1, len(rows)):.0f}%"

            line = [transform, f"{len(held)} ({len(tune)})"]
            for fn in (
                lambda r: r[1] >= 80,
                lambda r: max(r[0], r[1]) >= 80,
                lambda r: r[0] >= 80,
                lambda r: r[2],
            ):
                line.append(f"{pct(held, fn)} ({pct(tune, fn)})")
            q = np.median([r[0] for r in held]) if held else 0
            s = np.median([r[1] for r in held]) if held else 0
            line.append(f"{q:.0f} / {s:.0f}")
            print("| " + " | ".join(line) + " |")


def false_matches(
    results: Any, grid: dict[tuple[int, int | None], Any], out: Path, inspect: int
) -> None:
    print("\n## False matches: every unrelated ordered pair (query, stored)\n")
    print(
        "| rate, D | pairs | stored >= 80 | either >= 80 | query >= 80 | max query% | max stored% | max min(q,s) | pairs with any frame within 31 |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (rate, prune), g in grid.items():
        u = g["unrelated"]
        print(
            f"| {rate}/s, {prune} | {len(u):,} | {sum(s >= 80 for *_, q, s in u)} "
            f"| {sum(max(q, s) >= 80 for *_, q, s in u)} | {sum(q >= 80 for *_, q, s in u)} "
            f"| {max(q for *_, q, s in u):.0f} | {max(s for *_, q, s in u):.0f} "
            f"| {max(min(q, s) for *_, q, s in u):.0f} | {sum(max(q, s) > 0 for *_, q, s in u)} |"
        )
    g = grid[ADOPTED]
    frames = g["frames"]
    by_distance = []
    for a, b, q, s in g["unrelated"]:
        d = distance_matrix(codes(frames[a]), codes(frames[b]))
        if d.size:
            ia, ib = np.unravel_index(int(d.argmin()), d.shape)
            by_distance.append((int(d.min()), a, b, q, s, int(ia), int(ib)))
    by_distance.sort()
    closest = [r[0] for r in by_distance]
    print(
        f"\nClosest frames of unrelated pairs at 1/s, D = 8: min {closest[0]}, 0.1% quantile "
        f"{np.percentile(closest, 0.1):.0f}, median {np.median(closest):.0f} bits; the closest pairs "
        "(query, stored, q%, s%, frame distance):"
    )
    for i, (dist, a, b, q, s, ka, kb) in enumerate(by_distance[: max(inspect, 8)]):
        fa, fb = frames[a][ka], frames[b][kb]
        print(
            f"- {a} vs {b}: {q:.0f}% / {s:.0f}%, distance {dist} (t={fa.timestamp:.1f} s / {fb.timestamp:.1f} s)"
        )
        if i < inspect:
            side_by_side(
                vt.frame_at(results.videos[a].path, fa.timestamp),
                vt.frame_at(results.videos[b].path, fb.timestamp),
                out / f"inspect-video-{i}.png",
            )


def cost(results: Any, grid: dict[tuple[int, int | None], Any]) -> None:
    print("\n## Frame index size per minute of video (sources, extras, hosts)\n")
    print(
        "| rate | D | frames | minutes | frames/min | index bytes/min (measured) |\n|---|---|---:|---:|---:|---:|"
    )
    stored = [v for v in results.videos.values() if v.role != "copy"]
    minutes = sum(v.duration for v in stored) / 60
    for (rate, prune), g in grid.items():
        fs = [f for v in stored for f in g["frames"][v.name]]
        index = ExactIndex(256)
        index.add(np.arange(len(fs), dtype=np.int64), codes(fs))
        print(
            f"| {rate}/s | {prune} | {len(fs):,} | {minutes:.1f} | {len(fs) / minutes:.1f} "
            f"| {index.memory_bytes() / minutes:,.0f} ({index.structure}) |"
        )
    consecutive, within = [], []
    for v in stored:
        c = codes(grid[ADOPTED]["frames"][v.name])
        if len(c) > 1:
            d = np.bitwise_count(c.view(np.uint64)[:, None, :] ^ c.view(np.uint64)[None, :, :]).sum(
                axis=2
            )
            within.append(float((d[np.triu_indices(len(c), 1)] <= RADIUS).mean()))
            consecutive.extend(np.diagonal(d, 1).tolist())
    print(
        f"\nReal frames (1/s, D = 8) for the index model: consecutive stored frames median "
        f"{np.median(consecutive):.0f} bits (p10 {np.percentile(consecutive, 10):.0f}, p90 "
        f"{np.percentile(consecutive, 90):.0f}); a video's frame pairs within 31: {np.mean(within):.1%}"
    )
