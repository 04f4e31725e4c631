"""The delta feed, disputes and the StopNCII-shaped routes, through the in-process API."""

import time
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.admin import app as admin_app
from service.deps import Services
from service.settings import Settings
from tests.service.conftest import issue_key, random_pdq


def _case(client: TestClient, *values: str) -> tuple[str, str]:
    r = client.post("/v1/cases", json={"hashes": [{"algorithm": "pdq", "hash": v} for v in values]})
    assert r.status_code == 201, r.text
    return r.json()["case_id"], r.json()["case_key"]


def _match(client: TestClient, key: str, value: str) -> list[dict[str, Any]]:
    r = client.post(
        "/v1/match",
        json={"items": [{"algorithm": "pdq", "hash": value}]},
        headers={"X-API-Key": key},
    )
    assert r.status_code == 200, r.text
    matches: list[dict[str, Any]] = r.json()["results"][0]["matches"]
    return matches


def _report(client: TestClient, key: str, match_id: str, outcome: str) -> None:
    r = client.post(
        "/v1/feedback", json={"match_id": match_id, "outcome": outcome}, headers={"X-API-Key": key}
    )
    assert r.status_code == 200, r.text


def _feed(client: TestClient, key: str, cursor: str = "0", limit: int = 500) -> dict[str, Any]:
    r = client.get(
        "/v1/hashes/changes", params={"cursor": cursor, "limit": limit}, headers={"X-API-Key": key}
    )
    assert r.status_code == 200, r.text
    page: dict[str, Any] = r.json()
    return page


def test_feed_pages_every_change_in_order_and_resumes(client: TestClient, api_key: str) -> None:
    a, b, c = random_pdq(1), random_pdq(2), random_pdq(3)
    case_id, case_key = _case(client, a, b)
    _case(client, c)
    seen: list[tuple[str, str, str]] = []
    cursor = "0"
    while True:
        page = _feed(client, api_key, cursor, limit=2)
        seen += [(ch["hash"], ch["action"], ch["state"]) for ch in page["changes"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == [(a, "add", "active"), (b, "add", "active"), (c, "add", "active")]
    assert _feed(client, api_key, cursor)["changes"] == []

    r = client.delete(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key})
    assert r.status_code == 200, r.text
    later = _feed(client, api_key, cursor)
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


def test_dispute_suspends_a_hash_until_an_operator_decides(
    client: TestClient, services: Services, settings: Settings, monkeypatch: Any
) -> None:
    value = random_pdq(10)
    case_id, case_key = _case(client, value)
    keys = [issue_key(services, f"Platform {n}") for n in "ABC"]

    # One platform's "not violating" is not enough (default: 2 platforms).
    first = _match(client, keys[0], value)
    _report(client, keys[0], first[0]["match_id"], "not_violating")
    second = _match(client, keys[1], value)
    assert second, "still matching after one report"
    _report(client, keys[1], second[0]["match_id"], "not_violating")

    # Two platforms: suspended at once, for every platform.
    assert _match(client, keys[2], value) == []
    status = client.get(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key}).json()
    assert status["hashes"][0]["state"] == "disputed"
    last = _feed(client, keys[0])["changes"][-1]
    assert (last["hash"], last["action"], last["state"]) == (value, "remove", "disputed")
    fetched = client.get("/stopncii/v1/FetchHashes", headers=_stopncii(keys[0])).json()
    assert [(r["hashValue"], r["hashStatus"]) for r in fetched["hashRecords"]] == [
        (value, "Deleted")
    ]
    assert {
        (f["source"], f["feedbackValue"]) for f in fetched["hashRecords"][0]["CSPFeedbacks"]
    } == {
        ("Platform A", "NotBlocked"),
        ("Platform B", "NotBlocked"),
    }

    monkeypatch.setenv("HASHBANK_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()
    listed = runner.invoke(admin_app, ["dispute", "list"])
    assert listed.exit_code == 0, listed.output
    assert "Platform A" in listed.output
    assert "Platform B" in listed.output
    assert value not in listed.output  # only a prefix unless --show-hash
    signal_id = next(
        line.split("│")[1].strip() for line in listed.output.splitlines() if "pdq" in line
    )

    reinstated = runner.invoke(admin_app, ["dispute", "reinstate", signal_id])
    assert reinstated.exit_code == 0, reinstated.output
    # Written by another process (the admin tool): the index follows within the poll interval.
    deadline = time.monotonic() + 1
    while not (third := _match(client, keys[2], value)):
        assert time.monotonic() < deadline, "never matched again after reinstatement"
        time.sleep(0.02)
    # Reports made before the reinstatement no longer count: one new one is not enough.
    _report(client, keys[2], third[0]["match_id"], "not_violating")
    assert _match(client, keys[0], value)

    # A second platform again: disputed again; this time retired for good.
    again = _match(client, keys[1], value)
    _report(client, keys[1], again[0]["match_id"], "not_violating")
    assert _match(client, keys[0], value) == []
    retired = runner.invoke(admin_app, ["dispute", "retire", signal_id])
    assert retired.exit_code == 0, retired.output
    _case(client, value)  # resubmitting does not bring a retired hash back
    assert _match(client, keys[0], value) == []
    assert runner.invoke(admin_app, ["dispute", "retire", signal_id]).exit_code == 1

    audit = runner.invoke(admin_app, ["audit", "-n", "100"])
    for action in ("signal.dispute", "signal.reinstate", "signal.retire"):
        assert action in audit.output
    assert value not in audit.output


def test_a_removal_report_prevents_a_dispute(client: TestClient, services: Services) -> None:
    value = random_pdq(11)
    _case(client, value)
    keys = [issue_key(services, f"Platform {n}") for n in "ABC"]
    removed = _match(client, keys[0], value)
    _report(client, keys[0], removed[0]["match_id"], "removed")
    for key in keys[1:]:
        found = _match(client, key, value)
        _report(client, key, found[0]["match_id"], "not_violating")
    assert _match(client, keys[0], value), "one platform removed it: still matching"


def _stopncii(key: str) -> dict[str, str]:
    return {"Ocp-Apim-Subscription-Key": key, "x-functions-key": key}


def test_stopncii_feedback_by_hash_reaches_the_survivor(
    client: TestClient, services: Services
) -> None:
    value, unknown = random_pdq(20), random_pdq(21)
    case_id, case_key = _case(client, value)
    key = issue_key(services, "Feed Platform", ("sync", "feedback"))
    body = {
        "count": 3,
        "hashFeedbacks": [
            {"hashValue": value, "feedbackValue": "Blocked", "tags": ["ncii"]},
            {"hashValue": unknown, "feedbackValue": "Blocked"},
            {"hashValue": value, "feedbackValue": "None", "tags": []},
        ],
    }
    r = client.post("/stopncii/v1/SubmitFeedback", json=body, headers=_stopncii(key))
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
        r = client.post("/stopncii/v1/SubmitFeedback", json=bad, headers=_stopncii(both))
        assert r.status_code == 422, bad
        assert set(r.json()["error"]) == {"code", "message", "details"}
    for params in ({"pageSize": 0}, {"nextPageToken": "x"}, {"startTimestamp": -1}):
        assert client.get(fetch, params=params, headers=_stopncii(both)).status_code == 422


def _case_of_images(client: TestClient, *images: list[str]) -> tuple[str, str]:
    hashes = [
        {"algorithm": "pdq", "hash": v, "image": i}
        for i, values in enumerate(images)
        for v in values
    ]
    r = client.post("/v1/cases", json={"hashes": hashes})
    assert r.status_code == 201, r.text
    return r.json()["case_id"], r.json()["case_key"]


def test_a_dispute_suspends_every_hash_of_the_picture(
    client: TestClient, services: Services
) -> None:
    """The policy sends several hashes per image: a dispute is about the picture."""
    from service.repository.disputes import DisputeRepository

    a, b, c, d = ([random_pdq(100 + 10 * g + i) for i in range(3)] for g in range(4))
    case_id, case_key = _case_of_images(client, a, b)
    # Added later: the request's image 0 is the case's image 2.
    added = client.post(
        f"/v1/cases/{case_id}/hashes",
        json={"hashes": [{"algorithm": "pdq", "hash": v, "image": 0} for v in c]},
        headers={"X-Case-Key": case_key},
    )
    assert added.status_code == 200, added.text
    # Another survivor holds the same picture (one hash in common) with other forms.
    _case_of_images(client, [a[1], *d])
    keys = [issue_key(services, f"Platform {n}") for n in "ABC"]
    for key in keys[:2]:
        _report(client, key, _match(client, key, a[0])[0]["match_id"], "not_violating")

    picture = [*a, *d]
    assert all(_match(client, keys[2], v) == [] for v in picture)
    assert all(_match(client, keys[2], v) for v in [*b, *c]), "other pictures still match"
    states = {
        h["hash"]: h["state"]
        for h in client.get(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key}).json()[
            "hashes"
        ]
    }
    assert states == {**dict.fromkeys(a, "disputed"), **dict.fromkeys([*b, *c], "active")}
    removed = {ch["hash"] for ch in _feed(client, keys[0])["changes"] if ch["state"] == "disputed"}
    assert removed == set(picture)

    disputes = DisputeRepository(services.db)
    assert {x.hash for x in disputes.list()} == set(picture)
    by_hash = {x.hash: x.signal_id for x in disputes.list()}
    assert disputes.reinstate(by_hash[a[2]]) == "active"  # any one brings back the picture
    assert disputes.list() == []
    # Written outside the request path: the index follows within the poll interval.
    deadline = time.monotonic() + 2
    while not all(_match(client, keys[2], v) for v in picture):
        assert time.monotonic() < deadline, "not all matching again after reinstatement"
        time.sleep(0.02)

    # Disputed again, through another of its hashes, and retired for good.
    for key in keys[:2]:
        _report(client, key, _match(client, key, d[0])[0]["match_id"], "not_violating")
    assert {x.hash for x in disputes.list()} == set(picture)
    disputes.retire(by_hash[d[1]])
    assert disputes.list() == []
    _case_of_images(client, a)  # resubmitting does not bring it back
    assert all(_match(client, keys[2], v) == [] for v in picture)
    assert all(_match(client, keys[2], v) for v in [*b, *c])


def test_image_numbers_are_checked(client: TestClient) -> None:
    for image in (-1, 10_000, "first"):
        r = client.post(
            "/v1/cases",
            json={"hashes": [{"algorithm": "pdq", "hash": random_pdq(7), "image": image}]},
        )
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"] == "invalid_request"
