"""Accuracy benchmark: recall on transformed copies and false matches, baseline against policy.

For every photo in each DIR, makes seeded, deterministic transformed copies
(re-encodes, resizes, colour changes, caption, watermark, a re-share chain,
rotations and flips, crops, padding, screenshots) and runs the real pipeline:

* survivor side: `hashing.load_image` + `hashing.policy` submission hashes of
  each original, stored in the service's own `IndexSet` (the `index` package);
* platform side: each copy encoded to a file, decoded by `load_image`, hashed
  with the policy's query hashes;
* service side: `service.matching.policy_search` (the Matcher's search and the
  policy's accept rule).

False matches: every original queried against the other originals (all
distinct pairs), and every transformed copy against every other original.
The baseline (plain PDQ <= 31, the original's hash against the copy's, no
rotations or flips) is computed in the same run, as are the policy's parts
one by one (what each adds and costs).

    .venv/bin/python scripts/bench_accuracy.py DIR... [--limit N] [--seed S] [--out docs/accuracy.md]

The report goes to stdout and between the markers in `--out` (the rest of that
file, the hand-written part, is kept).
"""

import argparse
import io
import math
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

from hashing import PDQ_ALGORITHM, HashingError, load_image
from hashing.files import find_images
from hashing.policy import DEFAULT_POLICY, MatchPolicy
from index import IndexConfig
from service.indexes import IndexSet
from service.matching import policy_search

BEGIN, END = "<!-- bench_accuracy:begin -->", "<!-- bench_accuracy:end -->"
WIDE = 64  # radius of the extra search that measures margins (closest unrelated distance)

# The rows of the comparison: the baseline first, the default policy last.
POLICIES: dict[str, MatchPolicy | None] = {
    "baseline": None,  # plain PDQ <= 31, no dihedral
    "dihedral": MatchPolicy(name="dihedral", trim=False, crop_scales=(), query_crop_scales=()),
    "+trim": MatchPolicy(name="+trim", trim=True, crop_scales=(), query_crop_scales=()),
    "+crops": MatchPolicy(name="+crops", query_crop_scales=()),
    DEFAULT_POLICY.name: DEFAULT_POLICY,
}

CAPTIONS = (
    "guess who this is",
    "she won't see this lol",
    "found this one",
    "repost if you know her",
    "throwback",
    "no way this is real",
)
HANDLES = ("@repost_daily", "@hotpics_4821", "SHARED BY ANON", "@leakzone", "@the_archive")


# -- transforms ------------------------------------------------------------------------


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _jpeg(image: Image.Image, quality: int = 90) -> bytes:
    return _encode(image, "JPEG", quality=quality)


def _png(image: Image.Image) -> bytes:
    return _encode(image, "PNG", compress_level=1)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(10, size))


def _resize(image: Image.Image, scale: float) -> Image.Image:
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _caption(image: Image.Image, rng: random.Random) -> Image.Image:
    out = image.copy()
    draw = ImageDraw.Draw(out)
    text = rng.choice(CAPTIONS)
    size = max(12, image.height // 12)
    font = _font(size)
    while draw.textlength(text, font=font) > image.width * 0.9 and size > 10:
        size -= 2
        font = _font(size)
    width = draw.textlength(text, font=font)
    y = image.height * 0.04 if rng.random() < 0.5 else image.height * 0.96 - size
    draw.text(
        ((image.width - width) / 2, y),
        text,
        font=font,
        fill="white",
        stroke_width=max(1, size // 12),
        stroke_fill="black",
    )
    return out


def _watermark(image: Image.Image, rng: random.Random) -> Image.Image:
    text = rng.choice(HANDLES)
    diagonal = int(math.hypot(image.width, image.height))
    font = _font(int(min(image.size) / 6))
    layer = Image.new("RGBA", (diagonal, diagonal), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    width = draw.textlength(text, font=font)
    draw.text(((diagonal - width) / 2, diagonal / 2), text, font=font, fill=(255, 255, 255, 96))
    angle = math.degrees(math.atan2(image.height, image.width))
    layer = layer.rotate(angle, Image.Resampling.BICUBIC)
    left, top = (diagonal - image.width) // 2, (diagonal - image.height) // 2
    layer = layer.crop((left, top, left + image.width, top + image.height))
    return Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")


def _hue(image: Image.Image, rng: random.Random) -> Image.Image:
    shift = round(rng.uniform(20, 40) / 360 * 256) * rng.choice((1, -1))
    h, s, v = image.convert("HSV").split()
    h = h.point(lambda x: (x + shift) % 256)
    return Image.merge("HSV", (h, s, v)).convert("RGB")


def _crop(image: Image.Image, fraction: float) -> Image.Image:
    dx, dy = round(image.width * fraction), round(image.height * fraction)
    return image.crop((dx, dy, image.width - dx, image.height - dy))


def _uneven_crop(image: Image.Image, rng: random.Random) -> Image.Image:
    w, h = image.size
    left, right = (round(w * rng.uniform(0, 0.1)) for _ in range(2))
    top, bottom = (round(h * rng.uniform(0, 0.1)) for _ in range(2))
    return image.crop((left, top, w - right, h - bottom))


def _pad(image: Image.Image, rng: random.Random) -> Image.Image:
    colour = rng.choice([(255, 255, 255), (0, 0, 0), tuple(rng.randrange(256) for _ in range(3))])
    dx, dy = round(image.width * 0.1), round(image.height * 0.1)
    out = Image.new("RGB", (image.width + 2 * dx, image.height + 2 * dy), colour)
    out.paste(image, (dx, dy))
    return out


def _reshare(image: Image.Image, rng: random.Random) -> bytes:
    out = _resize(image, 0.7)
    out = ImageEnhance.Color(out).enhance(1.3)
    out = ImageEnhance.Contrast(out).enhance(1.1)
    return _jpeg(_caption(out, rng), 60)


SCREEN_W, SCREEN_H = 1170, 2532


def _screen_image(image: Image.Image, rng: random.Random, max_h: int) -> Image.Image:
    """The image as an app shows it: fit to the screen width (or height), resampled, a bit off."""
    scale = min(SCREEN_W / image.width, max_h / image.height)
    w = round(image.width * scale * (1 + rng.uniform(-0.02, 0.0)))
    h = round(image.height * scale * (1 + rng.uniform(-0.02, 0.0)))
    return image.resize((w, h), Image.Resampling.BILINEAR)


def _screenshot_cropped(image: Image.Image, rng: random.Random) -> bytes:
    shown = _screen_image(image, rng, SCREEN_H - 600)
    background = (250, 250, 250) if rng.random() < 0.5 else (18, 18, 18)
    canvas = Image.new("RGB", (shown.width + 20, shown.height + 20), background)
    canvas.paste(shown, (10, 10))
    # The survivor's or abuser's crop to the picture is off by a few pixels either way.
    left, top, right, bottom = (rng.randint(-3, 3) for _ in range(4))
    return _png(
        canvas.crop((10 + left, 10 + top, 10 + shown.width - right, 10 + shown.height - bottom))
    )


def _phone_screenshot(image: Image.Image, rng: random.Random) -> bytes:
    dark = rng.random() < 0.5
    bg, fg, grey = (
        ((0, 0, 0), (245, 245, 245), (120, 120, 120))
        if dark
        else (
            (255, 255, 255),
            (20, 20, 20),
            (140, 140, 140),
        )
    )
    canvas = Image.new("RGB", (SCREEN_W, SCREEN_H), bg)
    draw = ImageDraw.Draw(canvas)
    # Status bar: time, signal, battery.
    draw.text((70, 40), f"{rng.randint(7, 23)}:{rng.randint(0, 59):02d}", font=_font(48), fill=fg)
    for i in range(4):
        draw.rectangle((900 + i * 22, 90 - i * 12 - 12, 914 + i * 22, 90), fill=fg)
    draw.rounded_rectangle((1010, 50, 1100, 92), radius=10, outline=fg, width=4)
    draw.rectangle((1016, 56, 1016 + rng.randint(20, 78), 86), fill=fg)
    # Toolbar: back arrow, account name, menu.
    draw.line((60, 215, 95, 180, 60, 215, 95, 250), fill=fg, width=8)
    draw.ellipse((140, 165, 240, 265), fill=tuple(rng.randrange(256) for _ in range(3)))
    draw.text((270, 185), rng.choice(HANDLES).lstrip("@"), font=_font(50), fill=fg)
    for i in range(3):
        draw.ellipse((1080, 185 + i * 25, 1094, 199 + i * 25), fill=fg)
    top = 320
    shown = _screen_image(image, rng, 1650)
    canvas.paste(shown, ((SCREEN_W - shown.width) // 2, top))
    y = top + shown.height + 30
    # Action buttons, likes, caption, comments.
    draw.ellipse((60, y, 140, y + 80), outline=fg, width=7)
    draw.rounded_rectangle((190, y, 270, y + 80), radius=30, outline=fg, width=7)
    draw.polygon((320, y + 80, 400, y + 40, 320, y), outline=fg, width=7)
    draw.rectangle((1030, y, 1100, y + 80), outline=fg, width=7)
    y += 120
    draw.text((60, y), f"{rng.randint(12, 9000):,} likes", font=_font(44), fill=fg)
    y += 70
    draw.text((60, y), rng.choice(CAPTIONS), font=_font(44), fill=fg)
    y += 70
    draw.text((60, y), f"View all {rng.randint(3, 400)} comments", font=_font(40), fill=grey)
    # Navigation bar.
    draw.line((0, SCREEN_H - 200, SCREEN_W, SCREEN_H - 200), fill=grey, width=2)
    for i in range(5):
        x = 110 + i * 237
        draw.rounded_rectangle(
            (x - 35, SCREEN_H - 160, x + 35, SCREEN_H - 90), radius=12, outline=fg, width=6
        )
    draw.rounded_rectangle(
        (SCREEN_W // 2 - 200, SCREEN_H - 30, SCREEN_W // 2 + 200, SCREEN_H - 18), radius=6, fill=fg
    )
    return _png(canvas)


Transform = Callable[[Image.Image, random.Random], bytes]

TRANSFORMS: dict[str, Transform] = {
    "JPEG q30": lambda im, _: _jpeg(im, 30),
    "WebP q50": lambda im, _: _encode(im, "WEBP", quality=50),
    "resize 50%": lambda im, _: _jpeg(_resize(im, 0.5)),
    "resize 25%": lambda im, _: _jpeg(_resize(im, 0.25)),
    "grayscale": lambda im, _: _jpeg(im.convert("L")),
    "brightness +30%": lambda im, _: _jpeg(ImageEnhance.Brightness(im).enhance(1.3)),
    "hue shift 20-40°": lambda im, rng: _jpeg(_hue(im, rng)),
    "caption": lambda im, rng: _jpeg(_caption(im, rng)),
    "watermark": lambda im, rng: _jpeg(_watermark(im, rng)),
    "re-share chain": _reshare,
    "rotate 90°": lambda im, _: _jpeg(im.transpose(Image.Transpose.ROTATE_90)),
    "flip": lambda im, _: _jpeg(im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
    "rotate 5°": lambda im, rng: _jpeg(
        im.rotate(5 * rng.choice((1, -1)), Image.Resampling.BICUBIC, fillcolor=(0, 0, 0))
    ),
    "crop 5% each side": lambda im, _: _jpeg(_crop(im, 0.05)),
    "crop 10% each side": lambda im, _: _jpeg(_crop(im, 0.10)),
    "crop 0-10% uneven": lambda im, rng: _jpeg(_uneven_crop(im, rng)),
    "pad 10%": lambda im, rng: _jpeg(_pad(im, rng)),
    "screenshot, cropped": _screenshot_cropped,
    "phone screenshot": _phone_screenshot,
}

# What "Done when" asks of each transform (recall); others are reported as they are.
TARGETS = {
    **dict.fromkeys(
        [
            *("JPEG q30", "WebP q50", "resize 50%", "grayscale", "brightness +30%"),
            *("hue shift 20-40°", "rotate 90°", "flip"),
        ],
        0.99,
    ),
    **dict.fromkeys(
        [
            *("caption", "watermark", "re-share chain", "pad 10%", "crop 5% each side"),
            "screenshot, cropped",
        ],
        0.95,
    ),
}


# -- hashing (in worker processes) -----------------------------------------------------


@dataclass
class Query:
    """One image as a platform hashes it: codes per policy row (None: not hashable)."""

    codes: dict[str, list[bytes] | None]
    hash_seconds: dict[str, float]


def _query(image: Image.Image) -> Query:
    codes: dict[str, list[bytes] | None] = {}
    seconds: dict[str, float] = {}
    for name, policy in POLICIES.items():
        start = time.perf_counter()
        try:
            if policy is None:
                codes[name] = [PDQ_ALGORITHM.compute(image).value]
            else:
                codes[name] = [h.value for h in policy.query_hashes(image)]
        except HashingError:
            codes[name] = None
        seconds[name] = time.perf_counter() - start
    return Query(codes, seconds)


@dataclass
class ImageResult:
    path: Path
    submitted: dict[str, list[bytes]] = field(default_factory=dict)  # empty: not hashable
    original: Query | None = None
    copies: dict[str, Query] = field(default_factory=dict)
    decode_seconds: float = 0.0
    error: str | None = None


def process(path: Path, seed: int) -> ImageResult:
    result = ImageResult(path)
    try:
        canonical = load_image(path)
        for name, policy in POLICIES.items():
            if policy is None:
                result.submitted[name] = [PDQ_ALGORITHM.compute(canonical).value]
            else:
                result.submitted[name] = [h.value for h in policy.submission_hashes(canonical)]
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


@dataclass
class Row:
    found: int = 0
    total: int = 0
    unhashable: int = 0
    near_misses: int = 0  # missed, but own original within WIDE


@dataclass
class PolicyStats:
    rows: dict[str, Row] = field(default_factory=lambda: {t: Row() for t in TRANSFORMS})
    stored: int = 0
    original_pairs: set[tuple[int, int]] = field(default_factory=set)
    cross_false: int = 0  # (copy, other original) pairs that matched
    cross_false_queries: int = 0  # copies that matched at least one other original
    closest_unrelated: int = WIDE + 1
    query_hashes: int = 0
    queries: int = 0
    hash_seconds: float = 0.0
    search_seconds: float = 0.0
    examples: list[str] = field(default_factory=list)


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
        (best,) = policy_search(self.index, [codes], self.rule)
        self.stats.search_seconds += time.perf_counter() - start
        self.stats.queries += 1
        self.stats.query_hashes += len(codes)
        return {self.owner[i] for i in best}

    def closest(self, codes: list[bytes], me: int) -> tuple[int, int]:
        """Closest distance to the image's own stored hashes, and to any other image's."""
        (wide,) = self.index.search(self.rule.algorithm, [codes], WIDE)
        own = min((d for i, d in wide.items() if self.owner[i] == me), default=WIDE + 1)
        other = min((d for i, d in wide.items() if self.owner[i] != me), default=WIDE + 1)
        return own, other


def evaluate(results: list[ImageResult]) -> dict[str, PolicyStats]:
    ok = [r for r in results if r.error is None]
    stats: dict[str, PolicyStats] = {}
    for name, policy in POLICIES.items():
        rule = policy or MatchPolicy(
            name="baseline", trim=False, crop_scales=(), query_crop_scales=()
        )
        st = stats[name] = PolicyStats()
        run = _Run(rule, st, ok, name)
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
    return stats


# -- report ---------------------------------------------------------------------------


def _pct(row: Row) -> str:
    return f"{100 * row.found / row.total:.1f}%" if row.total else "-"


def report(
    name: str, folder: Path, results: list[ImageResult], stats: dict[str, PolicyStats]
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
        + f" | {DEFAULT_POLICY.name} misses within {WIDE} |",
        "|---|---|" + "---|" * (len(POLICIES) + 1),
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
    examples = [e for s in stats.values() for e in s.examples]
    if examples:
        lines += [
            "",
            "False matches found (worth a look: near-duplicates in the set are not errors):",
            "",
        ]
        lines += [f"- {e}" for e in sorted(set(examples))[:30]]
    return "\n".join(lines) + "\n"


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
        stats = evaluate(results)
        name = folder.resolve().name
        section = report(name, folder, results, stats)
        print(section)
        print(f"({name}: {time.perf_counter() - start:.0f} s)", file=sys.stderr)
        sections.append(section)

    header = (
        f"Generated by `scripts/bench_accuracy.py {' '.join(str(d) for d in args.dirs)}"
        + (f" --limit {args.limit}" if args.limit else "")
        + f" --seed {args.seed}` on {platform.machine()}, Python {platform.python_version()}. "
        "Rows: `baseline` plain PDQ ≤ 31 without rotations/flips; `dihedral` the 8 dihedral "
        "query hashes; `+trim` also border trimming; "
        f"`{DEFAULT_POLICY.name}` the default policy (`hashing/policy.py`: trim, centre crops at "
        f"{', '.join(f'{s:.0%}' for s in DEFAULT_POLICY.crop_scales) or 'none'}, threshold "
        f"{DEFAULT_POLICY.threshold}). ✗ marks a target not met.\n"
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
