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

Steps 3 and 4 run together, a band of rows at a time (`colour.to_rgb(image,
reduce)`), with exactly the pixels of converting first and reducing after:
beyond the decoded image, loading needs only the small canonical result.
`read_header` says from the header alone, before any pixel is decoded, how
large the decoded and the canonical image will be, so that a service can
budget its memory before it decodes.
"""

import io
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class ImageHeader:
    """What `load_image` will make of an image, read from its header without decoding it."""

    format: str  # Pillow's name for it: "JPEG", "PNG", "HEIF", ...
    mode: str  # the mode the decoder produces, before conversion to RGB
    size: tuple[int, int]  # width and height as declared
    decoded_size: tuple[int, int]  # what the decoder produces: JPEGs at their DCT scale
    canonical_size: tuple[int, int]  # of `load_image`'s result, before the EXIF orientation
    # JPEG only: the DCT coefficient planes per declared pixel (1.5 for 4:2:0 colour, 3
    # for 4:4:4) that libjpeg holds whole for progressive and multi-scan files, at any
    # DCT scale; 0 for baseline JPEGs and every other format.
    coefficient_planes: float

    @property
    def decoded_pixels(self) -> int:
        return self.decoded_size[0] * self.decoded_size[1]

    @property
    def canonical_pixels(self) -> int:
        return self.canonical_size[0] * self.canonical_size[1]


def load_image(source: ImageSource, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Open, guard, reduce, convert and orient an image; return it as 8-bit RGB.

    Raises `UnreadableImage` or `ImageTooLarge`; never anything else for bad input.
    """
    _register_extra_formats()
    with _domain_errors(max_pixels), _open(source) as image:
        _check_size(image, max_pixels)
        orientation = _orientation(image)  # PNG: reads (decodes) the whole file for eXIf
        remaining = _prepare(image)
        image.load()
        rgb = to_rgb(image, remaining)
        if rgb is not image:
            image.close()  # frees the decoded pixels now, not when the caller is done
    transpose = EXIF_TRANSPOSE.get(orientation)
    return rgb.transpose(transpose) if transpose is not None else rgb


def read_header(source: ImageSource, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageHeader:
    """What `load_image(source, max_pixels=max_pixels)` will decode, without decoding it.

    Raises what `load_image` raises before decoding: `ImageTooLarge` above
    `max_pixels`, `UnreadableImage` for what is not an image. An image whose
    pixels turn out to be damaged passes here and fails in `load_image`.
    """
    _register_extra_formats()
    with _domain_errors(max_pixels), _open(source) as image:
        _check_size(image, max_pixels)
        size = image.size
        remaining = _prepare(image)  # the orientation does not change the pixel counts
        width, height = image.size
        return ImageHeader(
            format=image.format or "",
            mode=image.mode,
            size=size,
            decoded_size=(width, height),
            canonical_size=(-(-width // remaining), -(-height // remaining)),
            coefficient_planes=_coefficient_planes(image),
        )


def _check_size(image: Image.Image, max_pixels: int) -> None:
    width, height = image.size
    if width <= 0 or height <= 0:
        raise UnreadableImage("image has no pixels")
    if width * height > max_pixels:
        raise ImageTooLarge(max_pixels, width, height)


def _prepare(image: Image.Image) -> int:
    """Ask the JPEG decoder to scale; return the reduction left for the box filter."""
    width, height = image.size
    factor = reduction_factor(width, height)
    _draft(image, factor)
    # What the decoder did not shrink, the box filter does.
    return factor // max(1, round(width / image.size[0]))


@contextmanager
def _domain_errors(max_pixels: int) -> Iterator[None]:
    """Turn what Pillow and its plugins raise for bad input into the domain errors."""
    try:
        yield
    except (ImageTooLarge, UnreadableImage, FileNotFoundError, IsADirectoryError, PermissionError):
        raise  # the last three are about the path, not the image: callers word them
    except Image.DecompressionBombError:
        # Pillow's own hard stop (twice its default limit) fired while reading the header.
        raise ImageTooLarge(max_pixels) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, MemoryError) as exc:
        raise UnreadableImage(_describe(exc)) from None


def _coefficient_planes(image: Image.Image) -> float:
    """JPEG files libjpeg decodes through a whole-image coefficient buffer (progressive
    ones, and those whose first scan lacks some components): the components' sampling
    factors summed relative to the largest. 0 for every other file."""
    if not isinstance(image, JpegImagePlugin.JpegImageFile) or not image.layer:
        return 0.0
    if not image.info.get("progressive") and _first_scan_is_interleaved(image):
        return 0.0
    sampling = [(int(h), int(v)) for _, h, v, _ in image.layer]
    h_max, v_max = max(h for h, _ in sampling), max(v for _, v in sampling)
    return sum(h * v for h, v in sampling) / (h_max * v_max)


def _first_scan_is_interleaved(image: JpegImagePlugin.JpegImageFile) -> bool:
    """Does the first scan hold every component? Pillow stops reading the header right
    after that scan's header: FF DA, its length (6 + 2 n), n, then 2 n + 3 bytes."""
    components = len(image.layer)
    length = 6 + 2 * components
    fp = image.fp
    if fp is None:
        return False
    end = fp.tell()
    try:
        fp.seek(end - length - 2)
        head = fp.read(5)
    finally:
        fp.seek(end)
    return head == b"\xff\xda" + length.to_bytes(2, "big") + bytes([components])


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
