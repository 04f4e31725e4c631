"""Canonical image loading: the one way every hash in hashbank sees an image.

The same rules run in the survivor's client, the service and (mirrored in
JavaScript) the web page, because a hash only matches a hash computed from the
same pixels:

1. Refuse anything that declares more than `max_pixels` before decoding it
   (decompression bombs), and anything empty, truncated or not an image.
2. Use the first frame of animations.
3. Reduce large images by a power of two, `reduction_factor`, so the shorter
   side stays at least `MIN_SIDE` pixels. JPEGs are decoded at that scale
   directly (libjpeg's DCT scaling, several times faster than a full decode);
   other formats are box-filtered after decoding, which is what DCT scaling
   approximates.
4. Convert every mode to 8-bit RGB (`colour.to_rgb`).
5. Apply the EXIF orientation, so the image is hashed as it is displayed.
"""

import io
import os
import warnings
from pathlib import Path
from typing import BinaryIO

from PIL import Image, JpegImagePlugin, UnidentifiedImageError

from hashing.colour import to_rgb
from hashing.errors import ImageTooLarge, UnreadableImage

MIN_SIDE = 512
MAX_REDUCTION = 8  # libjpeg scales by 1/2, 1/4 and 1/8
DEFAULT_MAX_PIXELS = 100_000_000  # ~100 MP: above any phone camera, far below a bomb

ImageSource = str | os.PathLike[str] | bytes | BinaryIO

# EXIF orientation tag value -> the transpose that displays the image upright.
EXIF_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_EXIF_ORIENTATION_TAG = 0x0112


def reduction_factor(width: int, height: int) -> int:
    """The power of two (1, 2, 4 or 8) to shrink by, keeping the shorter side >= MIN_SIDE."""
    factor = 1
    while factor < MAX_REDUCTION and min(width, height) >= MIN_SIDE * factor * 2:
        factor *= 2
    return factor


def load_image(source: ImageSource, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Open, guard, reduce, convert and orient an image; return it as 8-bit RGB.

    Raises `UnreadableImage` or `ImageTooLarge`; never anything else for bad input.
    """
    _register_extra_formats()
    try:
        with _open(source) as image:
            width, height = image.size
            if width <= 0 or height <= 0:
                raise UnreadableImage("image has no pixels")
            if width * height > max_pixels:
                raise ImageTooLarge(max_pixels, width, height)
            orientation = _orientation(image)
            factor = reduction_factor(width, height)
            _draft(image, factor)
            image.load()
            # What the decoder did not shrink, the box filter does.
            remaining = factor // max(1, round(width / image.size[0]))
            rgb = to_rgb(image)
    except (ImageTooLarge, UnreadableImage, FileNotFoundError, IsADirectoryError, PermissionError):
        raise  # the last three are about the path, not the image: callers word them
    except Image.DecompressionBombError:
        # Pillow's own hard stop (twice its default limit) fired while reading the header.
        raise ImageTooLarge(max_pixels) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, MemoryError) as exc:
        raise UnreadableImage(_describe(exc)) from None
    if remaining > 1:
        rgb = rgb.reduce(remaining)
    transpose = EXIF_TRANSPOSE.get(orientation)
    return rgb.transpose(transpose) if transpose is not None else rgb


def _open(source: ImageSource) -> Image.Image:
    if isinstance(source, bytes):
        if not source:
            raise UnreadableImage("file is empty")
        source = io.BytesIO(source)
    elif isinstance(source, str | os.PathLike) and Path(source).stat().st_size == 0:
        raise UnreadableImage("file is empty")
    with warnings.catch_warnings():
        # Our own pixel limit, checked next, replaces Pillow's warning; its hard
        # error (twice its limit) still stops hostile headers before we look.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(source)
        except UnidentifiedImageError:
            raise UnreadableImage("not an image, or a format hashbank cannot read") from None
    if getattr(image, "is_animated", False):
        image.seek(0)
    return image


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(_EXIF_ORIENTATION_TAG, 1)
    except (OSError, SyntaxError, ValueError, TypeError):
        return 1  # a damaged EXIF block must not make the whole image unhashable
    return value if isinstance(value, int) else 1


def _draft(image: Image.Image, factor: int) -> None:
    """Ask the JPEG decoder to scale by 1/factor while decoding (other formats ignore it)."""
    if factor > 1 and isinstance(image, JpegImagePlugin.JpegImageFile):
        width, height = image.size
        # Floor division: Pillow picks the largest scale whose output still covers
        # the requested size, and ceil() would make it pick the next smaller scale.
        image.draft(image.mode, (width // factor, height // factor))


def _describe(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, MemoryError):
        return "image is too large to decode"
    if "truncated" in text or isinstance(exc, EOFError):
        return "image file is truncated or damaged"
    return f"image could not be decoded ({text or type(exc).__name__})"


_registered = False


def _register_extra_formats() -> None:
    """Teach Pillow HEIC/HEIF (phone photos); AVIF and WebP are built into Pillow."""
    global _registered
    if not _registered:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        _registered = True
