"""The accuracy benchmark's transformed copies (`scripts/bench_accuracy.py`).

Each transform turns one photo into the bytes of a copy, deterministically for a
given `random.Random`: what abusers and ordinary re-sharing do to a picture
(re-encodes, resizes, colour changes, captions, watermarks, a re-share chain,
rotations and flips, crops, padding, screenshots), then the re-poster's edits of
issue 18 (`accuracy_edits.py`). `TARGETS` is what the issues ask of each
(recall); the others are reported as they are.
"""

import math
import random
from collections.abc import Callable

from accuracy_drawing import (
    CAPTIONS,
    HANDLES,
    SCREEN_H,
    app_screen,
    encode,
    jpeg,
    load_font,
    png,
    screen_image,
)
from accuracy_edits import EDIT_TARGETS, EDITS
from PIL import Image, ImageDraw, ImageEnhance


def _resize(image: Image.Image, scale: float) -> Image.Image:
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _caption(image: Image.Image, rng: random.Random) -> Image.Image:
    out = image.copy()
    draw = ImageDraw.Draw(out)
    text = rng.choice(CAPTIONS)
    size = max(12, image.height // 12)
    font = load_font(size)
    while draw.textlength(text, font=font) > image.width * 0.9 and size > 10:
        size -= 2
        font = load_font(size)
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
    font = load_font(int(min(image.size) / 6))
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
    return jpeg(_caption(out, rng), 60)


def _screenshot_cropped(image: Image.Image, rng: random.Random) -> bytes:
    shown = screen_image(image, rng, SCREEN_H - 600)
    background = (250, 250, 250) if rng.random() < 0.5 else (18, 18, 18)
    canvas = Image.new("RGB", (shown.width + 20, shown.height + 20), background)
    canvas.paste(shown, (10, 10))
    # The survivor's or abuser's crop to the picture is off by a few pixels either way.
    left, top, right, bottom = (rng.randint(-3, 3) for _ in range(4))
    return png(
        canvas.crop((10 + left, 10 + top, 10 + shown.width - right, 10 + shown.height - bottom))
    )


Transform = Callable[[Image.Image, random.Random], bytes]

TRANSFORMS: dict[str, Transform] = {
    "JPEG q30": lambda im, _: jpeg(im, 30),
    "WebP q50": lambda im, _: encode(im, "WEBP", quality=50),
    "resize 50%": lambda im, _: jpeg(_resize(im, 0.5)),
    "resize 25%": lambda im, _: jpeg(_resize(im, 0.25)),
    "grayscale": lambda im, _: jpeg(im.convert("L")),
    "brightness +30%": lambda im, _: jpeg(ImageEnhance.Brightness(im).enhance(1.3)),
    "hue shift 20-40°": lambda im, rng: jpeg(_hue(im, rng)),
    "caption": lambda im, rng: jpeg(_caption(im, rng)),
    "watermark": lambda im, rng: jpeg(_watermark(im, rng)),
    "re-share chain": _reshare,
    "rotate 90°": lambda im, _: jpeg(im.transpose(Image.Transpose.ROTATE_90)),
    "flip": lambda im, _: jpeg(im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
    "rotate 5°": lambda im, rng: jpeg(
        im.rotate(5 * rng.choice((1, -1)), Image.Resampling.BICUBIC, fillcolor=(0, 0, 0))
    ),
    "crop 5% each side": lambda im, _: jpeg(_crop(im, 0.05)),
    "crop 10% each side": lambda im, _: jpeg(_crop(im, 0.10)),
    "crop 0-10% uneven": lambda im, rng: jpeg(_uneven_crop(im, rng)),
    "pad 10%": lambda im, rng: jpeg(_pad(im, rng)),
    "screenshot, cropped": _screenshot_cropped,
    "phone screenshot": lambda im, rng: png(app_screen(im, rng)),
    **EDITS,
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
    **EDIT_TARGETS,
}
