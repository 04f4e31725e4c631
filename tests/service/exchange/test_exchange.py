"""The delta feed, disputes and the StopNCII-shaped routes, through the in-process API."""

from fastapi.testclient import TestClient

from service.api.deps import Services
from tests.service.calls import case, feed, stopncii
from tests.service.conftest import issue_key, random_pdq


def test_feed_pages_every_change_in_order_and_resumes(client: TestClient, api_key: str) -> None:
    a, b, c = random_pdq(1), random_pdq(2), random_pdq(3)
    case_id, case_key = case(client, a, b)
    case(client, c)
    seen: list[tuple[str, str, str]] = []
    cursor = "0"
    while True:
        page = feed(client, api_key, cursor, limit=2)
        seen += [(ch["hash"], ch["action"], ch["state"]) for ch in page["changes"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == [(a, "add", "active"), (b, "add", "active"), (c, "add", "active")]
    assert feed(client, api_key, cursor)["changes"] == []

    r = client.delete(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key})
    assert r.status_code == 200, r.text
    later = feed(client, api_key, cursor)
    assert {(ch["hash"], ch["action"], ch["state"]) for ch in later["changes"]} == {
        (a, "remove", "withdrawn"),
        (b, "remove", "withdrawn"),
    }
    assert not later["has_more"]
    assert int(later["next_cursor"]) > int(cursor)


def test_feed_refuses_bad_credentials_and_cursors(
    client: TestClient, services: Services, api_key: str
) -> None:
    assert client.get("/v1/hashes/changes").status_code == 401
    wrong = client.get("/v1/hashes/changes", headers={"X-API-Key": "hb_wrong"})
    assert wrong.status_code == 401
    match_only = issue_key(services, "Matcher Only", ("match",))
    r = client.get("/v1/hashes/changes", headers={"X-API-Key": match_only})
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
    for params in ({"cursor": "-1"}, {"cursor": "abc"}, {"limit": 0}, {"limit": 1001}):
        r = client.get("/v1/hashes/changes", params=params, headers={"X-API-Key": api_key})
        assert r.status_code == 422, params
        assert set(r.json()["error"]) == {"code", "message", "details"}


def test_stopncii_feedback_by_hash_reaches_the_survivor(
    client: TestClient, services: Services
) -> None:
    value, unknown = random_pdq(20), random_pdq(21)
    case_id, case_key = case(client, value)
    key = issue_key(services, "Feed Platform", ("sync", "feedback"))
    body = {
        "count": 3,
        "hashFeedbacks": [
            {"hashValue": value, "feedbackValue": "Blocked", "tags": ["ncii"]},
            {"hashValue": unknown, "feedbackValue": "Blocked"},
            {"hashValue": value, "feedbackValue": "None", "tags": []},
        ],
    }
    r = client.post("/stopncii/v1/SubmitFeedback", json=body, headers=stopncii(key))
    assert r.status_code == 200, r.text
    assert r.json() == {"count": 1, "unknownHashes": 1, "ignored": 1}
    status = client.get(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key}).json()
    assert [(o["platform"], o["outcome"]) for o in status["outcomes"]] == [
        ("Feed Platform", "removed")
    ]
    assert status["outcomes"][0]["reported_at"] is not None


def test_stopncii_routes_refuse_bad_input_and_keys(client: TestClient, services: Services) -> None:
    both = issue_key(services, "P1", ("sync", "feedback"))
    sync_only = issue_key(services, "P1", ("sync",))
    other = issue_key(services, "P2", ("sync", "feedback"))
    fetch = "/stopncii/v1/FetchHashes"
    assert client.get(fetch).status_code == 401
    assert client.get(fetch, headers={"x-functions-key": both}).status_code == 401
    mixed = {"Ocp-Apim-Subscription-Key": other, "x-functions-key": both}
    assert client.get(fetch, headers=mixed).status_code == 403
    split = {"Ocp-Apim-Subscription-Key": both, "x-functions-key": sync_only}
    assert client.get(fetch, headers=split).status_code == 200
    feedback = {
        "count": 1,
        "hashFeedbacks": [{"hashValue": random_pdq(1), "feedbackValue": "Blocked"}],
    }
    r = client.post("/stopncii/v1/SubmitFeedback", json=feedback, headers=split)
    assert r.status_code == 403  # the function key lacks the feedback scope
    for bad in (
        {"count": 2, "hashFeedbacks": feedback["hashFeedbacks"]},
        {"count": 1, "hashFeedbacks": [{"hashValue": "abc", "feedbackValue": "Blocked"}]},
        {"count": 1, "hashFeedbacks": [{"hashValue": random_pdq(1), "feedbackValue": "Nope"}]},
    ):
        r = client.post("/stopncii/v1/SubmitFeedback", json=bad, headers=stopncii(both))
        assert r.status_code == 422, bad
        assert set(r.json()["error"]) == {"code", "message", "details"}
    for params in ({"pageSize": 0}, {"nextPageToken": "x"}, {"startTimestamp": -1}):
        assert client.get(fetch, params=params, headers=stopncii(both)).status_code == 422


def test_image_numbers_are_checked(client: TestClient) -> None:
    for image in (-1, 10_000, "first"):
        r = client.post(
            "/v1/cases",
            json={"hashes": [{"algorithm": "pdq", "hash": random_pdq(7), "image": image}]},
        )
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"] == "invalid_request"
