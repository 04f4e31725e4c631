"""Benchmark end-to-end PDQ hashing: hashbank's canonical path against the naive one.

For 640x480, 1024x768 and 12 MP JPEGs generated here (a real photo upscaled,
with seeded texture, quality 90), times open + decode + canonicalise + PDQ two
ways in the same run: `hashing.load_image` (reduced-scale JPEG decode) and the
naive full decode (`Image.open().convert("RGB")` + `pdqhash.compute`). Prints
per-size medians, the speed ratio and the Hamming drift between the two hashes.
Exits non-zero if a 12 MP JPEG is not at least 3x faster with <= 10 bits drift.

    .venv/bin/python scripts/bench_hashing.py [--repeat 15] [--real DIR]
"""

import argparse
import io
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pdqhash
import PIL
from machine import cpu_model
from PIL import Image, ImageFilter, ImageOps

from hashing import PDQ_ALGORITHM, load_image

SHARED = Path(__file__).resolve().parents[2] / "shared"
SOURCE = SHARED / "pdq-reference" / "reg-test-input" / "dih" / "bridge-1-original.jpg"
SIZES = {"640x480": (640, 480), "1024x768": (1024, 768), "12MP 4000x3000": (4000, 3000)}


def make_jpeg(source: Path, size: tuple[int, int], seed: int) -> bytes:
    """A photo-like JPEG: the source photo resized, plus seeded fine grain as a camera adds."""
    image = Image.open(source).convert("RGB").resize(size, Image.Resampling.LANCZOS)
    grain = np.random.default_rng(seed).normal(0, 6, (size[1], size[0], 1))
    pixels = np.clip(np.asarray(image, dtype=np.float64) + grain, 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels).filter(ImageFilter.UnsharpMask(radius=1, percent=40))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def fast(data: bytes) -> bytes:
    return PDQ_ALGORITHM.compute(load_image(data)).value


def naive(data: bytes) -> bytes:
    # Full decode; EXIF orientation applied so phone photos compare like for like.
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    bits, _ = pdqhash.compute(np.asarray(image.convert("RGB")))
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes()


def median_ms(function: Callable[[bytes], bytes], data: bytes, repeat: int) -> tuple[float, bytes]:
    result = function(data)  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function(data)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, result


def drift(a: bytes, b: bytes) -> int:
    return PDQ_ALGORITHM.distance(a, b)


def compare(label: str, data: bytes, repeat: int) -> tuple[float, int]:
    naive_ms, naive_hash = median_ms(naive, data, repeat)
    fast_ms, fast_hash = median_ms(fast, data, repeat)
    ratio, bits = naive_ms / fast_ms, drift(naive_hash, fast_hash)
    print(
        f"| {label} | {len(data) / 1e6:.2f} MB | {naive_ms:.1f} | {fast_ms:.1f} | {ratio:.1f}x | {bits} |"
    )
    return ratio, bits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--source", type=Path, default=SOURCE, help="photo to build test JPEGs from"
    )
    parser.add_argument("--real", type=Path, help="also time every JPEG in this folder as it is")
    args = parser.parse_args()
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"Pillow {PIL.__version__}, numpy {np.__version__}, pdqhash (PyPI)"
    )
    print(f"repeat: {args.repeat} (median), source: {args.source.name}\n")
    print("| image | JPEG size | naive ms | hashbank ms | speed-up | drift (bits) |")
    print("|---|---|---|---|---|---|")
    ok = True
    for seed, (label, size) in enumerate(SIZES.items()):
        ratio, bits = compare(label, make_jpeg(args.source, size, seed), args.repeat)
        if label.startswith("12MP"):
            ok = ratio >= 3 and bits <= 10
    if args.real:
        for path in sorted(args.real.glob("*.jpg")):
            with Image.open(path) as image:
                label = f"{path.name} {image.width}x{image.height}"
            compare(label, path.read_bytes(), args.repeat)
    print("\n12 MP target (>= 3x faster, <= 10 bits drift):", "met" if ok else "NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
