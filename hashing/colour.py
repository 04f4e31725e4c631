"""Convert a decoded image of any Pillow mode to 8-bit RGB, the one input every hash sees.

`Image.convert("RGB")` alone is wrong for several modes: it clips 16-bit and
float images to 0..255 (a 16-bit photo becomes almost white), and it drops
alpha without compositing, so transparent pixels take whatever colour they
happen to store. Both would make the same picture hash differently depending on
how it was saved.
"""

import numpy as np
from PIL import Image

# Transparent areas are shown over white by browsers, viewers and platforms alike.
BACKGROUND = (255, 255, 255)

_ALPHA_MODES = {"LA", "La", "PA", "RGBA", "RGBa"}
_WIDE_MODES = ("I", "F")  # I, I;16, I;16B, I;16L, I;16N, F


def to_rgb(image: Image.Image) -> Image.Image:
    """Return `image` as an 8-bit RGB image, compositing alpha over white."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode.startswith(_WIDE_MODES):
        return _wide_to_rgb(image)
    if mode == "P" and "transparency" in image.info:
        image, mode = image.convert("RGBA"), "RGBA"
    if mode in _ALPHA_MODES or (mode == "P" and image.palette and image.palette.mode == "RGBA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*BACKGROUND, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode in {"LAB", "HSV"}:
        return _via_numpy(image)
    return image.convert("RGB")


def _wide_to_rgb(image: Image.Image) -> Image.Image:
    """Scale 16/32-bit integer and float greyscale into 0..255 without clipping."""
    values = np.asarray(image, dtype=np.float64)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return Image.new("RGB", image.size)
    low, high = float(finite.min()), float(finite.max())
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
