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
one by one (what each adds and costs), and second-stage rules on top of the
default policy (`Stage2`: accept a best distance above its threshold, up to T2,
only on independent evidence; not in the service), with their margins.

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
from hashing.forms import trim_borders
from hashing.imagehashes import DHASH, PHASH
from hashing.pdq import DIHEDRAL_TRANSPOSES
from hashing.policy import DEFAULT_POLICY, MatchPolicy
from index import IndexConfig
from service.indexes import IndexSet
from service.matching import policy_search

BEGIN, END = "<!-- bench_accuracy:begin -->", "<!-- bench_accuracy:end -->"
WIDE = 64  # radius of the extra search that measures margins (closest unrelated distance)

# The rows of the comparison: the baseline first, the default policy last.
POLICIES: dict[str, MatchPolicy | None] = {
    "baseline": None,  # plain PDQ <= 31, no dihedral
    # Each row adds one part of the default policy to the row before it.
    "dihedral": MatchPolicy(
        name="dihedral",
        trim=False,
        crop_scales=(),
        query_crop_scales=(),
        forms=False,
        block=False,
        reduced=False,
    ),
    "+trim": MatchPolicy(
        name="+trim",
        crop_scales=(),
        query_crop_scales=(),
        forms=False,
        block=False,
        reduced=False,
    ),
    "+crops": MatchPolicy(name="+crops", forms=False, block=False, reduced=False),
    "+forms": MatchPolicy(name="+forms", reduced=False),
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


@dataclass(frozen=True)
class Stage2:
    """A second stage (benchmark only): accept best distances in (threshold, t2] on evidence.

    evidence "forms": at least two of the query's forms (as uploaded, trimmed, centre crop;
    each as its 8 dihedral hashes) each come within t2 of a stored hash of the same image.
    evidence "phash" / "dhash": that 64-bit hash of the query's trimmed image, in the
    orientation of the best PDQ hash, is within `tight` of the one stored for the image
    (the survivor submits it too: +1 hash per image). None: t2 alone, no evidence (reference).
    """

    t2: int
    evidence: str | None
    tight: int = 0

    @property
    def name(self) -> str:
        rule = {None: "no evidence", "forms": "two forms agree"}.get(
            self.evidence, f"{self.evidence} ≤ {self.tight}"
        )
        return f"≤ {self.t2}, {rule}"


STAGE2_GRID = [
    Stage2(t2, evidence, tight)
    for t2 in (40, 44, 48)
    for evidence, tight in (
        (None, 0),
        ("forms", 0),
        ("phash", 8),
        ("phash", 10),
        ("dhash", 8),
        ("dhash", 10),
    )
]
STAGE2 = Stage2(48, "phash", 8)  # the `+stage2` column
SECOND_HASHES = {"phash": PHASH, "dhash": DHASH}


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
    """One image as a platform hashes it: codes per policy row (None: not hashable).

    For the second stage: the default policy's hashes by form, and the 64-bit hashes of
    the trimmed image in each dihedral orientation (`DIHEDRAL_TRANSPOSES`), with their time.
    """

    codes: dict[str, list[bytes] | None]
    hash_seconds: dict[str, float]
    forms: list[list[bytes]] = field(default_factory=list)
    second: dict[str, list[bytes]] = field(default_factory=dict)


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


@dataclass
class ImageResult:
    path: Path
    submitted: dict[str, list[bytes]] = field(default_factory=dict)  # empty: not hashable
    second: dict[str, bytes] = field(default_factory=dict)  # 64-bit hashes of the trimmed image
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
    # Copies missed: (transform, image, distance to their own original; None: unhashable).
    misses: list[tuple[str, str, int | None]] = field(default_factory=list)


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


@dataclass
class Stage2Stats:
    """One second-stage rule's recall and false matches (on the default policy's index)."""

    rows: dict[str, Row] = field(default_factory=lambda: {t: Row() for t in TRANSFORMS})
    original_pairs: set[tuple[int, int]] = field(default_factory=set)
    cross_false: int = 0


@dataclass
class Stage2Margins:
    """Over all unrelated (query, original) pairs: how close each kind of evidence came."""

    pdq: int = WIDE + 1  # best PDQ distance
    second_form: int = WIDE + 1  # the second-best form's distance ("two forms agree" needs <= t2)
    evidence: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SECOND_HASHES, 64))
    evidence_pdq: dict[tuple[str, int], int] = field(default_factory=dict)  # pdq where ev <= tight
    evidence_pairs: dict[tuple[str, int], int] = field(
        default_factory=dict
    )  # pairs with ev <= tight
    pairs: int = 0
    check_seconds: float = 0.0
    checks: int = 0


def _bits(codes: list[bytes], size: int) -> np.ndarray:
    return np.unpackbits(np.frombuffer(b"".join(codes), np.uint8).reshape(-1, size), axis=1)


class _Stage2:
    """The second stage over the default policy's run: per query, what each image scores."""

    def __init__(self, run: _Run, ok: list[ImageResult]):
        self.run, self.n = run, len(ok)
        self.owner = np.asarray(run.owner)
        self.starts = np.searchsorted(self.owner, np.arange(self.n))
        stored = [c for r in ok for c in r.submitted[DEFAULT_POLICY.name]]
        bits = _bits(stored, 32).astype(np.float32)
        self.stored, self.stored_neg = bits.T.copy(), (1 - bits).T.copy()
        self.second = {k: _bits([r.second[k] for r in ok], 8) for k in SECOND_HASHES}
        self.stats = {rule: Stage2Stats() for rule in STAGE2_GRID}
        self.margins = Stage2Margins()

    def _scores(self, query: Query) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Per image: best PDQ distance, second-best form's distance, 64-bit hash distances."""
        start = time.perf_counter()
        per_form = self.run.index.search(DEFAULT_POLICY.algorithm, query.forms, WIDE)
        form_d = np.full((max(2, len(per_form)), self.n), WIDE + 1)
        for g, found in enumerate(per_form):
            for i, d in found.items():
                o = self.run.owner[i]
                form_d[g, o] = min(form_d[g, o], d)
        form_d.sort(axis=0)
        # Orientation of the best PDQ hash per image (query rows are forms x 8 dihedral).
        q = _bits([c for form in query.forms for c in form], 32).astype(np.float32)
        distances = q @ self.stored_neg + (1 - q) @ self.stored
        rows, mins = distances.argmin(axis=0), distances.min(axis=0)
        order = np.lexsort((mins, self.owner))
        orient = rows[order[self.starts]] % 8
        evidence = {}
        for key, stored in self.second.items():
            mine = _bits(query.second[key], 8)[orient]
            evidence[key] = (mine != stored).sum(axis=1)
        self.margins.check_seconds += time.perf_counter() - start
        self.margins.checks += 1
        return form_d[0], form_d[1], evidence

    def _accepted(
        self, rule: Stage2, best: np.ndarray, second: np.ndarray, evidence: dict[str, np.ndarray]
    ) -> np.ndarray:
        if rule.evidence is None:
            agree = np.ones(self.n, dtype=bool)
        elif rule.evidence == "forms":
            agree = second <= rule.t2
        else:
            agree = evidence[rule.evidence] <= rule.tight
        return (best <= DEFAULT_POLICY.threshold) | ((best <= rule.t2) & agree)

    def add(self, query: Query, me: int, transform: str | None) -> None:
        """One query (an original when transform is None, else a copy of image `me`)."""
        best, second, evidence = self._scores(query)
        other = np.arange(self.n) != me
        m = self.margins
        m.pairs += self.n - 1
        m.pdq = min(m.pdq, int(best[other].min()))
        m.second_form = min(m.second_form, int(second[other].min()))
        for key, ev in evidence.items():
            m.evidence[key] = min(m.evidence[key], int(ev[other].min()))
            for tight in sorted({r.tight for r in STAGE2_GRID if r.evidence == key}):
                close = other & (ev <= tight)
                m.evidence_pairs[key, tight] = m.evidence_pairs.get((key, tight), 0) + int(
                    close.sum()
                )
                nearest = int(best[close].min()) if close.any() else WIDE + 1
                m.evidence_pdq[key, tight] = min(
                    m.evidence_pdq.get((key, tight), WIDE + 1), nearest
                )
        for rule, st in self.stats.items():
            accepted = self._accepted(rule, best, second, evidence)
            false = np.flatnonzero(accepted & other).tolist()
            if transform is None:
                st.original_pairs.update((min(me, o), max(me, o)) for o in false)
            else:
                st.rows[transform].found += bool(accepted[me])
                st.cross_false += len(false)


def evaluate(results: list[ImageResult]) -> tuple[dict[str, PolicyStats], _Stage2]:
    ok = [r for r in results if r.error is None]
    stats: dict[str, PolicyStats] = {}
    stage2: _Stage2 | None = None
    for name, policy in POLICIES.items():
        rule = policy or POLICIES["dihedral"]  # the baseline matches alike; its query is 1 hash
        assert rule is not None
        st = stats[name] = PolicyStats()
        run = _Run(rule, st, ok, name)
        if policy is DEFAULT_POLICY:
            stage2 = _Stage2(run, ok)
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
    stage2: _Stage2,
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
    lines += ["", *_stage2_report(stage2, stats, ok, copies)]
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


def _stage2_report(
    stage2: _Stage2, stats: dict[str, PolicyStats], ok: list[ImageResult], copies: int
) -> list[str]:
    m = stage2.margins
    default = stats[DEFAULT_POLICY.name]
    base = sum(row.found for row in default.rows.values())
    targets = [t for t in TRANSFORMS if t in TARGETS]
    lines = [
        f"Second stage (benchmark only; `+stage2` above is `{STAGE2.name}`): a stored image whose "
        f"best distance is in ({DEFAULT_POLICY.threshold}, T2] is accepted only with the evidence "
        f"named. Copies found over `{DEFAULT_POLICY.name}` ({base:,} of {copies:,}):",
        "",
        "| rule | copies gained | targets met | false pairs of originals "
        "| false (copy, other original) pairs |",
        "|---|---|---|---|---|",
    ]
    for rule, st in stage2.stats.items():
        gained = sum(row.found for row in st.rows.values()) - base
        met = sum(st.rows[t].found >= TARGETS[t] * st.rows[t].total for t in targets)
        lines.append(
            f"| {rule.name} | +{gained} | {met} of {len(targets)} | {len(st.original_pairs)} "
            f"| {st.cross_false} |"
        )
    evidence = "; ".join(
        f"{key} ≤ {tight}: {count:,} pairs, closest PDQ among them "
        + (str(m.evidence_pdq[key, tight]) if m.evidence_pdq[key, tight] <= WIDE else f"> {WIDE}")
        for (key, tight), count in m.evidence_pairs.items()
    )
    per_query = dict.fromkeys(SECOND_HASHES, 0.0)
    for r in ok:
        for q in r.copies.values():
            for k in per_query:
                per_query[k] += q.hash_seconds.get(k, 0.0)
    lines += [
        "",
        f"Margins over all {m.pairs:,} unrelated (query, original) pairs: closest best PDQ "
        + (str(m.pdq) if m.pdq <= WIDE else f"> {WIDE}")
        + ", closest second-best form "
        + (str(m.second_form) if m.second_form <= WIDE else f"> {WIDE}")
        + "; closest 64-bit hash in the best PDQ orientation: "
        + ", ".join(f"{k} {d}" for k, d in m.evidence.items())
        + f" ({evidence}).",
        "",
        "Cost: `two forms agree` needs nothing more from clients (the query's forms are sent "
        "already) but the service must group an image's stored hashes; pHash/dHash add 1 stored "
        "64-bit hash per image and 8 query hashes (one per orientation), hashing them took "
        + ", ".join(f"{k} {1000 * v / max(1, copies):.2f} ms" for k, v in per_query.items())
        + " per query; the benchmark's per-form search and evidence check took "
        f"{1e6 * m.check_seconds / max(1, m.checks):.0f} µs per query.",
    ]
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
        f"{', '.join(f'{s:.0%}' for s in DEFAULT_POLICY.crop_scales)}, queried at "
        f"{', '.join(f'{s:.0%}' for s in DEFAULT_POLICY.query_crop_scales)}); "
        "`+forms` also the caption band and eroded value forms and the queried content "
        f"block; `{DEFAULT_POLICY.name}` the default policy (`hashing/policy.py`): all of "
        "that plus the reduced form (the 64 x 64 area average), threshold "
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
