"""The video accuracy benchmark's transforms (scripts/video_transforms.py) do what they say."""

import importlib
from fractions import Fraction
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from tests.conftest import REPO


@pytest.fixture(scope="module")
def vt() -> ModuleType:
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(REPO / "scripts"))
        return importlib.import_module("video_transforms")


def numbered(h: int = 80, w: int = 100) -> np.ndarray:
    """Every pixel tells where it is: red = column, green = row."""
    frame = np.zeros((h, w, 3), np.uint8)
    frame[..., 0] = np.arange(w)[None, :]
    frame[..., 1] = np.arange(h)[:, None]
    return frame


def test_crop_keeps_a_window_at_the_offset(vt: ModuleType) -> None:
    frame = numbered()
    out = vt.crop(frame, 0.9, 0.0, 1.0)  # left edge, bottom edge
    assert out.shape == (72, 90, 3)
    assert np.array_equal(out, frame[8:80, 0:90])
    centre = vt.crop(frame, 0.9, 0.5, 0.5)
    assert (centre[0, 0, 0], centre[0, 0, 1]) == (5, 4)


def test_letterbox_mirror_and_logo(vt: ModuleType) -> None:
    frame = numbered() + 1
    boxed = vt.letterbox(frame, 0.1)
    assert boxed.shape == (96, 100, 3)
    assert not boxed[:8].any()
    assert not boxed[-8:].any()
    assert np.array_equal(boxed[8:88], frame)
    assert np.array_equal(vt.mirror(frame)[:, 0], frame[:, -1])
    badge = vt.logo(20, seed=1)
    marked = vt.add_logo(frame, badge, 1.0, 0.0, 1.0)  # top right, opaque
    assert np.array_equal(marked[: badge.shape[0], -20:], badge)
    assert np.array_equal(marked[:, :80], frame[:, :80])


def colour_clip(vt: ModuleType, path: Path, colour: int, frames: int) -> None:
    writer = vt.Writer(path, Fraction(10))
    for i in range(frames):
        writer.write(Fraction(i, 10), np.full((48, 64, 3), colour, np.uint8))
    writer.close()


def test_insertion_holds_the_clip_at_the_offset(vt: ModuleType, tmp_path: Path) -> None:
    colour_clip(vt, tmp_path / "clip.mp4", 220, 10)  # 1 s, bright
    colour_clip(vt, tmp_path / "host.mp4", 30, 20)  # 2 s, dark
    vt.insert(tmp_path / "clip.mp4", tmp_path / "host.mp4", tmp_path / "out.mp4", 0.5)
    frames, _, _ = vt.read(tmp_path / "out.mp4")
    shown = [(float(t), int(rgb.mean() > 128)) for t, rgb in frames]
    assert len(shown) == 30
    bright = [t for t, b in shown if b]
    assert len(bright) == 10
    assert bright[0] == pytest.approx(1.0, abs=0.01)
    assert bright[-1] == pytest.approx(1.9, abs=0.01)
    assert [b for _, b in shown] == [0] * 10 + [1] * 10 + [0] * 10


def test_trim_cuts_both_ends(vt: ModuleType, tmp_path: Path) -> None:
    colour_clip(vt, tmp_path / "clip.mp4", 128, 20)
    recipe = vt.Recipe("trim 20% each end", trim=(0.2, 0.2))
    vt.make_copy(tmp_path / "clip.mp4", tmp_path / "out.mp4", recipe)
    frames, _, _ = vt.read(tmp_path / "out.mp4")
    times = [float(t) for t, _ in frames]
    assert len(times) == 12  # frames 4-15 of 20
    assert times[0] == 0.0  # re-timed from 0


def test_every_transform_draws_parameters(vt: ModuleType) -> None:
    import random

    rng = random.Random(3)
    frame = numbered(72, 128)
    for transform in vt.TRANSFORMS:
        recipe = vt.draw(transform, rng, 128 * 72)
        assert recipe.transform == transform
        if recipe.frame_fn is not None:
            assert not np.array_equal(recipe.frame_fn(frame), frame)
