"""Peak memory of the service under worst-case image uploads to POST /v1/match/image.

Starts the real service (uvicorn, one worker, in a child process on 127.0.0.1),
issues a platform key with `hashbank-admin`, and makes the images that cost the
most to decode for their size: a 1-bit PNG at the pixel limit (100 MP in a few
kB), a flat RGBA PNG, a 16-bit greyscale PNG, large progressive and baseline
JPEGs, a lossless WebP, and a thin PNG that is never reduced. Each is sent once,
then by `--concurrency` clients at once. For every run it prints the service
process's peak RSS (Linux's VmHWM, reset before each run through
/proc/PID/clear_refs; psutil sampling where that is not allowed), the peak above
the idle service, its ratio to a baseline run in the same process (one ordinary
12 MP photo), and the statuses the uploads got (413: over the per-image budget;
503: no room in the pool in time).

    .venv/bin/python scripts/bench_upload_memory.py --concurrency 8
"""

import argparse
import io
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import psutil
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for tests.e2e
from hashing.loading import read_header
from service.match.decode_budget import image_cost
from tests.e2e.server import Server, platform_key

MB = 1024 * 1024
PHOTO = Path(__file__).resolve().parents[2] / "shared/pdq-reference/misc-images/modes/original.jpg"


# -- the images -----------------------------------------------------------------------


def _blocks(width: int, height: int) -> np.ndarray:
    """Large random blocks: compresses to almost nothing, still hashes at good quality."""
    cells = np.random.default_rng(1).random((24, 24)) > 0.5
    rows = (np.arange(height) * 24 // height)[:, None]
    cols = (np.arange(width) * 24 // width)[None, :]
    return cells[rows, cols]


def _rgb(width: int, height: int) -> Image.Image:
    blocks = _blocks(width, height)
    pixels = np.empty((height, width, 3), np.uint8)
    pixels[..., 0], pixels[..., 1], pixels[..., 2] = blocks * 200, 100, 255 - blocks * 200
    return Image.fromarray(pixels, "RGB")


def _encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def _png_1bit(w: int, h: int) -> bytes:
    return _encode(Image.fromarray(_blocks(w, h)), "PNG")


def _png_rgba(w: int, h: int) -> bytes:
    image = _rgb(w, h).convert("RGBA")
    image.putalpha(Image.fromarray(np.where(_blocks(w, h), 255, 128).astype(np.uint8), "L"))
    return _encode(image, "PNG")


def _png_16bit(w: int, h: int) -> bytes:
    return _encode(Image.fromarray(_blocks(w, h).astype(np.uint16) * 50_000 + 1000), "PNG")


def _jpeg(w: int, h: int, **params: object) -> bytes:
    return _encode(_rgb(w, h), "JPEG", quality=80, **params)


def _webp(w: int, h: int) -> bytes:
    return _encode(_rgb(w, h), "WEBP", lossless=True)


def _photo_12mp() -> bytes:
    """An ordinary phone photo: 4032 x 3024 JPEG of a real picture."""
    photo = Image.open(PHOTO).convert("RGB").resize((4032, 3024), Image.Resampling.BICUBIC)
    return _encode(photo, "JPEG", quality=90)


CASES: list[tuple[str, Callable[[], bytes]]] = [
    ("1-bit PNG, 10000 x 10000 (100 MP)", lambda: _png_1bit(10_000, 10_000)),
    ("RGBA PNG, 10000 x 10000, flat", lambda: _png_rgba(10_000, 10_000)),
    ("16-bit grey PNG, 10000 x 10000", lambda: _png_16bit(10_000, 10_000)),
    ("progressive JPEG 4:2:0, 10000 x 10000", lambda: _jpeg(10_000, 10_000, progressive=True)),
    (
        "progressive JPEG 4:4:4, 10000 x 10000",
        lambda: _jpeg(10_000, 10_000, progressive=True, subsampling=0),
    ),
    ("baseline JPEG, 10000 x 10000", lambda: _jpeg(10_000, 10_000)),
    ("lossless WebP, 5000 x 5000 (25 MP)", lambda: _webp(5000, 5000)),
    ("lossless WebP, 10000 x 10000", lambda: _webp(10_000, 10_000)),
    ("thin 1-bit PNG, 1000 x 100000 (never reduced)", lambda: _png_1bit(1000, 100_000)),
    ("thin 1-bit PNG, 1000 x 10000 (never reduced)", lambda: _png_1bit(1000, 10_000)),
]


# -- the service's memory -----------------------------------------------------------------


class PeakRss:
    """The peak RSS of one process since the last `reset` (VmHWM, or sampled)."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.clear_refs = Path(f"/proc/{pid}/clear_refs")
        try:
            self.clear_refs.write_text("5")  # resets VmHWM to the current RSS
            self.exact = True
        except OSError:
            self.exact = False
        self._sampled, self._stop = 0, threading.Event()
        self._thread: threading.Thread | None = None

    def rss(self) -> int:
        value: int = self.process.memory_info().rss
        return value

    def reset(self) -> None:
        if self.exact:
            self.clear_refs.write_text("5")
        else:
            self._stop.set()
            if self._thread:
                self._thread.join()
            self._sampled, self._stop = self.rss(), threading.Event()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()

    def peak(self) -> int:
        if self.exact:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        return max(self._sampled, self.rss())

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self._sampled = max(self._sampled, self.rss())


# -- the run --------------------------------------------------------------------------------


def upload(client: httpx.Client, data: bytes) -> int:
    response = client.post(
        "/v1/match/image", content=data, headers={"Content-Type": "application/octet-stream"}
    )
    return response.status_code


def burst(url: str, key: str, data: bytes, count: int) -> tuple[Counter[int], float]:
    """`count` clients, each on its own connection, send `data` at the same moment."""
    clients = [
        httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=120) for _ in range(count)
    ]
    start = threading.Barrier(count)

    def one(client: httpx.Client) -> int:
        start.wait()
        return upload(client, data)

    began = time.perf_counter()
    with ThreadPoolExecutor(count) as pool:
        statuses = Counter(pool.map(one, clients))
    elapsed = time.perf_counter() - began
    for client in clients:
        client.close()
    return statuses, elapsed


def measure(
    data: Path, log: Path, key: str, extra: dict[str, str], photo: bytes, image: bytes, clients: int
) -> list[tuple[int, Counter[int], float, int, int, int]]:
    """A fresh service: its idle RSS, the baseline photo's peak, then `image` sent by 1
    and by `clients` clients at once: (clients, statuses, seconds, idle, baseline, peak)."""
    rows = []
    with Server(data, log, **extra) as server:
        assert server.process is not None
        memory = PeakRss(server.process.pid)
        time.sleep(1)
        idle = memory.rss()
        memory.reset()
        with httpx.Client(base_url=server.url, headers={"X-API-Key": key}, timeout=120) as c:
            assert upload(c, photo) == 200
        baseline = memory.peak()
        for count in (1, clients):
            memory.reset()
            statuses, elapsed = burst(server.url, key, image, count)
            rows.append((count, statuses, elapsed, idle, baseline, memory.peak()))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a HASHBANK_* setting for the service, e.g. HASHBANK_DECODE_POOL_BYTES=536870912",
    )
    parser.add_argument("--only", default="", help="only the uploads whose name contains this")
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.env)
    started = datetime.now(UTC)

    print("making the images ...", flush=True)
    photo = _photo_12mp()
    cases: list[tuple[str, Callable[[], bytes]]] = [("12 MP JPEG photo", lambda: photo), *CASES]
    images = [(name, make()) for name, make in cases if args.only in name]

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        key = platform_key(data, "match", platform="Bench")
        exact = PeakRss(os.getpid()).exact
        print(
            f"\na fresh service (uvicorn, one worker) per upload kind; peak RSS by "
            f"{'VmHWM, reset before each run' if exact else 'psutil sampling every 2 ms'}; "
            "baseline: the peak of one 12 MP JPEG photo in the same process\n"
        )
        print(
            "| upload | bytes | estimate MB | clients | statuses | seconds "
            "| idle MB | peak RSS MB | above idle MB | x baseline |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        worst = (0, "")
        for name, image in images:
            estimate = image_cost(read_header(image), len(image))
            log = Path(tmp) / "server.log"
            for count, statuses, elapsed, idle, baseline, peak in measure(
                data, log, key, extra, photo, image, args.concurrency
            ):
                worst = max(worst, (peak - idle, f"{name}, {count} clients"))
                shown = ", ".join(f"{n}x {s}" for s, n in sorted(statuses.items()))
                print(
                    f"| {name} | {len(image):,} | {estimate / MB:,.0f} | {count} | {shown} "
                    f"| {elapsed:.1f} | {idle / MB:,.0f} | {peak / MB:,.0f} "
                    f"| {(peak - idle) / MB:,.0f} | {peak / baseline:.1f} |",
                    flush=True,
                )
        print(f"\nhighest peak above idle: {worst[0] / MB:,.0f} MB ({worst[1]})")
    print(f"run from {started:%Y-%m-%d %H:%M} to {datetime.now(UTC):%H:%M} UTC")
    return 0


if __name__ == "__main__":
    sys.exit(main())
