"""The re-poster's transforms of the video accuracy benchmark, and PyAV reading and writing.

Everything is encoded and decoded with PyAV (libx264), never a system
ffmpeg. Frames are 8-bit RGB arrays (height x width x 3). Output timestamps
are the input's (in 1/90000 s), shifted where a transform moves content, so
variable frame rates and insertion at any instant stay exact.

- `read`, `Writer`, `frame_at`: decode to RGB with times; encode H.264 MP4.
- `make_copy`: decode, keep [start, end) seconds, apply a frame function,
  scale, encode at a bitrate or a CRF (a `Recipe`).
- `insert`: a clip inside a host video at an offset (the host scaled to the
  clip's size).
- Frame functions: `crop`, `add_logo`, `letterbox`, `mirror`; `draw` picks a
  transform's parameters at random from a seeded generator.
"""

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.video.stream
import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]
FrameFn = Callable[[Frame], Frame]
TIME_BASE = Fraction(1, 90000)
TRANSFORMS = (
    "re-encode low bitrate",
    "resize to 480p",
    "crop 10%",
    "trim 20% each end",
    "inside a longer video",
    "logo",
    "letterbox",
    "mirror",
    "re-encode + crop",
    "re-encode + 480p",
)


def even(n: float) -> int:
    return max(2, round(n / 2) * 2)


# -- frame functions ---------------------------------------------------------------------


def crop(frame: Frame, keep: float, x: float, y: float) -> Frame:
    """Keep `keep` of the width and of the height; the window's left/top at x, y of the slack."""
    h, w = frame.shape[:2]
    cw, ch = even(w * keep), even(h * keep)
    left, top = int((w - cw) * x), int((h - ch) * y)
    return frame[top : top + ch, left : left + cw]


def logo(width: int, seed: int) -> Frame:
    """A channel logo: a coloured badge with a light border and a few bold glyph-like bars."""
    rng = np.random.default_rng(seed)
    height = even(width * 0.4)
    badge = np.empty((height, width, 3), np.uint8)
    badge[:] = rng.integers(0, 256, 3, dtype=np.uint8)
    edge = max(1, height // 12)
    badge[:edge], badge[-edge:], badge[:, :edge], badge[:, -edge:] = 240, 240, 240, 240
    for i in range(4):
        left = width * (i * 2 + 1) // 10
        badge[height // 4 : height * 3 // 4, left : left + width // 12] = 255 - badge[0, 0] // 2
    return badge


def add_logo(frame: Frame, badge: Frame, x: float, y: float, opacity: float) -> Frame:
    """Blend `badge` into the frame with its top-left at x, y (fractions of the free space)."""
    out = frame.copy()
    h, w = frame.shape[:2]
    bh, bw = badge.shape[:2]
    top, left = int((h - bh) * y), int((w - bw) * x)
    area = out[top : top + bh, left : left + bw].astype(np.float32)
    out[top : top + bh, left : left + bw] = (area * (1 - opacity) + badge * opacity).astype(
        np.uint8
    )
    return out


def letterbox(frame: Frame, bar: float) -> Frame:
    """Black bars of `bar` x the height above and below (the frame grows taller)."""
    h = frame.shape[0]
    pad = even(h * bar) // 2 * 2
    return np.pad(frame, ((pad, pad), (0, 0), (0, 0)))


def mirror(frame: Frame) -> Frame:
    return np.ascontiguousarray(frame[:, ::-1])


@dataclass(frozen=True)
class Recipe:
    """One transformed copy: what `make_copy` does to the source."""

    transform: str
    frame_fn: FrameFn | None = None
    scale: float | None = None  # of the source's size
    bitrate: int | None = None  # bits/s; None: CRF 23
    trim: tuple[float, float] = (0.0, 0.0)  # fractions cut from the start and the end
    offset: float | None = None  # insertion: where the clip starts, fraction of the host
    describe: str = ""


def draw(transform: str, rng: random.Random, pixels: int) -> Recipe:
    """The transform's parameters, drawn at random (`pixels`: the source's width x height)."""
    low = int(pixels * rng.uniform(0.35, 0.8))  # ~ 300-750 kbit/s at 720p
    keep, x, y = 1 - rng.uniform(0.08, 0.12), rng.random(), rng.random()
    if transform == "re-encode low bitrate":
        return Recipe(transform, bitrate=low, describe=f"{low // 1000} kbit/s")
    if transform == "resize to 480p":
        return Recipe(transform, scale=2 / 3, describe="2/3 size")
    if transform == "crop 10%":
        return Recipe(
            transform, lambda f: crop(f, keep, x, y), describe=f"keep {keep:.2f} at {x:.2f},{y:.2f}"
        )
    if transform == "trim 20% each end":
        cut = (rng.uniform(0.15, 0.25), rng.uniform(0.15, 0.25))
        return Recipe(transform, trim=cut, describe=f"cut {cut[0]:.2f} + {cut[1]:.2f}")
    if transform == "inside a longer video":
        offset = rng.uniform(0.1, 0.9)
        return Recipe(transform, offset=offset, describe=f"at {offset:.2f} of the host")
    if transform == "logo":
        size, opacity, seed = rng.uniform(0.1, 0.25), rng.uniform(0.6, 1.0), rng.randrange(1 << 30)
        lx, ly = rng.choice((0.03, 0.97)), rng.choice((0.03, 0.97))

        def with_logo(f: Frame) -> Frame:
            return add_logo(f, logo(even(f.shape[1] * size), seed), lx, ly, opacity)

        return Recipe(transform, with_logo, describe=f"{size:.2f} of the width, {opacity:.1f}")
    if transform == "letterbox":
        bar = rng.uniform(0.08, 0.15)
        return Recipe(transform, lambda f: letterbox(f, bar), describe=f"bars {bar:.2f} each")
    if transform == "mirror":
        return Recipe(transform, mirror)
    if transform == "re-encode + crop":
        return Recipe(
            transform,
            lambda f: crop(f, keep, x, y),
            bitrate=low,
            describe=f"{low // 1000} kbit/s, keep {keep:.2f}",
        )
    if transform == "re-encode + 480p":
        return Recipe(
            transform, scale=2 / 3, bitrate=low * 4 // 9, describe=f"{low * 4 // 9000} kbit/s"
        )
    raise ValueError(f"unknown transform {transform!r}")


# -- decoding and encoding ---------------------------------------------------------------


def read(path: Path) -> tuple[Iterator[tuple[Fraction, Frame]], float, Fraction]:
    """The frames (time in seconds, RGB), the duration, the average frame rate."""
    container = av.open(str(path))
    stream = container.streams.video[0]
    duration = float(stream.duration * Fraction(stream.time_base or 1)) if stream.duration else 0.0
    rate = stream.average_rate or Fraction(30)

    def frames() -> Iterator[tuple[Fraction, Frame]]:
        origin = None
        with container:
            for frame in container.decode(stream):
                pts = Fraction(frame.pts or 0) * Fraction(frame.time_base or stream.time_base or 1)
                origin = pts if origin is None else origin
                yield pts - origin, np.asarray(frame.to_ndarray(format="rgb24"), np.uint8)

    return frames(), duration, Fraction(rate)


class Writer:
    """An H.264 MP4 written frame by frame, each at its own time; the size set by the first."""

    def __init__(self, path: Path, rate: Fraction, bitrate: int | None = None) -> None:
        self.muxer = av.open(str(path), "w", format="mp4")
        self.rate, self.bitrate = rate, bitrate
        self.stream: av.video.stream.VideoStream | None = None
        self.last = -1

    def write(self, time: Fraction, rgb: Frame) -> None:
        h, w = rgb.shape[:2]
        if self.stream is None:
            stream = self.muxer.add_stream("libx264", rate=self.rate)
            assert isinstance(stream, av.video.stream.VideoStream)
            stream.width, stream.height, stream.pix_fmt = w - w % 2, h - h % 2, "yuv420p"
            stream.codec_context.time_base = TIME_BASE
            options: dict[str, object] = {"preset": "veryfast"}
            if not self.bitrate:
                options["crf"] = "23"
            stream.options = options
            if self.bitrate:
                stream.codec_context.bit_rate = self.bitrate
            stream.codec_context.thread_count = 1
            self.stream = stream
        pts = max(self.last + 1, int(time / TIME_BASE))
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        if (w, h) != (self.stream.width, self.stream.height):
            frame = frame.reformat(width=self.stream.width, height=self.stream.height)
        frame.pts, frame.time_base, self.last = pts, TIME_BASE, pts
        for packet in self.stream.encode(frame):
            self.muxer.mux(packet)

    def close(self) -> None:
        if self.stream is not None:
            for packet in self.stream.encode():
                self.muxer.mux(packet)
        self.muxer.close()


def scaled(rgb: Frame, scale: float | None) -> Frame:
    if scale is None:
        return rgb
    h, w = rgb.shape[:2]
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    small = frame.reformat(width=even(w * scale), height=even(h * scale), format="rgb24")
    return np.asarray(small.to_ndarray(), np.uint8)


def make_copy(source: Path, out: Path, recipe: Recipe, host: Path | None = None) -> None:
    """Write `recipe`'s copy of `source` to `out` (an insertion needs its `host`)."""
    if recipe.offset is not None:
        if host is None:
            raise ValueError("an insertion needs a host video")
        insert(source, host, out, recipe.offset)
        return
    frames, duration, rate = read(source)
    start, end = recipe.trim[0] * duration, duration * (1 - recipe.trim[1])
    writer = Writer(out, rate, recipe.bitrate)
    try:
        for t, rgb in frames:
            if start <= t < end or not any(recipe.trim):
                f = recipe.frame_fn(rgb) if recipe.frame_fn else rgb
                writer.write(t - Fraction(start).limit_denominator(90000), scaled(f, recipe.scale))
    finally:
        writer.close()


def insert(clip: Path, host: Path, out: Path, offset: float) -> None:
    """The host video (scaled to the clip's size) with the whole clip inserted at `offset`
    of the host's duration; the host resumes after the clip."""
    clip_frames, _, rate = read(clip)
    first_t, first = next(clip_frames)
    size = (first.shape[1], first.shape[0])
    host_frames, host_duration, _ = read(host)
    at = Fraction(host_duration * offset).limit_denominator(1000)
    writer = Writer(out, rate)
    shift: Fraction | None = None
    try:
        for t, rgb in host_frames:
            if t >= at and shift is None:
                writer.write(at + first_t, first)
                last = first_t
                for ct, crgb in clip_frames:
                    writer.write(at + ct, crgb)
                    last = ct
                shift = last + 1 / rate
            writer.write(t + (shift or 0), resized(rgb, size))
    finally:
        writer.close()


def resized(rgb: Frame, size: tuple[int, int] | None) -> Frame:
    if size is None or (rgb.shape[1], rgb.shape[0]) == size:
        return rgb
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    return np.asarray(
        frame.reformat(width=size[0], height=size[1], format="rgb24").to_ndarray(), np.uint8
    )


def frame_at(path: Path, seconds: float) -> Frame:
    """The RGB frame shown at `seconds` (the last one whose time is <= it)."""
    frames, _, _ = read(path)
    shown = None
    for t, rgb in frames:
        if t > seconds and shown is not None:
            break
        shown = rgb
    assert shown is not None
    return shown
