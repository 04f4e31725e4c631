"""How soon a case created through one replica is matchable through the others.

Starts a throw-away PostgreSQL cluster (Debian's packages, tests/databases.py)
and 3 replicas of the service (uvicorn, 2 workers each, each with its own data
folder) launched at the same moment on its empty database; then creates cases
through each replica in turn and, for every other replica, times how long until
a match request on a new connection (so any of its workers may answer) finds
the case. Run twice in the same process: with LISTEN/NOTIFY (the default) and
polling alone (HASHBANK_SYNC_LISTEN=false), both with the default 0.2 s interval.

    .venv/bin/python scripts/bench_replicas.py --cases 100
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo's tests/
from tests import databases
from tests.e2e.server import Server, create_case, platform_key


def measure(root: Path, listen: bool, cases: int, interval: float) -> list[float]:
    shared = root / "db"
    shared.mkdir()
    env = {
        "HASHBANK_DATABASE_URL": databases.url_of(shared),
        "HASHBANK_SYNC_LISTEN": str(listen).lower(),
        "HASHBANK_SYNC_INTERVAL_SECONDS": str(interval),
    }
    servers = [Server(root / f"r{i}", root / f"r{i}.log", **env) for i in range(3)]
    delays: list[float] = []
    rng = random.Random(15)
    with ExitStack() as stack:
        started = time.monotonic()
        for server in servers:
            server.with_workers(2)
            server.launch()
            stack.callback(server.stop)
        for server in servers:
            server.wait_ready(timeout=120)
        print(f"  3 replicas x 2 workers ready {time.monotonic() - started:.1f} s after launch")
        key = platform_key(shared, "match")
        clients = [
            stack.enter_context(
                httpx.Client(base_url=s.url, headers={"X-API-Key": key, "Connection": "close"})
            )
            for s in servers
        ]
        for n in range(cases):
            value = rng.randbytes(32).hex()
            origin = n % len(servers)
            create_case(clients[origin], [value])
            created = time.monotonic()  # from the 201: the case is committed
            for other, client in enumerate(clients):
                if other == origin:
                    continue
                while True:
                    asked = time.monotonic()
                    r = client.post(
                        "/v1/match", json={"items": [{"algorithm": "pdq", "hash": value}]}
                    )
                    if r.json()["results"][0]["matches"]:
                        break
                # When the request that found it was sent (its own duration is not
                # replication delay): the case had arrived by then, or during it.
                delays.append(max(0.0, asked - created))
        probe = []
        for _ in range(50):
            asked = time.monotonic()
            clients[0].post("/v1/match", json={"items": [{"algorithm": "pdq", "hash": value}]})
            probe.append(time.monotonic() - asked)
        print(
            f"  one match request on a new connection: p50 {statistics.median(probe) * 1e3:.0f} ms"
        )
    return delays


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--interval", type=float, default=0.2)
    args = parser.parse_args()
    cluster = databases.PostgresCluster(durable=True).start()
    databases.use_postgres(cluster)
    rows = []
    try:
        for listen in (True, False):
            label = "LISTEN/NOTIFY + poll" if listen else "poll only"
            print(f"{label}:")
            with tempfile.TemporaryDirectory() as tmp:
                delays = sorted(measure(Path(tmp), listen, args.cases, args.interval))
            ms = [d * 1e3 for d in delays]
            rows.append(
                f"| {label} | {len(ms)} | {ms[0]:.0f} | {statistics.median(ms):.0f} | "
                f"{ms[int(len(ms) * 0.9)]:.0f} | {ms[int(len(ms) * 0.99)]:.0f} | {ms[-1]:.0f} |"
            )
    finally:
        cluster.stop()
    print(
        f"\nms from the 201 of POST /v1/cases on one replica to the sending of the first "
        f"match request through another that finds it (interval {args.interval} s)\n"
        "\n| following | cases x replicas | min | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|---|"
    )
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
