"""The web page's match policy (service/static/js/policy.js) agrees with `hashing.policy`.

Three levels:

- the arithmetic: `centreCropBox` against Pillow crops made by `hashing.forms.centre_crop`
  for every side from 1 to 4,000 pixels (Python's `round` rounds halves to even);
- the same canonical pixels handed to both sides: the same trim box and exactly the
  same submission hashes (0 bits), for reference images and generated borders;
- files, as the page sees them (canonical.js decodes, then policy.js, and the worker's
  `hashes`): the same trim box, the same number of hashes in the same order, each
  within Meta's 10-bit conformance bar, and 0 bits unless Python decoded a large JPEG
  at reduced scale (libjpeg's DCT scaling, which a browser cannot do).
"""

import base64
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

import numpy as np
import pytest
from PIL import Image, ImageFilter
from playwright.sync_api import Page

from hashing import PDQ_ALGORITHM, load_image
from hashing.errors import LowQualityImage
from hashing.forms import (
    CLIPPED_MIN_QUALITY,
    ERODE_DIVISOR,
    centre_crop,
    clipped_value,
    eroded_value,
    reduced,
    trim_borders,
)
from hashing.loading import reduction_factor
from hashing.policy import CROP_SCALES, DEFAULT_POLICY, submission_hashes
from tests.browser.conftest import StaticServer
from tests.browser.test_hash_worker import HIGH_QUALITY, TOLERANCE
from tests.conftest import BSDS500, PDQ_REFERENCE

Box = tuple[int, int, int, int]  # left, top, right, bottom (Pillow's crop box)


def distance(a: str, b: str) -> int:
    return PDQ_ALGORITHM.distance(PDQ_ALGORITHM.parse(a), PDQ_ALGORITHM.parse(b))


@contextmanager
def _recorded_crops() -> Iterator[list[Box]]:
    boxes: list[Box] = []
    crop = Image.Image.crop

    def recording(self: Image.Image, box: Box | None = None) -> Image.Image:
        assert box is not None
        boxes.append(tuple(box))  # type: ignore[arg-type]
        return crop(self, box)

    with patch.object(Image.Image, "crop", recording):
        yield boxes


def python_policy(image: Image.Image) -> dict[str, Any]:
    """Python's trim box and submission hashes (hex, quality) of a canonical image."""
    with _recorded_crops() as boxes:
        trimmed = trim_borders(image)
    box = (0, 0, *image.size) if trimmed is image else boxes[0]
    try:
        hashes = [(h.hex, h.quality) for h in submission_hashes(image)]
    except LowQualityImage as exc:
        return {"box": box, "low_quality": exc.quality}
    return {"box": box, "hashes": hashes}


def js_box(result: dict[str, Any]) -> Box:
    b = result["box"]
    return (b["x0"], b["y0"], b["x1"], b["y1"])


def js_hashes(result: dict[str, Any]) -> list[tuple[str, int]]:
    return [(h["hash"], h["quality"]) for h in result["hashes"]]


def policy_of_pixels(page: Page, image: Image.Image) -> dict[str, Any]:
    rgb = base64.b64encode(np.asarray(image.convert("RGB")).tobytes()).decode()
    result: dict[str, Any] = page.evaluate(
        "([rgb, w, h]) => harness.policyOfPixels(rgb, w, h)", [rgb, image.width, image.height]
    )
    return result


# --- generated images: plain borders, letterbox, pillarbox, screenshot margins ---


def _photo(name: str) -> Image.Image:
    with Image.open(BSDS500 / name) as im:
        return im.convert("RGB")


def _framed(
    photo: Image.Image,
    size: tuple[int, int],
    at: tuple[int, int],
    colour: tuple[int, int, int],
    noise: float = 0.0,
) -> Image.Image:
    """`photo` pasted at `at` on a plain canvas of `size` (with a little noise if asked)."""
    canvas = np.empty((size[1], size[0], 3), dtype=np.float64)
    canvas[:] = colour
    if noise:
        canvas += np.random.default_rng(3).uniform(-noise, noise, canvas.shape)
    canvas = np.clip(canvas, 0, 255).astype(np.uint8)
    framed = Image.fromarray(canvas)
    framed.paste(photo, at)
    return framed


def _bordered(photo: Image.Image, fraction: float, colour: tuple[int, int, int]) -> Image.Image:
    dx, dy = round(photo.width * fraction), round(photo.height * fraction)
    return _framed(photo, (photo.width + 2 * dx, photo.height + 2 * dy), (dx, dy), colour)


def _letterboxed(photo: Image.Image, width: int, height: int) -> Image.Image:
    """Scaled to `width`, centred between black bars (a 16:9 or taller frame)."""
    scaled = photo.resize((width, round(photo.height * width / photo.width)))
    return _framed(scaled, (width, height), (0, (height - scaled.height) // 2), (0, 0, 0))


def _pillarboxed(photo: Image.Image, width: int, height: int) -> Image.Image:
    scaled = photo.resize((round(photo.width * height / photo.height), height))
    return _framed(scaled, (width, height), ((width - scaled.width) // 2, 0), (16, 16, 16), 6)


def _screenshot(photo: Image.Image) -> Image.Image:
    """A phone screenshot: a light margin, more above (a status bar) than below."""
    return _framed(photo, (photo.width + 40, photo.height + 200), (20, 150), (245, 245, 247), 4)


def _flat_inside_border() -> Image.Image:
    """Detail only where the border meets the picture: PDQ quality 94 as it is, 16 trimmed."""
    inner = np.full((300, 400, 3), 128, np.uint8)
    rng = np.random.default_rng(1)
    for row in inner:
        row[rng.integers(0, 400)] = 255  # one dot per row: no row is plain
    return _framed(Image.fromarray(inner), (600, 450), (100, 75), (255, 255, 255))


WHITE, BLACK = (255, 255, 255), (0, 0, 0)
GENERATED: dict[str, tuple[Callable[[], Image.Image], str]] = {
    # name: (make the image, file format); each is also checked pixel for pixel.
    "border-10pc-white.png": (lambda: _bordered(_photo("100075.jpg"), 0.10, WHITE), "PNG"),
    "border-10pc-black.jpg": (lambda: _bordered(_photo("100080.jpg"), 0.10, BLACK), "JPEG"),
    "border-10pc-grey.webp": (
        lambda: _bordered(_photo("10081.jpg"), 0.10, (128, 120, 110)),
        "WEBP",
    ),
    "letterbox.png": (lambda: _letterboxed(_photo("100098.jpg"), 640, 640), "PNG"),
    "letterbox.jpg": (lambda: _letterboxed(_photo("101027.jpg"), 720, 1280), "JPEG"),
    # Large JPEGs: Python decodes them at 1/2 and 1/4 scale, the browser box-filters.
    "letterbox-large.jpg": (lambda: _letterboxed(_photo("10081.jpg"), 2400, 2000), "JPEG"),
    "border-large.jpg": (
        lambda: _bordered(_photo("100075.jpg").resize((3456, 2306)), 0.08, WHITE),
        "JPEG",
    ),
    "pillarbox.png": (
        lambda: _pillarboxed(_photo("100039.jpg").rotate(90, expand=True), 960, 540),
        "PNG",
    ),
    "screenshot.png": (lambda: _screenshot(_photo("101085.jpg")), "PNG"),
    "thin-edge.png": (lambda: _framed(_photo("100007.jpg"), (485, 325), (2, 2), WHITE), "PNG"),
    # Refused: no detail at all; detail only in the border (the trimmed image is refused).
    "plain.png": (lambda: Image.new("RGB", (300, 200), (40, 90, 200)), "PNG"),
    "flat-inside-border.png": (_flat_inside_border, "PNG"),
}
TRIMMED = {n for n in GENERATED if n.startswith(("border", "letterbox", "pillarbox", "screen"))}
TRIMMED.add("flat-inside-border.png")
REFUSED = {"plain.png", "flat-inside-border.png"}


@pytest.fixture(scope="module")
def generated(static_server: StaticServer) -> dict[str, Path]:
    paths = {}
    for name, (make, fmt) in GENERATED.items():
        path = static_server.generated / f"policy-{name}"
        if not path.exists():
            make().save(path, fmt, **({"quality": 90} if fmt in ("JPEG", "WEBP") else {}))
        paths[name] = path
    return paths


def _reference_url(name: str) -> tuple[str, Path]:
    return f"/ref/{name}", PDQ_REFERENCE / name


def _decoded_at_reduced_scale(path: Path) -> bool:
    with Image.open(path) as im:
        return im.format == "JPEG" and reduction_factor(*im.size) > 1


# --- the table of forms ---


def test_the_page_submits_the_rows_python_submits(harness: Page) -> None:
    """policy.js orders form-table.js's rows as `MatchPolicy.rows("submitted")` does."""
    ours = harness.evaluate('async () => (await import("/static/js/policy.js")).SUBMITTED')
    assert ours == [row.data() for row in DEFAULT_POLICY.rows("submitted")]


# --- the arithmetic ---


def test_centre_crop_boxes_round_like_python(harness: Page) -> None:
    sizes = list(range(1, 4001))
    ours = harness.evaluate(
        "([sizes, scales]) => harness.centreCropBoxes(sizes, scales)", [sizes, list(CROP_SCALES)]
    )
    halves = 0
    for scale, boxes in zip(CROP_SCALES, ours, strict=True):
        for size, box in zip(sizes, boxes, strict=True):
            line = Image.fromarray(np.arange(size, dtype=np.int32).reshape(1, size))
            with _recorded_crops() as recorded:
                centre_crop(line, scale)
            left, _, right, _ = recorded[0]
            assert (box["x0"], box["x1"]) == (left, right), (scale, size)
            halves += (size * scale) % 1 == 0.5
    assert halves > 100  # sizes whose crop is a whole number and a half: round half to even


ERODE_SIZES = [(1, 1), (1, 7), (9, 1), (3, 200), (61, 59), (240, 181), (1000, 40), (700, 1300)]


def _page_form(page: Page, form: str, channels: int, pixels: np.ndarray) -> np.ndarray:
    """policy.js's `form` of RGB pixels: the first `channels` channels of its pixels."""
    height, width = pixels.shape[:2]
    rgb = base64.b64encode(pixels.tobytes()).decode()
    ours = page.evaluate(
        "([form, channels, rgb, w, h]) => harness.formOfPixels(form, channels, rgb, w, h)",
        [form, channels, rgb, width, height],
    )
    return np.frombuffer(base64.b64decode(ours), np.uint8)


def _noise(width: int, height: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.mark.parametrize(("width", "height"), ERODE_SIZES, ids=[f"{w}x{h}" for w, h in ERODE_SIZES])
def test_eroded_value_is_pythons_pixel_for_pixel(harness: Page, width: int, height: int) -> None:
    """Windows of 3 and 11 pixels, windows wider than the image, and edges that repeat."""
    pixels = _noise(width, height, seed=width * 7 + height)
    page_grey = _page_form(harness, "erodedValue", 1, pixels).reshape(height, width)
    python_grey = np.asarray(eroded_value(Image.fromarray(pixels)))[..., 0]
    assert np.array_equal(page_grey, python_grey)
    # Both against Pillow's own square minimum of max(R, G, B), with the documented window.
    window = max(3, min(width, height) // ERODE_DIVISOR | 1)
    value = Image.fromarray(pixels.max(axis=2))
    assert np.array_equal(python_grey, np.asarray(value.filter(ImageFilter.MinFilter(window))))


REDUCED_SIZES = [(1, 1), (1, 7), (63, 65), (64, 64), (129, 3), (481, 321), (1300, 700)]


@pytest.mark.parametrize(
    ("width", "height"), REDUCED_SIZES, ids=[f"{w}x{h}" for w, h in REDUCED_SIZES]
)
def test_reduced_is_pythons_pixel_for_pixel(harness: Page, width: int, height: int) -> None:
    """Cells smaller and larger than a pixel, whole and fractional cell edges."""
    pixels = _noise(width, height, seed=width * 11 + height)
    page_rgb = _page_form(harness, "reduced", 3, pixels).reshape(64, 64, 3)
    assert np.array_equal(page_rgb, np.asarray(reduced(Image.fromarray(pixels))))


CLIPPED_SIZES = [(1, 1), (2, 1), (5, 5), (481, 321)]


@pytest.mark.parametrize(
    ("width", "height"), CLIPPED_SIZES, ids=[f"{w}x{h}" for w, h in CLIPPED_SIZES]
)
def test_clipped_value_is_pythons_pixel_for_pixel(harness: Page, width: int, height: int) -> None:
    """The percentile's index at the ends of small images, and a photo-sized one."""
    pixels = _noise(width, height, seed=width * 13 + height)
    page_grey = _page_form(harness, "clippedValue", 1, pixels).reshape(height, width)
    assert np.array_equal(page_grey, np.asarray(clipped_value(Image.fromarray(pixels)))[..., 0])


def test_a_clipped_value_below_its_floor_is_left_out_as_in_python(harness: Page) -> None:
    """A near-blank tile whose clipped value form has quality 50-69: both sides drop it."""
    photo = load_image(BSDS500 / "15088.jpg")
    w, h = photo.size
    tile = photo.crop((5 * w // 6, 5 * h // 6, w, h))
    form = PDQ_ALGORITHM.compute(clipped_value(tile))
    assert form.quality is not None
    assert 50 <= form.quality < CLIPPED_MIN_QUALITY
    expected = python_policy(tile)
    assert (form.hex, form.quality) not in expected["hashes"]
    _assert_same_as_python(harness, tile, expected)


# --- the same pixels on both sides: exact ---


@pytest.mark.parametrize("name", HIGH_QUALITY)
def test_reference_pixels_give_python_hashes_exactly(harness: Page, name: str) -> None:
    image = load_image(PDQ_REFERENCE / name)
    expected = python_policy(image)
    ours = policy_of_pixels(harness, image)
    assert js_box(ours) == expected["box"]
    assert js_hashes(ours) == expected["hashes"]


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_pixels_give_python_hashes_exactly(
    harness: Page, generated: dict[str, Path], name: str
) -> None:
    image = load_image(generated[name])
    expected = python_policy(image)
    assert (expected["box"] != (0, 0, *image.size)) == (name in TRIMMED)  # the test's premise
    assert ("low_quality" in expected) == (name in REFUSED)
    if name in TRIMMED and name not in REFUSED:
        # Trimmed and as given, each with its crops; band, eroded, reduced, and the clipped
        # value of the untrimmed picture unless its bars leave it below quality 50.
        assert len(expected["hashes"]) in (5 + 2 * len(CROP_SCALES), 6 + 2 * len(CROP_SCALES))
    _assert_same_as_python(harness, image, expected)


def _assert_same_as_python(harness: Page, image: Image.Image, expected: dict[str, Any]) -> None:
    """The JS policy on the same pixels: the same trim box, and the same hashes or refusal."""
    ours = policy_of_pixels(harness, image)
    assert js_box(ours) == expected["box"]
    if "low_quality" in expected:
        assert ours["lowQuality"] == expected["low_quality"]
    else:
        assert js_hashes(ours) == expected["hashes"]


ODD_SIZES = [(5, 5), (7, 9), (15, 25), (25, 15), (35, 45), (45, 55), (95, 65), (105, 75), (33, 34)]


@pytest.mark.parametrize(("width", "height"), ODD_SIZES, ids=[f"{w}x{h}" for w, h in ODD_SIZES])
def test_small_odd_sizes_give_python_hashes_exactly(harness: Page, width: int, height: int) -> None:
    """Sides whose crops end on a half (w * 0.9 = n + 0.5) and crops reaching past tiny images."""
    rng = np.random.default_rng(width * 1000 + height)
    ramp = np.linspace(0, 200, width)[None, :, None] + np.linspace(0, 50, height)[:, None, None]
    pixels = np.clip(ramp + rng.normal(0, 40, (height, width, 3)), 0, 255).astype(np.uint8)
    for image in (Image.fromarray(pixels), _bordered(Image.fromarray(pixels), 0.25, WHITE)):
        _assert_same_as_python(harness, image, python_policy(image))


# --- files, as the page sees them ---


def _assert_file_agrees(page: Page, url: str, path: Path) -> None:
    ours = page.evaluate("url => harness.policyOfUrl(url)", url)
    expected = python_policy(load_image(path))
    assert js_box(ours) == expected["box"]
    if "low_quality" in expected:
        assert "lowQuality" in ours
        return
    theirs = expected["hashes"]
    assert len(ours["hashes"]) == len(theirs)
    assert [h["quality"] for h in ours["hashes"]] == pytest.approx([q for _, q in theirs], abs=5)
    bits = [distance(a["hash"], b) for a, (b, _) in zip(ours["hashes"], theirs, strict=True)]
    assert max(bits) <= TOLERANCE, bits
    if not _decoded_at_reduced_scale(path):
        assert bits == [0] * len(bits)


@pytest.mark.parametrize("name", HIGH_QUALITY)
def test_reference_files_give_python_hashes(
    harness: Page, static_server: StaticServer, name: str
) -> None:
    url, path = _reference_url(name)
    _assert_file_agrees(harness, static_server.url(url), path)


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_files_give_python_hashes(
    harness: Page, static_server: StaticServer, generated: dict[str, Path], name: str
) -> None:
    _assert_file_agrees(harness, static_server.url(f"/gen/policy-{name}"), generated[name])


def test_the_worker_sends_these_hashes(
    harness: Page, static_server: StaticServer, generated: dict[str, Path]
) -> None:
    """hash-worker.js replies with policy.js's submission hashes as `hashes`."""
    urls = [static_server.url(f"/gen/policy-{n}") for n in sorted(GENERATED)]
    urls += [static_server.url(_reference_url(n)[0]) for n in HIGH_QUALITY[:4]]
    replies = harness.evaluate("urls => harness.hashUrls(urls)", urls)
    for url, reply in zip(urls, replies, strict=True):
        direct = harness.evaluate("url => harness.policyOfUrl(url)", url)
        if "lowQuality" in direct:
            assert reply["ok"] is False
            assert reply["code"] == "low-quality"
            assert reply["quality"] < 50
        else:
            assert reply["ok"] is True, reply.get("reason")
            assert reply["hashes"] == direct["hashes"], url
            assert len(reply["hashes"]) >= 3
