"""Live index sync: two apps on one database, snapshots, replay after restart."""

import time
from pathlib import Path

from fastapi.testclient import TestClient

from service.api.deps import Services
from service.app import create_app
from tests.service.conftest import issue_key, make_settings, random_pdq, wait_ready


def _match_count(client: TestClient, key: str, hex_value: str) -> int:
    r = client.post(
        "/v1/match",
        headers={"X-API-Key": key},
        json={"items": [{"algorithm": "pdq", "hash": hex_value}]},
    )
    assert r.status_code == 200, r.text
    return len(r.json()["results"][0]["matches"])


def test_two_workers_follow_each_others_writes(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    app_a, app_b = create_app(settings), create_app(settings)
    with TestClient(app_a) as a, TestClient(app_b) as b:
        wait_ready(a)
        wait_ready(b)
        key = issue_key(app_a.state.services)
        value = random_pdq(1)
        created = a.post("/v1/cases", json={"hashes": [{"algorithm": "pdq", "hash": value}]}).json()
        follower_b = app_b.state.services.follower
        deadline = time.monotonic() + 1.0
        while _match_count(b, key, value) == 0:
            assert time.monotonic() < deadline, "worker B did not see the new case within 1 s"
            time.sleep(0.02)
        # Withdraw through B: A must stop matching within 1 s (in fact at once: the
        # database check), and A's index must drop the hash by its next poll.
        b.delete(f"/v1/cases/{created['case_id']}", headers={"X-Case-Key": created["case_key"]})
        withdrawn_at = time.monotonic()
        assert _match_count(a, key, value) == 0
        indexes_a = app_a.state.services.follower.indexes
        while indexes_a.count("pdq") != 0:
            assert time.monotonic() - withdrawn_at < 1.0, "worker A's index kept the hash over 1 s"
            time.sleep(0.01)
        assert follower_b.seq == app_a.state.services.follower.seq


def test_restart_loads_snapshot_and_replays_newer_changes(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    values = [random_pdq(i) for i in range(10)]
    first = create_app(settings)
    with TestClient(first) as client:
        wait_ready(client)
        services: Services = first.state.services
        for v in values[:5]:
            client.post("/v1/cases", json={"hashes": [{"algorithm": "pdq", "hash": v}]})
        assert services.follower.snapshot()
        snapshot_seq = services.follower.seq
        for v in values[5:]:
            client.post("/v1/cases", json={"hashes": [{"algorithm": "pdq", "hash": v}]})
        final_seq = services.follower.seq
    assert final_seq > snapshot_seq
    second = create_app(settings)
    with TestClient(second) as client:
        wait_ready(client)
        follower = second.state.services.follower
        assert follower.seq == final_seq
        assert follower.indexes.count("pdq") == 10
        key = issue_key(second.state.services)
        assert all(_match_count(client, key, v) == 1 for v in values)


def test_corrupt_snapshot_falls_back_to_a_rebuild(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    first = create_app(settings)
    with TestClient(first) as client:
        wait_ready(client)
        client.post("/v1/cases", json={"hashes": [{"algorithm": "pdq", "hash": random_pdq(1)}]})
        assert first.state.services.follower.snapshot()
    for path in settings.snapshot_dir.rglob("*"):
        if path.is_file() and path.stat().st_size > 64:
            data = bytearray(path.read_bytes())
            data[len(data) // 2] ^= 0xFF
            path.write_bytes(bytes(data))
    second = create_app(settings)
    with TestClient(second) as client:
        wait_ready(client)
        assert second.state.services.follower.indexes.count("pdq") == 1
