"""Three replicas (2 workers each) on one database, started at the same moment on an empty one.

Each replica has a data folder of its own (index snapshots) and shares only the
database, as stateless replicas on separate machines would. On PostgreSQL
(`--db postgresql`) they follow the change log through LISTEN/NOTIFY; on SQLite
by polling the one file. Through any replica, at once or within the sync
interval: a new case is matchable, a withdrawal stops matching, a revoked key
stops working, and the wrong-case-key limit is one limit.
"""

import random
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from tests import databases
from tests.e2e.server import BIN, Server, create_case, platform_key, run_cli, service_env

REPLICAS, WORKERS = 3, 2
SYNC_INTERVAL = 0.5  # polling alone would take up to this long


@contextmanager
def replicas(tmp_path: Path, shared: Path) -> Iterator[list[Server]]:
    url = databases.url_of(shared)
    servers = [
        Server(
            tmp_path / f"replica{i}",
            tmp_path / f"replica{i}.log",
            HASHBANK_DATABASE_URL=url,
            HASHBANK_SYNC_INTERVAL_SECONDS=str(SYNC_INTERVAL),
        )
        for i in range(REPLICAS)
    ]
    with ExitStack() as stack:
        for server in servers:  # all launched before any is waited for
            server.with_workers(WORKERS)
            server.launch()
            stack.callback(server.stop)
        for server in servers:
            server.wait_ready(timeout=60)
        yield servers


def _fresh(server: Server, key: str) -> httpx.Client:
    """A client that opens a new connection per request, so requests reach every worker."""
    return httpx.Client(
        base_url=server.url,
        headers={"X-API-Key": key, "Connection": "close"},
        timeout=10,
    )


def _matched(client: httpx.Client, value: str) -> bool:
    r = client.post("/v1/match", json={"items": [{"algorithm": "pdq", "hash": value}]})
    assert r.status_code == 200, r.text
    return bool(r.json()["results"][0]["matches"])


def test_replicas_started_together_share_cases_withdrawals_keys_and_limits(
    tmp_path: Path,
) -> None:
    shared = tmp_path / "db"
    shared.mkdir()
    rng = random.Random(15)
    with replicas(tmp_path, shared) as servers:
        for server in servers:
            assert server.process is not None
            assert server.process.poll() is None
        key = platform_key(shared, "match")
        clients = [_fresh(s, key) for s in servers]

        # A case created through one replica is matchable through the others.
        delays = []
        for n in range(12):
            value = rng.randbytes(32).hex()
            origin = n % REPLICAS
            created_at = time.monotonic()
            create_case(clients[origin], [value])
            for other in range(REPLICAS):
                if other == origin:
                    continue
                hits = 0
                while hits < WORKERS * 2:  # several fresh connections: every worker has it
                    if _matched(clients[other], value):
                        hits += 1
                    else:
                        hits = 0
                        assert time.monotonic() - created_at < SYNC_INTERVAL + 1.5, (
                            f"replica {other} did not see replica {origin}'s case"
                        )
                delays.append(time.monotonic() - created_at)
        assert len(delays) == 12 * (REPLICAS - 1)

        # A withdrawal through one stops matching through all, with no wait at all.
        case_id, case_key = create_case(clients[0], [value := rng.randbytes(32).hex()])
        while not all(_matched(c, value) for c in clients for _ in range(WORKERS)):
            time.sleep(0.01)
        withdrawn = clients[1].delete(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key})
        assert withdrawn.status_code == 200, withdrawn.text
        assert not any(_matched(c, value) for c in clients for _ in range(WORKERS * 2))

        # A revoked key stops working everywhere at once.
        revocable = platform_key(shared, "match", platform="Other")
        revocable_clients = [_fresh(s, revocable) for s in servers]
        for c in revocable_clients:
            assert c.post("/v1/match", json={"items": []}).status_code != 401
        listed = run_cli([str(BIN / "hashbank-admin"), "key", "list", "Other"], service_env(shared))
        key_id = next(w for w in listed.stdout.split() if w.startswith("k_"))
        revoked = run_cli(
            [str(BIN / "hashbank-admin"), "key", "revoke", key_id], service_env(shared)
        )
        assert revoked.returncode == 0, revoked.stderr
        for c in revocable_clients:
            for _ in range(WORKERS * 2):
                r = c.post("/v1/match", json={"items": [{"algorithm": "pdq", "hash": value}]})
                assert r.status_code == 401, r.text

        # One wrong-key limit for a case across every replica and worker.
        case_id, case_key = create_case(clients[2], [rng.randbytes(32).hex()])
        codes = [
            clients[i % REPLICAS]
            .get(f"/v1/cases/{case_id}", headers={"X-Case-Key": f"hbc_wrong{i}"})
            .status_code
            for i in range(15)
        ]
        assert codes == [401] * 10 + [429] * 5
        for c in clients:  # and the right key is never refused
            assert (
                c.get(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key}).status_code == 200
            )
        for c in clients + revocable_clients:
            c.close()
    for i in range(REPLICAS):
        log = (tmp_path / f"replica{i}.log").read_text()
        assert "Traceback" not in log, log[log.find("Traceback") - 300 :][:6000]
        assert "unhandled" not in log, log[-2000:]
        if databases.backend() == "postgresql":
            assert "change notifications lost" not in log


def _delays(origin: httpx.Client, follower: httpx.Client, count: int, limit: float) -> list[float]:
    """Seconds from a case's creation through `origin` until `follower` matches it."""
    delays = []
    for _ in range(count):
        value = random.randbytes(32).hex()
        start = time.monotonic()
        create_case(origin, [value])
        while not _matched(follower, value):
            assert time.monotonic() - start < limit, "a new case did not arrive in time"
            time.sleep(0.01)
        delays.append(time.monotonic() - start)
    return delays


def test_notified_and_polling_replicas_both_get_changes_within_the_interval(
    tmp_path: Path,
) -> None:
    """A polls only; B also LISTENs (PostgreSQL). Each gets the other's cases within the
    interval, and B, woken by NOTIFY, much sooner than a poll would bring them."""
    shared = tmp_path / "db"
    shared.mkdir()
    env = {"HASHBANK_DATABASE_URL": databases.url_of(shared)}
    env["HASHBANK_SYNC_INTERVAL_SECONDS"] = "2"
    with (
        Server(tmp_path / "a", tmp_path / "a.log", HASHBANK_SYNC_LISTEN="false", **env) as a,
        Server(tmp_path / "b", tmp_path / "b.log", HASHBANK_SYNC_LISTEN="true", **env) as b,
    ):
        key = platform_key(shared, "match")
        with _fresh(a, key) as ca, _fresh(b, key) as cb:
            polled = _delays(cb, ca, 4, limit=2 + 1.5)
            notified = _delays(ca, cb, 8, limit=2 + 1.5)
    if databases.backend() == "postgresql":
        # A poll every 2 s brings a change after 1 s on average; NOTIFY in milliseconds.
        assert sorted(notified)[len(notified) // 2] < 0.5, notified
        assert sorted(polled)[len(polled) // 2] > sorted(notified)[len(notified) // 2], polled
