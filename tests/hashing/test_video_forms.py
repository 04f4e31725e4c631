"""A video frame's other forms (`hashing.video_forms`) and how they count in Meta's rule."""

import dataclasses
import random

import numpy as np
import pdqhash
from PIL import Image

from hashing.forms import centre_crop
from hashing.video_forms import QUERIED, SUBMITTED, frame_variants
from hashing.vpdq import VideoFrameHash
from hashing.vpdq_match import match_videos
from tests.conftest import BSDS500

RNG = random.Random(23)
PHOTO = np.asarray(Image.open(BSDS500 / "100075.jpg").convert("RGB"))


def pdq(pixels: np.ndarray) -> bytes:
    bits, _ = pdqhash.compute(np.ascontiguousarray(pixels, dtype=np.uint8))
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes()


def distance(a: bytes, b: bytes) -> int:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


def letterboxed(pixels: np.ndarray, bar: int) -> np.ndarray:
    out = np.zeros((pixels.shape[0] + 2 * bar, pixels.shape[1], 3), np.uint8)
    out[bar : bar + pixels.shape[0]] = pixels
    return out


def test_a_frame_without_bars_submits_its_crops_and_queries_its_crop_and_mirror() -> None:
    main = pdq(PHOTO)
    submitted = frame_variants(PHOTO, main, SUBMITTED)
    queried = frame_variants(PHOTO, main, QUERIED)
    picture = Image.fromarray(PHOTO)
    assert submitted[:2] == (
        pdq(np.asarray(centre_crop(picture, 0.9))),
        pdq(np.asarray(centre_crop(picture, 0.8))),
    )
    assert len(submitted) == 4  # and the one-axis crops
    assert queried == (pdq(np.asarray(centre_crop(picture, 0.8))), pdq(PHOTO[:, ::-1]))
    for forms in (submitted, queried):
        assert main not in forms
        assert len(set(forms)) == len(forms)


def test_bars_are_trimmed_so_a_copy_without_them_matches_and_so_does_a_mirror() -> None:
    barred = letterboxed(PHOTO, 60)
    main = pdq(barred)
    assert distance(main, pdq(PHOTO)) > 31  # PDQ alone: the bars change the hash
    submitted = frame_variants(barred, main, SUBMITTED)
    assert submitted[0] == pdq(PHOTO)  # the trimmed frame is the picture itself
    mirrored = np.ascontiguousarray(PHOTO[:, ::-1])
    queried = (pdq(mirrored), *frame_variants(mirrored, pdq(mirrored), QUERIED))
    assert min(distance(q, s) for q in queried for s in (main, *submitted)) == 0


def test_a_frame_of_too_little_detail_has_no_forms() -> None:
    flat = np.full((120, 160, 3), 90, np.uint8)
    assert frame_variants(flat, pdq(flat), SUBMITTED) == ()
    assert frame_variants(flat, pdq(flat), QUERIED) == ()


def frame(number: int, value: int, variants: tuple[int, ...] = ()) -> VideoFrameHash:
    return VideoFrameHash(
        number,
        float(number),
        100,
        value.to_bytes(32, "big"),
        tuple(v.to_bytes(32, "big") for v in variants),
    )


def test_a_variant_that_matches_counts_as_its_frame_once() -> None:
    stored_values = [RNG.getrandbits(256) for _ in range(10)]
    crops = [RNG.getrandbits(256) for _ in range(10)]
    stored = [frame(i, v, (c,)) for i, (v, c) in enumerate(zip(stored_values, crops, strict=True))]
    # A cropped copy: its own hashes are unrelated to the stored frames', but 8 of its
    # frames equal a stored frame's crop form; one frame also matches by its own hash.
    query = [frame(i, crops[i] if i < 8 else RNG.getrandbits(256)) for i in range(10)]
    query[0] = dataclasses.replace(query[0], variants=(stored_values[0].to_bytes(32, "big"),))
    match = match_videos(query, stored)
    assert match.query_percent == 80.0
    assert match.stored_percent == 80.0
    without = [dataclasses.replace(f, variants=()) for f in stored]
    assert match_videos(query, without).stored_percent == 10.0  # only frame 0's own hash
