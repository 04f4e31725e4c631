"""The decode budget: waiting for room in order, refusal, giving back on every way out,
and the cost estimate of real images."""

import asyncio
import io
import threading

import numpy as np
import pytest
from PIL import Image

from hashing.loading import read_header
from service.failures import Busy, TooLarge
from service.match.decode_budget import DecodeBudget, DecodeBusy, image_cost

MB = 1024 * 1024


async def _hold(
    budget: DecodeBudget, cost: int, name: str, log: list[str], release: asyncio.Event
) -> None:
    async with budget.reserve(cost):
        log.append(name)
        await release.wait()


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_requests_wait_for_room_first_come_first_served() -> None:
    async def scenario() -> None:
        budget = DecodeBudget(100, 100, wait_seconds=5)
        log: list[str] = []
        releases = {name: asyncio.Event() for name in "abc"}
        a = asyncio.create_task(_hold(budget, 60, "a", log, releases["a"]))
        await _settle()
        b = asyncio.create_task(_hold(budget, 50, "b", log, releases["b"]))
        await _settle()
        # c would fit next to a, but b came first: c waits behind it.
        c = asyncio.create_task(_hold(budget, 10, "c", log, releases["c"]))
        await _settle()
        assert (log, budget.in_use, budget.waiting) == (["a"], 60, 2)

        releases["a"].set()
        await a
        await _settle()
        assert (log, budget.in_use, budget.waiting) == (["a", "b", "c"], 60, 0)
        releases["b"].set()
        releases["c"].set()
        await asyncio.gather(b, c)
        assert budget.in_use == 0

    asyncio.run(scenario())


def test_a_request_that_waits_too_long_gets_busy_with_retry_after() -> None:
    async def scenario() -> None:
        budget = DecodeBudget(100, 100, wait_seconds=0.05)
        log: list[str] = []
        release = asyncio.Event()
        holder = asyncio.create_task(_hold(budget, 100, "holder", log, release))
        await _settle()
        with pytest.raises(DecodeBusy) as caught:
            async with budget.reserve(1):
                raise AssertionError("got in although the pool was full")
        assert isinstance(caught.value, Busy)  # answered 503 with Retry-After
        assert (caught.value.code, caught.value.retry_after) == ("busy", 1)
        assert (budget.in_use, budget.waiting) == (100, 0)  # nothing taken, nobody queued
        release.set()
        await holder
        assert budget.in_use == 0

    asyncio.run(scenario())


def test_no_waiting_at_all_when_wait_is_zero() -> None:
    async def scenario() -> None:
        budget = DecodeBudget(10, 10, wait_seconds=0)
        async with budget.reserve(10):
            with pytest.raises(DecodeBusy):
                async with budget.reserve(1):
                    pass
        async with budget.reserve(10):  # free again
            pass

    asyncio.run(scenario())


def test_an_image_over_the_per_image_limit_is_refused_at_once() -> None:
    async def scenario() -> None:
        budget = DecodeBudget(100 * MB, 10 * MB, wait_seconds=5)
        with pytest.raises(TooLarge) as caught:  # answered 413
            async with budget.reserve(10 * MB + 1):
                pass
        assert caught.value.code == "image_too_large"
        assert "at most 10 MB per image" in caught.value.message
        assert budget.in_use == 0

    asyncio.run(scenario())
    with pytest.raises(ValueError, match="per-image budget"):
        DecodeBudget(10, 11, wait_seconds=1)


def test_an_error_inside_gives_the_reservation_back_and_lets_the_next_in() -> None:
    async def scenario() -> None:
        budget = DecodeBudget(100, 100, wait_seconds=5)
        started = asyncio.Event()

        async def failing() -> None:
            async with budget.reserve(80):
                started.set()
                await asyncio.sleep(0.01)
                raise RuntimeError("decoder failed")

        task = asyncio.create_task(failing())
        await started.wait()
        async with budget.reserve(50):  # waits for the failing one, then gets in
            assert budget.in_use == 50
        with pytest.raises(RuntimeError):
            await task
        assert budget.in_use == 0

    asyncio.run(scenario())


def test_a_cancelled_waiter_leaves_the_queue_and_the_next_one_moves_up() -> None:
    async def scenario() -> None:
        budget = DecodeBudget(100, 100, wait_seconds=5)
        log: list[str] = []
        release = {name: asyncio.Event() for name in "abc"}
        a = asyncio.create_task(_hold(budget, 60, "a", log, release["a"]))
        await _settle()
        b = asyncio.create_task(_hold(budget, 50, "b", log, release["b"]))
        await _settle()
        c = asyncio.create_task(_hold(budget, 30, "c", log, release["c"]))
        await _settle()
        assert budget.waiting == 2
        b.cancel()  # e.g. the client went away
        await _settle()
        assert (log, budget.in_use, budget.waiting) == (["a", "c"], 90, 0)
        with pytest.raises(asyncio.CancelledError):
            await b
        release["a"].set()
        release["c"].set()
        await asyncio.gather(a, c)
        assert budget.in_use == 0

    asyncio.run(scenario())


def test_one_budget_serves_several_event_loops() -> None:
    """TestClient and uvicorn each run their own loop; the budget wakes each on its own."""
    budget = DecodeBudget(100, 100, wait_seconds=5)
    held, release, done = threading.Event(), threading.Event(), threading.Event()

    async def holder() -> None:
        async with budget.reserve(100):
            held.set()
            await asyncio.to_thread(release.wait)

    async def waiter() -> None:
        async with budget.reserve(100):
            done.set()

    first = threading.Thread(target=asyncio.run, args=(holder(),))
    first.start()
    assert held.wait(5)
    second = threading.Thread(target=asyncio.run, args=(waiter(),))
    second.start()
    while budget.waiting == 0:
        threading.Event().wait(0.005)
    assert not done.is_set()
    release.set()
    first.join(5)
    second.join(5)
    assert done.is_set()
    assert budget.in_use == 0


# -- the estimate, on images made here ------------------------------------------------


def _blocks(width: int, height: int) -> np.ndarray:
    """A picture of large random blocks: compresses to little, hashes well."""
    cells = np.random.default_rng(5).random((16, 16)) > 0.5
    return cells[
        (np.arange(height) * 16 // height)[:, None], (np.arange(width) * 16 // width)[None, :]
    ]


def _encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def _cost(data: bytes) -> int:
    return image_cost(read_header(data), len(data))


def test_the_estimate_follows_what_decoding_holds() -> None:
    blocks = _blocks(4000, 3000)
    rgb = np.stack([blocks * 200, np.full_like(blocks, 90, dtype=np.uint8), 255 - blocks * 200], 2)
    photo = Image.fromarray(rgb.astype(np.uint8), "RGB")
    one_bit = _cost(_encode(Image.fromarray(blocks), "PNG"))
    rgba = _cost(_encode(photo.convert("RGBA"), "PNG"))
    webp = _cost(_encode(photo, "WEBP", lossless=True))
    baseline = _cost(_encode(photo, "JPEG", quality=80))
    progressive = _cost(_encode(photo, "JPEG", quality=80, progressive=True))

    # 12 MP: Pillow keeps a byte per pixel for 1-bit, four for RGBA; libwebp copies.
    assert 12e6 < one_bit < rgba < webp
    assert rgba > 4 * 12e6
    assert webp > 15 * 12e6
    # A baseline JPEG is decoded at 1/4 scale; a progressive one also holds its
    # coefficients whole (2 bytes each, 1.5 planes for 4:2:0).
    assert baseline < one_bit
    assert progressive > max(baseline, 2 * 1.5 * 12e6)


def test_a_thin_image_costs_by_its_canonical_size() -> None:
    # 900 px wide: never reduced, so its 9 MP are all hashed, in every form.
    thin = _encode(Image.fromarray(_blocks(900, 10_000)), "PNG")
    header = read_header(thin)
    assert header.canonical_pixels == 9_000_000
    assert _cost(thin) > 40 * 9_000_000
