"""The match policy's output, frozen: the same hashes in the same order for every case.

`policy_frozen.json` (beside this file) holds what `hashing.policy` gave for a sample of
BSDS500 photos and of pictures made from them (padded, letterboxed, framed like an app
screenshot, a near-blank tile, a plain picture, detail only in a border): for the
default policy every submission hash and every query group in full (hex and quality,
or the quality at which the image was refused), for the benchmark's comparison rows
and the tests' other policies a SHA-256 of the same. Any change to a form, to the
order of the forms or to a quality floor changes some hash here.

Regenerate it only when the policy's output is meant to change, and say so in the
commit: `.venv/bin/python -m tests.hashing.test_policy_frozen`.
"""

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw

from hashing import load_image
from hashing.errors import LowQualityImage
from hashing.policy import DEFAULT_POLICY, MatchPolicy, comparison_steps
from tests.conftest import BSDS500

FROZEN = Path(__file__).with_name("policy_frozen.json")
PHOTOS = sorted(p.name for p in BSDS500.glob("*.jpg"))[::25]  # 20 photos
EDITED = PHOTOS[::4]  # 5 of them also padded, letterboxed, framed and tiled

# scripts/bench_accuracy.py's comparison rows, and the policies the tests switch parts off in.
OTHER_POLICIES = {
    **comparison_steps(),
    "no forms": MatchPolicy(name="no forms", forms=False, reduced=False, clipped=False),
    "no clipped value": MatchPolicy(name="no clipped value", clipped=False),
    "no block": MatchPolicy(name="no block", block=False),
    "no trim": MatchPolicy(name="no trim", trim=False),
}


def _padded(photo: Image.Image) -> Image.Image:
    dx, dy = photo.width // 10, photo.height // 10
    out = Image.new("RGB", (photo.width + 2 * dx, photo.height + 2 * dy), (255, 255, 255))
    out.paste(photo, (dx, dy))
    return out


def _letterboxed(photo: Image.Image) -> Image.Image:
    out = Image.new("RGB", (photo.width, photo.height * 2), (0, 0, 0))
    out.paste(photo, (0, photo.height // 2))
    return out


def _framed(photo: Image.Image) -> Image.Image:
    """Plain rows inside the picture: a toolbar above and buttons below (a content block)."""
    out = Image.new("RGB", (photo.width + 40, photo.height + 400), (250, 250, 250))
    out.paste(photo, (20, 150))
    draw = ImageDraw.Draw(out)
    draw.text((30, 40), "a toolbar", fill=(20, 20, 20))
    for x in range(30, out.width - 40, 90):
        draw.rounded_rectangle((x, photo.height + 200, x + 40, photo.height + 240), 8, (20, 20, 20))
    return out


def _tile(photo: Image.Image) -> Image.Image:
    """A bottom-right sixth: little detail, so some forms fall below their floor."""
    w, h = photo.size
    return photo.crop((5 * w // 6, 5 * h // 6, w, h))


def _flat_inside_border() -> Image.Image:
    """Detail only where a white border meets a flat picture: the trimmed image is refused."""
    inner = np.full((300, 400, 3), 128, np.uint8)
    rng = np.random.default_rng(1)
    for row in inner:
        row[rng.integers(0, 400)] = 255  # one dot per row: no row is plain
    out = Image.new("RGB", (600, 450), (255, 255, 255))
    out.paste(Image.fromarray(inner), (100, 75))
    return out


def cases() -> dict[str, Callable[[], Image.Image]]:
    """Each case's canonical picture, by name."""

    def photo(name: str) -> Callable[[], Image.Image]:
        return lambda: load_image(BSDS500 / name)

    def edited(name: str, edit: Callable[[Image.Image], Image.Image]) -> Callable[[], Image.Image]:
        return lambda: edit(load_image(BSDS500 / name))

    out: dict[str, Callable[[], Image.Image]] = {name: photo(name) for name in PHOTOS}
    edits = {"padded": _padded, "letterboxed": _letterboxed, "framed": _framed, "tile": _tile}
    for name in EDITED:
        for key, edit in edits.items():
            out[f"{name} {key}"] = edited(name, edit)
    out["plain"] = lambda: Image.new("RGB", (300, 200), (40, 90, 200))
    out["flat inside a border"] = _flat_inside_border
    return out


def outputs(policy: MatchPolicy, image: Image.Image) -> dict[str, Any]:
    """What the policy submits and queries for the image: hex and quality, or a refusal."""
    out: dict[str, Any] = {}
    try:
        out["submitted"] = [[h.hex, h.quality] for h in policy.submission_hashes(image)]
    except LowQualityImage as exc:
        out["submitted"] = {"refused": exc.quality}
    try:
        groups = policy.query_groups(image)
        out["queried"] = [[g[0].quality, [h.hex for h in g]] for g in groups]
    except LowQualityImage as exc:
        out["queried"] = {"refused": exc.quality}
    return out


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def current(name: str, image: Image.Image) -> dict[str, Any]:
    """One case's entry as the policy computes it now."""
    entry: dict[str, Any] = {DEFAULT_POLICY.name: outputs(DEFAULT_POLICY, image)}
    for key, policy in OTHER_POLICIES.items():
        entry[key] = digest(outputs(policy, image))
    return entry


@pytest.fixture(scope="module")
def frozen() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FROZEN.read_text())
    return data


def test_the_cases_are_the_frozen_ones(frozen: dict[str, Any]) -> None:
    assert sorted(frozen) == sorted(cases())


@pytest.mark.parametrize("name", list(cases()))
def test_the_policy_gives_the_frozen_hashes(frozen: dict[str, Any], name: str) -> None:
    entry = current(name, cases()[name]())
    assert entry[DEFAULT_POLICY.name] == frozen[name][DEFAULT_POLICY.name]
    for key in OTHER_POLICIES:
        assert entry[key] == frozen[name][key], key


def test_the_cases_cover_each_path(frozen: dict[str, Any]) -> None:
    """Trimmed, a content block, forms below their floor, and refusals on each side."""
    default = [entry[DEFAULT_POLICY.name] for entry in frozen.values()]
    submitted = [d["submitted"] for d in default if isinstance(d["submitted"], list)]
    queried = [d["queried"] for d in default if isinstance(d["queried"], list)]
    assert {len(s) for s in submitted} >= {7, 10}  # untrimmed; trimmed with its crops
    assert {len(q) for q in queried} >= {6, 7, 8}  # untrimmed; trimmed; and a block
    assert any(len(s) < 7 for s in submitted)  # forms left out below their floor
    assert any(isinstance(d["submitted"], dict) for d in default)
    assert any(isinstance(d["queried"], dict) for d in default)
    assert any(isinstance(d["submitted"], dict) and isinstance(d["queried"], list) for d in default)


if __name__ == "__main__":
    made = {name: current(name, make()) for name, make in cases().items()}
    FROZEN.write_text(json.dumps(made, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(made)} cases to {FROZEN}")
