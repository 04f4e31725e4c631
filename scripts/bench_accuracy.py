"""Accuracy benchmark: recall on transformed copies and false matches, baseline against policy.

For every photo in each DIR, makes seeded, deterministic transformed copies
(re-encodes, resizes, colour changes, caption, watermark, a re-share chain,
rotations and flips, crops, padding, screenshots) and runs the real pipeline:

* survivor side: `hashing.load_image` + `hashing.policy` submission hashes of
  each original, stored in the service's own `IndexSet` (the `index` package);
* platform side: each copy encoded to a file, decoded by `load_image`, hashed
  with the policy's query hashes;
* service side: the service's `IndexSet.search` of one typed query (`hashing.Query`),
  within the signal type's threshold, as the Matcher searches.

False matches: every original queried against the other originals (all
distinct pairs), and every transformed copy against every other original.
The baseline (plain PDQ <= 31, the original's hash against the copy's, no
rotations or flips) is computed in the same run, as are the policy's parts
one by one (what each adds and costs), and second-stage rules on top of the
default policy (`Stage2`: accept a best distance above its threshold, up to T2,
only on independent evidence; not in the service), with their margins.

    .venv/bin/python scripts/bench_accuracy.py DIR... [--limit N] [--seed S] [--out docs/accuracy.md]

The report goes to stdout and between the markers in `--out` (the rest of that
file, the hand-written part, is kept). The transforms are in
`accuracy_transforms.py`, the second stage in `accuracy_stage2.py`, what is
recorded in `accuracy_results.py`; this file hashes, matches and reports.
"""

import argparse
import os
import platform
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from accuracy_results import WIDE, ImageResult, PolicyStats, Query, Row
from accuracy_stage2 import SECOND_HASHES, STAGE2, SecondStage, stage2_report
from accuracy_transforms import TARGETS, TRANSFORMS
from PIL import Image, ImageOps

from hashing import PDQ_ALGORITHM, HashingError, get_algorithm, load_image
from hashing import Query as HQuery
from hashing.files import find_images
from hashing.forms import trim_borders
from hashing.pdq import DIHEDRAL_TRANSPOSES
from hashing.policy import DEFAULT_POLICY, MatchPolicy, comparison_steps
from index import IndexConfig
from service.live.indexes import IndexSet

BEGIN, END = "<!-- bench_accuracy:begin -->", "<!-- bench_accuracy:end -->"

# The rows of the comparison: the baseline first, the default policy last.
POLICIES: dict[str, MatchPolicy | None] = {
    "baseline": None,  # plain PDQ <= 31, no dihedral
    # Each row adds one part of the default policy to the row before it.
    **comparison_steps(),
    DEFAULT_POLICY.name: DEFAULT_POLICY,
}


# -- hashing (in worker processes) -----------------------------------------------------


def _query(image: Image.Image) -> Query:
    codes: dict[str, list[bytes] | None] = {}
    seconds: dict[str, float] = {}
    forms: list[list[bytes]] = []
    for name, policy in POLICIES.items():
        start = time.perf_counter()
        try:
            if policy is None:
                codes[name] = [PDQ_ALGORITHM.compute(image).value]
            else:
                groups = policy.query_groups(image)
                codes[name] = [h.value for group in groups for h in group]
                if policy is DEFAULT_POLICY:
                    forms = [[h.value for h in group] for group in groups]
        except HashingError:
            codes[name] = None
        seconds[name] = time.perf_counter() - start
    second: dict[str, list[bytes]] = {}
    if forms:
        grey = trim_borders(image).convert("L")  # what imagehash hashes; same result, faster
        oriented = [grey if op is None else grey.transpose(op) for op in DIHEDRAL_TRANSPOSES]
        for key, algorithm in SECOND_HASHES.items():
            start = time.perf_counter()
            second[key] = [algorithm.compute(o).value for o in oriented]
            seconds[key] = time.perf_counter() - start
    return Query(codes, seconds, forms, second)


def process(path: Path, seed: int) -> ImageResult:
    result = ImageResult(path)
    try:
        canonical = load_image(path)
        for name, policy in POLICIES.items():
            if policy is None:
                result.submitted[name] = [PDQ_ALGORITHM.compute(canonical).value]
            else:
                result.submitted[name] = [h.value for h in policy.submission_hashes(canonical)]
        trimmed = trim_borders(canonical)
        result.second = {k: a.compute(trimmed).value for k, a in SECOND_HASHES.items()}
        result.original = _query(canonical)
    except HashingError as exc:
        result.error = str(exc)
        return result
    with Image.open(path) as raw:
        source = ImageOps.exif_transpose(raw).convert("RGB")
    for name, transform in TRANSFORMS.items():
        rng = random.Random(f"{seed}/{path.name}/{name}")
        data = transform(source, rng)
        start = time.perf_counter()
        try:
            image = load_image(data)
        except HashingError:
            result.copies[name] = Query(dict.fromkeys(POLICIES), {})
            continue
        result.decode_seconds += time.perf_counter() - start
        result.copies[name] = _query(image)
    return result


def _process_args(args: tuple[Path, int]) -> ImageResult:
    return process(*args)


# -- matching (the service's index and policy) ----------------------------------------


class _Run:
    """One policy row's index and counters."""

    def __init__(self, rule: MatchPolicy, stats: PolicyStats, ok: list[ImageResult], name: str):
        self.rule, self.stats = rule, stats
        self.index = IndexSet(IndexConfig())
        self.owner: list[int] = []
        signals = []
        for image_no, r in enumerate(ok):
            for code in r.submitted[name]:
                signals.append((len(self.owner), rule.algorithm, code))
                self.owner.append(image_no)
        self.index.rebuild(signals)
        stats.stored = len(self.owner)

    def matched(self, codes: list[bytes]) -> set[int]:
        """The images whose stored hashes the service's policy search accepts."""
        start = time.perf_counter()
        (best,) = self.index.search([self._query(codes)])
        self.stats.search_seconds += time.perf_counter() - start
        self.stats.queries += 1
        self.stats.query_hashes += len(codes)
        return {self.owner[i] for i in best}

    def _query(self, codes: list[bytes]) -> HQuery:
        return HQuery(get_algorithm(self.rule.algorithm), tuple(codes))

    def closest(self, codes: list[bytes], me: int) -> tuple[int, int]:
        """Closest distance to the image's own stored hashes, and to any other image's."""
        (wide,) = self.index.search([self._query(codes)], radius=WIDE)
        own = min((d for i, d in wide.items() if self.owner[i] == me), default=WIDE + 1)
        other = min((d for i, d in wide.items() if self.owner[i] != me), default=WIDE + 1)
        return own, other


def evaluate(results: list[ImageResult]) -> tuple[dict[str, PolicyStats], SecondStage]:
    ok = [r for r in results if r.error is None]
    stats: dict[str, PolicyStats] = {}
    stage2: SecondStage | None = None
    for name, policy in POLICIES.items():
        rule = policy or POLICIES["dihedral"]  # the baseline matches alike; its query is 1 hash
        assert rule is not None
        st = stats[name] = PolicyStats()
        run = _Run(rule, st, ok, name)
        if policy is DEFAULT_POLICY:
            stage2 = SecondStage(run.index, run.owner, ok)
        for me, r in enumerate(ok):
            assert r.original is not None
            codes = r.original.codes[name]
            if codes:
                for other in run.matched(codes) - {me}:
                    st.original_pairs.add((min(me, other), max(me, other)))
                    st.examples.append(f"{r.path.name} ~ {ok[other].path.name} (originals)")
                st.closest_unrelated = min(st.closest_unrelated, run.closest(codes, me)[1])
            for t, query in r.copies.items():
                row = st.rows[t]
                row.total += 1
                codes = query.codes[name]
                st.hash_seconds += query.hash_seconds.get(name, 0.0)
                if not codes:
                    row.unhashable += 1
                    st.misses.append((t, r.path.name, None))
                    continue
                hits = run.matched(codes)
                row.found += me in hits
                false = hits - {me}
                if false:
                    st.cross_false += len(false)
                    st.cross_false_queries += 1
                    st.examples += [f"{t} of {r.path.name} ~ {ok[o].path.name}" for o in false]
                own, other = run.closest(codes, me)
                st.closest_unrelated = min(st.closest_unrelated, other)
                row.near_misses += me not in hits and own <= WIDE
                if me not in hits:
                    st.misses.append((t, r.path.name, own))
    # After the rows above, so that its numpy work does not disturb their timings.
    assert stage2 is not None
    for me, r in enumerate(ok):
        assert r.original is not None
        stage2.add(r.original, me, None)
        for t, query in r.copies.items():
            if query.forms:
                stage2.add(query, me, t)
    for rule_stats in stage2.stats.values():
        for t, row in rule_stats.rows.items():
            row.total, row.unhashable = stats[DEFAULT_POLICY.name].rows[t].total, 0
    return stats, stage2


# -- report ---------------------------------------------------------------------------


def _pct(row: Row) -> str:
    return f"{100 * row.found / row.total:.1f}%" if row.total else "-"


def report(
    name: str,
    folder: Path,
    results: list[ImageResult],
    stats: dict[str, PolicyStats],
    stage2: SecondStage,
) -> str:
    ok = [r for r in results if r.error is None]
    n = len(ok)
    sizes = sorted({Image.open(r.path).size for r in ok[:50]})
    megapixels = [Image.open(r.path).size[0] * Image.open(r.path).size[1] / 1e6 for r in ok]
    lines = [
        f"### {name}",
        "",
        f"`{folder}`: {len(results)} images, {n} hashable"
        + (
            f" ({len(results) - n} refused: "
            + "; ".join(f"{r.path.name}: {r.error}" for r in results if r.error)
            + ")"
            if len(results) > n
            else ""
        )
        + f"; {min(megapixels):.2f}-{max(megapixels):.2f} MP (median {np.median(megapixels):.2f})"
        + (f", e.g. {', '.join(f'{w}x{h}' for w, h in sizes[:4])}" if sizes else "")
        + ".",
        "",
        "Recall (copies that match their own original), per transform:",
        "",
        "| transform | target | "
        + " | ".join(POLICIES)
        + f" | +stage2 | {DEFAULT_POLICY.name} misses within {WIDE} |",
        "|---|---|" + "---|" * (len(POLICIES) + 2),
    ]
    default = stats[DEFAULT_POLICY.name]
    for t in TRANSFORMS:
        target = TARGETS.get(t)
        cells = []
        for p in POLICIES:
            row = stats[p].rows[t]
            cell = _pct(row)
            if p == DEFAULT_POLICY.name and target is not None:
                cell = f"**{cell}**" + ("" if row.found >= target * row.total else " ✗")
            cells.append(cell)
        cells.append(_pct(stage2.stats[STAGE2].rows[t]))
        unhashable = default.rows[t].unhashable
        note = f" ({unhashable} unhashable)" if unhashable else ""
        lines.append(
            f"| {t}{note} | {f'≥ {target:.0%}' if target else 'report'} | "
            + " | ".join(cells)
            + f" | {default.rows[t].near_misses} |"
        )
    pairs = n * (n - 1) // 2
    copies = sum(len(r.copies) for r in ok)
    cross = copies * (n - 1)
    lines += [
        "",
        f"False matches: {pairs:,} distinct pairs of originals (each queried both ways), and "
        f"{copies:,} copies x {n - 1} other originals = {cross:,} cross-image (copy, original) pairs.",
        "",
        "| | " + " | ".join(POLICIES) + " |",
        "|---|" + "---|" * len(POLICIES),
        "| false pairs of originals | "
        + " | ".join(str(len(s.original_pairs)) for s in stats.values())
        + " |",
        "| false (copy, other original) pairs | "
        + " | ".join(str(s.cross_false) for s in stats.values())
        + " |",
        "| closest unrelated distance | "
        + " | ".join(
            str(s.closest_unrelated) if s.closest_unrelated <= WIDE else f"> {WIDE}"
            for s in stats.values()
        )
        + " |",
        "| hashes stored per image | "
        + " | ".join(f"{s.stored / n:.2f}" for s in stats.values())
        + " |",
        "| index payload (hashes x 32 B) | "
        + " | ".join(
            f"{s.stored:,} x 32 B = {s.stored * 32 / 1024:.0f} KiB" for s in stats.values()
        )
        + " |",
        "| hashes per query | "
        + " | ".join(f"{s.query_hashes / max(1, s.queries):.2f}" for s in stats.values())
        + " |",
        "| hashing per query (after decoding) | "
        + " | ".join(f"{1000 * s.hash_seconds / max(1, copies):.2f} ms" for s in stats.values())
        + " |",
        "| index search per query | "
        + " | ".join(f"{1e6 * s.search_seconds / max(1, s.queries):.0f} µs" for s in stats.values())
        + " |",
        "",
        f"Decoding a copy (`load_image`) took {1000 * sum(r.decode_seconds for r in ok) / max(1, copies):.1f} ms on average, the same for every row.",
    ]
    lines += _unmet_report(default)
    lines += ["", *stage2_report(stage2, stats, ok, copies)]
    examples = [e for s in stats.values() for e in s.examples]
    if examples:
        lines += [
            "",
            "False matches found (worth a look: near-duplicates in the set are not errors):",
            "",
        ]
        lines += [f"- {e}" for e in sorted(set(examples))[:30]]
    return "\n".join(lines) + "\n"


def _unmet_report(default: PolicyStats) -> list[str]:
    """Each copy the default policy missed in a row whose target it does not meet."""
    unmet = [
        t for t, target in TARGETS.items() if default.rows[t].found < target * default.rows[t].total
    ]
    if not unmet:
        return ["", f"Every target is met by `{DEFAULT_POLICY.name}` on this set."]
    lines = [
        "",
        f"Copies `{DEFAULT_POLICY.name}` missed in rows whose target it does not meet:",
        "",
    ]
    for t in unmet:
        missed = [
            f"{name} ({'unhashable' if own is None else f'{own} bits' if own <= WIDE else f'> {WIDE} bits'})"
            for row_t, name, own in default.misses
            if row_t == t
        ]
        lines.append(f"- {t}: " + ", ".join(missed))
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dirs", nargs="+", type=Path)
    parser.add_argument("--limit", type=int, default=0, help="first N images of each folder")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=None, help="markdown file to update")
    args = parser.parse_args()

    sections = []
    for folder in args.dirs:
        paths = find_images([folder])
        if args.limit:
            paths = paths[: args.limit]
        if not paths:
            print(f"error: no images in {folder}", file=sys.stderr)
            return 1
        start = time.perf_counter()
        work = [(p, args.seed) for p in paths]
        if args.jobs > 1:
            with ProcessPoolExecutor(args.jobs) as pool:
                results = list(pool.map(_process_args, work, chunksize=1))
        else:
            results = [_process_args(w) for w in work]
        stats, stage2 = evaluate(results)
        name = folder.resolve().name
        section = report(name, folder, results, stats, stage2)
        print(section)
        print(f"({name}: {time.perf_counter() - start:.0f} s)", file=sys.stderr)
        sections.append(section)

    header = (
        f"Generated by `scripts/bench_accuracy.py {' '.join(str(d) for d in args.dirs)}"
        + (f" --limit {args.limit}" if args.limit else "")
        + f" --seed {args.seed}` on {platform.machine()}, Python {platform.python_version()}. "
        "Rows: `baseline` plain PDQ ≤ 31 without rotations/flips; `dihedral` the 8 dihedral "
        "query hashes; `+trim` also border trimming; `+crops` also centre crops (stored at "
        f"{', '.join(f'{s:.0%}' for s in DEFAULT_POLICY.crop_scales)} of the trimmed image "
        "and, where trimming changed it, of the untrimmed one; queried at "
        f"{', '.join(f'{s:.0%}' for s in DEFAULT_POLICY.query_crop_scales)}); "
        "`+forms` also the caption band and eroded value forms and the queried content "
        "block; `+reduced` also the reduced form (the 64 x 64 area average); "
        f"`{DEFAULT_POLICY.name}` the default policy (`hashing/policy.py`): all of "
        "that plus the clipped value form (max(R, G, B) clamped at its own 60th "
        "percentile), threshold "
        f"{DEFAULT_POLICY.threshold}; `+stage2` the default policy plus a second stage "
        f"measured here only (`{STAGE2.name}`, see below each set). ✗ marks a target not met.\n"
    )
    generated = "\n".join([BEGIN, header, *sections, END])
    if args.out:
        text = args.out.read_text() if args.out.exists() else ""
        if BEGIN in text and END in text:
            before, rest = text.split(BEGIN, 1)
            after = rest.split(END, 1)[1]
            text = before + generated + after
        else:
            text = "# Matching accuracy\n\n" + generated + "\n" + text
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
