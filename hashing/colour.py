"""Convert a decoded image of any Pillow mode to 8-bit RGB, the one input every hash sees.

`Image.convert("RGB")` alone is wrong for several modes: it clips 16-bit and
float images to 0..255 (a 16-bit photo becomes almost white), and it drops
alpha without compositing, so transparent pixels take whatever colour they
happen to store. Both would make the same picture hash differently depending on
how it was saved.

Large images are converted a band of rows at a time and shrunk as they go
(`to_rgb(image, reduce)`), so converting a 100 MP picture never holds a
full-size RGB copy, or the several full-size temporaries that compositing or
scaling make, next to the decoded image. The pixels are exactly those of
converting the whole image and then shrinking it: every conversion is per
pixel except the scaling of 16/32-bit and float images, whose range is taken
over the whole image first, and bands start at multiples of the reduction, so
Pillow's box reduction sees the same blocks.
"""

import math

import numpy as np
from PIL import Image

# Transparent areas are shown over white by browsers, viewers and platforms alike.
BACKGROUND = (255, 255, 255)

_ALPHA_MODES = {"LA", "La", "PA", "RGBA", "RGBa"}
_WIDE_MODES = ("I", "F")  # I, I;16, I;16B, I;16L, I;16N, F
# Pixels converted at a time: bounds the memory a conversion needs beyond its result
# (about 40 bytes a pixel at most, for the float arithmetic of 16-bit images).
BAND_PIXELS = 1 << 20

ValueRange = tuple[float, float] | None  # smallest and largest finite value; None: none is


def to_rgb(image: Image.Image, reduce: int = 1) -> Image.Image:
    """Return `image` as an 8-bit RGB image, compositing alpha over white, shrunk by
    `reduce` (Pillow's box `Image.reduce`, partial blocks at the edges averaged alone).

    The result equals `to_rgb(image).reduce(reduce)` pixel for pixel; it is made a
    band of `BAND_PIXELS` at a time. `image` itself is returned when it is RGB
    already and `reduce` is 1.
    """
    if image.mode == "RGB":
        return image if reduce == 1 else image.reduce(reduce)
    width, height = image.size
    rows = max(1, BAND_PIXELS // max(1, width) // reduce) * reduce
    wide = _finite_range(image, rows) if image.mode.startswith(_WIDE_MODES) else None
    if rows >= height:
        return _shrink(_convert(image, wide), reduce)
    out = Image.new("RGB", (-(-width // reduce), -(-height // reduce)))
    for top in range(0, height, rows):
        band = image.crop((0, top, width, min(height, top + rows)))
        out.paste(_shrink(_convert(band, wide), reduce), (0, top // reduce))
    return out


def _shrink(rgb: Image.Image, reduce: int) -> Image.Image:
    return rgb if reduce == 1 else rgb.reduce(reduce)


def _convert(image: Image.Image, wide: ValueRange) -> Image.Image:
    """One band to RGB; `wide` is the whole image's range for 16/32-bit and float modes."""
    mode = image.mode
    if mode.startswith(_WIDE_MODES):
        return _wide_to_rgb(image, wide)
    if mode == "P" and "transparency" in image.info:
        image, mode = image.convert("RGBA"), "RGBA"
    if mode in _ALPHA_MODES or (mode == "P" and image.palette and image.palette.mode == "RGBA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*BACKGROUND, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode in {"LAB", "HSV"}:
        return _via_numpy(image)
    return image.convert("RGB")


def _finite_range(image: Image.Image, rows: int) -> ValueRange:
    """The smallest and largest finite value of a 16/32-bit or float image, `rows` at a time."""
    low, high = math.inf, -math.inf
    for top in range(0, image.height, rows):
        values = np.asarray(image.crop((0, top, image.width, min(image.height, top + rows))))
        if values.dtype.kind == "f":
            values = values[np.isfinite(values)]
        if values.size:
            # Exact: every 16/32-bit integer and float32 value is a float64.
            low, high = min(low, float(values.min())), max(high, float(values.max()))
    return (low, high) if low <= high else None


def _wide_to_rgb(image: Image.Image, wide: ValueRange) -> Image.Image:
    """Scale 16/32-bit integer and float greyscale into 0..255 without clipping, by the
    range `wide` of the whole image (of which `image` may be a band)."""
    if wide is None:
        return Image.new("RGB", image.size)
    low, high = wide
    values = np.asarray(image, dtype=np.float64)
    if image.mode == "F" and low >= 0 and high <= 1.0:
        scaled = values * 255.0  # float images conventionally hold 0..1
    elif low >= 0 and high <= 255:
        scaled = values  # already 8-bit range (e.g. an L image stored as I or F)
    elif low >= 0 and high <= 65535:
        scaled = values / 257.0
    else:
        scaled = (values - low) * (255.0 / (high - low)) if high > low else values * 0
    grey = np.clip(np.nan_to_num(scaled), 0, 255).round().astype(np.uint8)
    return Image.fromarray(grey).convert("RGB")


def _via_numpy(image: Image.Image) -> Image.Image:
    """LAB and HSV: Pillow converts these to RGB only through an intermediate step."""
    if image.mode == "HSV":
        return image.convert("RGB")
    from PIL import ImageCms  # only needed for the rare LAB input

    srgb = ImageCms.createProfile("sRGB")
    lab = ImageCms.createProfile("LAB")
    transform = ImageCms.buildTransform(lab, srgb, "LAB", "RGB")
    result = ImageCms.applyTransform(image, transform)
    assert result is not None  # applyTransform returns None only with inPlace=True
    return result
