"""/metrics and JSON logs of a real uvicorn with two workers: one scrape sums both of them."""

import json
import os
import signal
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

import service
from tests.e2e.server import Server, create_case, platform_key

# As scripts/serve passes it.
LOG_CONFIG = str(Path(service.__file__).parent / "telemetry" / "log_config.json")
Samples = list[tuple[str, dict[str, str], float]]


def scrape(server: Server, key: str) -> Samples:
    # A new connection each time: any worker may answer.
    r = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    return [
        (s.name, s.labels, s.value)
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    ]


def ready_pids(samples: Samples) -> set[str]:
    return {labels["pid"] for name, labels, v in samples if name == "hashbank_ready" and v == 1}


def healthz_count(samples: Samples) -> float:
    return sum(
        v
        for name, labels, v in samples
        if name == "hashbank_http_requests_total" and labels["route"] == "/healthz"
    )


def wait_for(server: Server, key: str, check: object, timeout: float = 30) -> Samples:
    deadline = time.monotonic() + timeout
    while True:
        samples = scrape(server, key)
        if callable(check) and check(samples):
            return samples
        assert time.monotonic() < deadline, f"never true: {samples}"
        time.sleep(0.1)


def test_two_workers_one_scrape_counts_both_and_a_dead_worker_is_forgotten(
    tmp_path: Path,
) -> None:
    data, metrics_dir = tmp_path / "data", tmp_path / "metrics"
    key = platform_key(data, "metrics", platform="Monitoring")
    env = {"HASHBANK_METRICS_DIR": str(metrics_dir)}
    with Server(data, tmp_path / "server.log", **env).with_workers(2) as server:
        samples = wait_for(server, key, lambda s: len(ready_pids(s)) == 2)
        pids = ready_pids(samples)
        index = {labels["pid"] for n, labels, _ in samples if n == "hashbank_index_hashes"}
        assert index == pids, "each worker's index size, labelled by its pid"
        for _ in range(30):
            assert httpx.get(f"{server.url}/healthz").status_code == 200
        # Whichever worker answers, and however the 30 were shared out, the totals agree.
        for _ in range(10):
            samples = scrape(server, key)
            assert healthz_count(samples) == 30
            assert ready_pids(samples) == pids

        # A worker killed outright: uvicorn starts another; the dead one's per-worker
        # series go, its counts stay in the totals.
        dead = sorted(pids)[0]
        os.kill(int(dead), signal.SIGKILL)
        samples = wait_for(
            server, key, lambda s: len(ready_pids(s)) == 2 and dead not in ready_pids(s)
        )
        assert healthz_count(samples) == 30
        assert dead not in {labels.get("pid") for _, labels, _ in samples}
        assert [p.name for p in metrics_dir.glob("run-*")] == [f"run-{server.process.pid}"]  # type: ignore[union-attr]

    # The next run starts from nothing, and the last run's folder is removed.
    with Server(data, tmp_path / "again.log", **env).with_workers(2) as again:
        samples = wait_for(again, key, lambda s: len(ready_pids(s)) == 2)
        assert healthz_count(samples) == 0
        assert [p.name for p in metrics_dir.glob("run-*")] == [f"run-{again.process.pid}"]  # type: ignore[union-attr]


def test_json_logs_of_two_workers_and_their_supervisor(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "server.log"
    key = platform_key(data, "match")
    value = "ab" * 32
    env = {"HASHBANK_LOG_FORMAT": "json", "HASHBANK_METRICS_DIR": str(tmp_path / "metrics")}
    with (
        Server(data, log, **env).with_workers(2).with_args("--log-config", LOG_CONFIG) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        case_id, case_key = create_case(client, [value])
        assert client.get(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key}).is_success
        r = client.post(
            "/v1/match",
            json={"items": [{"algorithm": "pdq", "hash": value}]},
            headers={"X-API-Key": key},
        )
        assert len(r.json()["results"][0]["matches"]) == 1
    text = log.read_text()
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    loggers = {e["logger"] for e in entries}
    assert {"uvicorn.error", "uvicorn.access", "hashbank.sync"} <= loggers
    assert any("Started parent process" in e["message"] for e in entries), "the supervisor's"
    paths = {e["path"] for e in entries if e["logger"] == "uvicorn.access"}
    assert "/v1/cases/{case_id}" in paths
    for secret in (case_id, case_key, key, value):
        assert secret not in text
