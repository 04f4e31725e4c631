"""Platform API: keys and scopes, batch matching, image matching, feedback."""

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from hashing import PDQ_ALGORITHM, Hash, load_image
from hashing.policy import submission_hashes
from service.api.deps import Services
from tests.service.conftest import BRIDGE, flip_bits, issue_key, random_pdq


def submit(client: TestClient, *hashes: str) -> tuple[str, dict[str, str]]:
    body = client.post(
        "/v1/cases", json={"hashes": [{"algorithm": "pdq", "hash": h} for h in hashes]}
    ).json()
    return body["case_id"], {"X-Case-Key": body["case_key"]}


def match(client: TestClient, key: str, *items: dict[str, object]) -> list[dict[str, object]]:
    response = client.post("/v1/match", json={"items": list(items)}, headers={"X-API-Key": key})
    assert response.status_code == 200, response.text
    results: list[dict[str, object]] = response.json()["results"]
    return results


def test_batch_match_finds_near_copies_within_threshold(client: TestClient, api_key: str) -> None:
    stored = random_pdq(1)
    submit(client, stored)
    results = match(
        client,
        api_key,
        {"algorithm": "pdq", "hash": flip_bits(stored, 31), "ref": "edge"},
        {"algorithm": "pdq", "hash": flip_bits(stored, 32), "ref": "beyond"},
        {"algorithm": "pdq", "hash": random_pdq(2)},
    )
    assert [r["ref"] for r in results] == ["edge", "beyond", None]
    edge = results[0]["matches"]
    assert isinstance(edge, list)
    assert len(edge) == 1
    assert edge[0]["distance"] == 31
    assert edge[0]["algorithm"] == "pdq"
    assert edge[0]["match_id"].startswith("m_")
    assert results[1]["matches"] == []
    assert results[2]["matches"] == []


def test_dihedral_variants_match_a_rotated_upload(client: TestClient, api_key: str) -> None:
    image = load_image(BRIDGE)
    submit(client, PDQ_ALGORITHM.compute(image).hex)
    rotated = PDQ_ALGORITHM.compute_dihedral(image.transpose(Image.Transpose.ROTATE_90))
    plain = match(client, api_key, {"algorithm": "pdq", "hash": rotated[0].hex})
    assert plain[0]["matches"] == []
    with_variants = match(
        client,
        api_key,
        {"algorithm": "pdq", "hash": rotated[0].hex, "variants": [v.hex for v in rotated[1:]]},
    )
    found = with_variants[0]["matches"]
    assert isinstance(found, list)
    assert len(found) == 1
    assert found[0]["distance"] <= 10


def test_batch_limit_and_bad_items(client: TestClient, api_key: str) -> None:
    headers = {"X-API-Key": api_key}
    too_many = [{"algorithm": "pdq", "hash": random_pdq(i)} for i in range(1001)]
    response = client.post("/v1/match", json={"items": too_many}, headers=headers)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "batch_too_large"
    bad = client.post(
        "/v1/match",
        headers=headers,
        json={
            "items": [
                {"algorithm": "pdq", "hash": random_pdq(1)},
                {"algorithm": "pdq", "hash": "ff"},
                {"algorithm": "nope", "hash": "ff"},
            ]
        },
    )
    assert bad.status_code == 422
    assert [d["location"] for d in bad.json()["error"]["details"]] == ["items.1", "items.2"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/match", {"items": [{"algorithm": "pdq", "hash": "0" * 64}]}),
        ("/v1/feedback", {"match_id": "m_x", "outcome": "removed"}),
    ],
)
def test_keys_are_checked(
    client: TestClient, services: Services, path: str, body: dict[str, object]
) -> None:
    assert client.post(path, json=body).status_code == 401
    assert client.post(path, json=body, headers={"X-API-Key": "hbk_wrong"}).status_code == 401
    scope = "match" if path == "/v1/match" else "feedback"
    other_scope = issue_key(services, "Scoped", ("sync",))
    refused = client.post(path, json=body, headers={"X-API-Key": other_scope})
    assert refused.status_code == 403
    assert scope in refused.json()["error"]["message"]
    revocable = services.platforms.issue_key("Scoped", [scope])
    services.platforms.revoke_key(revocable.key_id)
    revoked = client.post(path, json=body, headers={"X-API-Key": revocable.key})
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["error"]["message"]
    live = issue_key(services, "Scoped", (scope,))
    services.platforms.set_state("Scoped", "disabled")
    assert client.post(path, json=body, headers={"X-API-Key": live}).status_code == 403
    bearer = client.post(path, json=body, headers={"Authorization": f"Bearer {live}"})
    assert bearer.status_code == 403  # the Bearer form is read too


def test_feedback_shows_in_case_status(
    client: TestClient, api_key: str, services: Services
) -> None:
    stored = random_pdq(3)
    case_id, case_headers = submit(client, stored)
    found = match(client, api_key, {"algorithm": "pdq", "hash": stored})[0]["matches"]
    assert isinstance(found, list)
    match_id = found[0]["match_id"]
    headers = {"X-API-Key": api_key}
    ok = client.post(
        "/v1/feedback", json={"match_id": match_id, "outcome": "removed"}, headers=headers
    )
    assert ok.status_code == 200
    assert ok.json()["outcome"] == "removed"
    status = client.get(f"/v1/cases/{case_id}", headers=case_headers).json()
    assert status["match_count"] == 1
    assert status["outcome_counts"] == {"removed": 1}
    outcome = status["outcomes"][0]
    assert outcome["platform"] == "Platform A"
    assert outcome["reported_at"].endswith(("Z", "+00:00"))
    other = issue_key(services, "Platform B")
    stolen = client.post(
        "/v1/feedback",
        json={"match_id": match_id, "outcome": "not_violating"},
        headers={"X-API-Key": other},
    )
    assert stolen.status_code == 404
    bad = client.post(
        "/v1/feedback", json={"match_id": match_id, "outcome": "deleted"}, headers=headers
    )
    assert bad.status_code == 422


def _jpeg(image: Image.Image, quality: int = 70) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def test_image_upload_matches_a_flipped_resized_copy(
    client: TestClient, api_key: str, bridge_hash: Hash
) -> None:
    submit(client, bridge_hash.hex)
    copy = load_image(BRIDGE).transpose(Image.Transpose.FLIP_LEFT_RIGHT).resize((800, 502))
    headers = {"X-API-Key": api_key}
    multipart = client.post(
        "/v1/match/image", headers=headers, files={"image": ("copy.jpg", _jpeg(copy), "image/jpeg")}
    )
    assert multipart.status_code == 200, multipart.text
    body = multipart.json()
    assert len(body["matches"]) == 1
    assert body["quality"] >= 50
    raw = client.post(
        "/v1/match/image", headers={**headers, "Content-Type": "image/jpeg"}, content=_jpeg(copy)
    )
    assert raw.status_code == 200
    assert len(raw.json()["matches"]) == 1


def test_image_upload_uses_the_policys_forms(client: TestClient, api_key: str) -> None:
    """The service's default policy: a hue-shifted and a captioned copy of a survivor's
    photo match through the forms she submitted (hashing.policy, step 2)."""
    from tests.hashing.test_policy import BSDS, EDITS

    headers = {"X-API-Key": api_key, "Content-Type": "image/jpeg"}
    for edit, photo_name in [("hue +40°", "12084"), ("caption", "253055")]:
        photo = load_image(BSDS / f"{photo_name}.jpg")
        case_id, case_headers = submit(client, *(h.hex for h in submission_hashes(photo)))
        change, _ = EDITS[edit]
        response = client.post("/v1/match/image", headers=headers, content=_jpeg(change(photo)))
        assert response.status_code == 200, response.text
        assert len(response.json()["matches"]) == 1, edit
        status = client.get(f"/v1/cases/{case_id}", headers=case_headers).json()
        assert status["match_count"] == 1, edit  # her case, not the other photo's


def test_bad_images_get_4xx(client: TestClient, api_key: str, services: Services) -> None:
    headers = {"X-API-Key": api_key}
    jpeg = _jpeg(load_image(BRIDGE))

    def post(data: bytes, content_type: str = "image/jpeg") -> tuple[int, str]:
        r = client.post(
            "/v1/match/image", headers={**headers, "Content-Type": content_type}, content=data
        )
        return r.status_code, r.json()["error"]["code"]

    assert post(jpeg[: len(jpeg) // 2]) == (422, "unreadable_image")
    assert post(b"hello, not an image") == (422, "unreadable_image")
    assert post(b"") == (422, "unreadable_image")
    assert post(_jpeg(Image.new("RGB", (300, 300), "gray"))) == (422, "low_quality_image")
    assert post(b"x" * (services.settings.max_upload_bytes + 1)) == (413, "image_too_large")
    assert post(jpeg, "text/plain") == (415, "unsupported_media_type")
    from tests.hashing.test_loading import png_bomb

    assert post(png_bomb(12_000), "image/png") == (413, "image_too_large")
    no_file = client.post(
        "/v1/match/image",
        headers=headers,
        data={"note": "x"},
        files={"other": ("", b"", "text/plain")},
    )
    assert no_file.status_code == 422
