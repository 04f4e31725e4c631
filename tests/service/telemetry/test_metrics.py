"""/metrics: behind a `metrics` key, series by route template, and nothing about anyone."""

import io
import os
import re
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from hashing import Hash, load_image
from service.api.deps import Services
from service.api.request_metrics import route_template
from service.app import create_app
from service.telemetry import metrics_files
from tests.service import calls
from tests.service.conftest import BRIDGE, issue_key, make_settings, random_pdq, wait_ready

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient, key: str) -> str:
    r = client.get("/metrics", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return r.text


def series(text: str) -> Series:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: Series, name: str, **labels: str) -> float:
    return found[(name, frozenset(labels.items()))]


@pytest.fixture
def metrics_key(services: Services) -> str:
    return issue_key(services, "Monitoring", ("metrics",))


def test_metrics_need_a_key_with_the_metrics_scope(
    client: TestClient, api_key: str, metrics_key: str
) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"X-API-Key": "hbk_wrong"}).status_code == 401
    lacking = client.get("/metrics", headers={"X-API-Key": api_key})  # match, feedback, sync
    assert lacking.status_code == 403
    assert lacking.json()["error"]["code"] == "forbidden"
    assert client.get("/metrics", headers={"X-API-Key": metrics_key}).status_code == 200
    scrape(client, metrics_key)  # as Prometheus sends it: a bearer token
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_series_by_route_template_and_no_case_id_key_or_hash_anywhere(
    client: TestClient, services: Services, api_key: str, metrics_key: str, bridge_hash: Hash
) -> None:
    other = random_pdq(7)
    case_id, case_key = calls.case(client, bridge_hash.hex, other)
    status = client.get(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key})
    assert status.status_code == 200
    wrong = client.get(f"/v1/cases/{case_id}", headers={"X-Case-Key": "hbc_wrong"})
    assert wrong.status_code == 401
    assert len(calls.match(client, api_key, bridge_hash.hex)) == 1
    variants = {"algorithm": "pdq", "hash": random_pdq(8), "variants": [random_pdq(9)]}
    r = client.post("/v1/match", json={"items": [variants]}, headers={"X-API-Key": api_key})
    assert r.status_code == 200
    assert client.get(f"/nothing/{case_id}").status_code == 404
    assert client.request("BREW", "/v1/match").status_code == 405
    assert client.get("/static/css/site.css").status_code == 200

    text = scrape(client, metrics_key)
    found = series(text)
    requests = "hashbank_http_requests_total"
    case_route = "/v1/cases/{case_id}"
    assert value(found, requests, route=case_route, method="GET", status="200") == 1
    assert value(found, requests, route=case_route, method="GET", status="401") == 1
    assert value(found, requests, route="/v1/cases", method="POST", status="201") == 1
    assert value(found, requests, route="/v1/match", method="POST", status="200") == 2
    assert value(found, requests, route="/v1/match", method="other", status="405") == 1
    assert value(found, requests, route="unmatched", method="GET", status="404") == 1
    assert value(found, requests, route="/static/{path}", method="GET", status="200") == 1
    latency = "hashbank_http_request_duration_seconds_count"
    assert value(found, latency, route=case_route, method="GET", status="200") == 1
    bucket = ("hashbank_http_request_duration_seconds_bucket", case_route)
    assert any(n == bucket[0] and ("route", bucket[1]) in labels for n, labels in found)
    # Two requests: the hit (1 hash) and a miss with one variant (2 hashes).
    assert value(found, "hashbank_match_hashes_searched_total", source="hashes") == 3
    assert value(found, "hashbank_match_items_total", source="hashes") == 2
    assert value(found, "hashbank_match_items_matched_total", source="hashes") == 1
    assert value(found, "hashbank_match_hits_total", source="hashes") == 1
    assert value(found, "hashbank_match_hits_total", source="image") == 0
    assert value(found, "hashbank_index_hashes", algorithm="pdq") == 2
    assert value(found, "hashbank_ready") == 1
    head = services.follower.log_head()
    assert value(found, "hashbank_change_log_seq") == head
    assert value(found, "hashbank_index_change_seq") == head
    assert value(found, "hashbank_index_changes_behind") == 0
    assert 0 <= value(found, "hashbank_index_sync_lag_seconds") < 5

    # Nothing about anyone: no case id, key, hash value or client address.
    for secret in (case_id, case_key, api_key, metrics_key, bridge_hash.hex, other, "testclient"):
        assert secret not in text
    assert not re.search(r"\bc_[0-9a-f]", text), "a case id"
    assert not re.search(r"hb[ck]_", text), "a key"
    # Hex of 16 digits or more (a phash, dhash or PDQ value, a case id's tail), not a float's
    # digits after its point (1.796219853884143e+09).
    hex_run = r"(?<![\w.])(?=[0-9a-f]*[a-f])[0-9a-f]{16,}\b"
    assert not re.search(hex_run, text, re.IGNORECASE), "a hex value"


def test_image_matches_are_counted(
    client: TestClient, api_key: str, metrics_key: str, bridge_hash: Hash
) -> None:
    image = load_image(BRIDGE)
    calls.case(client, bridge_hash.hex)
    jpeg = io.BytesIO()
    image.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(jpeg, "JPEG", quality=80)
    r = client.post(
        "/v1/match/image",
        headers={"X-API-Key": api_key, "Content-Type": "image/jpeg"},
        content=jpeg.getvalue(),
    )
    assert r.status_code == 200, r.text
    assert len(r.json()["matches"]) == 1
    found = series(scrape(client, metrics_key))
    assert value(found, "hashbank_match_items_total", source="image") == 1
    assert value(found, "hashbank_match_items_matched_total", source="image") == 1
    assert value(found, "hashbank_match_hits_total", source="image") == 1
    assert value(found, "hashbank_match_hashes_searched_total", source="image") > 1


def test_each_app_counts_for_itself(tmp_path: Path, client: TestClient, metrics_key: str) -> None:
    """Own registries: a second app in the same process starts from nothing."""
    client.get("/healthz")
    other = create_app(make_settings(tmp_path / "other"))
    try:
        with TestClient(other) as second:
            wait_ready(second)
            key = issue_key(other.state.services, "Monitoring", ("metrics",))
            found = series(scrape(second, key))
    finally:
        other.state.services.db.dispose()
    healthz = ("hashbank_http_requests_total", "/healthz")
    assert not any(n == healthz[0] and ("route", healthz[1]) in labels for n, labels in found)
    assert value(series(scrape(client, metrics_key)), healthz[0], **_get("/healthz")) == 1


def _get(route: str) -> dict[str, str]:
    return {"route": route, "method": "GET", "status": "200"}


def test_lag_grows_while_a_worker_does_not_catch_up(client: TestClient, metrics_key: str) -> None:
    follower = client.app.state.services.follower  # type: ignore[attr-defined]
    follower.stop()  # the background poller: nothing catches up any more
    time.sleep(0.3)
    lag = value(series(scrape(client, metrics_key)), "hashbank_index_sync_lag_seconds")
    assert lag >= 0.25


def test_route_template_of_unrouted_requests() -> None:
    assert route_template({"type": "http", "path": "/x"}) == "unmatched"
    mounted = {"root_path": "/api/static", "app_root_path": "/api", "endpoint": object()}
    assert route_template(mounted) == "/static/{path}"


def test_shared_mode_only_in_workers_and_stale_files_removed(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", metrics_dir=tmp_path / "m")
    assert metrics_files.shared_dir(settings) is None  # pytest is no uvicorn worker
    forced = make_settings(tmp_path / "data", metrics_dir=tmp_path / "m", metrics_multiprocess=True)
    run_dir = metrics_files.shared_dir(forced)
    assert run_dir == tmp_path / "m" / f"run-{os.getppid()}"
    gone = 2**31 - 1  # beyond any pid_max: no such process
    (tmp_path / "m" / f"run-{gone}").mkdir(parents=True)
    run_dir.mkdir()
    for name in (
        f"gauge_liveall_{gone}.db",
        f"counter_{gone}.db",
        f"gauge_liveall_{os.getpid()}.db",
    ):
        (run_dir / name).write_bytes(b"")
    metrics_files.prepare(run_dir)
    assert sorted(p.name for p in (tmp_path / "m").glob("run-*")) == [run_dir.name]
    assert sorted(p.name for p in run_dir.iterdir()) == [
        f"counter_{gone}.db",  # a dead worker's counts stay in the run's totals
        f"gauge_liveall_{os.getpid()}.db",
    ]
