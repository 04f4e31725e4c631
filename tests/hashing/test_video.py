"""Canonical video decoding (hashing.video): containers, timestamps, rotation, and hostile files."""

import io
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from hashing.errors import HashingError, UnreadableVideo, VideoTooLarge, VideoTooLong
from hashing.video import DEFAULT_LIMITS, container_of, open_input, open_video
from tests.conftest import VPDQ_REFERENCE
from tests.hashing.videos import audio_only, encode, huge_declared

VIDEOS = VPDQ_REFERENCE / "videos"
DOORKNOB = VIDEOS / "doorknob-hd-no-bar.mp4"  # 120 frames, 30 per second, 1280x720
BOUNDED_SECONDS = 5.0  # every refusal comes well within this, on a shared 2-core machine


@contextmanager
def refused_quickly(error: type[HashingError], match: str | None = None) -> Iterator[None]:
    start = time.monotonic()
    with pytest.raises(error, match=match):
        yield
    assert time.monotonic() - start < BOUNDED_SECONDS


def decode_all(source: bytes | Path, **limits: Any) -> list[Fraction]:
    with open_video(source, limits=replace(DEFAULT_LIMITS, **limits)) as video:
        return [frame.timestamp for frame in video.frames()]


def test_a_reference_video_decodes_at_its_frame_times_from_a_path_and_from_bytes() -> None:
    from_path = decode_all(DOORKNOB)
    assert from_path == [Fraction(i, 30) for i in range(120)]
    assert decode_all(DOORKNOB.read_bytes()) == from_path
    with open_video(DOORKNOB) as video:
        assert video.coded_size == (1280, 720)
        assert video.expected_frames == 120
        first = next(video.frames())
        assert first.rgb().shape == (720, 1280, 3)
        assert first.rgb((128, 128)).shape == (128, 128, 3)


@pytest.mark.parametrize(
    ("container", "codec"),
    [
        ("mp4", "libx264"),
        ("mov", "libx264"),
        ("3gp", "libx264"),
        ("matroska", "libx264"),
        ("webm", "libvpx-vp9"),
    ],
)
def test_every_accepted_container_decodes(container: str, codec: str) -> None:
    data = encode(container=container, codec=codec)
    assert container_of(data[:12]) in ("mov", "matroska")
    times = decode_all(data)
    # Matroska counts time in milliseconds.
    assert [round(t * 1000) for t in times] == [round(i * 1000 / 30) for i in range(10)]


def test_variable_frame_rate_uses_each_frames_own_timestamp() -> None:
    pts = [0, 100, 150, 1000, 1033, 2000, 2500, 2501, 3000, 3100]
    data = encode(pts=pts, time_base=Fraction(1, 1000))
    assert decode_all(data) == [Fraction(p, 1000) for p in pts]


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_the_display_matrix_rotation_is_applied(rotation: int) -> None:
    plain, rotated = (encode(frames=2, rotation=r) for r in (None, rotation))
    with open_video(plain) as a, open_video(rotated) as b:
        upright = next(a.frames()).rgb()
        shown = next(b.frames()).rgb()
    # np.rot90 turns counterclockwise, as the display matrix's angle counts.
    assert np.array_equal(shown, np.rot90(upright, rotation // 90))


def test_sniffing_accepts_only_the_video_containers() -> None:
    assert container_of(DOORKNOB.read_bytes()[:12]) == "mov"
    assert container_of(b"\x1a\x45\xdf\xa3" + bytes(8)) == "matroska"
    assert container_of(b"\x00\x00\x00\x18ftypheic\x00\x00") is None  # a HEIC photo
    assert container_of(b"\x89PNG\r\n\x1a\n") is None
    assert container_of(b"") is None


def test_a_truncated_video_is_refused_whole() -> None:
    data = (VIDEOS / "chair-19-sd-bar.mp4").read_bytes()
    with refused_quickly(UnreadableVideo, "truncated or damaged"):
        decode_all(data[: len(data) // 2])
    # Its header (moov) is at the end: cut, nothing can be read.
    padded = (VIDEOS / "test-padded-dimensions.mp4").read_bytes()
    with refused_quickly(UnreadableVideo, "damaged"):
        decode_all(padded[: len(padded) // 2])


def test_random_bytes_empty_files_and_photos_are_not_videos(tmp_path: Path) -> None:
    noise = np.random.default_rng(17).integers(0, 256, 100_000, np.uint8).tobytes()
    with refused_quickly(UnreadableVideo, "not a video"):
        decode_all(noise)
    # Random bytes behind a valid MP4 signature reach the demuxer, which refuses them.
    with refused_quickly(UnreadableVideo):
        decode_all(b"\x00\x00\x00\x18ftypisom" + noise)
    with refused_quickly(UnreadableVideo, "empty"):
        decode_all(b"")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with refused_quickly(UnreadableVideo, "empty"):
        decode_all(empty)
    png = tmp_path / "photo.mp4"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(buffer, "PNG")
    png.write_bytes(buffer.getvalue())
    with refused_quickly(UnreadableVideo, "not a video"):
        decode_all(png)


def test_an_audio_only_file_is_not_a_video() -> None:
    with refused_quickly(UnreadableVideo, "audio only"):
        decode_all(audio_only())


def test_huge_declared_dimensions_are_refused_before_decoding() -> None:
    with refused_quickly(VideoTooLarge, "12000x12000"):
        decode_all(huge_declared(12000))
    # The same check runs against the service's own, smaller limit.
    with refused_quickly(VideoTooLarge, "1280x720"):
        decode_all(DOORKNOB, max_pixels=1280 * 720 - 1)


def test_the_byte_limit_holds_for_paths_and_bytes() -> None:
    size = DOORKNOB.stat().st_size
    for source in (DOORKNOB, DOORKNOB.read_bytes()):
        with refused_quickly(VideoTooLarge, "file size"):
            decode_all(source, max_bytes=size - 1)
        with refused_quickly(VideoTooLarge, "file size"):
            open_input(source, replace(DEFAULT_LIMITS, max_bytes=size - 1))
    with open_input(DOORKNOB) as file:
        assert len(file.read()) == size


def test_duration_frame_count_and_time_limits() -> None:
    # Declared in the header: refused before decoding.
    with refused_quickly(VideoTooLong, "duration"):
        decode_all(DOORKNOB, max_duration=1.0)
    with refused_quickly(VideoTooLong, "frame count"):
        decode_all(DOORKNOB, max_frames=10)
    with refused_quickly(VideoTooLong, "decoding time"):
        decode_all(DOORKNOB, max_seconds=0.0)


def test_frame_timestamps_beyond_the_limit_are_refused_while_decoding() -> None:
    # A header that declares nothing (no duration, no frame count) cannot hide a long video.
    data = encode(container="matroska", frames=5, pts=[0, 1, 2, 3, 400], time_base=Fraction(1, 10))
    with refused_quickly(VideoTooLong, "duration"):
        decode_all(data, max_duration=30.0)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_streams_that_never_end_are_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "endless.mp4"
    os.mkfifo(fifo)
    with refused_quickly(UnreadableVideo, "regular file"):
        decode_all(fifo)
    if Path("/dev/zero").exists():
        with refused_quickly(UnreadableVideo, "regular file"):
            decode_all(Path("/dev/zero"))
