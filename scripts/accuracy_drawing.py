"""What the accuracy benchmark's transforms share (`accuracy_transforms.py`, `accuracy_edits.py`).

Encoders, the scalable font, the re-poster's texts, and a phone app's screen drawn
around a picture (status bar, account, buttons, likes, caption, navigation).
"""

import io
import random

from PIL import Image, ImageDraw, ImageFont

CAPTIONS = (
    "guess who this is",
    "she won't see this lol",
    "found this one",
    "repost if you know her",
    "throwback",
    "no way this is real",
)
HANDLES = ("@repost_daily", "@hotpics_4821", "SHARED BY ANON", "@leakzone", "@the_archive")
SCREEN_W, SCREEN_H = 1170, 2532


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    return encode(image, "JPEG", quality=quality)


def png(image: Image.Image) -> bytes:
    return encode(image, "PNG", compress_level=1)


def load_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(10, size))


def screen_image(image: Image.Image, rng: random.Random, max_h: int) -> Image.Image:
    """The image as an app shows it: fit to the screen width (or height), resampled, a bit off."""
    scale = min(SCREEN_W / image.width, max_h / image.height)
    w = round(image.width * scale * (1 + rng.uniform(-0.02, 0.0)))
    h = round(image.height * scale * (1 + rng.uniform(-0.02, 0.0)))
    return image.resize((w, h), Image.Resampling.BILINEAR)


def app_screen(
    image: Image.Image, rng: random.Random, width: tuple[float, float] | None = None
) -> Image.Image:
    """A phone app's screen showing the image: fit to the screen width when `width` is None,
    else at a random fraction of it in `width` and a random horizontal position.
    """
    dark = rng.random() < 0.5
    bg, fg, grey = (
        ((0, 0, 0), (245, 245, 245), (120, 120, 120))
        if dark
        else ((255, 255, 255), (20, 20, 20), (140, 140, 140))
    )
    canvas = Image.new("RGB", (SCREEN_W, SCREEN_H), bg)
    draw = ImageDraw.Draw(canvas)
    # Status bar: time, signal, battery.
    draw.text(
        (70, 40), f"{rng.randint(7, 23)}:{rng.randint(0, 59):02d}", font=load_font(48), fill=fg
    )
    for i in range(4):
        draw.rectangle((900 + i * 22, 90 - i * 12 - 12, 914 + i * 22, 90), fill=fg)
    draw.rounded_rectangle((1010, 50, 1100, 92), radius=10, outline=fg, width=4)
    draw.rectangle((1016, 56, 1016 + rng.randint(20, 78), 86), fill=fg)
    # Toolbar: back arrow, account name, menu.
    draw.line((60, 215, 95, 180, 60, 215, 95, 250), fill=fg, width=8)
    draw.ellipse((140, 165, 240, 265), fill=tuple(rng.randrange(256) for _ in range(3)))
    draw.text((270, 185), rng.choice(HANDLES).lstrip("@"), font=load_font(50), fill=fg)
    for i in range(3):
        draw.ellipse((1080, 185 + i * 25, 1094, 199 + i * 25), fill=fg)
    top = 320
    if width is None:
        shown = screen_image(image, rng, 1650)
        left = (SCREEN_W - shown.width) // 2
    else:
        scale = min(rng.uniform(*width) * SCREEN_W / image.width, 1650 / image.height)
        shown = image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))),
            Image.Resampling.BILINEAR,
        )
        left = rng.randint(0, SCREEN_W - shown.width)
    canvas.paste(shown, (left, top))
    y = top + shown.height + 30
    # Action buttons, likes, caption, comments.
    draw.ellipse((60, y, 140, y + 80), outline=fg, width=7)
    draw.rounded_rectangle((190, y, 270, y + 80), radius=30, outline=fg, width=7)
    draw.polygon((320, y + 80, 400, y + 40, 320, y), outline=fg, width=7)
    draw.rectangle((1030, y, 1100, y + 80), outline=fg, width=7)
    y += 120
    draw.text((60, y), f"{rng.randint(12, 9000):,} likes", font=load_font(44), fill=fg)
    y += 70
    draw.text((60, y), rng.choice(CAPTIONS), font=load_font(44), fill=fg)
    y += 70
    draw.text((60, y), f"View all {rng.randint(3, 400)} comments", font=load_font(40), fill=grey)
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
    return canvas
