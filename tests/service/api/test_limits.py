"""GET /v1/limits: the server's own limits per request, the ones its routes enforce."""

from pathlib import Path

from fastapi.testclient import TestClient

from hashing.policy import MAX_QUERY_HASHES
from service.api.body_limits import JSON_BODY_LIMIT
from service.app import create_app
from service.settings import Settings
from tests.service.calls import case, feed, stopncii
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
