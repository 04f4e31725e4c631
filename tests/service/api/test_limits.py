"""GET /v1/limits: the server's own limits per request, the ones its routes enforce."""

import json
from dataclasses import asdict
from pathlib import Path

from fastapi.testclient import TestClient

from hashing.algorithm import Hash
from hashing.client import HashbankClient
from hashing.limits import DEFAULT_LIMITS
from hashing.platform_client import MatchQuery, PlatformClient
from hashing.policy import MAX_QUERY_HASHES
from service.api.body_limits import JSON_BODY_LIMIT
from service.app import create_app
from service.settings import Settings
from tests.service.calls import Via, case, feed, stopncii
from tests.service.conftest import issue_key, make_settings, random_pdq, wait_ready


def expected(settings: Settings) -> dict[str, int]:
    return {
        "case_hashes": settings.max_hashes_per_case,
        "match_items": settings.max_match_batch,
        "match_hashes": settings.max_match_hashes,
        "match_item_hashes": MAX_QUERY_HASHES,
        "feed_page": settings.exchange_page_max,
        "json_body_bytes": JSON_BODY_LIMIT,
        "image_bytes": settings.max_upload_bytes,
        "image_pixels": settings.max_image_pixels,
        "video_frames": settings.max_video_frames,
    }


def test_limits_are_the_settings_and_need_no_credentials(
    client: TestClient, settings: Settings
) -> None:
    response = client.get("/v1/limits")  # no key of any kind
    assert response.status_code == 200, response.text
    assert response.json() == expected(settings)
    assert response.json()["case_hashes"] == 100  # the defaults, for the record
    assert response.json()["match_hashes"] == 8192


def test_limits_follow_changed_settings(tmp_path: Path) -> None:
    changed = {
        "max_hashes_per_case": 7,
        "max_match_batch": 3,
        "max_match_hashes": 50,
        "exchange_page_max": 2,
        "max_upload_bytes": 1024,
        "max_image_pixels": 4096,
        "max_video_frames": 60,
    }
    settings = make_settings(tmp_path / "data", **changed)
    with TestClient(create_app(settings)) as client:
        wait_ready(client)
        limits = client.get("/v1/limits").json()
    assert limits == expected(settings)
    assert {name: limits[name] for name in ("case_hashes", "match_items", "feed_page")} == {
        "case_hashes": 7,
        "match_items": 3,
        "feed_page": 2,
    }


def test_the_route_is_documented(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/v1/limits"]["get"]
    assert "security" not in operation
    schema = document["components"]["schemas"]["LimitsOut"]
    assert set(schema["properties"]) == set(expected(Settings()))


def test_the_feed_serves_pages_of_at_most_the_setting(tmp_path: Path) -> None:
    """What /v1/limits says of the feed holds: a larger `limit` is served at feed_page."""
    app = create_app(make_settings(tmp_path / "data", exchange_page_max=2))
    with TestClient(app) as client:
        wait_ready(client)
        key = issue_key(app.state.services)
        case(client, *(random_pdq(i) for i in range(5)))
        page = feed(client, key, limit=500)
        assert len(page["changes"]) == 2
        assert page["has_more"]
        fetched = client.get(
            "/stopncii/v1/FetchHashes", params={"pageSize": 800}, headers=stopncii(key)
        )
        assert fetched.status_code == 200, fetched.text
        assert (fetched.json()["count"], fetched.json()["hasMoreRecords"]) == (2, True)


def test_the_clients_fall_back_to_the_settings_defaults() -> None:
    """DEFAULT_LIMITS, which a client uses on a server older than /v1/limits, are the
    limits such a server has unless its operator changed them."""
    defaults = {name: field.default for name, field in Settings.model_fields.items()}
    assert asdict(DEFAULT_LIMITS) == expected(Settings.model_construct(**defaults))


# -- the clients split by what the real app says ------------------------------------------------


def _images(count: int, hashes: int) -> list[list[Hash]]:
    return [
        [Hash("pdq", bytes.fromhex(random_pdq(i * 100 + j)), 100) for j in range(hashes)]
        for i in range(count)
    ]


def _submit(client: TestClient, images: list[list[Hash]]) -> tuple[list[tuple[str, str]], int]:
    """Submit like `hashbank submit` through the app; the requests sent, the hashes held."""
    via = Via(client)
    with HashbankClient(str(client.base_url), transport=via) as survivor:
        first, *rest = survivor.case_batches(images)
        created = survivor.create_case(*first)
        for batch in rest:
            survivor.add_hashes(created["case_id"], created["case_key"], *batch)
        status = survivor.case_status(created["case_id"], created["case_key"])
    return via.paths, len(status["hashes"])


def _match(client: TestClient, key: str, queries: list[MatchQuery]) -> list[int]:
    """Match through the app; the items of each /v1/match request."""
    via = Via(client)
    with PlatformClient(str(client.base_url), key, transport=via) as platform:
        results = platform.match_hashes(queries)
    assert [r.index for r in results] == list(range(len(queries)))
    return [len(json.loads(body)["items"]) for body in via.bodies("/v1/match")]


def test_a_smaller_setting_makes_the_clients_split_more(
    client: TestClient, api_key: str, tmp_path: Path
) -> None:
    images = _images(5, 4)  # 20 hashes
    queries = [
        MatchQuery(random_pdq(i), (random_pdq(1000 + i), random_pdq(2000 + i))) for i in range(7)
    ]
    paths, held = _submit(client, images)
    assert paths[:2] == [("GET", "/v1/limits"), ("POST", "/v1/cases")]  # then the status
    assert len(paths) == 3
    assert held == 20
    assert _match(client, api_key, queries) == [7]

    changed = {"max_hashes_per_case": 10, "max_match_batch": 3, "max_match_hashes": 7}
    app = create_app(make_settings(tmp_path / "changed", **changed))
    with TestClient(app) as small:
        wait_ready(small)
        paths, held = _submit(small, images)
        posts = [path for method, path in paths if method == "POST"]
        assert len(posts) == 3  # 2 images of 4 hashes per request, whole images only
        assert posts[0] == "/v1/cases"
        assert held == 20
        key = issue_key(app.state.services)
        assert _match(small, key, queries) == [2, 2, 2, 1]  # 3 hashes an item, 7 a request
