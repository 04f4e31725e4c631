"""The accuracy benchmark's re-poster edits (scripts/accuracy_edits.py) do what they say."""

import hashlib
import importlib
import io
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

from tests.conftest import BSDS500, REPO
from tests.hashing.accuracy_bench import photo_folder, run_bench

SEEDS = range(12)


@pytest.fixture(scope="module")
def ed() -> ModuleType:
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(REPO / "scripts"))
        return importlib.import_module("accuracy_edits")


@pytest.fixture(autouse=True)
def fillers(ed: ModuleType, tmp_path: Path) -> Iterator[None]:
    """Three small other photos for collages and picture in picture."""
    paths = []
    (tmp_path / "fillers").mkdir()
    for i, size in enumerate([(60, 40), (40, 60), (50, 50)]):
        path = tmp_path / "fillers" / f"filler{i}.jpg"
        Image.new("RGB", size, (40 * i, 200 - 50 * i, 90)).save(path)
        paths.append(path)
    ed.FILLERS.use(paths)
    yield
    ed.FILLERS.use([])


def picture(w: int = 120, h: int = 80) -> Image.Image:
    """Every pixel tells where it is: red = column, green = row, blue a product."""
    ys, xs = np.mgrid[0:h, 0:w]
    pixels = np.stack([xs * 2 % 256, ys * 3 % 256, (xs * ys) % 256], axis=-1).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def test_the_edits_join_the_old_kinds(ed: ModuleType) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(REPO / "scripts"))
        transforms = importlib.import_module("accuracy_transforms")
    assert set(ed.EDITS) <= set(transforms.TRANSFORMS)
    assert {"JPEG q30", "phone screenshot", "crop 0-10% uneven"} <= set(transforms.TRANSFORMS)
    assert len(transforms.TRANSFORMS) == 19 + len(ed.EDITS)
    assert all(t in transforms.TARGETS for t in [*ed.EDITS, "crop 0-10% uneven"])


@pytest.mark.parametrize(
    "kind",
    [
        "caption bar",
        "thick label",
        "sticker",
        "patterned frame",
        "aspect crop",
        "one-sided crop",
        "collage",
        "picture in picture",
        "small screenshot",
        "rotate ±10°",
    ],
)
def test_each_edit_is_seeded_varied_and_decodable(ed: ModuleType, kind: str) -> None:
    transform, image = ed.EDITS[kind], picture()
    first = transform(image, random.Random(f"1/a.jpg/{kind}"))
    assert transform(image, random.Random(f"1/a.jpg/{kind}")) == first
    others = {transform(image, random.Random(seed)) for seed in range(4)}
    assert len(others | {first}) >= 4
    with Image.open(io.BytesIO(first)) as copy:
        copy.load()
        assert copy.format == ("PNG" if kind == "small screenshot" else "JPEG")
        assert copy.width > 0
        assert copy.height > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_caption_bar_covers_the_top_or_bottom(ed: ModuleType, seed: int) -> None:
    image = picture()
    out = ed.caption_bar(image, random.Random(seed))
    assert out.size == image.size
    changed = np.flatnonzero((pixels(out) != pixels(image)).any(axis=(1, 2)))
    assert changed.size == changed[-1] - changed[0] + 1  # one band of rows
    assert changed[0] == 0 or changed[-1] == image.height - 1
    assert 0.08 * 80 - 1 <= changed.size <= 0.20 * 80 + 1


@pytest.mark.parametrize("seed", SEEDS)
def test_thick_label_spans_part_of_the_width(ed: ModuleType, seed: int) -> None:
    image = picture(200, 120)
    out = ed.thick_label(image, random.Random(seed))
    assert out.size == image.size
    columns = np.flatnonzero((np.abs(pixels(out) - pixels(image)) > 8).any(axis=(0, 2)))
    assert 0.3 * 200 <= columns[-1] - columns[0] + 1 <= 0.92 * 200
    assert abs((columns[-1] + columns[0]) / 2 - 100) <= 0.15 * 200 + 25


@pytest.mark.parametrize("seed", SEEDS)
def test_sticker_covers_5_to_15_percent(ed: ModuleType, seed: int) -> None:
    image = picture(200, 120)
    out = ed.sticker(image, random.Random(seed))
    assert out.size == image.size
    changed = (np.abs(pixels(out) - pixels(image)) > 2).any(axis=2)
    assert 0.04 <= changed.mean() <= 0.16
    _, counts = np.unique(pixels(out)[changed], axis=0, return_counts=True)
    assert counts.max() >= 0.8 * changed.sum()  # opaque, one colour (but a face's eyes, mouth)


@pytest.mark.parametrize("seed", SEEDS)
def test_patterned_frame_grows_the_canvas_and_is_not_plain(ed: ModuleType, seed: int) -> None:
    image = picture()
    out = ed.patterned_frame(image, random.Random(seed))
    border = (out.width - image.width) // 2
    assert out.size == (image.width + 2 * border, image.height + 2 * border)
    assert round(0.04 * 80) <= border <= round(0.12 * 80)
    frame = pixels(out)
    assert np.array_equal(frame[border:-border, border:-border], pixels(image))
    ring = np.concatenate([frame[:border].reshape(-1, 3), frame[-border:].reshape(-1, 3)])
    assert ring.std(axis=0).max() > 10  # stripes, checker, noise or a gradient: not plain


@pytest.mark.parametrize("seed", SEEDS)
def test_aspect_crop_has_a_chosen_ratio(ed: ModuleType, seed: int) -> None:
    image = picture(120, 80)
    out = ed.aspect_crop(image, random.Random(seed))
    (ratio,) = [r for r in ed.RATIOS.values() if abs(out.width - out.height * r) <= 1]
    assert abs(ratio / 1.5 - 1) >= 0.05
    assert out.width == 120 or out.height == 80  # the largest crop: one side whole


def test_aspect_crop_offsets_vary(ed: ModuleType) -> None:
    image = picture(120, 80)
    offsets = set()
    for seed in range(30):
        out = ed.aspect_crop(image, random.Random(seed))
        if out.size == (80, 80):  # 1:1: a column offset
            offsets.add(int(pixels(out)[0, 0, 0]) // 2)
    assert len(offsets) > 3


@pytest.mark.parametrize("seed", SEEDS)
def test_one_sided_crop_cuts_one_side(ed: ModuleType, seed: int) -> None:
    image = picture(120, 80)
    out = ed.one_sided_crop(image, random.Random(seed))
    w, h = out.size
    assert (w == 120) != (h == 80)
    kept = w / 120 if h == 80 else h / 80
    assert 0.75 - 0.01 <= kept <= 0.95 + 0.01
    full = pixels(image)
    assert any(
        np.array_equal(pixels(out), window) for window in (full[:h, :w], full[80 - h :, 120 - w :])
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_collage_size_and_picture_in_picture(ed: ModuleType, seed: int) -> None:
    image = picture(120, 80)
    assert 600 - 1 <= max(ed.collage(image, random.Random(seed)).size) <= 1600 + 1
    out = ed.picture_in_picture(image, random.Random(seed))
    assert 0.4 - 0.01 <= image.width / out.width <= 0.7 + 0.01
    assert out.height > image.height
    found = np.argwhere((pixels(out) == pixels(image)[0, 0]).all(axis=2))
    assert any(
        np.array_equal(pixels(out)[y : y + 80, x : x + 120], pixels(image)) for y, x in found
    )


def test_rotation_forms(ed: ModuleType) -> None:
    flat = Image.new("RGB", (120, 80), (200, 60, 60))
    black = (0, 0, 0)
    assert ed.rotated(flat, 7, "fill", black).size == (120, 80)
    assert (pixels(ed.rotated(flat, 7, "fill", black))[0, 0] == 0).all()
    assert ed.rotated(flat, 7, "expand", black).width > 120
    for angle in (-10, -1, 4, 10):
        zoomed = pixels(ed.rotated(flat, angle, "zoom", black))
        assert zoomed.shape == (80, 120, 3)
        assert np.abs(zoomed - (200, 60, 60)).max() <= 4  # no fill left
    sizes = {ed.rotate(picture(), random.Random(seed)).size for seed in range(20)}
    assert (120, 80) in sizes
    assert any(w > 120 for w, _ in sizes)


def test_fillers_must_be_set(ed: ModuleType) -> None:
    with pytest.raises(RuntimeError, match="no filler photos"):
        ed.Fillers().pick(random.Random(1))


def test_bench_measures_a_half_some_rows_and_kinds(tmp_path: Path) -> None:
    chosen = sorted(BSDS500.glob("*.jpg"))[:6]
    held = [p for p in chosen if hashlib.sha256(p.name.encode()).digest()[0] % 2]
    assert 0 < len(held) < 6
    photos = photo_folder(tmp_path, chosen)
    bench = (sys.executable, str(REPO / "scripts" / "bench_accuracy.py"), str(photos))
    result = run_bench(
        photos,
        *("--jobs", "1", "--half", "held-out", "--policies", "baseline,hashbank"),
        *("--kinds", "screenshot, cropped,collage,picture in picture"),
        *("--fillers", str(tmp_path / "fillers")),
    )
    text = result.stdout
    assert "measured: the held-out half of each set" in text
    assert f"held-out half: {len(held)} images" in text
    assert "| transform | target | baseline | hashbank | hashbank misses within 64 |" in text
    rows = [line.split(" | ")[0] for line in text.splitlines() if line.startswith("| ")]
    assert rows[1:4] == ["| screenshot, cropped", "| collage", "| picture in picture"]
    assert "| false pairs of originals | 0 | 0 |" in text
    assert "| false (copy, other original) pairs | 0 | 0 |" in text
    assert "Second stage" not in text
    refused = subprocess.run(
        [*bench, "--limit", "1", "--fillers", str(photos)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 1
    assert "--fillers is a set being measured" in refused.stderr
