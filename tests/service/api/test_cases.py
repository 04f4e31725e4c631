"""Survivor API: create, status, add, withdraw; validation; keys (limits: test_case_access)."""

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.api.deps import Services
from service.store.models import AuditEvent, Case, CaseSignal, Signal
from tests.service.conftest import random_pdq


def create(client: TestClient, *hashes: str) -> dict[str, object]:
    response = client.post(
        "/v1/cases", json={"hashes": [{"algorithm": "pdq", "hash": h} for h in hashes]}
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def count(services: Services, model: type) -> int:
    with services.db.transaction(read_only=True) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_create_case_returns_id_and_key_once(client: TestClient, services: Services) -> None:
    h1, h2 = random_pdq(1), random_pdq(2)
    body = create(client, h1, h2, h1.upper())  # a duplicate, folded
    case_id, key = str(body["case_id"]), str(body["case_key"])
    assert case_id.startswith("c_")
    assert key.startswith("hbc_")
    assert len(key) >= 40
    status = body["status"]
    assert isinstance(status, dict)
    assert sorted(h["hash"] for h in status["hashes"]) == sorted([h1, h2])
    assert all(h["state"] == "active" for h in status["hashes"])
    # The key is stored only as a hash and never shown again.
    with services.db.transaction(read_only=True) as session:
        stored = session.scalar(select(Case).where(Case.public_id == case_id))
        assert stored is not None
        assert key not in stored.key_hash
    again = client.get(f"/v1/cases/{case_id}", headers={"X-Case-Key": key})
    assert again.status_code == 200
    assert "case_key" not in again.json()


def test_status_needs_the_right_key(client: TestClient) -> None:
    body = create(client, random_pdq(3))
    case_id = body["case_id"]
    assert client.get(f"/v1/cases/{case_id}").status_code == 422
    wrong = client.get(f"/v1/cases/{case_id}", headers={"X-Case-Key": "hbc_wrong"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "unauthorized"
    unknown = client.get("/v1/cases/c_doesnotexist", headers={"X-Case-Key": str(body["case_key"])})
    assert unknown.status_code == 401  # unknown ids and wrong keys look the same


def test_add_hashes_and_withdraw(client: TestClient, services: Services) -> None:
    body = create(client, random_pdq(5))
    case_id, headers = body["case_id"], {"X-Case-Key": str(body["case_key"])}
    added = client.post(
        f"/v1/cases/{case_id}/hashes",
        headers=headers,
        json={
            "hashes": [
                {"algorithm": "pdq", "hash": random_pdq(6)},
                {"algorithm": "phash", "hash": "aca29c1c33dc23d7"},
            ]
        },
    )
    assert added.status_code == 200
    assert len(added.json()["hashes"]) == 3
    withdrawn = client.delete(f"/v1/cases/{case_id}", headers=headers)
    assert withdrawn.status_code == 200
    result = withdrawn.json()
    assert result["state"] == "withdrawn"
    assert result["withdrawn_at"]
    assert {h["state"] for h in result["hashes"]} == {"withdrawn"}
    late = client.post(
        f"/v1/cases/{case_id}/hashes",
        headers=headers,
        json={"hashes": [{"algorithm": "pdq", "hash": random_pdq(7)}]},
    )
    assert late.status_code == 409
    with services.db.transaction(read_only=True) as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["case.create", "case.add_hashes", "case.withdraw"]


def test_shared_hash_stays_active_while_another_case_holds_it(client: TestClient) -> None:
    shared = random_pdq(8)
    first, second = create(client, shared), create(client, shared)
    h1 = {"X-Case-Key": str(first["case_key"])}
    client.delete(f"/v1/cases/{first['case_id']}", headers=h1)
    h2 = {"X-Case-Key": str(second["case_key"])}
    still = client.get(f"/v1/cases/{second['case_id']}", headers=h2).json()
    assert still["hashes"][0]["state"] == "active"


def test_bad_hashes_are_refused_and_nothing_is_written(
    client: TestClient, services: Services
) -> None:
    cases: list[tuple[list[dict[str, object]], int, str]] = [
        ([{"algorithm": "pdq", "hash": "abc"}], 422, "invalid_hash"),
        ([{"algorithm": "pdq", "hash": "z" * 64}], 422, "invalid_hash"),
        ([{"algorithm": "sha1", "hash": "a" * 40}], 422, "invalid_hash"),
        ([{"algorithm": "pdq", "hash": random_pdq(9), "quality": 10}], 422, "invalid_hash"),
        (
            [{"algorithm": "pdq", "hash": random_pdq(10)}, {"algorithm": "pdq", "hash": "12"}],
            422,
            "invalid_hash",
        ),
        ([{"algorithm": "pdq", "hash": random_pdq(i)} for i in range(101)], 413, "too_many_hashes"),
        ([], 422, "invalid_request"),
        ([{"algorithm": "pdq", "hash": random_pdq(11), "extra": 1}], 422, "invalid_request"),
    ]
    for hashes, status, code in cases:
        response = client.post("/v1/cases", json={"hashes": hashes})
        assert response.status_code == status, (hashes[:1], response.text)
        error = response.json()["error"]
        assert error["code"] == code
        assert error["message"]
    bad = client.post(
        "/v1/cases",
        json={
            "hashes": [
                {"algorithm": "pdq", "hash": random_pdq(12)},
                {"algorithm": "pdq", "hash": "12"},
            ]
        },
    )
    assert bad.json()["error"]["details"] == [
        {"location": "hashes.1", "reason": "pdq hash must be 64 hex digits (256 bits), got 2"}
    ]
    assert count(services, Case) == 0
    assert count(services, Signal) == 0
    assert count(services, CaseSignal) == 0


def test_malformed_json_gets_the_error_shape(client: TestClient) -> None:
    response = client.post(
        "/v1/cases", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "malformed_json"
    huge = client.post(
        "/v1/cases", content=b"x" * (3 * 1024 * 1024), headers={"Content-Type": "application/json"}
    )
    assert huge.status_code == 413
    assert huge.json()["error"]["code"] == "too_large"
    missing = client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_api_docs_list_every_route(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert {
        "/v1/cases",
        "/v1/match",
        "/v1/match/image",
        "/v1/feedback",
        "/v1/hashes/changes",
        "/stopncii/v1/FetchHashes",
        "/stopncii/v1/SubmitFeedback",
    } <= set(spec["paths"])
