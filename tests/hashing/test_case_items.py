"""Case items: a video is its MD5 plus its frames with their times, packed whole into requests."""

import itertools
import os

import pytest

from hashing import MD5_ALGORITHM, PDQ_ALGORITHM, Hash
from hashing.case_items import CaseItem, pack_items, thin_frames
from hashing.client import _payload
from hashing.video_signals import VideoSignals
from hashing.vpdq import VPDQ_ALGORITHM, VideoFrameHash


def frames(count: int, start: float = 0.0) -> tuple[VideoFrameHash, ...]:
    return tuple(VideoFrameHash(i, start + i * 1.0, 90, os.urandom(32)) for i in range(count))


def video(count: int) -> VideoSignals:
    return VideoSignals(Hash(MD5_ALGORITHM.name, os.urandom(16)), frames(count), count, count)


def photo(n: int = 3) -> CaseItem:
    return CaseItem.image([Hash(PDQ_ALGORITHM.name, os.urandom(32), 100) for _ in range(n)])


def test_a_video_item_is_its_md5_then_its_frames_with_their_times() -> None:
    signals = video(5)
    item = CaseItem.video(signals)
    assert item.hashes[0] == signals.md5
    assert item.times[0] is None
    assert [h.algorithm for h in item.hashes[1:]] == [VPDQ_ALGORITHM.name] * 5
    assert [h.value for h in item.hashes[1:]] == [f.hash for f in signals.frames]
    assert [h.quality for h in item.hashes[1:]] == [90] * 5
    assert item.times[1:] == tuple(f.timestamp for f in signals.frames)
    assert item.frame_count == 5
    assert CaseItem.image(photo().hashes).frame_count == 0


def test_times_must_pair_with_hashes() -> None:
    with pytest.raises(ValueError, match="one time"):
        CaseItem(photo(2).hashes, (None,))


@pytest.mark.parametrize(("count", "limit"), [(10, 10), (10, 3), (7200, 3600), (101, 100)])
def test_thinning_keeps_evenly_spaced_frames_first_and_last(count: int, limit: int) -> None:
    all_frames = frames(count)
    kept = thin_frames(all_frames, limit)
    assert len(kept) == min(count, limit)
    assert kept[0] == all_frames[0]
    assert kept[-1] == all_frames[-1]
    numbers = [f.frame_number for f in kept]
    assert numbers == sorted(set(numbers))
    gaps = {b - a for a, b in itertools.pairwise(numbers)}
    assert max(gaps) - min(gaps) <= 1  # evenly spaced


def test_thinning_to_one_or_none() -> None:
    four = frames(4)
    assert thin_frames(four, 1) == [four[0]]
    assert thin_frames(four, 0) == []


def test_a_video_longer_than_the_frame_limit_sends_that_many_frames() -> None:
    item = CaseItem.video(video(50), max_frames=20)
    assert item.frame_count == 20
    assert item.hashes[0].algorithm == MD5_ALGORITHM.name


def test_videos_and_images_are_packed_whole_within_both_limits() -> None:
    items = [photo(), CaseItem.video(video(6)), CaseItem.video(video(6)), photo(), photo()]
    batches = pack_items(items, limit=5, frame_limit=10)
    # Request 1: photo (3) + video 1 (1 md5 + 6 frames); video 2's frames would pass 10.
    # Request 2: video 2 (1 + 6) + photo (3); the last photo would pass 5 non-frames.
    assert [(len(b.hashes), b.frames) for b in batches] == [(10, 6), (10, 6), (3, 0)]
    assert [sorted(set(b.images)) for b in batches] == [[0, 1], [0, 1], [0]]
    for batch in batches:
        assert len(batch.hashes) - batch.frames <= 5
        assert batch.frames <= 10
        for h, t in zip(batch.hashes, batch.times, strict=True):
            assert (t is not None) == (h.algorithm == VPDQ_ALGORITHM.name)
    # Each video's md5 travels with its own frames (one item number).
    first = batches[0]
    video_number = first.images[3]
    assert {
        h.algorithm for h, n in zip(first.hashes, first.images, strict=True) if n == video_number
    } == {
        MD5_ALGORITHM.name,
        VPDQ_ALGORITHM.name,
    }


def test_a_video_alone_over_the_frame_limit_is_cut_not_split() -> None:
    batches = pack_items([CaseItem.video(video(30))], limit=100, frame_limit=12)
    assert len(batches) == 1
    assert batches[0].frames == 12
    assert set(batches[0].images) == {0}


def test_the_payload_gives_frames_their_timestamp_and_nothing_else_one() -> None:
    (batch,) = pack_items([photo(1), CaseItem.video(video(2))], limit=10, frame_limit=10)
    body = _payload(*batch)
    assert [("timestamp" in item, item["image"]) for item in body] == [
        (False, 0),
        (False, 1),
        (True, 1),
        (True, 1),
    ]
    assert [item["timestamp"] for item in body[2:]] == [0.0, 1.0]


def test_a_frames_variants_follow_it_flagged_and_count_against_the_frame_limit() -> None:
    forms = tuple(
        VideoFrameHash(i, float(i), 90, os.urandom(32), (os.urandom(32), os.urandom(32)))
        for i in range(30)
    )
    signals = VideoSignals(Hash(MD5_ALGORITHM.name, os.urandom(16)), forms, 30.0, 30)
    item = CaseItem.video(signals)
    assert item.frame_count == 90
    assert item.variant_count == 60
    assert item.variants[:4] == (False, False, True, True)  # md5, frame 0, its 2 forms
    assert item.times[1:4] == (0.0, 0.0, 0.0)
    assert [h.quality for h in item.hashes[1:4]] == [90, None, None]
    assert [h.value for h in item.hashes[2:4]] == list(forms[0].variants)
    fitted = CaseItem.video(signals, max_frames=20)
    assert fitted.frame_count <= 20
    assert fitted.frame_count == 18  # 6 whole frames of 3 hashes, evenly spaced
    (batch,) = pack_items([fitted], limit=100, frame_limit=20)
    body = _payload(*batch)
    assert [item.get("variant", False) for item in body[1:4]] == [False, True, True]
    assert "variant" not in body[0]
