"""The web page's hashing (service/static/js) agrees with the Python hashing.

Each image is hashed twice: in headless Chromium by `hash-worker.js` (canonical
loading in `canonical.js`, PDQ in `pdq.js`), and in Python by
`hashing.load_image` + `PDQ_ALGORITHM`. Meta's conformance rule is the bar:
within 10 bits for every reference image of quality >= 80, for the hash and for
each of the 8 dihedral hashes (in `compute_dihedral` order), and for each of the
match policy's submission hashes (`hashing.policy.submission_hashes`, in order; the
policy port itself is tested in test_policy_js.py).
"""

import base64
import csv
import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, Request

from hashing import PDQ_ALGORITHM, LowQualityImage, load_image
from hashing.loading import EXIF_TRANSPOSE, reduction_factor
from hashing.policy import submission_hashes
from tests.browser.conftest import StaticServer, new_context, open_harness
from tests.conftest import PDQ_REFERENCE

pdq = PDQ_ALGORITHM
TOLERANCE = 10  # Meta's conformance rule, in bits
LOW_QUALITY_REASON = "not enough detail to be matched reliably"
WORKER_MODULES = {
    "/static/js/hash-worker.js",
    "/static/js/pdq.js",
    "/static/js/canonical.js",
    "/static/js/policy.js",
    "/static/js/form-table.js",
    "/static/js/md5.js",  # a video's file digest (test_video_js.py)
    "/static/js/video-forms.js",  # a video frame's other forms (test_video_forms_js.py)
}


def distance(a: str, b: str) -> int:
    return pdq.distance(pdq.parse(a), pdq.parse(b))


def _expected_rows() -> list[dict[str, str]]:
    with open(PDQ_REFERENCE / "expected.csv", newline="") as f:
        return list(csv.DictReader(f))


# As tests/hashing/test_pdq_conformance.py: quality >= 80, or none given by the source.
HIGH_QUALITY = [
    r["file"] for r in _expected_rows() if r["quality"] == "" or int(r["quality"]) >= 80
]
LOW_QUALITY = [
    "reg-test-input/labelme-subset/q0003.jpg",
    "reg-test-input/labelme-subset/q0004.jpg",
    "misc-images/small.jpg",
]
EXIF_ROTATED = [f"reg-test-input/exif-rotn/exif-rotn-{o}.jpg" for o in (1, 3, 6, 8)]


def python_dihedral(path: Path) -> tuple[list[str], int]:
    """The Python side's 8 dihedral hashes and quality of a file."""
    hashes = pdq.compute_dihedral(load_image(path))
    assert hashes[0].quality is not None
    return [h.hex for h in hashes], hashes[0].quality


def hash_in_browser(page: Page, url: str) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate("url => harness.hashUrl(url)", url)
    return result


def assert_matches_python(result: dict[str, Any], path: Path) -> None:
    expected, quality = python_dihedral(path)
    assert result["ok"] is True, result.get("reason")
    assert result["algorithm"] == "pdq"
    assert result["hash"] == result["dihedral"][0]
    assert distance(result["hash"], pdq.compute(load_image(path)).hex) <= TOLERANCE
    assert abs(result["quality"] - quality) <= 5
    far = {
        i: d
        for i, (ours, theirs) in enumerate(zip(result["dihedral"], expected, strict=True))
        if (d := distance(ours, theirs)) > TOLERANCE
    }
    assert far == {}, f"dihedral variants more than {TOLERANCE} bits from Python: {far}"
    submitted = submission_hashes(load_image(path))
    assert len(result["hashes"]) == len(submitted)
    far = {
        i: d
        for i, (ours, theirs) in enumerate(zip(result["hashes"], submitted, strict=True))
        if (d := distance(ours["hash"], theirs.hex)) > TOLERANCE
    }
    assert far == {}, f"submission hashes more than {TOLERANCE} bits from Python: {far}"


@pytest.fixture(scope="module")
def reference_results(harness: Page, static_server: StaticServer) -> dict[str, dict[str, Any]]:
    """Every reference image used below, hashed in the browser in one batch."""
    names = sorted(set(HIGH_QUALITY + LOW_QUALITY + EXIF_ROTATED))
    results = harness.evaluate(
        "urls => harness.hashUrls(urls)", [static_server.url(f"/ref/{n}") for n in names]
    )
    return dict(zip(names, results, strict=True))


def test_reference_table_is_complete() -> None:
    assert len(HIGH_QUALITY) >= 25


@pytest.mark.parametrize("name", HIGH_QUALITY)
def test_reference_images_hash_like_python(
    reference_results: dict[str, dict[str, Any]], name: str
) -> None:
    result = reference_results[name]
    assert_matches_python(result, PDQ_REFERENCE / name)
    assert result["quality"] >= 80


@pytest.mark.parametrize("name", LOW_QUALITY)
def test_low_quality_images_are_not_hashable(
    reference_results: dict[str, dict[str, Any]], name: str
) -> None:
    result = reference_results[name]
    assert result["ok"] is False
    assert result["reason"] == LOW_QUALITY_REASON
    assert result["code"] == "low-quality"
    assert result["quality"] < 50
    assert "hash" not in result
    assert "dihedral" not in result
    assert "hashes" not in result
    with pytest.raises(LowQualityImage):  # the Python side agrees
        pdq.compute(load_image(PDQ_REFERENCE / name))


@pytest.mark.parametrize("name", EXIF_ROTATED)
def test_exif_rotated_photos_hash_as_displayed(
    reference_results: dict[str, dict[str, Any]], name: str
) -> None:
    path = PDQ_REFERENCE / name
    result = reference_results[name]
    assert_matches_python(result, path)
    with Image.open(path) as raw:
        orientation = raw.getexif().get(0x0112, 1)
        assert orientation == int(path.stem.rsplit("-", 1)[1])
        stored_grid = pdq.compute(raw.convert("RGB").reduce(4)).hex  # orientation ignored
    if orientation != 1:
        assert distance(result["hash"], stored_grid) > 31


def test_progress_is_reported(reference_results: dict[str, dict[str, Any]]) -> None:
    progress = reference_results[EXIF_ROTATED[0]]["progress"]
    assert len(progress) >= 4
    assert progress == sorted(progress)
    assert progress[0] == 0
    assert progress[-1] == 1


# --- images generated here: large phone photos, other formats, broken files ---


def _photo(width: int, height: int) -> Image.Image:
    """A detailed photo-like image: the bridge photo stretched, with sensor-like noise."""
    with Image.open(PDQ_REFERENCE / "reg-test-input" / "dih" / "bridge-1-original.jpg") as im:
        base = np.asarray(im.convert("RGB").resize((width, height), Image.Resampling.BICUBIC))
    noise = np.random.default_rng(7).normal(0, 6, base.shape)
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))


def _save(image: Image.Image, path: Path, orientation: int = 1) -> Path:
    options: dict[str, Any] = {"quality": 90}  # JPEG and WebP; PNG ignores it
    if orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif
    image.save(path, **options)
    return path


GENERATED = {
    # name: (width, height, orientation) as stored
    "phone-12mp-rot6.jpg": (4032, 3024, 6),
    "odd-size-rot3.jpg": (2101, 1303, 3),
    "odd-size-rot8.jpg": (1303, 2101, 8),
    "odd-size.png": (2101, 1303, 1),
    "large.webp": (2400, 1800, 1),
}


@pytest.fixture(scope="module")
def generated(static_server: StaticServer) -> dict[str, Path]:
    paths = {}
    for name, (width, height, orientation) in GENERATED.items():
        path = static_server.generated / name
        if not path.exists():
            _save(_photo(width, height), path, orientation)
        paths[name] = path
    return paths


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_images_hash_like_python(
    harness: Page, static_server: StaticServer, generated: dict[str, Path], name: str
) -> None:
    result = hash_in_browser(harness, static_server.url(f"/gen/{name}"))
    assert_matches_python(result, generated[name])


def test_a_dozen_phone_photos_keep_the_page_responsive(
    harness: Page, static_server: StaticServer, generated: dict[str, Path]
) -> None:
    url = static_server.url("/gen/phone-12mp-rot6.jpg")
    hash_in_browser(harness, url)  # warm up: modules loaded and compiled
    single = hash_in_browser(harness, url)
    assert single["ok"] is True
    assert single["ms"] < 10_000, f"one 12 MP photo took {single['ms']:.0f} ms"
    watched = harness.evaluate("urls => harness.hashUrlsWatched(urls)", [url] * 12)
    assert all(r["ok"] for r in watched["result"])
    assert len({r["hash"] for r in watched["result"]}) == 1
    # Hashing happens in the worker: the page's timers keep ticking.
    assert watched["longestGapMs"] < 250, watched["longestGapMs"]


def canonical_pixels(page: Page, url: str) -> np.ndarray:
    """canonical.js's output for `url`, as an RGB array."""
    out = page.evaluate("url => harness.canonicalPixels(url)", url)
    rgb = np.frombuffer(base64.b64decode(out["rgb"]), dtype=np.uint8)
    return rgb.reshape(out["height"], out["width"], 3).astype(np.int16)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_canonical_pixels_are_pillows_box_reduction_then_orientation(
    harness: Page, static_server: StaticServer, orientation: int
) -> None:
    """Pixel for pixel, canonical.js is Pillow's full decode, `reduce` (boxes aligned on the
    stored grid, partial boxes where the stored image ends), then the EXIF transpose.

    (For large JPEGs Python decodes at reduced scale instead, libjpeg's DCT scaling,
    which a browser cannot do; the hash tests above bound that difference.)"""
    path = static_server.generated / f"odd-size-orientation-{orientation}.jpg"
    if not path.exists():
        _save(_photo(2103, 1301), path, orientation)
    ours = canonical_pixels(harness, static_server.url(f"/gen/{path.name}"))
    with Image.open(path) as stored:
        theirs = stored.convert("RGB").reduce(reduction_factor(*stored.size))
    if orientation in EXIF_TRANSPOSE:
        theirs = theirs.transpose(EXIF_TRANSPOSE[orientation])
    expected = np.asarray(theirs).astype(np.int16)
    assert ours.shape == expected.shape
    assert np.abs(ours - expected).max() <= 1


@pytest.mark.parametrize(
    "name",
    [
        "misc-images/c.png",  # RGBA
        "misc-images/modes/LA.png",
        "misc-images/modes/RGBA.png",
        "misc-images/modes/PA.webp",
        "misc-images/modes/P.png",
        "misc-images/modes/1.png",
        "misc-images/modes/CMYK.jpg",  # Adobe (inverted) CMYK
        "reg-test-input/pen-and-coaster.png",
    ],
)
def test_canonical_pixels_of_other_formats_are_load_images(
    harness: Page, static_server: StaticServer, name: str
) -> None:
    """Transparency over white, palettes, 1-bit: the same pixels as `hashing.load_image`."""
    ours = canonical_pixels(harness, static_server.url(f"/ref/{name}"))
    expected = np.asarray(load_image(PDQ_REFERENCE / name)).astype(np.int16)
    assert ours.shape == expected.shape
    assert np.abs(ours - expected).max() <= 2


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def _heic_bytes() -> bytes:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    buffer = io.BytesIO()
    _photo(640, 480).save(buffer, format="HEIF")
    return buffer.getvalue()


def _truncated_jpeg() -> bytes:
    data = (PDQ_REFERENCE / "reg-test-input" / "dih" / "bridge-1-original.jpg").read_bytes()
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("make", "code", "reason"),
    [
        (lambda: b"", "empty", "file is empty"),
        (lambda: b"hello, this is not an image" * 10, "unreadable", "not an image"),
        (_truncated_jpeg, "unreadable", "truncated or damaged"),
        (lambda: _png_header_only(20_000, 20_000), "too-large", "the limit is 100,000,000"),
        (_heic_bytes, "unsupported-format", "cannot open HEIC/HEIF photos"),
    ],
    ids=["empty", "not-an-image", "truncated", "too-large", "heic"],
)
def test_unhashable_files_get_a_plain_reason(
    harness: Page, make: Callable[[], bytes], code: str, reason: str
) -> None:
    data = make()
    result = harness.evaluate("([bytes]) => harness.hashBytes(bytes)", [list(data)])
    assert result["ok"] is False
    assert result["code"] == code
    assert reason in result["reason"]


def test_worker_makes_no_network_request_but_its_own_modules(
    browser: Browser, static_server: StaticServer
) -> None:
    context = new_context(browser, static_server)
    try:
        page = open_harness(context, static_server)
        names = ["reg-test-input/dih/bridge-1-original.jpg", "misc-images/c.png", EXIF_ROTATED[2]]
        urls = [static_server.url(f"/ref/{n}") for n in names]
        page.evaluate("urls => harness.preload(urls)", urls)  # the page's fetches, not the worker's
        requests: list[Request] = []

        def record(request: Request) -> None:
            requests.append(request)

        context.on("request", record)
        results = page.evaluate("urls => harness.hashUrls(urls)", urls)
        assert all(r["ok"] for r in results)
    finally:
        context.close()
    base = static_server.base_url
    seen = {r.url.removeprefix(base) for r in requests}
    # The worker's module files are seen (so worker requests are recorded), and nothing else.
    assert seen == WORKER_MODULES
