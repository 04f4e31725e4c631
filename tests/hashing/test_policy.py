"""The match policy (`hashing.policy`) on real photos, and a smoke run of the accuracy benchmark."""

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hashing import PDQ_ALGORITHM, load_image
from hashing.algorithm import Hash
from hashing.policy import (
    CROP_SCALES,
    DEFAULT_POLICY,
    MAX_QUERY_HASHES,
    THRESHOLD,
    centre_crop,
    query_hashes,
    submission_hashes,
    trim_borders,
)

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


def test_unrelated_photos_do_not_match(bridge_submitted: list[Hash]) -> None:
    photos = [load_image(p) for p in UNRELATED]
    submitted = [submission_hashes(p) for p in photos] + [bridge_submitted]
    queries = [query_hashes(p) for p in photos] + [query_hashes(load_image(BRIDGE))]
    for i, stored in enumerate(submitted):
        for j, query in enumerate(queries):
            if i != j:
                assert best(stored, query) > 64, (i, j)


def test_hash_counts(bridge: Image.Image, bridge_submitted: list[Hash]) -> None:
    assert len(bridge_submitted) == 1 + len(CROP_SCALES)
    assert bridge_submitted[0] == PDQ_ALGORITHM.compute(bridge)  # untrimmed: plain PDQ first
    query = query_hashes(bridge)
    assert query[:8] == PDQ_ALGORITHM.compute_dihedral(bridge)
    assert len(query) <= MAX_QUERY_HASHES
    padded = Image.new("RGB", (bridge.width + 200, bridge.height + 200), "white")
    padded.paste(bridge, (100, 100))
    assert len(submission_hashes(padded)) == 2 + len(CROP_SCALES)  # trimmed and as given
    assert len(query_hashes(padded)) == MAX_QUERY_HASHES


# -- the trimming rule, exactly as documented (the web page ports it) ------------------


def noise(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


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


# -- the benchmark, end to end on a few photos -----------------------------------------


def test_bench_accuracy_smoke(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for path in sorted(BSDS.glob("*.jpg"))[:4]:
        (photos / path.name).write_bytes(path.read_bytes())
    out = tmp_path / "accuracy.md"
    out.write_text(
        "# Accuracy\n\n<!-- bench_accuracy:begin -->\nSTALE-REPORT\n"
        "<!-- bench_accuracy:end -->\n\nkept\n"
    )
    result = subprocess.run(
        [
            *(sys.executable, str(ROOT / "scripts" / "bench_accuracy.py"), str(photos)),
            *("--jobs", "1", "--seed", "3", "--out", str(out)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "STALE-REPORT" not in text
    assert text.endswith("\n\nkept\n")
    assert "| JPEG q30 | ≥ 99% | 100.0% |" in text
    assert "| rotate 90° | ≥ 99% | 0.0% | 100.0% |" in text
    assert "| false pairs of originals | 0 | 0 | 0 | 0 | 0 |" in text
