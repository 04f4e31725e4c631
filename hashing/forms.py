"""The canonical forms of an image that the match policy hashes (`hashing.policy`).

Each is a picture made from the canonical image (`hashing.load_image`) by exact
rules, so that the web page (`service/static/js/policy.js`) makes the same
pixels and so the same PDQ hashes. Numbers below are the module's constants.

1. **Trim plain borders** (`trim_borders`). Padding, letterbox bars and
   screenshot margins move every PDQ bit; cutting them off first makes a
   padded copy hash like the original.

   * A *line* (a row or a column of pixels) is **plain** when, for each of R, G
     and B separately, its largest value minus its smallest value is at most
     `TRIM_TOLERANCE` (24).
   * Rows first: count the plain rows running in from the top edge (stop at the
     first row that is not plain) and from the bottom edge. Then columns,
     looking only at the rows that remain: count the plain columns running in
     from the left and from the right edge.
   * A side whose plain run is shorter than `TRIM_MIN_RUN` (2%) of the
     image's height (top, bottom) or width (left, right) is not trimmed: a few
     plain lines are an edge of the photo (sky, shadow), not a border.
   * The image is cropped to what is left. If every row is plain, or the crop
     would leave less than `TRIM_MIN_KEEP` (a quarter) of the width or of the
     height, or fewer than `TRIM_MIN_SIDE` (32) pixels on a side, nothing is
     trimmed at all (a nearly blank picture is not a border).

2. **Three more forms**, each made from the trimmed image:

   * the **caption band form** (`caption_band`): the trimmed image without its
     top and bottom `BAND_FRACTION` (15%) of rows, full width: d = floor(h *
     0.15), box (0, d, w, h - d). Captions, meme text and app banners sit in
     those bands; a copy with text there hashes like the original here.
   * the **eroded value form** (`eroded_value`): each pixel's largest channel,
     max(R, G, B) (HSV's value), then a grey erosion: each pixel becomes the
     smallest value in the k x k square around it (pixels beyond the edge
     repeat the edge pixel), k = max(3, floor(min(w, h) / ERODE_DIVISOR)
     rounded up to odd), ERODE_DIVISOR = 60. Rotating the hue in HSV or HSL
     keeps every pixel's largest channel, so a hue-shifted copy has the same
     value image; the erosion wipes out strokes thinner than k, so a
     semi-transparent text watermark drawn over the picture mostly vanishes.
     PDQ hashes this grey picture as R = G = B.
   * the **reduced form** (`reduced`): the image's exact area average on a
     `REDUCED_SIDE` x `REDUCED_SIDE` (64 x 64) grid, per channel. Cell j of an
     axis of n pixels covers [j * n / 64, (j + 1) * n / 64) pixels; a pixel
     partly inside a cell counts for the part inside. In integers: with each
     pixel 64 units long and each cell n units long, a cell's sum along the
     axis is S((j + 1) * n) - S(j * n), where S(u) = 64 * (sum of the first
     u // 64 pixels) + (u mod 64) * (pixel u // 64); rows first, then columns;
     the total is divided by w * h and rounded half up: (sum + floor(w * h /
     2)) // (w * h). PDQ shrinks an image with a tent filter one grid step
     wide and samples it from the top-left corner, so fine texture aliases
     into its hash, and a rotated, flipped, resized or re-encoded copy of a
     textured picture (brick, grass, a page of text) hashes tens of bits
     away; an exact area average has no such aliasing and its grid is
     symmetric, so it turns with the picture.

3. **The clipped value form** (`clipped_value`), made from the image as
   given (not trimmed): each pixel's largest channel, max(R, G, B), clamped
   at the image's own `CLIP_PERCENTILE` (60th) percentile of it: with the n
   values sorted, the ceiling is the one at index (n - 1) * 60 // 100, and
   every pixel becomes min(value, ceiling), as grey. Brightening, exposure
   and contrast edits clip a bright picture's highlights to white and erase
   their detail; they keep the order of the values, so clamping original
   and copy at their own percentile erases the same part of both, and what
   is left differs by a monotone map, which PDQ (thresholded at its median)
   hardly sees. Made untrimmed because brightening whitens a near-white
   backdrop, so a brightened copy trims differently from its original.
   Having lost the detail of its brightest 40%, this form is kept only at
   PDQ quality `CLIPPED_MIN_QUALITY` (70) or more, not 50 as the others:
   over 278M pairs of tiles of unrelated photos, one pair of near-blank
   tiles (quality 55 and 60) came within 26 bits in this form, and all but
   two of the 18 pairs within 48 bits had a tile below 70
   (`scripts/bench_unrelated.py --form clipped`, `docs/accuracy.md`).

4. **The content block** (`content_block`, queried only): the tallest run of
   rows that are not plain (each row judged as in step 1), cut out at full
   width and then trimmed as in step 1. A screenshot of an app shows the
   picture between a status bar, a toolbar, buttons and a caption, each
   separated by plain rows; the picture is the tallest block. Left out
   when that run is the whole image, shorter than `BLOCK_MIN` (10%) of the
   image's height or TRIM_MIN_SIDE pixels, or the same size as the trimmed
   image. Queried only: a survivor's own picture needs no such form.
"""

import itertools

import numpy as np
from PIL import Image

TRIM_TOLERANCE = 24
TRIM_MIN_KEEP = 0.25
TRIM_MIN_SIDE = 32
TRIM_MIN_RUN = 0.02
BAND_FRACTION = 0.15
ERODE_DIVISOR = 60
REDUCED_SIDE = 64
CLIP_PERCENTILE = 60
CLIPPED_MIN_QUALITY = 70
BLOCK_MIN = 0.10


def trim_borders(
    image: Image.Image, tolerance: int = TRIM_TOLERANCE, min_run: float = TRIM_MIN_RUN
) -> Image.Image:
    """Cut plain rows and columns off the edges (step 1); the same object if none are plain.

    A side is trimmed only when its plain run is at least `min_run` of the image's size.
    """
    pixels = _rgb(image)
    height, width = pixels.shape[:2]
    top, bottom = _plain_run_ends(_plain_lines(pixels, tolerance))
    if top >= bottom:
        return image  # every row is plain: a blank picture, not a border
    # Columns, over the rows that remain.
    left, right = _plain_run_ends(_plain_lines(pixels[top:bottom].transpose(1, 0, 2), tolerance))
    top, bottom = _min_run(top, bottom, height, min_run)
    left, right = _min_run(left, right, width, min_run)
    if (top, bottom, left, right) == (0, height, 0, width):
        return image
    kept_w, kept_h = right - left, bottom - top
    if kept_w < max(TRIM_MIN_SIDE, width * TRIM_MIN_KEEP) or kept_h < max(
        TRIM_MIN_SIDE, height * TRIM_MIN_KEEP
    ):
        return image
    return image.crop((left, top, right, bottom))


def centre_crop(image: Image.Image, scale: float) -> Image.Image:
    """The centre part keeping `scale` of each side (the rule: `hashing.policy`, step 2)."""
    return middle_crop(image, scale, scale)


def middle_crop(image: Image.Image, width: float, height: float) -> Image.Image:
    """The centre part keeping `width` of the width and `height` of the height, by
    `centre_crop`'s rule on each axis."""
    w, h = image.size
    left, top = int(w * (1 - width) / 2), int(h * (1 - height) / 2)
    return image.crop((left, top, left + round(w * width), top + round(h * height)))


def content_block(image: Image.Image) -> Image.Image | None:
    """The tallest run of rows that are not plain, trimmed (step 4); None if there is none."""
    height = image.height
    plain = _plain_lines(_rgb(image), TRIM_TOLERANCE).astype(np.int8)
    # Runs of non-plain rows start where plain goes 1 -> 0 and end where it goes 0 -> 1.
    edges = np.flatnonzero(np.diff(np.concatenate(([1], plain, [1]))))
    starts, ends = edges[::2], edges[1::2]
    if len(starts) == 0:
        return None
    tallest = int(np.argmax(ends - starts))  # the first of equals
    top, bottom = int(starts[tallest]), int(ends[tallest])
    if (top, bottom) == (0, height) or bottom - top < max(TRIM_MIN_SIDE, height * BLOCK_MIN):
        return None
    return trim_borders(image.crop((0, top, image.width, bottom)))


def caption_band(image: Image.Image) -> Image.Image:
    """The image without its top and bottom BAND_FRACTION of rows (step 2)."""
    width, height = image.size
    cut = int(height * BAND_FRACTION)
    return image.crop((0, cut, width, height - cut))


def eroded_value(image: Image.Image) -> Image.Image:
    """max(R, G, B) per pixel, eroded by a k x k square minimum (step 2), as grey RGB."""
    value = _value(image)
    size = max(3, min(image.size) // ERODE_DIVISOR | 1)
    eroded = _min_filter(np.ascontiguousarray(_min_filter(value, size).T), size).T
    return Image.fromarray(np.ascontiguousarray(eroded), "L").convert("RGB")


def reduced(image: Image.Image, side: int = REDUCED_SIDE) -> Image.Image:
    """The exact area average on a side x side grid (step 2), rounded half up."""
    pixels = _rgb(image)
    height, width = pixels.shape[:2]
    sums = _cell_sums(_cell_sums(pixels, side).transpose(1, 0, 2), side).transpose(1, 0, 2)
    area = width * height
    out = (sums + area // 2) // area
    return Image.fromarray(np.ascontiguousarray(out.astype(np.uint8)), "RGB")


def clipped_value(image: Image.Image) -> Image.Image:
    """max(R, G, B) per pixel, clamped at its own CLIP_PERCENTILE (step 3), as grey RGB."""
    value = _value(image)
    rank = (value.size - 1) * CLIP_PERCENTILE // 100
    ceiling = np.partition(value.ravel(), rank)[rank]
    return Image.fromarray(np.minimum(value, ceiling), "L").convert("RGB")


def _cell_sums(values: np.ndarray, side: int) -> np.ndarray:
    """Along the first axis, the `side` cells' sums, each pixel `side` units long and
    each cell n units long (n the axis' length): S((j + 1) * n) - S(j * n)."""
    n = values.shape[0]
    units = np.arange(side + 1) * n
    whole, part = units // side, units % side  # S(u) = side * (pixels before u // side) + ...
    # The pixels before each whole[j]: sums of the blocks between them, accumulated. One
    # sum per block, not np.add.reduceat, which first copies all of `values` as int64.
    blocks = np.stack(
        [values[a:b].sum(axis=0, dtype=np.int64) for a, b in itertools.pairwise(whole)]
    )
    before = np.concatenate([np.zeros_like(blocks[:1]), np.cumsum(blocks, axis=0)])
    inside = np.minimum(whole, n - 1)  # at u = side * n the part is 0; any pixel will do
    shape = (-1,) + (1,) * (values.ndim - 1)
    s = side * before + part.reshape(shape) * values[inside].astype(np.int64)
    out: np.ndarray = s[1:] - s[:-1]
    return out


def _min_filter(values: np.ndarray, size: int) -> np.ndarray:
    """Minimum over the `size` rows centred on each row (odd size; edge rows repeat).

    Windows of width w are doubled (van Herk's idea, simpler): log2(size) passes, not size.
    """
    radius, rows = size // 2, values.shape[0]
    padded = np.concatenate(
        [np.repeat(values[:1], radius, 0), values, np.repeat(values[-1:], radius, 0)]
    )
    width = 1
    while 2 * width <= size:
        padded = np.minimum(padded[:-width], padded[width:])
        width *= 2
    # A window of `size` rows is the union of two windows of `width` rows.
    out: np.ndarray = np.minimum(padded[:rows], padded[size - width : size - width + rows])
    return out


def _rgb(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB") if image.mode != "RGB" else image)


def _value(image: Image.Image) -> np.ndarray:
    """Each pixel's largest channel, max(R, G, B) (HSV's value)."""
    rgb = _rgb(image)
    value: np.ndarray = np.maximum(np.maximum(rgb[..., 0], rgb[..., 1]), rgb[..., 2])
    return value


def _plain_lines(pixels: np.ndarray, tolerance: int) -> np.ndarray:
    """Per row of `pixels` (rows x pixels x 3): is each channel's max - min within the
    tolerance? (Pass the transpose for columns.)"""
    # Rows x channels x pixels, contiguous: numpy reduces along it ~25x faster.
    lines = np.ascontiguousarray(pixels.transpose(0, 2, 1))
    spread = lines.max(axis=2).astype(np.int16) - lines.min(axis=2).astype(np.int16)
    plain: np.ndarray = spread.max(axis=1) <= tolerance
    return plain


def _plain_run_ends(plain: np.ndarray) -> tuple[int, int]:
    """How far the plain lines run in from each end: (first not plain, last not plain + 1)."""
    kept = np.flatnonzero(~plain)
    if len(kept) == 0:
        return len(plain), len(plain)
    return int(kept[0]), int(kept[-1]) + 1


def _min_run(start: int, end: int, size: int, min_run: float) -> tuple[int, int]:
    """Keep a side's trim only if it is at least `min_run` of the image's size."""
    least = size * min_run
    return (start if start >= least else 0), (end if size - end >= least else size)
