"""PDQ conformance against Meta's reference vectors in ../shared/pdq-reference."""

import csv
import io
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from hashing import PDQ_ALGORITHM, LowQualityImage, load_image
from hashing.pdq import DIHEDRAL_TRANSPOSES
from tests.conftest import PDQ_REFERENCE

pdq = PDQ_ALGORITHM


def pdq_hex(source: Path | bytes) -> str:
    return pdq.compute(load_image(source)).hex


def distance(a: str, b: str) -> int:
    return pdq.distance(pdq.parse(a), pdq.parse(b))


def _expected_rows() -> list[dict[str, str]]:
    with open(PDQ_REFERENCE / "expected.csv", newline="") as f:
        return list(csv.DictReader(f))


HIGH_QUALITY = [r for r in _expected_rows() if r["quality"] == "" or int(r["quality"]) >= 80]
LOW_QUALITY = [
    "reg-test-input/labelme-subset/q0003.jpg",
    "reg-test-input/labelme-subset/q0004.jpg",
    "misc-images/small.jpg",
]


def test_reference_table_is_complete(pdq_reference: Path) -> None:
    assert len(HIGH_QUALITY) >= 25


@pytest.mark.parametrize("row", HIGH_QUALITY, ids=lambda r: r["file"])
def test_matches_reference_within_10_bits(pdq_reference: Path, row: dict[str, str]) -> None:
    result = pdq.compute(load_image(pdq_reference / row["file"]))
    assert result.quality is not None
    assert result.quality >= 80
    assert distance(result.hex, row["hash"]) <= 10


@pytest.mark.parametrize("name", LOW_QUALITY)
def test_low_quality_images_are_rejected(pdq_reference: Path, name: str) -> None:
    with pytest.raises(LowQualityImage, match="too little detail") as info:
        pdq.compute(load_image(pdq_reference / name))
    assert info.value.quality < 50


def test_every_pillow_mode_hashes_like_the_original(pdq_reference: Path) -> None:
    folder = pdq_reference / "misc-images" / "modes"
    original = pdq_hex(folder / "original.jpg")
    files = sorted(p for p in folder.iterdir() if p.name != "original.jpg")
    assert len(files) >= 13
    far = {p.name: d for p in files if (d := distance(pdq_hex(p), original)) > 2}
    assert far == {}


def test_dihedral_hashes_match_each_rotated_file(pdq_reference: Path) -> None:
    folder = pdq_reference / "reg-test-input" / "dih"
    files = sorted(folder.glob("bridge-*.jpg"))
    assert len(files) == 8
    dihedral = pdq.compute_dihedral(load_image(folder / "bridge-1-original.jpg"))
    for variant, path in zip(dihedral, files, strict=True):
        assert distance(variant.hex, pdq_hex(path)) <= 10, path.name
    # Without the rotation handling the same comparison is far apart.
    assert distance(dihedral[0].hex, pdq_hex(files[1])) > 31


def test_dihedral_transposes_give_each_orientation(pdq_reference: Path) -> None:
    image = load_image(pdq_reference / "reg-test-input" / "dih" / "bridge-1-original.jpg")
    dihedral = pdq.compute_dihedral(image)
    for g, op in enumerate(DIHEDRAL_TRANSPOSES):
        turned = pdq.compute(image if op is None else image.transpose(op))
        nearest = min(range(8), key=lambda i: distance(dihedral[i].hex, turned.hex))
        assert nearest == g, (g, op)
        assert distance(dihedral[g].hex, turned.hex) <= 10


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_exif_orientation_is_applied(pdq_reference: Path, orientation: int) -> None:
    path = pdq_reference / "reg-test-input" / "exif-rotn" / f"exif-rotn-{orientation}.jpg"
    with Image.open(path) as raw:
        assert raw.getexif().get(0x0112, 1) == orientation
        upright = ImageOps.exif_transpose(raw).convert("RGB")
        unrotated = raw.convert("RGB")
    buffer = io.BytesIO()
    upright.save(buffer, "JPEG", quality=95)  # no EXIF: the pixels are already upright
    assert distance(pdq_hex(path), pdq_hex(buffer.getvalue())) <= 10
    if orientation != 1:
        raw_grid = io.BytesIO()
        unrotated.save(raw_grid, "JPEG", quality=95)
        assert distance(pdq_hex(path), pdq_hex(raw_grid.getvalue())) > 31


def test_bridge_modifications_match_the_original(pdq_reference: Path) -> None:
    folder = pdq_reference / "bridge-mods"
    original = pdq_hex(folder / "aaa-orig.jpg")
    files = sorted(p for p in folder.glob("*.jpg") if p.name != "aaa-orig.jpg")
    assert len(files) == 11
    far = {p.name: d for p in files if (d := distance(pdq_hex(p), original)) > 31}
    assert far == {}
