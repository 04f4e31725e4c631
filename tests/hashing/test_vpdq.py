"""vPDQ (hashing.vpdq, vpdq_text, vpdq_match, video_signals): hashing, Meta's format, matching."""

import hashlib
import random

import pytest

from hashing.errors import InvalidHash, UnreadableVideo
from hashing.registry import CONTENT_TYPES, signal_types_for
from hashing.video import Video
from hashing.video_signals import video_signals
from hashing.vpdq import (
    EVERY_FRAME,
    VPDQ_ALGORITHM,
    VideoFrameHash,
    VideoProgress,
    hash_video,
    select_frames,
)
from hashing.vpdq_match import TimeRange, match_videos
from hashing.vpdq_text import format_vpdq, parse_vpdq
from tests.conftest import VPDQ_REFERENCE

DOORKNOB = VPDQ_REFERENCE / "videos" / "doorknob-hd-no-bar.mp4"
REFERENCE_TEXT = (VPDQ_REFERENCE / "hashes" / "chair-19-sd-bar.txt").read_text()
RNG = random.Random(17)


def frame(number: int, value: int, quality: int = 100, fps: int = 1) -> VideoFrameHash:
    return VideoFrameHash(number, number / fps, quality, value.to_bytes(32, "big"))


def flip(value: int, bits: int) -> int:
    for bit in RNG.sample(range(256), bits):
        value ^= 1 << bit
    return value


def test_one_frame_per_second_by_default_from_a_path_or_bytes() -> None:
    progress: list[VideoProgress] = []
    hashes = hash_video(DOORKNOB, on_progress=progress.append)
    assert [(f.frame_number, f.timestamp) for f in hashes.frames] == [
        (0, 0.0),
        (30, 1.0),
        (60, 2.0),
        (90, 3.0),
    ]
    assert (hashes.duration, hashes.decoded) == (4.0, 120)
    assert progress[-1] == VideoProgress(120, 4, 120)
    assert hash_video(DOORKNOB.read_bytes()) == hashes
    every = hash_video(DOORKNOB, rate=EVERY_FRAME)
    assert [f.frame_number for f in every.frames] == list(range(120))
    assert every.frames[30] == hashes.frames[1]


def test_reprs_never_show_hash_values() -> None:
    value = hash_video(DOORKNOB).frames[0]
    assert value.hex not in repr(value)
    assert repr(value) == "VideoFrameHash(frame_number=0, timestamp=0.000, quality=100)"


def test_video_signals_give_the_files_md5_frames_and_duration() -> None:
    signals = video_signals(DOORKNOB)
    assert signals.md5.algorithm == "md5"
    assert signals.md5.value == hashlib.md5(DOORKNOB.read_bytes()).digest()
    assert video_signals(DOORKNOB.read_bytes()) == signals
    assert signals.duration == 4.0
    assert all(f.quality >= 50 for f in signals.frames)
    assert list(signals.frames) == VPDQ_ALGORITHM.compute(DOORKNOB)
    with pytest.raises(UnreadableVideo):
        video_signals(b"not a video")


def test_video_is_a_content_type_hashed_by_md5_and_vpdq() -> None:
    video = CONTENT_TYPES.get("video")
    assert video is not None
    with video.load(DOORKNOB) as opened:
        assert isinstance(opened, Video)
    assert [s.name for s in signal_types_for("video")] == ["md5", "vpdq"]


def test_select_frames_drops_low_quality_and_prunes_near_repeats() -> None:
    base = RNG.getrandbits(256)
    frames = [
        frame(0, base),
        frame(1, base),  # an exact repeat
        frame(2, flip(base, 8)),  # 8 bits from the last kept
        frame(3, flip(base, 30), quality=49),  # too little detail
        frame(4, flip(base, 20)),
    ]
    assert [f.frame_number for f in select_frames(frames, prune_distance=None)] == [0, 1, 2, 4]
    assert [f.frame_number for f in select_frames(frames, prune_distance=0)] == [0, 2, 4]
    assert [f.frame_number for f in select_frames(frames, prune_distance=8)] == [0, 4]


def test_metas_format_round_trips_byte_for_byte() -> None:
    frames = parse_vpdq(REFERENCE_TEXT)
    assert len(frames) == 564
    assert (frames[1].frame_number, frames[1].quality, frames[1].timestamp) == (1, 100, 0.033)
    assert format_vpdq(frames) == REFERENCE_TEXT
    assert parse_vpdq(" 0 , 100 , " + "AB" * 32 + " , 1.5 \r\n\n") == [
        VideoFrameHash(0, 1.5, 100, bytes([0xAB]) * 32)
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0,100," + "a" * 64, "4 fields"),
        ("0,100," + "a" * 64 + ",1,2", "4 fields"),
        ("-1,100," + "a" * 64 + ",0.000", "frame number"),
        ("x,100," + "a" * 64 + ",0.000", "frame number"),
        ("0,101," + "a" * 64 + ",0.000", "quality"),
        ("0,9.5," + "a" * 64 + ",0.000", "quality"),
        ("0,100," + "a" * 63 + ",0.000", "64 hex digits"),
        ("0,100," + "g" * 64 + ",0.000", "hex digits"),
        ("0,100," + "a" * 64 + ",-1", "timestamp"),
        ("0,100," + "a" * 64 + ",1e3", "timestamp"),
        ("0,100," + "a" * 64 + ",nan", "timestamp"),
        ("1,100," + "a" * 64 + ",0\n1,100," + "a" * 64 + ",1", "line 2: frame numbers"),
        ("1,100," + "a" * 64 + ",2\n2,100," + "a" * 64 + ",1", "line 2: timestamps"),
    ],
)
def test_malformed_lines_are_refused_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(InvalidHash, match=message):
        parse_vpdq(text)


def test_the_frame_count_can_be_bounded() -> None:
    assert len(parse_vpdq(REFERENCE_TEXT, max_frames=564)) == 564
    with pytest.raises(InvalidHash, match="more than 10 frames"):
        parse_vpdq(REFERENCE_TEXT, max_frames=10)


def test_matching_counts_distinct_frames_within_31_on_both_sides() -> None:
    values = [RNG.getrandbits(256) for _ in range(10)]
    stored = [frame(i, v) for i, v in enumerate(values)]
    # The query: the first 5 frames at distance 31 (a match), twice over (counted once),
    # then 5 unrelated frames and 2 frames of too little detail.
    near = [frame(i, flip(v, 31)) for i, v in enumerate(values[:5])]
    query = [*near, *near, *(frame(i, RNG.getrandbits(256)) for i in range(10, 15))]
    query += [frame(20, values[9], quality=10), frame(21, values[8], quality=49)]
    match = match_videos(query, stored)
    assert match.query_percent == 50.0  # 5 of 10 distinct frame hashes
    assert match.stored_percent == 50.0  # 5 of 10
    assert match.stored_ranges == (TimeRange(0.0, 4.0),)
    assert match.query_ranges == (TimeRange(0.0, 4.0),)  # both copies: one run of frames
    assert not match.is_match
    beyond = [frame(i, flip(v, 32)) for i, v in enumerate(values)]
    assert match_videos(beyond, stored).query_percent == 0.0


def test_a_clip_inside_a_longer_video_matches_under_the_adopted_rule() -> None:
    clip = [frame(i, RNG.getrandbits(256)) for i in range(10)]
    other = [frame(i, RNG.getrandbits(256)) for i in range(20)]
    inserted = [
        VideoFrameHash(10 + f.frame_number, 10.0 + f.timestamp, f.quality, f.hash) for f in clip
    ]
    upload = other[:10] + inserted + other[10:]  # unrelated, the clip, unrelated
    match = match_videos(upload, clip)
    assert match.query_percent == pytest.approx(100 / 3)
    assert match.stored_percent == 100.0
    assert match.is_match
    assert match.query_ranges == (TimeRange(10.0, 19.0),)
    assert match.stored_ranges == (TimeRange(0.0, 9.0),)


def test_nothing_of_enough_quality_matches_nothing() -> None:
    good = [frame(0, RNG.getrandbits(256))]
    poor = [frame(0, int.from_bytes(good[0].hash, "big"), quality=10)]
    assert match_videos(poor, good) == match_videos(good, []) == match_videos([], [])
    assert match_videos(poor, good).query_percent == 0.0
