"""The re-poster's edits of issue 18, as transforms of the accuracy benchmark.

What a re-poster does to a picture before posting it again: a caption bar, a thick
"FAKE" label, a sticker, a patterned frame, a crop to a platform's aspect ratio or of
one side, a collage, the picture inside another photo, a small screenshot of an app,
a rotation up to 10°. Each draws all its parameters from the given `random.Random`,
per copy, and is encoded as JPEG (quality 75-95) except the screenshot (PNG, like
`phone screenshot`). `accuracy_transforms.py` merges `EDITS` and `EDIT_TARGETS` into
its `TRANSFORMS` and `TARGETS` (the uneven crop is its `crop 0-10% uneven`).

Collages and picture in picture take their other photos from `FILLERS`, which the
benchmark points at a folder that is not the set measured (a filler that is one of
its originals would make a true match look false) once per worker process.
"""

import math
import random
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from accuracy_drawing import CAPTIONS, app_screen, jpeg, load_font, png
from PIL import Image, ImageDraw, ImageOps

RGB = tuple[int, int, int]
Edit = Callable[[Image.Image, random.Random], Image.Image]
LABELS = ("FAKE", "AI GENERATED", "DEEPFAKE", "NOT REAL", "FAKE NEWS")
RATIOS = {"1:1": 1.0, "4:5": 4 / 5, "9:16": 9 / 16, "16:9": 16 / 9}
PATTERNS = ("stripes", "checker", "noise", "gradient")
ROTATIONS = ("fill", "expand", "zoom")
Cell = tuple[int, int, int, int]  # in grid units: left, top, right, bottom
# Collage layouts: (columns, rows, cells); one big and two small for 3 as well as a row.
LAYOUTS: tuple[tuple[int, int, tuple[Cell, ...]], ...] = (
    (2, 1, ((0, 0, 1, 1), (1, 0, 2, 1))),
    (1, 2, ((0, 0, 1, 1), (0, 1, 1, 2))),
    (3, 1, ((0, 0, 1, 1), (1, 0, 2, 1), (2, 0, 3, 1))),
    (1, 3, ((0, 0, 1, 1), (0, 1, 1, 2), (0, 2, 1, 3))),
    (3, 2, ((0, 0, 2, 2), (2, 0, 3, 1), (2, 1, 3, 2))),
    (2, 3, ((0, 0, 2, 2), (0, 2, 1, 3), (1, 2, 2, 3))),
    (2, 2, ((0, 0, 1, 1), (1, 0, 2, 1), (0, 1, 1, 2), (1, 1, 2, 2))),
)


class Fillers:
    """Other photos (collage panels, picture-in-picture backgrounds), one loaded per use."""

    def __init__(self, paths: Sequence[Path] = ()) -> None:
        self.paths = list(paths)

    def use(self, paths: Sequence[Path]) -> None:
        self.paths = list(paths)

    def pick(self, rng: random.Random) -> Image.Image:
        if not self.paths:
            raise RuntimeError("no filler photos: FILLERS.use(paths) first")
        with Image.open(self.paths[rng.randrange(len(self.paths))]) as raw:
            return ImageOps.exif_transpose(raw).convert("RGB")


FILLERS = Fillers()


def _colour(rng: random.Random) -> RGB:
    return (rng.randrange(256), rng.randrange(256), rng.randrange(256))


def _plain(rng: random.Random) -> RGB:
    """Black, white or a random colour."""
    return rng.choice(((0, 0, 0), (255, 255, 255), _colour(rng)))


def _contrasting(colour: RGB) -> RGB:
    luma = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]
    return (0, 0, 0) if luma > 128 else (255, 255, 255)


def caption_bar(image: Image.Image, rng: random.Random) -> Image.Image:
    """An opaque bar over the top or bottom 8-20% of the height, with a caption."""
    w, h = image.size
    height = max(2, round(h * rng.uniform(0.08, 0.20)))
    colour = _plain(rng)
    top = rng.random() < 0.5
    text = rng.choice(CAPTIONS)
    bar = Image.new("RGB", (w, height), colour)
    draw = ImageDraw.Draw(bar)
    size = max(10, round(height * rng.uniform(0.45, 0.75)))
    while size > 10 and draw.textlength(text, font=load_font(size)) > 0.95 * w:
        size -= 1
    font = load_font(size)
    left, up, right, down = draw.textbbox((0, 0), text, font=font)
    x = rng.uniform(0, max(0, w - (right - left))) - left
    draw.text((x, (height - (down - up)) / 2 - up), text, font=font, fill=_contrasting(colour))
    out = image.copy()
    out.paste(bar, (0, 0 if top else h - height))
    return out


def _label(text: str, size: int, stroke: float, fill: tuple[int, ...], angle: float) -> Image.Image:
    font, width = load_font(size), max(1, round(size * stroke))
    left, up, right, down = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox(
        (0, 0), text, font=font, stroke_width=width
    )
    clear = (*fill[:3], 0)
    label = Image.new("RGBA", (round(right - left), round(down - up)), clear)
    ImageDraw.Draw(label).text(
        (-left, -up), text, font=font, fill=fill, stroke_width=width, stroke_fill=fill
    )
    return label.rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor=clear)


def thick_label(image: Image.Image, rng: random.Random) -> Image.Image:
    """ "FAKE" and the like in thick strokes, straight or diagonal, over 40-90% of the width."""
    w, h = image.size
    text = rng.choice(LABELS)
    colour = rng.choice(((220, 20, 20), (255, 255, 255), (0, 0, 0), _colour(rng)))
    fill = (*colour, round(255 * rng.uniform(0.7, 1.0)))
    angle = 0.0 if rng.random() < 0.5 else rng.choice((-1, 1)) * rng.uniform(15, 45)
    stroke, span = rng.uniform(0.08, 0.15), rng.uniform(0.4, 0.9) * w
    cx, cy = w * (0.5 + rng.uniform(-0.15, 0.15)), h * (0.5 + rng.uniform(-0.15, 0.15))
    probe = _label(text, 100, stroke, fill, angle)  # its span scales with the font size
    label = _label(text, max(10, round(100 * span / probe.width)), stroke, fill, angle)
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    layer.paste(label, (round(cx - label.width / 2), round(cy - label.height / 2)))
    return Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")


def _outline(shape: str, rng: random.Random) -> np.ndarray:
    """A star's (5 or 6 points) or a heart's outline, (x, y) rows, turned at random."""
    if shape == "star":
        points, inner = rng.choice((5, 6)), rng.uniform(0.38, 0.55)
        t = np.arange(2 * points) * math.pi / points + rng.uniform(0, math.pi)
        r = np.where(np.arange(2 * points) % 2, inner, 1.0)
        return np.stack([r * np.cos(t), r * np.sin(t)], axis=1)
    t = np.linspace(0, 2 * math.pi, 72, endpoint=False)
    x = 16 * np.sin(t) ** 3
    y = 5 * np.cos(2 * t) + 2 * np.cos(3 * t) + np.cos(4 * t) - 13 * np.cos(t)
    tilt = math.radians(rng.uniform(-20, 20))
    c, s = math.cos(tilt), math.sin(tilt)
    return np.stack([x * c - y * s, x * s + y * c], axis=1)


def sticker(image: Image.Image, rng: random.Random) -> Image.Image:
    """An opaque disc, smiley, star or heart over 5-15% of the area, fully inside."""
    w, h = image.size
    area = rng.uniform(0.05, 0.15) * w * h
    shape = rng.choice(("disc", "face", "star", "heart"))
    colour = _colour(rng)
    if shape in ("disc", "face"):
        outline, unit = np.array([[-1.0, -1.0], [1.0, 1.0]]), math.pi  # a unit disc's box, area
    else:
        outline = _outline(shape, rng)
        x, y = outline.T
        unit = 0.5 * abs(float(x @ np.roll(y, 1) - y @ np.roll(x, 1)))  # the shoelace formula
    outline -= outline.min(axis=0)
    bw, bh = outline.max(axis=0)
    scale = min(math.sqrt(area / unit), (w - 1) / bw, (h - 1) / bh)
    left, top = rng.uniform(0, w - 1 - bw * scale), rng.uniform(0, h - 1 - bh * scale)
    placed = outline * scale + (left, top)
    out = image.copy()
    draw = ImageDraw.Draw(out)
    if shape in ("disc", "face"):
        draw.ellipse(tuple(placed.ravel()), fill=colour)
    else:
        draw.polygon([(float(px), float(py)) for px, py in placed], fill=colour)
    if shape == "face":  # two eyes and a smile, in the box's fractions
        ink, size = _contrasting(colour), bw * scale

        def box(x0: float, y0: float, x1: float, y1: float) -> tuple[float, ...]:
            return (left + x0 * size, top + y0 * size, left + x1 * size, top + y1 * size)

        draw.ellipse(box(0.34, 0.3, 0.42, 0.42), fill=ink)
        draw.ellipse(box(0.58, 0.3, 0.66, 0.42), fill=ink)
        draw.arc(box(0.28, 0.38, 0.72, 0.75), 20, 160, fill=ink, width=max(1, round(0.04 * size)))
    return out


def patterned_frame(image: Image.Image, rng: random.Random) -> Image.Image:
    """A frame of 4-12% of the shorter side around the picture: stripes, checker, noise or
    a gradient, in two clearly different random colours."""
    w, h = image.size
    border = max(2, round(min(w, h) * rng.uniform(0.04, 0.12)))
    pattern, period = rng.choice(PATTERNS), rng.randint(4, 40)
    a, b = _colour(rng), _colour(rng)
    while max(abs(p - q) for p, q in zip(a, b, strict=True)) < 96:
        b = _colour(rng)
    big_w, big_h = w + 2 * border, h + 2 * border
    ys, xs = np.mgrid[0:big_h, 0:big_w]
    if pattern == "stripes":
        along = rng.choice((xs, ys, xs + ys, xs - ys))
        t = ((along % period) < period / 2).astype(np.float64)
    elif pattern == "checker":
        t = ((xs // (period // 2) + ys // (period // 2)) % 2).astype(np.float64)
    elif pattern == "noise":
        block = rng.randint(1, 8)
        cells = np.random.default_rng(rng.getrandbits(64)).random(
            (big_h // block + 1, big_w // block + 1)
        )
        t = cells.repeat(block, 0).repeat(block, 1)[:big_h, :big_w]
    else:
        angle = rng.uniform(0, 2 * math.pi)
        along = xs * math.cos(angle) + ys * math.sin(angle)
        t = (along - along.min()) / max(1e-9, float(along.max() - along.min()))
    pixels = np.asarray(a, np.float64) + t[..., None] * (np.asarray(b, np.float64) - a)
    canvas = Image.fromarray(pixels.round().astype(np.uint8), "RGB")
    canvas.paste(image, (border, border))
    return canvas


def aspect_crop(image: Image.Image, rng: random.Random) -> Image.Image:
    """The largest crop to 1:1, 4:5, 9:16 or 16:9 (not within 5% of the picture's own)."""
    w, h = image.size
    ratio = RATIOS[rng.choice(list(RATIOS))]
    while abs(ratio / (w / h) - 1) < 0.05:
        ratio = RATIOS[rng.choice(list(RATIOS))]
    if ratio < w / h:
        cut = round(h * ratio)
        left = rng.randint(0, w - cut)
        return image.crop((left, 0, left + cut, h))
    cut = round(w / ratio)
    top = rng.randint(0, h - cut)
    return image.crop((0, top, w, top + cut))


def one_sided_crop(image: Image.Image, rng: random.Random) -> Image.Image:
    """One random side cut by 5-25%."""
    w, h = image.size
    side, fraction = rng.choice(("left", "top", "right", "bottom")), rng.uniform(0.05, 0.25)
    dx, dy = round(w * fraction), round(h * fraction)
    box = {"left": (dx, 0, w, h), "top": (0, dy, w, h), "right": (0, 0, w - dx, h)}
    return image.crop(box.get(side, (0, 0, w, h - dy)))


def collage(image: Image.Image, rng: random.Random) -> Image.Image:
    """2-4 panels, the picture in one of them, other photos (`FILLERS`) in the rest."""
    panels = rng.choice((2, 3, 4))
    cols, rows, cells = rng.choice([lay for lay in LAYOUTS if len(lay[2]) == panels])
    if rng.random() < 0.5:
        cells = tuple((cols - x1, y0, cols - x0, y1) for x0, y0, x1, y1 in cells)
    if rng.random() < 0.5:
        cells = tuple((x0, rows - y1, x1, rows - y0) for x0, y0, x1, y1 in cells)
    fill = rng.random() < 0.5  # cells of the picture's aspect, filled; else fit into cells
    unit = image.width / image.height if fill else rng.uniform(0.75, 4 / 3)
    long_side, colour = rng.randint(600, 1600), _plain(rng)
    gutter = round(long_side * rng.uniform(0.01, 0.04)) if rng.random() < 0.5 else 0
    if cols * unit >= rows:  # unit cells' size, for the long side asked
        uw = (long_side - (cols + 1) * gutter) / cols
    else:
        uw = (long_side - (rows + 1) * gutter) / rows * unit
    uh = uw / unit
    size = (round(cols * uw + (cols + 1) * gutter), round(rows * uh + (rows + 1) * gutter))
    canvas = Image.new("RGB", size, colour)
    mine = rng.randrange(panels)
    for i, (x0, y0, x1, y1) in enumerate(cells):
        left, top = round(gutter + x0 * (uw + gutter)), round(gutter + y0 * (uh + gutter))
        size = (round(x1 * (uw + gutter)) - left, round(y1 * (uh + gutter)) - top)
        photo = image if i == mine else FILLERS.pick(rng)
        if fill:
            canvas.paste(ImageOps.fit(photo, size, Image.Resampling.LANCZOS), (left, top))
        else:
            shown = ImageOps.contain(photo, size, Image.Resampling.LANCZOS)
            canvas.paste(
                shown, (left + (size[0] - shown.width) // 2, top + (size[1] - shown.height) // 2)
            )
    return canvas


def picture_in_picture(image: Image.Image, rng: random.Random) -> Image.Image:
    """The picture at 40-70% of another photo's width, anywhere fully inside it."""
    fraction, filler = rng.uniform(0.4, 0.7), FILLERS.pick(rng)
    w, h = image.size
    bw = round(w / fraction)
    bh = max(round(bw * filler.height / filler.width), math.ceil(1.1 * h))
    background = ImageOps.fit(filler, (bw, bh), Image.Resampling.LANCZOS)
    background.paste(image, (rng.randint(0, bw - w), rng.randint(0, bh - h)))
    return background


def rotated(image: Image.Image, angle: float, how: str, colour: RGB) -> Image.Image:
    """Rotated by `angle`°: corners filled in place ("fill") or on a grown canvas ("expand"),
    or ("zoom") cropped to the largest centred rectangle of the picture's aspect holding
    no fill and resized back to the picture's size."""
    if how != "zoom":
        return image.rotate(
            angle, Image.Resampling.BICUBIC, expand=how == "expand", fillcolor=colour
        )
    w, h = image.size
    c, s = math.cos(math.radians(abs(angle))), math.sin(math.radians(abs(angle)))
    scale = min(w / (w * c + h * s), h / (w * s + h * c))
    # One pixel in from the largest such box: the interpolation blends its edge with the fill.
    dx, dy = math.ceil(w * (1 - scale) / 2) + 1, math.ceil(h * (1 - scale) / 2) + 1
    turned = image.rotate(angle, Image.Resampling.BICUBIC, fillcolor=colour)
    return turned.crop((dx, dy, w - dx, h - dy)).resize((w, h), Image.Resampling.LANCZOS)


def rotate(image: Image.Image, rng: random.Random) -> Image.Image:
    """Rotated by 1-10° either way, its corners filled, on a grown canvas or zoomed."""
    angle = rng.uniform(1, 10) * rng.choice((-1, 1))
    return rotated(image, angle, rng.choice(ROTATIONS), _plain(rng))


def _as_jpeg(edit: Edit) -> Callable[[Image.Image, random.Random], bytes]:
    return lambda image, rng: jpeg(edit(image, rng), rng.randint(75, 95))


EDITS: dict[str, Callable[[Image.Image, random.Random], bytes]] = {
    "caption bar": _as_jpeg(caption_bar),
    "thick label": _as_jpeg(thick_label),
    "sticker": _as_jpeg(sticker),
    "patterned frame": _as_jpeg(patterned_frame),
    "aspect crop": _as_jpeg(aspect_crop),
    "one-sided crop": _as_jpeg(one_sided_crop),
    "collage": _as_jpeg(collage),
    "picture in picture": _as_jpeg(picture_in_picture),
    "small screenshot": lambda image, rng: png(app_screen(image, rng, width=(0.3, 0.6))),
    "rotate ±10°": _as_jpeg(rotate),
}
# Issue 18's kinds, with the old uneven crop; one figure for all until the issue sets its own.
EDIT_TARGETS = dict.fromkeys([*EDITS, "crop 0-10% uneven"], 0.95)
