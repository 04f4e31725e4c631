"""The decode budget: how much memory images being decoded and hashed may take in one worker.

An image sent to `POST /v1/match/image` is decoded and hashed in memory, and
what that costs depends on the picture, not on the upload: a 12 kB 1-bit PNG
declares 100 MP, and WebP's decoder holds four copies of its pixels. The cost
is known from the header before a pixel is decoded (`hashing.loading.read_header`),
so each request estimates it (`image_cost`), reserves it from the worker's
`DecodeBudget` before decoding and gives it back once the image is hashed:

* an image whose cost alone is above the per-image limit is refused at once
  (413, `image_too_large`);
* when the pool has no room, the request waits its turn (first come, first
  served, without blocking the event loop) for at most `wait_seconds`, then
  gets 503 (`busy`) with Retry-After;
* a reservation is given back however the request ends (an error, a client
  that went away), and only once the thread decoding it has finished.

So a worker's memory for images stays under the pool's size however many
arrive at once. Once an image is hashed, `give_back_memory` returns what its
decoding freed to the operating system: glibc keeps freed memory in per-thread
arenas, and images decoded one after another on different threads would
otherwise grow the process past the pool. The estimate's constants were measured with
`scripts/bench_upload_memory.py` (figures in `docs/benchmarks.md`); they err
on the high side.
"""

import asyncio
import ctypes
import ctypes.util
import math
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from hashing.colour import BAND_PIXELS
from hashing.loading import ImageHeader
from service.failures import Busy, TooLarge

MB = 1024 * 1024

# Bytes Pillow keeps per pixel of a decoded image, by mode (RGB is stored as 4 bytes).
_MODE_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
_WIDE_BYTES = 4  # every other mode
# Formats Pillow decodes straight into its own image (plus a row or strip buffer).
_PILLOW_DECODERS = {"PNG", "JPEG", "GIF", "BMP", "DIB", "TIFF", "PPM", "TGA", "PCX", "ICO"}
# Formats whose decoders hold copies of their own (libwebp's canvas and frame, libheif's
# and libavif's planes): bytes per decoded pixel in all, measured 15.3 for WebP, 7 for
# HEIF and 9 for AVIF. Any other format is assumed to be as costly as WebP.
_DECODER_BYTES = {"WEBP": 16, "HEIF": 10, "AVIF": 10}
_OTHER_BYTES = 16
_COEFFICIENT_BYTES = 2  # libjpeg's DCT coefficients are 16-bit
# Converting to RGB a band of rows at a time (`hashing.colour`): the band's float and
# alpha temporaries, per pixel of the band (16-bit images, the worst, measured ~35).
_BAND_BYTES = 40
# Per pixel of the canonical image: the image itself (4) and, while its forms are
# hashed one at a time, one form, the pixel copies PDQ takes and its float buffers
# (measured 37 on a 20 MP canonical image, 40 on 1.6 MP).
_HASHING_BYTES = 44
# RSS is more than the pixels: allocator slack, row buffers, Python objects. Measured
# peaks came within 1% of the sums above; the estimate adds an eighth and 8 MB.
_SLACK_NUMERATOR, _SLACK_DENOMINATOR, _SLACK_BYTES = 9, 8, 8 * MB


def image_cost(header: ImageHeader, upload_bytes: int) -> int:
    """Estimated peak memory, in bytes, of decoding and hashing one image of `upload_bytes`.

    The upload itself, plus the larger of decoding (the decoded image, libjpeg's
    coefficient buffer, the conversion's bands and the canonical result) and
    hashing (the canonical image and its forms): the decoded pixels are freed
    before the forms are made. Then an eighth more and 8 MB, for what is not pixels.
    """
    if header.format in _DECODER_BYTES:
        per_pixel = _DECODER_BYTES[header.format]
    elif header.format in _PILLOW_DECODERS:
        per_pixel = _MODE_BYTES.get(header.mode, _WIDE_BYTES)
    else:
        per_pixel = _OTHER_BYTES
    declared = header.size[0] * header.size[1]
    decoding = (
        header.decoded_pixels * per_pixel
        + math.ceil(declared * header.coefficient_planes * _COEFFICIENT_BYTES)
        + (min(header.decoded_pixels, BAND_PIXELS) * _BAND_BYTES if header.mode != "RGB" else 0)
        + header.canonical_pixels * _WIDE_BYTES
    )
    hashing = header.canonical_pixels * _HASHING_BYTES
    peak = upload_bytes + max(decoding, hashing)
    return peak * _SLACK_NUMERATOR // _SLACK_DENOMINATOR + _SLACK_BYTES


class DecodeBusy(Busy):
    """The worker's pool stayed full for as long as a request may wait (503, Retry-After)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "the service is decoding as many images as its memory allows; "
            f"try again in {retry_after} s",
            "busy",
            retry_after,
        )


@dataclass(eq=False)
class _Waiter:
    cost: int
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]
    granted: bool = field(default=False)  # let in: its cost is taken from the pool
    expired: bool = field(default=False)  # waited as long as it may: out of the queue


class DecodeBudget:
    """A pool of `capacity` bytes that images reserve from while they are decoded and hashed.

    `per_image` is the most one image may cost (at most `capacity`); a request
    waits at most `wait_seconds` for room. Safe to share between threads and
    event loops: its state is guarded by a lock and waiters are woken on their
    own loop.
    """

    def __init__(self, capacity: int, per_image: int, wait_seconds: float) -> None:
        if not 0 < per_image <= capacity:
            raise ValueError(f"per-image budget {per_image:,} must be in 1..{capacity:,} bytes")
        self.capacity, self.per_image, self.wait_seconds = capacity, per_image, wait_seconds
        self.retry_after = max(1, math.ceil(wait_seconds))
        self._lock = threading.Lock()
        self._free = capacity
        self._waiting: deque[_Waiter] = deque()

    @property
    def in_use(self) -> int:
        """Bytes reserved right now (by images being decoded or hashed)."""
        with self._lock:
            return self.capacity - self._free

    @property
    def waiting(self) -> int:
        """Requests waiting for room right now."""
        with self._lock:
            return len(self._waiting)

    @asynccontextmanager
    async def reserve(self, cost: int) -> AsyncIterator[None]:
        """Hold `cost` bytes of the pool for the block; raise 413 or `DecodeBusy` instead.

        The reservation is given back when the block ends, however it ends.
        """
        if cost > self.per_image:
            raise TooLarge(
                f"decoding and hashing this image takes about {_mb(cost)}; "
                f"this service takes at most {_mb(self.per_image)} per image",
                "image_too_large",
            )
        await self._acquire(cost)
        try:
            yield
        finally:
            self._release(cost)

    async def _acquire(self, cost: int) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if not self._waiting and cost <= self._free:
                self._free -= cost
                return
            waiter = _Waiter(cost, loop, loop.create_future())
            self._waiting.append(waiter)
        # Not asyncio.wait_for: when the room and a cancellation come together, it
        # returns as if granted and the cancellation is lost.
        timer = loop.call_later(self.wait_seconds, self._expire, waiter)
        try:
            await waiter.future
        except asyncio.CancelledError:  # the request itself went away while waiting
            with self._lock:
                if waiter.granted:
                    self._free += waiter.cost  # room came just too late: give it back
                elif not waiter.expired:
                    self._waiting.remove(waiter)
                self._grant()
            raise
        finally:
            timer.cancel()
        if waiter.expired:
            raise DecodeBusy(self.retry_after)

    def _expire(self, waiter: _Waiter) -> None:
        """The wait is over (on the waiter's loop): leave the queue, unless let in already."""
        with self._lock:
            if waiter.granted:
                return
            waiter.expired = True
            self._waiting.remove(waiter)
            self._grant()  # the ones behind it may fit now
        _wake(waiter.future)

    def _release(self, cost: int) -> None:
        with self._lock:
            self._free += cost
            self._grant()

    def _grant(self) -> None:
        """Let waiters in, in order, while the first one fits (the lock is held)."""
        while self._waiting and self._waiting[0].cost <= self._free:
            waiter = self._waiting.popleft()
            self._free -= waiter.cost
            waiter.granted = True
            waiter.loop.call_soon_threadsafe(_wake, waiter.future)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _mb(size: int) -> str:
    return f"{math.ceil(size / MB):,} MB"


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to do
        return None
    return trim


_MALLOC_TRIM = _malloc_trim()


def give_back_memory() -> None:
    """Return the memory freed by a decode to the operating system (glibc's malloc_trim).

    Blocking (a few milliseconds after a large image): call it from the thread that
    decoded, not on the event loop.
    """
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
