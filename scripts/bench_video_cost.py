"""Hashing speed of a 1080p, 60 s H.264 clip on this machine, against real time and plain decoding.

    nice .venv/bin/python scripts/bench_video_cost.py [--clip data/bench-1080p-60s.mp4] [--repeat 2]

Makes the clip once (a hand-held pan over a bsds500 photo, 1920x1080, 30
frames/s, libx264 CRF 23; kept at `--clip`, under the git-ignored data/),
then times, best of `--repeat`, in this process:

- baseline: decoding every frame with hashbank's decoder (`hashing.video`), nothing else;
- decoding + RGB conversion of every frame;
- `video_signals(clip)`: MD5 + decoding + 1 frame/s hashed + pruning (what a client runs);
- `hash_video(clip, rate=EVERY_FRAME)`: every frame hashed (Meta's reference setting).

Each is printed as seconds, x real time (60 s of video / seconds taken; above
1 is faster than playing it) and x the baseline.
"""

import argparse
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import video_transforms as vt
from PIL import Image

from hashing import video_signals
from hashing.video import open_video
from hashing.vpdq import EVERY_FRAME, hash_video

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT.parent / "shared" / "datasets" / "bsds500" / "100007.jpg"


def make_clip(path: Path, seconds: int = 60, fps: int = 30) -> None:
    """A pan with a little shake over a photo scaled up to 2.5 x 1080p (cheap to draw)."""
    big = np.asarray(
        Image.open(PHOTO).convert("RGB").resize((4800, 3200), Image.Resampling.BICUBIC)
    )
    rng = np.random.default_rng(1)
    writer = vt.Writer(path, Fraction(fps))
    try:
        for i in range(seconds * fps):
            u = i / (seconds * fps)
            x = int(u * (big.shape[1] - 1920 - 20) + rng.integers(0, 8))
            y = int((0.5 + 0.4 * np.sin(2 * np.pi * u)) * (big.shape[0] - 1080 - 20))
            writer.write(Fraction(i, fps), big[y : y + 1080, x : x + 1920])
    finally:
        writer.close()


def decode_only(path: Path) -> int:
    with open_video(path) as video:
        return sum(1 for _ in video.frames())


def decode_rgb(path: Path) -> int:
    with open_video(path) as video:
        return sum(frame.rgb().shape[0] > 0 for frame in video.frames())


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=ROOT / "data" / "bench-1080p-60s.mp4")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if not args.clip.exists():
        args.clip.parent.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        make_clip(args.clip)
        print(f"made {args.clip} in {time.perf_counter() - start:.0f} s")
    with av.open(str(args.clip)) as c:
        s = c.streams.video[0]
        info = f"{s.codec_context.width}x{s.codec_context.height} {s.codec_context.name}, {s.average_rate} frames/s"
    with open_video(args.clip) as video:
        seconds = float(video.declared_duration or 0)
    print(
        f"run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores; PyAV {av.__version__} "
        f"(FFmpeg {av.ffmpeg_version_info}); clip {info}, {seconds:.1f} s, "
        f"{args.clip.stat().st_size / 2**20:.1f} MiB"
    )
    signals = video_signals(args.clip)
    every = hash_video(args.clip, rate=EVERY_FRAME)
    rows = {
        "decode every frame (baseline)": lambda: decode_only(args.clip),
        "decode + RGB of every frame": lambda: decode_rgb(args.clip),
        f"video_signals, 1 frame/s ({len(signals.frames)} kept)": lambda: video_signals(args.clip),
        f"hash_video, every frame ({len(every.frames)} hashed)": lambda: hash_video(
            args.clip, rate=EVERY_FRAME
        ),
    }
    print("\n| what | seconds | x real time | x baseline |\n|---|---:|---:|---:|")
    baseline = 0.0
    for label, fn in rows.items():
        took = best(fn, args.repeat)
        baseline = baseline or took
        print(f"| {label} | {took:.1f} | {seconds / took:.1f} | {took / baseline:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
