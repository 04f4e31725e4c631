"""The web page's video rules in JavaScript agree with the Python client's.

`md5.js` against `hashlib` (RFC 1321's own vectors, every length around the
64-byte block, any chunking, the reference videos); `vpdq.js` sampling and
frame selection against `hashing.sampling.sample` and
`hashing.vpdq.select_frames`; `video-limits.js` against `hashing.video` and
`hashing.limits`; `api.js` packing whole videos and photos into requests
within both of the service's counts.
"""

import hashlib
import random
from fractions import Fraction
from typing import Any

import pytest
from playwright.sync_api import Page

from hashing.case_items import fitting_frames
from hashing.limits import DEFAULT_CASE_HASHES, DEFAULT_VIDEO_FRAMES
from hashing.pdq import MIN_QUALITY
from hashing.sampling import sample
from hashing.video import DEFAULT_LIMITS
from hashing.vpdq import DEFAULT_RATE, PRUNE_DISTANCE, VideoFrameHash, select_frames
from tests.conftest import VPDQ_REFERENCE

VIDEOS = sorted((VPDQ_REFERENCE / "videos").glob("*.mp4"))

MD5_OF = """async ([bytes, splits]) => {
  const { Md5 } = await import("/static/js/md5.js");
  const data = new Uint8Array(bytes);
  const md5 = new Md5();
  let start = 0;
  for (const end of [...splits, data.length]) {
    md5.update(data.subarray(start, end));
    start = end;
  }
  return md5.hex();
}"""


def test_md5_matches_rfc_1321s_test_suite(harness: Page) -> None:
    suite = {
        "": "d41d8cd98f00b204e9800998ecf8427e",
        "a": "0cc175b9c0f1b6a831c399e269772661",
        "abc": "900150983cd24fb0d6963f7d28e17f72",
        "message digest": "f96b697d7cb7938d525a2f31aaf161d0",
        "abcdefghijklmnopqrstuvwxyz": "c3fcd3d76192e4007dfb496cca67e13b",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789": (
            "d174ab98d277d9f5a5611c2c9f419d9f"
        ),
        "1234567890" * 8: "57edf4a22be3c955ac49da2e2107b67a",
    }
    for text, digest in suite.items():
        assert harness.evaluate(MD5_OF, [list(text.encode()), []]) == digest


def test_md5_matches_hashlib_at_every_length_around_a_block_and_any_chunking(
    harness: Page,
) -> None:
    rng = random.Random(17)
    lengths = [*range(0, 200), 1000, 4095, 4096, 4097, 65_536 + 7]
    for length in lengths:
        data = rng.randbytes(length)
        splits = sorted(rng.sample(range(length + 1), min(3, length + 1)))
        assert harness.evaluate(MD5_OF, [list(data), splits]) == hashlib.md5(data).hexdigest(), (
            length
        )


def test_md5_of_the_reference_videos_read_in_chunks_is_hashlibs(harness: Page) -> None:
    digests = harness.evaluate(
        """async ([urls, chunks]) => {
          const { md5Blob } = await import("/static/js/md5.js");
          const out = [];
          for (const url of urls) {
            const blob = await (await fetch(url)).blob();
            const fractions = [];
            const each = [];
            for (const chunkBytes of chunks) {
              each.push(await md5Blob(blob, { chunkBytes, onProgress: (f) => fractions.push(f) }));
            }
            out.push({ each, last: fractions[fractions.length - 1] });
          }
          return out;
        }""",
        [[f"/vpdq/{v.name}" for v in VIDEOS], [4 * 1024 * 1024, 1_000_003, 65_536]],
    )
    assert len(digests) == len(VIDEOS) == 14
    for video, got in zip(VIDEOS, digests, strict=True):
        expected = hashlib.md5(video.read_bytes()).hexdigest()
        assert got["each"] == [expected] * 3, video.name
        assert got["last"] == 1


def test_md5_of_a_blob_stops_when_aborted(harness: Page) -> None:
    result = harness.evaluate(
        """async () => {
          const { md5Blob } = await import("/static/js/md5.js");
          const blob = new Blob([new Uint8Array(8 * 1024 * 1024)]);
          const controller = new AbortController();
          let chunks = 0;
          try {
            await md5Blob(blob, { chunkBytes: 1024 * 1024, signal: controller.signal,
              onProgress: () => { chunks += 1; if (chunks === 2) controller.abort(); } });
            return { finished: true, chunks };
          } catch (error) {
            return { finished: false, name: error.name, chunks };
          }
        }"""
    )
    assert result == {"finished": False, "name": "AbortError", "chunks": 2}


def test_the_constants_are_the_python_clients(harness: Page) -> None:
    js = harness.evaluate(
        """async () => {
          const v = await import("/static/js/vpdq.js");
          const l = await import("/static/js/video-limits.js");
          const a = await import("/static/js/api.js");
          return { algorithm: v.ALGORITHM, rate: v.DEFAULT_RATE, quality: v.MIN_QUALITY,
                   prune: v.PRUNE_DISTANCE, bytes: l.MAX_VIDEO_BYTES,
                   frames: l.DEFAULT_VIDEO_FRAMES, limits: a.DEFAULT_LIMITS };
        }"""
    )
    assert js == {
        "algorithm": "vpdq",
        "rate": DEFAULT_RATE,
        "quality": MIN_QUALITY,
        "prune": PRUNE_DISTANCE,
        "bytes": DEFAULT_LIMITS.max_bytes,
        "frames": DEFAULT_VIDEO_FRAMES,
        "limits": {"case_hashes": DEFAULT_CASE_HASHES, "video_frames": DEFAULT_VIDEO_FRAMES},
    }


class _Frame:
    def __init__(self, index: int, timestamp: Fraction, duration: Fraction) -> None:
        self.index, self.timestamp, self.duration = index, timestamp, duration


@pytest.mark.parametrize("rate", [1, 2, 5, 0.5])
@pytest.mark.parametrize(
    ("fps", "frames"), [(30, 673), (Fraction(30000, 1001), 300), (25, 1), (24, 121), (60, 59)]
)
def test_seeking_to_the_sample_times_shows_the_frames_python_samples(
    harness: Page, rate: float, fps: Fraction | int, frames: int
) -> None:
    # The browser seeks to each sample time and gets the frame displayed then: the last
    # one whose timestamp is <= t. Those must be exactly the frames Python samples.
    period = 1 / Fraction(fps)
    video = [_Frame(i, i * period, period) for i in range(frames)]
    duration = float(frames * period)
    times = harness.evaluate(
        """async ([duration, rate]) => {
          const { sampleTimes } = await import("/static/js/vpdq.js");
          return sampleTimes(duration, rate);
        }""",
        [duration, rate],
    )
    assert times == [k / rate for k in range(len(times))]
    shown = []
    for k in range(len(times)):
        at = k / Fraction(rate)  # the time meant (the page seeks to the nearest double)
        shown.append(max(f.index for f in video if f.timestamp <= at))
    python = [f.index for f in sample(video, rate)]
    # A frame displayed at several sample times is hashed once by Python and again by the
    # browser (the same pixels: pruning then drops the repeat).
    assert list(dict.fromkeys(shown)) == python


def _random_frames(rng: random.Random, n: int) -> list[VideoFrameHash]:
    frames = []
    value = rng.getrandbits(256)
    for i in range(n):
        flips = rng.choice([0, 1, 3, 8, 9, 12, 40, 128])
        for bit in rng.sample(range(256), flips):
            value ^= 1 << bit
        quality = rng.choice([100, 100, 80, 50, 49, 10, 0])
        frames.append(VideoFrameHash(i, float(i), quality, value.to_bytes(32, "big")))
    return frames


@pytest.mark.parametrize("prune", [PRUNE_DISTANCE, 0, None, 16])
def test_frame_selection_is_select_frames(harness: Page, prune: int | None) -> None:
    rng = random.Random(prune or 99)
    frames = _random_frames(rng, 400)
    kept = harness.evaluate(
        """async ([frames, pruneDistance]) => {
          const { selectFrames } = await import("/static/js/vpdq.js");
          return selectFrames(frames, { pruneDistance }).map((f) => f.timestamp);
        }""",
        [[{"hash": f.hex, "quality": f.quality, "timestamp": f.timestamp} for f in frames], prune],
    )
    expected = [f.timestamp for f in select_frames(frames, prune_distance=prune)]
    assert kept == expected
    assert 20 < len(expected) < 400


@pytest.mark.parametrize(
    ("count", "limit"), [(50, 400), (50, 100), (3600, 3600), (7, 1), (401, 37)]
)
def test_frames_fit_the_frame_limit_as_fitting_frames(
    harness: Page, count: int, limit: int
) -> None:
    """A video's frames with their variants, cut to the frame hashes a request takes,
    evenly as the Python client does (hashing.case_items.fitting_frames)."""
    rng = random.Random(count * limit)
    frames = [
        VideoFrameHash(
            i,
            float(i),
            90,
            rng.randbytes(32),
            tuple(rng.randbytes(32) for _ in range(rng.randint(0, 5))),
        )
        for i in range(count)
    ]
    kept = harness.evaluate(
        """async ([frames, limit]) => {
          const { fittingFrames } = await import("/static/js/vpdq.js");
          return fittingFrames(frames, limit).map((f) => f.timestamp);
        }""",
        [
            [
                {"hash": f.hex, "timestamp": f.timestamp, "variants": [v.hex() for v in f.variants]}
                for f in frames
            ],
            limit,
        ],
    )
    expected = fitting_frames(frames, limit)
    assert kept == [f.timestamp for f in expected]
    assert sum(1 + len(f.variants) for f in expected) <= limit


def test_limits_and_their_words(harness: Page) -> None:
    got = harness.evaluate(
        """async () => {
          const l = await import("/static/js/video-limits.js");
          return {
            words: [59, 90, 120, 600, 3600, 5400, 7200].map(l.lengthInWords),
            bytes: [l.MAX_VIDEO_BYTES, 500 * 1024 ** 2].map(l.bytesInWords),
            ok: l.videoProblem({ bytes: 1000, duration: 3600 }, { videoFrames: 3600 }),
            unopened: l.videoProblem({ bytes: 1000 }, {}),
            long: l.videoProblem({ bytes: 1000, duration: 3600.5 }, { videoFrames: 3600 }),
            short: l.videoProblem({ bytes: 1000, duration: 11 }, { videoFrames: 10 }),
            half: l.videoProblem({ bytes: 1000, duration: 11 }, { videoFrames: 10, rate: 0.5 }),
            big: l.videoProblem({ bytes: l.MAX_VIDEO_BYTES + 1 }, {}),
            endless: l.videoProblem({ bytes: 1000, duration: Infinity }, {}),
            sizes: [[1920, 1080], [3840, 2160], [7680, 4320], [8000, 100]].map(
              ([w, h]) => l.frameSize(w, h)),
          };
        }"""
    )
    assert got["words"] == [
        "59 seconds",
        "90 seconds",
        "2 minutes",
        "10 minutes",
        "60 minutes",
        "1 hour 30 minutes",
        "2 hours",
    ]
    assert got["bytes"] == ["1 GB", "500 MB"]
    assert got["ok"] is None
    assert got["unopened"] is None
    assert "longer than 60 minutes" in got["long"]
    assert "longer than 10 seconds" in got["short"]
    assert got["half"] is None  # 10 frames at one every 2 seconds: 20 seconds
    assert "larger than 1 GB" in got["big"]
    assert "could not tell how long" in got["endless"]
    assert got["sizes"][:2] == [{"width": 1920, "height": 1080}, {"width": 3840, "height": 2160}]
    assert got["sizes"][2] == {"width": 3840, "height": 2160}  # 8K, halved
    assert got["sizes"][3]["width"] * got["sizes"][3]["height"] <= 3840 * 2160


def _pack(harness: Page, items: list[list[dict[str, Any]]], limits: dict[str, int]) -> Any:
    return harness.evaluate(
        """async ([items, limits]) => {
          const { packImages } = await import("/static/js/api.js");
          return packImages(items, limits);
        }""",
        [items, limits],
    )


def test_videos_and_photos_are_packed_whole_within_both_limits(harness: Page) -> None:
    def photo(n: int) -> list[dict[str, Any]]:
        return [{"algorithm": "pdq", "hash": f"{n}:p{i}", "quality": 100} for i in range(7)]

    def video(n: int, frames: int) -> list[dict[str, Any]]:
        return [
            {"algorithm": "md5", "hash": f"{n}:md5"},
            *(
                {"algorithm": "vpdq", "hash": f"{n}:f{i}", "quality": 90, "timestamp": i}
                for i in range(frames)
            ),
        ]

    items = [photo(0), video(1, 30), video(2, 25), photo(3), video(4, 50)]
    items += map(photo, range(5, 20))
    batches = _pack(harness, items, {"case_hashes": 40, "video_frames": 50})
    assert len(batches) >= 3
    flat: list[str] = []
    for batch in batches:
        hashes = batch["hashes"]
        assert sum(h["algorithm"] == "vpdq" for h in hashes) <= 50
        assert sum(h["algorithm"] != "vpdq" for h in hashes) <= 40
        numbers = [h["image"] for h in hashes]
        assert numbers[0] == 0
        assert max(numbers) + 1 == batch["images"]
        # Each item's hashes are together, under one number; a video's MD5 goes first.
        for n in range(batch["images"]):
            mine = [h for h in hashes if h["image"] == n]
            assert len({h["hash"].split(":")[0] for h in mine}) == 1
        flat += [h["hash"] for h in hashes]
    assert flat == [h["hash"] for item in items for h in item]  # all, once, in order
    # Alone, a video of 50 frames fits; photos and videos share a request when both fit.
    assert (
        _pack(harness, [video(1, 50), photo(2)], {"case_hashes": 100, "video_frames": 50})[0][
            "images"
        ]
        == 2
    )
