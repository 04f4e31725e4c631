"""The canonical forms (`hashing.forms`), each against its documented rule.

The web page ports these rules pixel for pixel (tests/browser/test_policy_js.py);
what the forms are for, matching edited copies, is tested in test_policy.py.
"""

import numpy as np
import pytest
from PIL import Image, ImageFilter

from hashing import load_image
from hashing.forms import (
    BAND_FRACTION,
    CLIP_PERCENTILE,
    ERODE_DIVISOR,
    caption_band,
    clipped_value,
    content_block,
    eroded_value,
    reduced,
    trim_borders,
)
from tests.conftest import BSDS500


def noise(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def test_content_block_is_left_out_when_it_adds_nothing() -> None:
    photo = load_image(BSDS500 / "100075.jpg")
    assert content_block(photo) is None  # no plain rows: the whole image
    bordered = Image.new("RGB", (photo.width, photo.height + 100), "white")
    bordered.paste(photo, (0, 50))
    block = content_block(bordered)
    assert block is not None
    assert block.size == trim_borders(bordered).size  # so it is not queried again
    short = Image.new("RGB", (400, 1000), "white")
    short.paste(noise(400, 90), (0, 300))  # 9% of the height
    short.paste(noise(400, 60, seed=2), (0, 600))
    assert content_block(short) is None
    assert content_block(Image.new("RGB", (50, 50), "grey")) is None


def test_caption_band_box() -> None:
    image = noise(50, 101)
    band = caption_band(image)
    cut = int(101 * BAND_FRACTION)
    assert (cut, band.size) == (15, (50, 101 - 2 * 15))
    assert np.array_equal(np.asarray(band), np.asarray(image)[15:86])


def test_eroded_value_is_a_square_minimum_of_the_largest_channel() -> None:
    image = noise(300, 180, seed=4)
    window = 180 // ERODE_DIVISOR | 1
    assert window == 3
    value = Image.fromarray(np.asarray(image).max(axis=2))
    expected = np.asarray(value.filter(ImageFilter.MinFilter(window)))
    assert np.array_equal(np.asarray(eroded_value(image)), np.dstack([expected] * 3))
    large = noise(1300, 700, seed=5)  # window 11
    value = Image.fromarray(np.asarray(large).max(axis=2))
    expected = np.asarray(value.filter(ImageFilter.MinFilter(11)))
    assert np.array_equal(np.asarray(eroded_value(large))[..., 0], expected)


@pytest.mark.parametrize("size", [(1, 1), (2, 1), (7, 3), (300, 180)])
def test_clipped_value_clamps_at_the_documented_percentile(size: tuple[int, int]) -> None:
    image = noise(*size, seed=size[0])
    value = np.asarray(image).max(axis=2)
    ceiling = np.sort(value, axis=None)[(value.size - 1) * CLIP_PERCENTILE // 100]
    out = np.asarray(clipped_value(image))
    assert np.array_equal(out, np.dstack([np.minimum(value, ceiling)] * 3))
    if value.size > 100:
        assert abs((value <= ceiling).mean() - CLIP_PERCENTILE / 100) < 0.01


def test_clipped_value_is_the_same_after_a_brightening_that_clips() -> None:
    """Values scaled by 1.3 and clipped at 255 keep their order: the form changes
    only by that monotone map, and where the original is unclipped it is exact."""
    value = np.asarray(noise(200, 150, seed=9)).max(axis=2).astype(np.int64)
    bright = np.minimum(value * 13 // 10, 255)
    grey = Image.fromarray(value.astype(np.uint8)).convert("RGB")
    brighter = Image.fromarray(bright.astype(np.uint8)).convert("RGB")
    assert (bright == 255).mean() > 0.2  # the premise: a fifth of the copy clipped
    ours, theirs = np.asarray(clipped_value(grey))[..., 0], np.asarray(clipped_value(brighter))
    assert np.array_equal(theirs[..., 0], np.minimum(ours.astype(np.int64) * 13 // 10, 255))


def _overlaps(n: int, side: int = 64) -> np.ndarray:
    """Cell x pixel: how much of pixel x lies in cell j, in 1/side of a pixel."""
    pixel = np.arange(n) * side
    cell = np.arange(side)[:, None] * n
    overlap: np.ndarray = np.minimum(pixel + side, cell + n) - np.maximum(pixel, cell)
    return overlap.clip(0, None)


@pytest.mark.parametrize("size", [(1, 1), (63, 65), (64, 64), (129, 3), (481, 321)])
def test_reduced_is_the_area_average(size: tuple[int, int]) -> None:
    """Against the definition written out as a weight matrix, in floats and in integers."""
    image = noise(*size, seed=size[0])
    pixels = np.asarray(image).astype(np.int64)
    wy, wx = _overlaps(size[1]), _overlaps(size[0])
    sums = np.einsum("jy,ix,yxc->jic", wy, wx, pixels)
    area = size[0] * size[1]  # a cell is n units long on an axis of n pixels
    ours = np.asarray(reduced(image)).astype(np.int64)
    assert ours.shape == (64, 64, 3)
    assert np.abs(ours - sums / area).max() <= 0.5  # the nearest level
    assert np.array_equal(ours, (sums + area // 2) // area)  # halves up


def test_reduced_turns_with_the_picture() -> None:
    """The grid is symmetric, so every rotation and flip commutes with it exactly."""
    image = noise(481, 321, seed=8)
    for transpose in Image.Transpose:
        assert np.array_equal(
            np.asarray(reduced(image.transpose(transpose))),
            np.asarray(reduced(image).transpose(transpose)),
        ), transpose


def test_trim_cuts_plain_borders_exactly() -> None:
    canvas = Image.new("RGB", (300, 200), (10, 200, 30))
    canvas.paste(noise(200, 120), (60, 40))
    trimmed = trim_borders(canvas)
    assert trimmed.size == (200, 120)
    assert np.array_equal(np.asarray(trimmed), np.asarray(noise(200, 120)))


def test_trim_tolerates_small_variation_but_not_more() -> None:
    rng = np.random.default_rng(1)
    pixels = np.asarray(noise(200, 200)).copy()
    pixels[:20] = 100 + rng.integers(0, 25, (20, 200, 3))  # every channel's spread <= 24: plain
    pixels[-20:] = 100
    pixels[-20:, 0, 0] = 125  # red spreads 25 in each of these rows: not plain
    trimmed = trim_borders(Image.fromarray(pixels))
    assert trimmed.size == (200, 180)
    assert np.array_equal(np.asarray(trimmed), pixels[20:])


def test_trim_leaves_images_without_borders_alone() -> None:
    image = noise(120, 80)
    assert trim_borders(image) is image
    blank = Image.new("RGB", (120, 80), "white")
    assert trim_borders(blank) is blank  # all plain: not a border
    thin = Image.new("RGB", (200, 200), "black")
    thin.paste(noise(200, 197), (0, 3))  # 3 rows = 1.5% < 2%: too thin to count
    assert trim_borders(thin) is thin
    mostly = Image.new("RGB", (400, 400), "black")
    mostly.paste(noise(60, 400), (170, 0))  # would keep 15% of the width
    assert trim_borders(mostly) is mostly
