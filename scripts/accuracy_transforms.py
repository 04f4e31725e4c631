"""The accuracy benchmark's transformed copies (`scripts/bench_accuracy.py`).

Each transform turns one photo into the bytes of a copy, deterministically for a
given `random.Random`: what abusers and ordinary re-sharing do to a picture
(re-encodes, resizes, colour changes, captions, watermarks, a re-share chain,
rotations and flips, crops, padding, screenshots). `TARGETS` is what the issue
asks of each (recall); the others are reported as they are.
"""

import io
import math
import random
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageEnhance, ImageFont

CAPTIONS = (
    "guess who this is",
    "she won't see this lol",
    "found this one",
    "repost if you know her",
    "throwback",
    "no way this is real",
)
HANDLES = ("@repost_daily", "@hotpics_4821", "SHARED BY ANON", "@leakzone", "@the_archive")


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
