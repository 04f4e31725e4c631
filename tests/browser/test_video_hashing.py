"""Videos hashed in headless Chromium by the web page's own code agree with the Python client.

The page's `video-hasher.js` (a `<video>` element seeked to each second, the
frame drawn on a canvas, PDQ and MD5 in the worker) hashes every reference
video of `../shared/vpdq-reference` (all H.264 MP4s that Chromium plays as
they are; no transcoding needed), and `hashing.vpdq.hash_video` hashes the
same files at the same rate: the same sample times, each browser frame within
a few bits of Python's (the browser's decoder and colour conversion are not
FFmpeg's swscale), the file's MD5 equal to `hashlib`'s. The distribution is
reported in docs/video.md ("In the browser"; `pytest -s` prints it). WebM and
MOV copies are made at test time with PyAV; files the browser cannot decode
get a plain reason.
"""

import hashlib
import math
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.video.stream
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page

from hashing.vpdq import VPDQ_ALGORITHM, hash_video, select_frames
from tests.browser.conftest import StaticServer, new_context, open_harness
from tests.conftest import BSDS500, VPDQ_REFERENCE
from tests.hashing.videos import audio_only, encode

VIDEOS = sorted((VPDQ_REFERENCE / "videos").glob("*.mp4"))
MAX_DISTANCE = 24  # any frame of quality >= 50, browser against Python (threshold: 31)
MAX_MEDIAN = 4  # over all of them

HASH_VIDEO = """async ([url, name, type, videoFrames]) => {
  const { HashWorker } = await import("/static/js/worker-client.js");
  const { hashVideo } = await import("/static/js/video-hasher.js");
  window.videoWorker ??= new HashWorker();
  const blob = await (await fetch(url)).blob();
  const file = new File([blob], name, { type });
  const progress = [];
  const started = performance.now();
  try {
    const video = await hashVideo(file, { hasher: window.videoWorker, videoFrames,
      onProgress: (p) => progress.push(p) });
    return { ok: true, ...video, progress, ms: performance.now() - started };
  } catch (error) {
    return { ok: false, name: error.name, reason: error.reason ?? error.message };
  }
}"""


def distance(a: str, b: str) -> int:
    return VPDQ_ALGORITHM.distance(VPDQ_ALGORITHM.parse(a), VPDQ_ALGORITHM.parse(b))


def browser_hash(
    page: Page, url: str, name: str, type: str = "video/mp4", video_frames: int = 3600
) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(HASH_VIDEO, [url, name, type, video_frames])
    return result


@dataclass(frozen=True)
class Compared:
    name: str
    distances: list[int]  # Python frames of quality >= 50, against the browser's at that time
    kept: tuple[int, int]  # frames kept after selection: browser, Python
    seconds: float  # the browser's wall time


def compare(name: str, path: Path, browser: dict[str, Any]) -> Compared:
    """Pair every frame Python samples with the browser's frame at the same sample time."""
    assert browser["ok"], browser
    assert browser["md5"] == hashlib.md5(path.read_bytes()).hexdigest()
    python = hash_video(path, rate=1.0)
    # Each frame the browser hashed: the frame shown at its sample time, with that frame's
    # own timestamp (as Python's); a frame shown at several sample times only once.
    sampled = list(browser["sampled"])
    assert all(f["timestamp"] <= f["time"] + 1e-6 for f in sampled)
    assert [f["time"] for f in sampled] == sorted({f["time"] for f in sampled})
    distances = []
    for frame in python.frames:
        second = math.ceil(frame.timestamp - 1e-9)  # the first sample time showing it
        found = [f for f in sampled if abs(f["timestamp"] - frame.timestamp) < 1e-3]
        if not found:
            # The end of a video is the end of its last frame for Python (the frame lasts
            # one period of the average rate) and the file's duration for the browser; they
            # can part by a fraction of a frame, so the very last sample time may be in one
            # and not the other.
            assert second >= browser["duration"] - 1e-6, (name, second)
            continue
        (theirs,) = found
        sampled.remove(theirs)
        assert theirs["time"] == second
        if frame.quality >= 50:
            distances.append(distance(frame.hex, theirs["hash"]))
    # And the browser's end can be later, with a longer sound track: the file's duration.
    assert all(f["time"] >= python.duration - 1e-6 for f in sampled), name
    assert len(sampled) <= 1, name
    total = len(browser["progress"]) - 1
    assert browser["progress"][-1] == {"done": total, "total": total}
    kept = (len(browser["frames"]), len(select_frames(python.frames)))
    return Compared(name, distances, kept, browser["ms"] / 1000)


@pytest.fixture(scope="module")
def page(browser: Browser, static_server: StaticServer) -> Iterator[Page]:
    context = new_context(browser, static_server)
    try:
        yield open_harness(context, static_server)
    finally:
        context.close()


@pytest.fixture(scope="module")
def reference(page: Page) -> list[Compared]:
    out = []
    for video in VIDEOS:
        hashed = browser_hash(page, f"/vpdq/{video.name}", video.name)
        out.append(compare(video.stem, video, hashed))
    return out


def test_the_browser_hashes_every_reference_video_as_python_does(reference: list[Compared]) -> None:
    assert len(reference) == 14
    everything = [d for r in reference for d in r.distances]
    assert len(everything) > 150
    print("\n| video | frames (q >= 50) | median | max | within 31 | kept: browser / Python | s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in reference:
        within = sum(d <= 31 for d in r.distances) / len(r.distances)
        print(
            f"| {r.name} | {len(r.distances)} | {statistics.median(r.distances):g} | "
            f"{max(r.distances)} | {within:.0%} | {r.kept[0]} / {r.kept[1]} | {r.seconds:.1f} |"
        )
    print(
        f"| all | {len(everything)} | {statistics.median(everything):g} | {max(everything)} | "
        f"{sum(d <= 31 for d in everything) / len(everything):.1%} | "
        f"{sum(r.kept[0] for r in reference)} / {sum(r.kept[1] for r in reference)} | "
        f"{sum(r.seconds for r in reference):.1f} |"
    )
    assert max(everything) <= MAX_DISTANCE
    assert statistics.median(everything) <= MAX_MEDIAN
    for r in reference:
        # Selection (quality floor, pruning) keeps about as many frames on both sides.
        assert abs(r.kept[0] - r.kept[1]) <= 1, r


def _transcode(source: Path, target: Path, container: str, codec: str | None) -> Path:
    """The first 6 seconds of `source` re-encoded with `codec` into `container`, or when
    `codec` is None the whole video's H.264 packets copied as they are (a remux)."""
    with av.open(str(source)) as src, av.open(str(target), "w", format=container) as out:
        instream = src.streams.video[0]
        if codec is None:
            outstream = out.add_stream_from_template(instream)
            for packet in src.demux(instream):
                if packet.dts is None:
                    continue  # the demuxer's flush packet
                packet.stream = outstream
                out.mux(packet)
            return target
        encoder = out.add_stream(codec, rate=30)
        assert isinstance(encoder, av.video.stream.VideoStream)
        encoder.width, encoder.height, encoder.pix_fmt = instream.width, instream.height, "yuv420p"
        encoder.options = {"deadline": "realtime", "cpu-used": "8", "b": "2M"}
        for number, frame in enumerate(src.decode(instream)):
            if number >= 6 * 30:  # the source has 30 frames a second
                break
            frame.pts, frame.time_base = number, Fraction(1, 30)
            for packet in encoder.encode(frame):
                out.mux(packet)
        for packet in encoder.encode():
            out.mux(packet)
    return target


@pytest.mark.parametrize(
    ("suffix", "container", "codec", "type"),
    [
        ("webm", "webm", "libvpx-vp9", "video/webm"),
        ("webm", "webm", "libvpx", "video/webm"),
        ("mov", "mov", None, "video/quicktime"),
    ],
    ids=["webm-vp9", "webm-vp8", "mov-h264"],
)
def test_webm_and_mov_copies_hash_as_in_python(
    page: Page,
    static_server: StaticServer,
    suffix: str,
    container: str,
    codec: str | None,
    type: str,
) -> None:
    name = f"chair-{codec or 'copy'}.{suffix}"
    path = _transcode(
        VPDQ_REFERENCE / "videos" / "chair-orig-22-sd-bar.mp4",
        static_server.generated / name,
        container,
        codec,
    )
    compared = compare(name, path, browser_hash(page, f"/gen/{name}", name, type))
    assert len(compared.distances) >= 5
    assert max(compared.distances) <= MAX_DISTANCE


def _large_video(path: Path) -> Path:
    """Two seconds of a photo at 4000 x 2400 (9.6 Mpx, above the page's 4K cap)."""
    with Image.open(sorted(BSDS500.glob("*.jpg"))[0]) as im:
        picture = np.asarray(im.convert("RGB").resize((4000, 2400), Image.Resampling.LANCZOS))
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=1)
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 4000, 2400, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for flip in (False, True):
            frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(picture[:, ::-1] if flip else picture), format="rgb24"
            )
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_frames_above_4k_are_scaled_down_and_still_agree(
    page: Page, static_server: StaticServer
) -> None:
    path = _large_video(static_server.generated / "large.mp4")
    hashed = browser_hash(page, "/gen/large.mp4", "large.mp4")
    assert hashed["scaled"] is True
    compared = compare("large", path, hashed)
    assert len(compared.distances) == 2
    assert max(compared.distances) <= MAX_DISTANCE


def _hevc() -> bytes:
    return encode(codec="libx265", width=64, height=48, frames=10)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: b"not a video at all " * 1000, "this browser cannot play this video"),
        (_hevc, "this browser cannot play this video"),
        (lambda: encode(frames=30)[:2000], "this browser cannot play this video"),
        (audio_only, "no picture"),
    ],
    ids=["random-bytes", "hevc", "truncated", "audio-only"],
)
def test_a_video_the_browser_cannot_decode_gets_a_plain_reason(
    page: Page, static_server: StaticServer, make: Any, reason: str
) -> None:
    name = f"bad-{abs(hash(reason)) % 1000}-{len(make())}.mp4"
    (static_server.generated / name).write_bytes(make())
    result = browser_hash(page, f"/gen/{name}", name)
    assert result["ok"] is False
    assert reason in result["reason"]


def test_a_video_longer_than_the_limit_is_refused_before_any_frame(page: Page) -> None:
    result = browser_hash(
        page, "/vpdq/chair-orig-22-sd-bar.mp4", "chair.mp4", video_frames=10
    )  # 22 s at 1 frame per second: 23 frames, more than 10
    assert result == {
        "ok": False,
        "name": "Error",
        "reason": "the video is longer than 10 seconds, the longest this service takes in one "
        "piece (a video editor can cut it into shorter parts)",
    }


def test_hashing_stops_when_aborted_and_the_worker_lets_the_job_go(page: Page) -> None:
    result = page.evaluate(
        """async () => {
          const { HashWorker } = await import("/static/js/worker-client.js");
          const { hashVideo } = await import("/static/js/video-hasher.js");
          const hasher = new HashWorker();
          const replies = [];
          hasher.worker.addEventListener("message", ({ data }) => replies.push(data));
          const blob = await (await fetch("/vpdq/chair-orig-22-sd-bar.mp4")).blob();
          const controller = new AbortController();
          let done = 0;
          let error = null;
          try {
            await hashVideo(new File([blob], "chair.mp4", { type: "video/mp4" }), {
              hasher, videoFrames: 3600, signal: controller.signal,
              onProgress: (p) => { done = p.done; if (p.done === 3) controller.abort(); } });
          } catch (e) { error = e.name; }
          await new Promise((r) => setTimeout(r, 0)); // this listener runs after the page's
          const atReturn = replies.length;
          await new Promise((r) => setTimeout(r, 1500));
          // The worker still answers: a frame of another job is hashed at once.
          const pixels = new ImageData(64, 64);
          const other = await hasher.frame(pixels, -1);
          await new Promise((r) => setTimeout(r, 0));
          return { error, done, atReturn, later: replies.length, last: replies[atReturn - 1],
                   other: other.quality };
        }"""
    )
    assert result["error"] == "AbortError"
    assert result["done"] == 3
    assert "cancelled" in result["last"]  # the job's last word: nothing of it runs any more
    assert result["later"] == result["atReturn"] + 1  # then only the other job's answer
    assert result["other"] == 0
