"""The match policy (`hashing.policy`) on real photos, and a smoke run of the accuracy benchmark."""

import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageEnhance, ImageFont

from hashing import PDQ_ALGORITHM, load_image
from hashing.algorithm import Hash
from hashing.errors import LowQualityImage
from hashing.forms import (
    CLIPPED_MIN_QUALITY,
    centre_crop,
    clipped_value,
    content_block,
    eroded_value,
    reduced,
)
from hashing.policy import (
    CROP_SCALES,
    DEFAULT_POLICY,
    MAX_QUERY_HASHES,
    THRESHOLD,
    MatchPolicy,
    query_hashes,
    submission_hashes,
)
from tests.hashing.accuracy_bench import photo_folder, run_bench

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT.parent / "shared" / "pdq-reference"
DIH = REFERENCE / "reg-test-input" / "dih"
BRIDGE = DIH / "bridge-1-original.jpg"
UNRELATED = [
    REFERENCE / "reg-test-input" / "labelme-subset" / name
    for name in ("q0122.jpg", "q0291.jpg", "q0746.jpg", "q1050.jpg", "q2821.jpg")
]
BSDS = ROOT.parent / "shared" / "datasets" / "bsds500"


def best(stored: list[Hash], query: list[Hash]) -> int:
    return min(PDQ_ALGORITHM.distance(s.value, q.value) for s in stored for q in query)


def matches(stored: list[Hash], query: list[Hash]) -> bool:
    return DEFAULT_POLICY.accepts(best(stored, query))


def jpeg(image: Image.Image, quality: int = 85) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return load_image(buffer.getvalue())


@pytest.fixture(scope="module")
def bridge() -> Image.Image:
    return load_image(BRIDGE)


@pytest.fixture(scope="module")
def bridge_submitted(bridge: Image.Image) -> list[Hash]:
    return submission_hashes(bridge)


@pytest.mark.parametrize("path", sorted(DIH.glob("*.jpg")), ids=lambda p: p.stem)
def test_every_rotation_and_flip_matches(path: Path, bridge_submitted: list[Hash]) -> None:
    query = query_hashes(load_image(path))
    assert best(bridge_submitted, query) <= 10


def test_a_rotated_copy_does_not_match_plain_pdq(bridge: Image.Image) -> None:
    rotated = load_image(DIH / "bridge-2-rotate-90.jpg")
    distance = PDQ_ALGORITHM.distance(
        PDQ_ALGORITHM.compute(bridge).value, PDQ_ALGORITHM.compute(rotated).value
    )
    assert distance > THRESHOLD  # what the policy's dihedral query is for


@pytest.mark.parametrize("colour", [(255, 255, 255), (0, 0, 0), (40, 90, 200)])
def test_a_padded_copy_matches(
    bridge: Image.Image, bridge_submitted: list[Hash], colour: tuple[int, int, int]
) -> None:
    dx, dy = bridge.width // 10, bridge.height // 10
    padded = Image.new("RGB", (bridge.width + 2 * dx, bridge.height + 2 * dy), colour)
    padded.paste(bridge, (dx, dy))
    copy = jpeg(padded, 40)
    assert not DEFAULT_POLICY.accepts(
        PDQ_ALGORITHM.distance(bridge_submitted[0].value, PDQ_ALGORITHM.compute(copy).value)
    )
    assert matches(bridge_submitted, query_hashes(copy))


def test_a_centre_cropped_copy_matches(bridge: Image.Image, bridge_submitted: list[Hash]) -> None:
    for scale in CROP_SCALES:
        copy = jpeg(centre_crop(bridge, scale).rotate(90, expand=True))
        assert matches(bridge_submitted, query_hashes(copy))


def test_a_crop_of_a_photo_with_a_plain_band_matches(bridge: Image.Image) -> None:
    """Trimming takes a clear sky for a border; a crop of the whole photo still matches."""
    sky = Image.new("RGB", (bridge.width, bridge.height // 4), (120, 170, 230))
    photo = Image.new("RGB", (bridge.width, bridge.height + sky.height))
    photo.paste(sky, (0, 0))
    photo.paste(bridge, (0, sky.height))
    dx, dy = round(photo.width * 0.05), round(photo.height * 0.05)
    copy = jpeg(photo.crop((dx, dy, photo.width - dx, photo.height - dy)))
    stored = submission_hashes(photo)
    untrimmed_crops = [PDQ_ALGORITHM.compute(centre_crop(photo, s)) for s in CROP_SCALES]
    assert all(h in stored for h in untrimmed_crops)
    assert matches(stored, query_hashes(copy))
    # The premise: without the untrimmed image's crops it would not match.
    assert not matches([h for h in stored if h not in untrimmed_crops], query_hashes(copy))


def test_unrelated_photos_do_not_match(bridge_submitted: list[Hash]) -> None:
    photos = [load_image(p) for p in UNRELATED]
    submitted = [submission_hashes(p) for p in photos] + [bridge_submitted]
    queries = [query_hashes(p) for p in photos] + [query_hashes(load_image(BRIDGE))]
    for i, stored in enumerate(submitted):
        for j, query in enumerate(queries):
            if i != j:
                assert best(stored, query) > 64, (i, j)


def _hue_shifted(image: Image.Image, degrees: float) -> Image.Image:
    h, s, v = image.convert("HSV").split()
    shift = round(degrees / 360 * 256)
    return Image.merge("HSV", (h.point(lambda x: (x + shift) % 256), s, v)).convert("RGB")


def _captioned(image: Image.Image, text: str, top: bool) -> Image.Image:
    out = image.copy()
    size = image.height // 12
    y = image.height * 0.04 if top else image.height * 0.96 - size
    ImageDraw.Draw(out).text(
        (image.width * 0.1, y),
        text,
        font=ImageFont.load_default(size=size),
        fill="white",
        stroke_width=size // 12,
        stroke_fill="black",
    )
    return out


def _watermarked(image: Image.Image, text: str) -> Image.Image:
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    font = ImageFont.load_default(size=min(image.size) // 6)
    ImageDraw.Draw(layer).text(
        (image.width * 0.1, image.height * 0.4), text, font=font, fill=(255, 255, 255, 96)
    )
    layer = layer.rotate(30, Image.Resampling.BICUBIC)
    return Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")


# Each edit with photos whose edited copies the policy without its forms misses.
EDITS: dict[str, tuple[Callable[[Image.Image], Image.Image], list[str]]] = {
    "hue +40°": (lambda im: _hue_shifted(im, 40), ["113044", "12084", "295087"]),
    "hue -30°": (lambda im: _hue_shifted(im, -30), ["28096", "295087"]),
    "caption": (
        lambda im: _captioned(im, "when you see it, it is too late", True),
        ["253055", "28083", "92014"],
    ),
    "watermark": (lambda im: _watermarked(im, "@reposted_daily"), ["178054", "43033", "134008"]),
}


@pytest.mark.parametrize("edit", EDITS)
def test_forms_find_edited_copies_that_crops_alone_miss(edit: str) -> None:
    """The forms (step 2) find what trimming and crops alone miss."""
    without_forms = MatchPolicy(name="no forms", forms=False, reduced=False, clipped=False)
    change, names = EDITS[edit]
    for name in names:
        photo = load_image(BSDS / f"{name}.jpg")
        copy = jpeg(change(photo), 70)
        assert matches(submission_hashes(photo), query_hashes(copy)), name
        missed = best(without_forms.submission_hashes(photo), without_forms.query_hashes(copy))
        assert not without_forms.accepts(missed), name  # the premise


@pytest.mark.parametrize("name", ["102061", "103078", "113016"])
def test_a_brightened_copy_of_a_pale_photo_matches_through_the_clipped_value(name: str) -> None:
    """Brightening a high-key photo by 30% clips its highlights to white; the clipped
    value form (step 2) clips the original's at the same rank, so the copy still matches."""
    photo = np.asarray(load_image(BSDS / f"{name}.jpg")).astype(np.int32)
    pale = Image.fromarray((255 - (255 - photo) * 55 // 100).astype(np.uint8))
    copy = jpeg(ImageEnhance.Brightness(pale).enhance(1.3))
    assert (np.asarray(copy).max(axis=2) >= 254).mean() > 0.05  # the premise: highlights clip
    assert matches(submission_hashes(pale), query_hashes(copy))
    without = MatchPolicy(name="no clipped value", clipped=False)
    assert not without.accepts(best(without.submission_hashes(pale), without.query_hashes(copy)))


def test_a_clipped_value_below_its_floor_is_neither_stored_nor_queried() -> None:
    """The clipped value form of a near-blank picture (quality 50-69) is left out: such
    forms came within 26 bits of unrelated ones (docs/accuracy.md)."""
    photo = load_image(BSDS / "15088.jpg")
    w, h = photo.size
    tile = photo.crop((5 * w // 6, 5 * h // 6, w, h))
    form = PDQ_ALGORITHM.compute_dihedral(clipped_value(tile))
    assert form[0].quality is not None
    assert 50 <= form[0].quality < CLIPPED_MIN_QUALITY
    assert form[0] not in submission_hashes(tile)
    assert not set(form) & set(query_hashes(tile))
    # The whole photo's clipped value form clears the floor and is stored and queried.
    whole = PDQ_ALGORITHM.compute_dihedral(clipped_value(photo))
    assert (whole[0].quality or 0) >= CLIPPED_MIN_QUALITY
    assert whole[0] in submission_hashes(photo)
    assert set(whole) <= set(query_hashes(photo))


def _app_screenshot(photo: Image.Image, dark: bool) -> Image.Image:
    """A phone screenshot of a post: status bar, account, the photo, buttons, caption, nav bar."""
    bg, fg = ((0, 0, 0), (240, 240, 240)) if dark else ((255, 255, 255), (20, 20, 20))
    screen = Image.new("RGB", (585, 1266), bg)
    draw = ImageDraw.Draw(screen)
    draw.text((35, 20), "21:47", font=ImageFont.load_default(size=24), fill=fg)
    draw.ellipse((70, 82, 120, 132), fill=(200, 60, 90))
    draw.text((135, 92), "reposted_daily", font=ImageFont.load_default(size=25), fill=fg)
    shown = photo.resize((585, round(photo.height * 585 / photo.width)), Image.Resampling.BILINEAR)
    screen.paste(shown, (0, 160))
    y = 160 + shown.height + 15
    for x in (30, 95, 160, 515):
        draw.rounded_rectangle((x, y, x + 40, y + 40), radius=12, outline=fg, width=4)
    draw.text((30, y + 60), "1,204 likes", font=ImageFont.load_default(size=22), fill=fg)
    draw.text((30, y + 95), "no context needed", font=ImageFont.load_default(size=22), fill=fg)
    draw.line((0, 1166, 585, 1166), fill=fg, width=1)
    for x in range(55, 585, 118):
        draw.rounded_rectangle((x - 17, 1186, x + 17, 1220), radius=6, outline=fg, width=3)
    return screen


@pytest.mark.parametrize("name", ["100075", "101085", "28083"])
def test_an_app_screenshot_matches_through_the_content_block(name: str) -> None:
    photo = load_image(BSDS / f"{name}.jpg")
    for dark in (False, True):
        screenshot = jpeg(_app_screenshot(photo, dark), 80)
        block = content_block(screenshot)
        assert block is not None
        assert block.width == 585
        assert abs(block.height - photo.height * 585 / photo.width) <= 2
        assert matches(submission_hashes(photo), query_hashes(screenshot))
        without_block = MatchPolicy(name="no block", block=False)
        missed = best(submission_hashes(photo), without_block.query_hashes(screenshot))
        assert not without_block.accepts(missed)  # the premise


def test_eroded_value_ignores_a_hue_rotation() -> None:
    photo = load_image(BSDS / "12084.jpg")
    shifted = _hue_shifted(photo, 35)
    value = np.asarray(eroded_value(photo))
    assert np.abs(value.astype(int) - np.asarray(eroded_value(shifted))).max() <= 1


def test_reduced_form_matches_a_turned_texture_plain_pdq_misses() -> None:
    """Fine texture aliases in PDQ's own sampling: a rotated copy hashes far away, and
    the reduced form brings it back within the threshold."""
    rng = np.random.default_rng(21)
    # Bricks: 6-pixel mortar lines over a 512 x 512 canvas, with a little noise.
    canvas = np.full((512, 512), 150.0)
    canvas[::10, :] = 60
    for row in range(0, 512, 10):
        canvas[row : row + 10, (row // 10 % 2) * 9 :: 18] = 60
    canvas += rng.normal(0, 12, canvas.shape) + np.linspace(-30, 30, 512)[None, :]
    brick = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8)).convert("RGB")
    turned = jpeg(brick.transpose(Image.Transpose.ROTATE_90))
    plain = [PDQ_ALGORITHM.compute(brick)]
    assert best(plain, PDQ_ALGORITHM.compute_dihedral(turned)) > THRESHOLD  # the premise
    form = [PDQ_ALGORITHM.compute(reduced(brick))]
    assert best(form, PDQ_ALGORITHM.compute_dihedral(reduced(turned))) <= THRESHOLD
    assert matches(submission_hashes(brick), query_hashes(turned))
    without = MatchPolicy(reduced=False)
    assert not without.accepts(best(without.submission_hashes(brick), without.query_hashes(turned)))


def test_hash_counts(bridge: Image.Image, bridge_submitted: list[Hash]) -> None:
    assert len(bridge_submitted) == 5 + len(CROP_SCALES)  # band, eroded, reduced, clipped
    assert bridge_submitted[0] == PDQ_ALGORITHM.compute(bridge)  # untrimmed: plain PDQ first
    query = query_hashes(bridge)
    assert query[:8] == PDQ_ALGORITHM.compute_dihedral(bridge)
    assert len(query) <= MAX_QUERY_HASHES
    padded = Image.new("RGB", (bridge.width + 200, bridge.height + 200), "white")
    padded.paste(bridge, (100, 100))
    # Trimmed and as given, each with its centre crops.
    assert len(submission_hashes(padded)) == 6 + 2 * len(CROP_SCALES)
    assert len(query_hashes(padded)) == MAX_QUERY_HASHES - 8  # its block is the trimmed image
    framed = Image.new("RGB", (bridge.width + 200, bridge.height + 600), "white")
    framed.paste(bridge, (100, 300))
    ImageDraw.Draw(framed).text((100, 100), "a toolbar", fill="black")
    assert len(query_hashes(framed)) == MAX_QUERY_HASHES  # trimmed, and a block inside it


# -- the benchmark, end to end on a few photos -----------------------------------------


def test_bench_accuracy_smoke(tmp_path: Path) -> None:
    photos = photo_folder(tmp_path, sorted(BSDS.glob("*.jpg"))[:4])
    out = tmp_path / "accuracy.md"
    out.write_text(
        "# Accuracy\n\n<!-- bench_accuracy:begin -->\nSTALE-REPORT\n"
        "<!-- bench_accuracy:end -->\n\nkept\n"
    )
    run_bench(photos, *("--jobs", "1", "--seed", "3", "--out", str(out)))
    text = out.read_text()
    assert "STALE-REPORT" not in text
    assert text.endswith("\n\nkept\n")
    assert "| JPEG q30 | ≥ 99% | 100.0% |" in text
    assert "| rotate 90° | ≥ 99% | 0.0% | 100.0% |" in text
    assert "| false pairs of originals | 0 | 0 | 0 | 0 | 0 |" in text
    # Each comparison row adds one part: baseline and dihedral store one hash per image,
    # the crops three, the default policy's forms two more.
    stored = _row_numbers(text, "hashes stored per image")
    queried = _row_numbers(text, "hashes per query")
    assert stored[:2] == [1.0, 1.0]
    # Centre crops at 90% and 80%, of the untrimmed image too where trimming changed it.
    assert stored[3] - stored[2] == pytest.approx(2 * stored[2], abs=0.02)
    assert stored[4] - stored[3] == 2.0  # caption band, eroded value
    assert queried[:2] == [1.0, 8.0]
    assert queried[3] - queried[2] == 8.0  # the centre crop's 8
    assert queried[4] - queried[3] >= 16.0  # caption band and eroded value (and any block)


def _row_numbers(text: str, label: str) -> list[float]:
    (line,) = [line for line in text.splitlines() if line.startswith(f"| {label} |")]
    return [float(cell) for cell in line.strip("| ").split(" | ")[1:]]


def test_bench_unrelated_smoke(tmp_path: Path) -> None:
    """The tile comparison counts every pair of tiles of different photos, once."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for path in sorted(BSDS.glob("*.jpg"))[:3]:
        (photos / path.name).write_bytes(path.read_bytes())
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_unrelated.py"), str(photos), "--grid", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    tiles = []
    for path in sorted(photos.iterdir()):
        image = load_image(path)
        w, h = image.size
        boxes = [
            (c * w // 2, r * h // 2, (c + 1) * w // 2, (r + 1) * h // 2)
            for r in (0, 1)
            for c in (0, 1)
        ]
        tiles.append(sum(_hashable(image.crop(b)) for b in boxes))
    pairs = tiles[0] * tiles[1] + tiles[0] * tiles[2] + tiles[1] * tiles[2]
    assert (
        f"{sum(tiles):,} tiles of PDQ quality >= 50; {pairs:,} unrelated tile pairs"
        in result.stdout
    )
    assert "<= 31: 0" in result.stdout


def _hashable(image: Image.Image) -> bool:
    try:
        PDQ_ALGORITHM.compute(image)
    except LowQualityImage:
        return False
    return True
