"""Several processes on one database: withdrawal reaches every worker; crashes lose nothing."""

import random
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from tests import databases
from tests.e2e.server import Server, platform_key


def _matches(client: httpx.Client, value: str) -> int:
    r = client.post("/v1/match", json={"items": [{"algorithm": "pdq", "hash": value}]})
    assert r.status_code == 200, r.text
    return len(r.json()["results"][0]["matches"])


def test_withdrawal_in_one_process_stops_matching_in_the_other_within_1s(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    key = platform_key(data, "match")
    value = random.Random(1).randbytes(32).hex()
    with Server(data, tmp_path / "a.log") as a, Server(data, tmp_path / "b.log") as b:
        ca = httpx.Client(base_url=a.url, headers={"X-API-Key": key})
        cb = httpx.Client(base_url=b.url, headers={"X-API-Key": key})
        created = ca.post(
            "/v1/cases", json={"hashes": [{"algorithm": "pdq", "hash": value}]}
        ).json()
        start = time.monotonic()
        while _matches(cb, value) == 0:
            assert time.monotonic() - start < 1.0, "B did not see A's new case within 1 s"
            time.sleep(0.02)
        withdrawn = cb.delete(
            f"/v1/cases/{created['case_id']}", headers={"X-Case-Key": created["case_key"]}
        )
        assert withdrawn.status_code == 200
        start = time.monotonic()
        while _matches(ca, value) != 0:
            assert time.monotonic() - start < 1.0, "A kept matching a withdrawn hash over 1 s"
            time.sleep(0.02)
        # A's own index (not only its database check) drops it within the same second.
        while ca.get("/readyz").json()["hashes"] != 0:
            assert time.monotonic() - start < 1.0, "A's index kept the withdrawn hash over 1 s"
            time.sleep(0.02)
        ca.close()
        cb.close()


def test_kill_mid_submission_loses_nothing_acknowledged(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = Server(data, tmp_path / "server.log").start()
    acknowledged: dict[str, list[str]] = {}
    stop = threading.Event()
    rng = random.Random(7)

    def submit_forever() -> None:
        with httpx.Client(base_url=server.url, timeout=5) as client:
            while not stop.is_set():
                hashes = [rng.randbytes(32).hex() for _ in range(20)]
                try:
                    r = client.post(
                        "/v1/cases",
                        json={"hashes": [{"algorithm": "pdq", "hash": h} for h in hashes]},
                    )
                except httpx.TransportError:
                    return  # the server died mid-request: this case was never acknowledged
                if r.status_code == 201:
                    acknowledged[r.json()["case_id"]] = hashes

    writers = [threading.Thread(target=submit_forever) for _ in range(3)]
    for w in writers:
        w.start()
    deadline = time.monotonic() + 10
    while len(acknowledged) < 15 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()
    stop.set()
    for w in writers:
        w.join(timeout=10)
    assert len(acknowledged) >= 15

    engine = create_engine(databases.url_of(data))
    with engine.connect() as conn:
        per_case: dict[str, int] = dict(
            conn.execute(
                text(
                    "SELECT c.public_id, COUNT(cs.signal_id) FROM cases c "
                    "LEFT JOIN case_signals cs ON cs.case_id = c.id GROUP BY c.public_id"
                )
            ).all()
        )
    engine.dispose()
    assert set(acknowledged) <= set(per_case), "an acknowledged case was lost"
    assert set(per_case.values()) == {20}, "a case was half-written"

    key = platform_key(data, "match")
    with (
        Server(data, tmp_path / "restart.log") as restarted,
        httpx.Client(base_url=restarted.url, headers={"X-API-Key": key}) as client,
    ):
        ready = client.get("/readyz").json()
        assert ready["hashes"] == 20 * len(per_case)
        sample = [h for hashes in list(acknowledged.values())[:5] for h in hashes]
        r = client.post(
            "/v1/match", json={"items": [{"algorithm": "pdq", "hash": h} for h in sample]}
        )
        assert all(len(item["matches"]) == 1 for item in r.json()["results"])
