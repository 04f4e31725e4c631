"""What one match request may cost: hashes searched per /v1/match, and the memory an
uploaded image may take to decode (413 over the per-image budget, 503 with Retry-After
while the worker's pool stays full)."""

import io
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hashing import Hash, load_image
from hashing.loading import read_header
from hashing.platform_client import MatchQuery, PlatformClient
from service.api.deps import Services
from service.app import create_app
from service.match.decode_budget import DecodeBudget, image_cost
from service.match.matcher import Matcher
from tests.service.calls import Via
from tests.service.conftest import BRIDGE, issue_key, make_settings, random_pdq, wait_ready


def _item(n: int, variants: int = 63) -> dict[str, object]:
    return {
        "algorithm": "pdq",
        "hash": random_pdq(n * 100),
        "variants": [random_pdq(n * 100 + v) for v in range(1, variants + 1)],
    }


# -- hashes searched per /v1/match ------------------------------------------------------


def test_a_match_request_is_limited_by_the_hashes_it_searches(
    client: TestClient, api_key: str, services: Services
) -> None:
    assert services.settings.max_match_hashes == 8192
    at_limit = [_item(i) for i in range(128)]  # 128 images x 64 query hashes = 8,192
    response = client.post("/v1/match", json={"items": at_limit}, headers={"X-API-Key": api_key})
    assert response.status_code == 200, response.text

    over = [*at_limit, _item(128, variants=0)]  # one more hash
    response = client.post("/v1/match", json={"items": over}, headers={"X-API-Key": api_key})
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "too_many_hashes"
    assert "at most 8,192 hashes" in error["message"]
    assert "got 8,193" in error["message"]
    assert error["details"] == []


def test_the_hash_limit_is_a_setting(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path / "data", max_match_hashes=100))
    with TestClient(app) as client:
        wait_ready(client)
        key = issue_key(app.state.services)
        ok = client.post(
            "/v1/match", json={"items": [_item(0, 49), _item(1, 49)]}, headers={"X-API-Key": key}
        )
        assert ok.status_code == 200
        over = client.post(
            "/v1/match", json={"items": [_item(0, 49), _item(1, 50)]}, headers={"X-API-Key": key}
        )
        assert over.status_code == 413
        assert "at most 100 hashes" in over.json()["error"]["message"]


def test_the_platform_client_never_trips_the_hash_limit(client: TestClient, api_key: str) -> None:
    stored = random_pdq(250 * 100 + 63)  # the last variant of image 250
    created = client.post("/v1/cases", json={"hashes": [{"algorithm": "pdq", "hash": stored}]})
    assert created.status_code == 201
    queries = [
        MatchQuery(
            random_pdq(i * 100),
            tuple(random_pdq(i * 100 + v) for v in range(1, 64)),
            ref=f"upload-{i}",
        )
        for i in range(300)  # the same hashes as _item(i)
    ]
    with PlatformClient(str(client.base_url), api_key, transport=Via(client)) as platform:
        results = platform.match_hashes(queries)
    assert [r.index for r in results] == list(range(300))
    assert [r.ref for r in results if r.matched] == ["upload-250"]


# -- decoding an uploaded image within the budget -------------------------------------------


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    load_image(BRIDGE).resize((width, height)).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def photo_png() -> bytes:
    return _png(3000, 1883)  # 5.6 MP, reduced by 2 to 1500 x 942


def _cost(data: bytes) -> int:
    return image_cost(read_header(data), len(data))


@contextmanager
def _budget_client(
    tmp_path: Path, **settings: object
) -> Iterator[tuple[TestClient, str, DecodeBudget]]:
    """A service with these settings: its client, a match key and its decode budget."""
    app = create_app(make_settings(tmp_path / "data", **settings))
    services: Services = app.state.services
    with TestClient(app) as client:
        wait_ready(client)
        yield client, issue_key(services), services.matcher.budget


def _post_image(client: TestClient, key: str, data: bytes) -> Any:
    return client.post(
        "/v1/match/image", content=data, headers={"X-API-Key": key, "Content-Type": "image/png"}
    )


def test_an_image_over_the_per_image_budget_gets_413(tmp_path: Path, photo_png: bytes) -> None:
    cost = _cost(photo_png)
    limit = cost - 1
    settings = {"max_decode_bytes": limit, "decode_pool_bytes": cost}
    with _budget_client(tmp_path, **settings) as (client, key, budget):
        response = _post_image(client, key, photo_png)
        assert response.status_code == 413
        error = response.json()["error"]
        assert error["code"] == "image_too_large"
        assert f"at most {-(-limit // 2**20):,} MB per image" in error["message"]
        assert budget.in_use == 0
        # A smaller picture still fits.
        assert _post_image(client, key, _png(1000, 628)).status_code == 200


class _Gate:
    """Holds `Matcher._query_hashes` (the decode) until opened: a busy pool on demand."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered, self.opened = threading.Event(), threading.Event()
        real = Matcher._query_hashes

        def gated(matcher: Matcher, data: bytes) -> list[Hash]:
            self.entered.set()
            assert self.opened.wait(30)
            return real(matcher, data)

        monkeypatch.setattr(Matcher, "_query_hashes", gated)


def test_a_busy_pool_makes_the_next_upload_wait_then_503_with_retry_after(
    tmp_path: Path, photo_png: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    cost = _cost(photo_png)
    gate = _Gate(monkeypatch)
    settings = {"max_decode_bytes": cost, "decode_pool_bytes": cost, "decode_wait_seconds": 0.3}
    with _budget_client(tmp_path, **settings) as (client, key, budget):
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(_post_image, client, key, photo_png)
            assert gate.entered.wait(10)
            assert budget.in_use == cost  # the first upload holds the whole pool

            second = _post_image(client, key, photo_png)  # waits 0.3 s, then gives up
            assert second.status_code == 503
            assert second.headers["Retry-After"] == "1"
            error = second.json()["error"]
            assert (error["code"], error["details"]) == ("busy", [])
            assert "try again in 1 s" in error["message"]

            gate.opened.set()
            assert first.result(30).status_code == 200
        assert (budget.in_use, budget.waiting) == (0, 0)


def test_a_waiting_upload_goes_ahead_when_room_comes_in_time(
    tmp_path: Path, photo_png: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    cost = _cost(photo_png)
    gate = _Gate(monkeypatch)
    settings = {"max_decode_bytes": cost, "decode_pool_bytes": cost, "decode_wait_seconds": 20}
    with _budget_client(tmp_path, **settings) as (client, key, budget):
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(_post_image, client, key, photo_png)
            assert gate.entered.wait(10)
            second = pool.submit(_post_image, client, key, photo_png)
            while budget.waiting == 0:
                threading.Event().wait(0.01)
            gate.opened.set()
            assert first.result(30).status_code == 200
            assert second.result(30).status_code == 200
        assert budget.in_use == 0


def test_an_image_that_fails_to_decode_gives_its_reservation_back(
    tmp_path: Path, photo_png: bytes
) -> None:
    truncated = photo_png[: len(photo_png) // 2]  # a whole header, half the pixels
    with _budget_client(tmp_path) as (client, key, budget):
        response = _post_image(client, key, truncated)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "unreadable_image"
        assert budget.in_use == 0
