"""The survivor's pages: served from the package, nothing external, strict browser headers."""

from fastapi.testclient import TestClient

from service.api.routes.pages import STATIC
from tests.service.conftest import random_pdq


def test_pages_and_their_files_are_served_with_a_same_origin_policy(client: TestClient) -> None:
    for path, text in (("/", "never leave this device"), ("/case", "Withdraw")):
        page = client.get(path)
        assert page.status_code == 200
        assert text in page.text
        csp = page.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp
        assert "script-src 'self'" in csp
        assert "connect-src 'self'" in csp
        assert "media-src blob:" in csp  # videos play from the survivor's own files only
        assert page.headers["Referrer-Policy"] == "no-referrer"
    for asset in ("js/pdq.js", "js/hash-worker.js", "js/create.js", "css/site.css"):
        r = client.get(f"/static/{asset}")
        assert r.status_code == 200, asset
        assert "Content-Security-Policy" in r.headers
    assert client.get("/static/js/create.js").headers["content-type"].startswith("text/javascript")


def test_nothing_shipped_to_browsers_points_elsewhere() -> None:
    shipped = [p for p in STATIC.rglob("*") if p.suffix in {".html", ".js", ".css"}]
    assert len(shipped) >= 8
    for path in shipped:
        text = path.read_text(encoding="utf-8")
        assert "http://" not in text, path
        assert "https://" not in text, path
        assert "style=" not in text, path  # inline styles would need a weaker policy


def test_case_pages_and_case_answers_are_never_cached(client: TestClient) -> None:
    assert client.get("/case").headers["Cache-Control"] == "no-store"
    created = client.post(
        "/v1/cases", json={"hashes": [{"algorithm": "pdq", "hash": random_pdq(1)}]}
    )
    assert created.headers["Cache-Control"] == "no-store"
    case_id, key = created.json()["case_id"], created.json()["case_key"]
    status = client.get(f"/v1/cases/{case_id}", headers={"X-Case-Key": key})
    assert status.headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/static/css/site.css").headers.get("Cache-Control", "")
