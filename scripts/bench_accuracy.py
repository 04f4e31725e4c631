"""Accuracy benchmark: recall on transformed copies and false matches, baseline against policy.

For every photo in each DIR, makes seeded, deterministic transformed copies
(re-encodes, resizes, colour changes, caption, watermark, a re-share chain,
rotations and flips, crops, padding, screenshots, and the re-poster's edits of
issue 18: caption bars, labels, stickers, frames, aspect and one-sided crops,
collages, picture in picture, small screenshots, rotations up to 10°) and runs
the real pipeline:

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
        [--half all|tune|held-out] [--policies baseline,hashbank,+stage2] [--kinds NAMES]
        [--fillers DIR]

`--half` measures one stable half of each folder (by the parity of the first byte of
sha256 of the file name: even = tune, odd = held-out); `--policies` and `--kinds` only
the rows and transforms named (the second stage only with `+stage2`), to keep a run
short. Collages and picture in picture take their other photos from `--fillers`
(default `../shared/datasets/clothing` beside the clone), which must not be the set
measured: a filler that is one of its originals would make a true match look false.

The report goes to stdout and between the markers in `--out` (the rest of that
file, the hand-written part, is kept). The transforms are in
`accuracy_transforms.py` and `accuracy_edits.py` (what they share in
`accuracy_drawing.py`), the second stage in `accuracy_stage2.py`, what is
recorded in `accuracy_results.py`; this file hashes, matches and reports.
"""

import argparse
import hashlib
import os
import platform
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from accuracy_edits import FILLERS
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
HALVES = ("all", "tune", "held-out")
FILLERS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "clothing"


@dataclass(frozen=True)
class Selection:
    """What a run measures: policy rows (in POLICIES' order), transforms, the second stage."""

    policies: tuple[str, ...] = tuple(POLICIES)
    kinds: tuple[str, ...] = tuple(TRANSFORMS)
    stage2: bool = True


def half_of(path: Path) -> str:
    """The stable half a file belongs to: even first byte of sha256(name) tune, odd held-out."""
    return ("tune", "held-out")[hashlib.sha256(path.name.encode()).digest()[0] % 2]


def _use_fillers(paths: list[Path]) -> None:
    """Once per worker process: the other photos of collages and picture in picture."""
    FILLERS.use(paths)


# -- hashing (in worker processes) -----------------------------------------------------


def _query(image: Image.Image, sel: Selection) -> Query:
    codes: dict[str, list[bytes] | None] = {}
    seconds: dict[str, float] = {}
    forms: list[list[bytes]] = []
    for name in sel.policies:
        policy = POLICIES[name]
        start = time.perf_counter()
        try:
            if policy is None:
                codes[name] = [PDQ_ALGORITHM.compute(image).value]
            else:
                groups = policy.query_groups(image)
                codes[name] = [h.value for group in groups for h in group]
                if policy is DEFAULT_POLICY and sel.stage2:
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


def process(path: Path, seed: int, sel: Selection) -> ImageResult:
    result = ImageResult(path)
    try:
        canonical = load_image(path)
        for name in sel.policies:
            policy = POLICIES[name]
            if policy is None:
                result.submitted[name] = [PDQ_ALGORITHM.compute(canonical).value]
            else:
                result.submitted[name] = [h.value for h in policy.submission_hashes(canonical)]
        if sel.stage2:
            trimmed = trim_borders(canonical)
            result.second = {k: a.compute(trimmed).value for k, a in SECOND_HASHES.items()}
        result.original = _query(canonical, sel)
    except HashingError as exc:
        result.error = str(exc)
        return result
    with Image.open(path) as raw:
        source = ImageOps.exif_transpose(raw).convert("RGB")
    for name in sel.kinds:
        rng = random.Random(f"{seed}/{path.name}/{name}")
        data = TRANSFORMS[name](source, rng)
        start = time.perf_counter()
        try:
            image = load_image(data)
        except HashingError:
            result.copies[name] = Query(dict.fromkeys(sel.policies), {})
            continue
        result.decode_seconds += time.perf_counter() - start
        result.copies[name] = _query(image, sel)
    return result


def _process_args(args: tuple[Path, int, Selection]) -> ImageResult:
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


def evaluate(
    results: list[ImageResult], sel: Selection
) -> tuple[dict[str, PolicyStats], SecondStage | None]:
    ok = [r for r in results if r.error is None]
    stats: dict[str, PolicyStats] = {}
    stage2: SecondStage | None = None
    for name in sel.policies:
        policy = POLICIES[name]
        rule = policy or POLICIES["dihedral"]  # the baseline matches alike; its query is 1 hash
        assert rule is not None
        st = stats[name] = PolicyStats()
        run = _Run(rule, st, ok, name)
        if policy is DEFAULT_POLICY and sel.stage2:
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
    if stage2 is None:
        return stats, None
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
    stage2: SecondStage | None,
    sel: Selection,
    half: str = "all",
) -> str:
    ok = [r for r in results if r.error is None]
    n = len(ok)
    sizes = sorted({Image.open(r.path).size for r in ok[:50]})
    megapixels = [Image.open(r.path).size[0] * Image.open(r.path).size[1] / 1e6 for r in ok]
    lines = [
        f"### {name}",
        "",
        f"`{folder}`"
        + ("" if half == "all" else f", {half} half")
        + f": {len(results)} images, {n} hashable"
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
    ]
    default = stats.get(DEFAULT_POLICY.name)
    extra = (["+stage2"] if stage2 is not None else []) + (
        [f"{DEFAULT_POLICY.name} misses within {WIDE}"] if default is not None else []
    )
    columns = [*sel.policies, *extra]
    lines += [
        "| transform | target | " + " | ".join(columns) + " |",
        "|---|---|" + "---|" * len(columns),
    ]
    for t in sel.kinds:
        target = TARGETS.get(t)
        cells = []
        for p in sel.policies:
            row = stats[p].rows[t]
            cell = _pct(row)
            if p == DEFAULT_POLICY.name and target is not None:
                cell = f"**{cell}**" + ("" if row.found >= target * row.total else " ✗")
            cells.append(cell)
        if stage2 is not None:
            cells.append(_pct(stage2.stats[STAGE2].rows[t]))
        if default is not None:
            cells.append(str(default.rows[t].near_misses))
        unhashable = (default or next(iter(stats.values()))).rows[t].unhashable
        note = f" ({unhashable} unhashable)" if unhashable else ""
        lines.append(
            f"| {t}{note} | {f'≥ {target:.0%}' if target else 'report'} | "
            + " | ".join(cells)
            + " |"
        )
    pairs = n * (n - 1) // 2
    copies = sum(len(r.copies) for r in ok)
    cross = copies * (n - 1)
    lines += [
        "",
        f"False matches: {pairs:,} distinct pairs of originals (each queried both ways), and "
        f"{copies:,} copies x {n - 1} other originals = {cross:,} cross-image (copy, original) pairs.",
        "",
        "| | " + " | ".join(sel.policies) + " |",
        "|---|" + "---|" * len(sel.policies),
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
    if default is not None:
        lines += _unmet_report(default)
    if stage2 is not None:
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
        t
        for t, target in TARGETS.items()
        if default.rows[t].total and default.rows[t].found < target * default.rows[t].total
    ]
    if not unmet:
        return ["", f"Every target measured is met by `{DEFAULT_POLICY.name}` on this set."]
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


def _names(text: str, known: list[str], what: str) -> list[str]:
    """A comma list of known names; a name may hold a comma itself ("screenshot, cropped")."""
    names, pending = [], ""
    for part in text.split(","):
        pending = f"{pending},{part}" if pending else part
        if pending.strip() in known:
            names.append(pending.strip())
            pending = ""
    if pending.strip() or not names:
        raise SystemExit(f"error: unknown {what} {pending.strip()!r}; known: {', '.join(known)}")
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dirs", nargs="+", type=Path)
    parser.add_argument("--limit", type=int, default=0, help="first N images of each folder")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=None, help="markdown file to update")
    parser.add_argument("--half", choices=HALVES, default="all", help="sha256(name) parity split")
    parser.add_argument("--policies", default="", help="comma list of rows (+stage2 too)")
    parser.add_argument("--kinds", default="", help="comma list of transforms")
    parser.add_argument("--fillers", type=Path, default=FILLERS_DIR, help="other photos")
    args = parser.parse_args()
    sel = Selection()
    if args.policies:
        names = _names(args.policies, [*POLICIES, "+stage2"], "policy")
        if "+stage2" in names and DEFAULT_POLICY.name not in names:
            raise SystemExit(f"error: +stage2 is measured on {DEFAULT_POLICY.name}: name it too")
        rows = tuple(p for p in POLICIES if p in names)
        sel = Selection(rows, sel.kinds, "+stage2" in names)
    if args.kinds:
        kinds = _names(args.kinds, list(TRANSFORMS), "kind")
        sel = Selection(sel.policies, tuple(t for t in TRANSFORMS if t in kinds), sel.stage2)
    fillers = find_images([args.fillers]) if args.fillers.is_dir() else []
    if not fillers:
        print(f"error: no filler photos in {args.fillers} (--fillers)", file=sys.stderr)
        return 1
    if any(folder.resolve() == args.fillers.resolve() for folder in args.dirs):
        print("error: --fillers is a set being measured; pass another folder", file=sys.stderr)
        return 1

    options = (
        (f" --limit {args.limit}" if args.limit else "")
        + f" --seed {args.seed}"
        + (f" --half {args.half}" if args.half != "all" else "")
        + (f" --policies {args.policies}" if args.policies else "")
        + (f" --kinds '{args.kinds}'" if args.kinds else "")
        + (f" --fillers {args.fillers}" if args.fillers != FILLERS_DIR else "")
    )
    half = {
        "all": "both halves of each set",
        "tune": "the tuning half of each set (even first byte of sha256 of the file name)",
        "held-out": "the held-out half of each set (odd first byte of sha256 of the file name)",
    }[args.half]
    header = (
        f"Generated by `scripts/bench_accuracy.py {' '.join(str(d) for d in args.dirs)}"
        + options
        + f"` on {platform.machine()}, Python {platform.python_version()}; measured: {half}, "
        f"other photos of collages and picture in picture from `{args.fillers.resolve().name}`. "
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
    print(header)
    sections = []
    for folder in args.dirs:
        paths = find_images([folder])
        if args.half != "all":
            paths = [p for p in paths if half_of(p) == args.half]
        if args.limit:
            paths = paths[: args.limit]
        if not paths:
            print(f"error: no images in {folder}", file=sys.stderr)
            return 1
        start = time.perf_counter()
        work = [(p, args.seed, sel) for p in paths]
        if args.jobs > 1:
            with ProcessPoolExecutor(
                args.jobs, initializer=_use_fillers, initargs=(fillers,)
            ) as pool:
                results = list(pool.map(_process_args, work, chunksize=1))
        else:
            _use_fillers(fillers)
            results = [_process_args(w) for w in work]
        stats, stage2 = evaluate(results, sel)
        name = folder.resolve().name
        section = report(name, folder, results, stats, stage2, sel, args.half)
        print(section)
        print(f"({name}: {time.perf_counter() - start:.0f} s)", file=sys.stderr)
        sections.append(section)

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
