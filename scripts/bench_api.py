"""Load-test the match API on this machine, against a real server with N hashes loaded.

For each database asked for (SQLite, and PostgreSQL in a throw-away cluster
with PostgreSQL's default durability, started from Debian's packages), seeds N
random PDQ signals straight into a fresh database (the service rebuilds its
index from the database at start-up), starts uvicorn on 127.0.0.1, then:

- drives it over keep-alive connections with `wrk` (Debian package `wrk`; a
  Python client cannot generate enough load on 2 cores and is only the
  fallback): single-hash match requests, 100-hash batches, and the app's no-op
  endpoint (`/healthz`) under the same load, so the ratio is measured in the
  same run;
- times one client's requests one after the other, each one image's 64 query
  hashes (an item and 63 variants) that hit a stored hash (a match is
  recorded) or miss.

Both databases run in the same process, one after the other, and the figures
are printed side by side.

    .venv/bin/python scripts/bench_api.py --hashes 1000000 --workers 2 --seconds 15
"""

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import insert

from service.store import schema
from service.store.db import Database
from service.store.models import Signal, utcnow
from service.store.platforms import PlatformRepository

BIN = Path(sys.executable).parent


def seed(url: str, count: int, rng: random.Random) -> tuple[str, list[str]]:
    db = Database(url)
    schema.upgrade(db)
    stored: list[str] = []
    now = utcnow()
    with db.transaction() as session:
        for start in range(0, count, 50_000):
            rows = []
            for _ in range(min(50_000, count - start)):
                value = rng.randbytes(32)
                rows.append(
                    {
                        "algorithm": "pdq",
                        "value": value,
                        "quality": 100,
                        "state": "active",
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                if len(stored) < 10_000:
                    stored.append(value.hex())
            session.execute(insert(Signal), rows)
    platforms = PlatformRepository(db)
    platforms.add("bench")
    key = platforms.issue_key("bench", ["match"]).key
    db.dispose()
    return key, stored


async def drive(
    url: str,
    path: str,
    bodies: list[bytes] | None,
    headers: dict[str, str],
    seconds: float,
    concurrency: int,
) -> tuple[float, float, float, int]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=30
    ) as client:

        async def worker(w: int) -> None:
            nonlocal errors
            i = w
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                if bodies is None:
                    r = await client.get(path)
                else:
                    r = await client.post(path, content=bodies[i % len(bodies)])
                latencies.append(time.perf_counter() - start)
                errors += r.status_code != 200
                i += concurrency

        started = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return (
        len(latencies) / elapsed,
        statistics.median(latencies) * 1e3,
        latencies[int(len(latencies) * 0.99)] * 1e3,
        errors,
    )


_LUA = """
local bodies = dofile("%s")
local i = 0
wrk.method = "%s"
wrk.headers["X-API-Key"] = "%s"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i + 1
  if #bodies == 0 then return wrk.format(nil) end
  return wrk.format(nil, nil, nil, bodies[(i %% #bodies) + 1])
end
"""


def drive_wrk(
    url: str,
    path: str,
    payload: list[bytes] | None,
    key: str,
    seconds: float,
    concurrency: int,
    tmp: Path,
) -> tuple[float, float, float, int]:
    data_file, script = tmp / "bodies.lua", tmp / "script.lua"
    items = ",\n".join("[==[" + b.decode() + "]==]" for b in payload or [])
    data_file.write_text("return {" + items + "}\n")
    script.write_text(_LUA % (data_file, "GET" if payload is None else "POST", key))
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{concurrency}",
            f"-d{seconds:.0f}s",
            "--latency",
            "-s",
            str(script),
            url + path,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def percentile(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    return rps, percentile("50"), percentile("99"), int(errors.group(1)) if errors else 0


def bodies(stored: list[str], rng: random.Random, per_request: int, count: int) -> list[bytes]:
    out = []
    for _ in range(count):
        items = []
        for _ in range(per_request):
            # One in ten queries is a near copy of a stored hash; the rest match nothing.
            value = rng.choice(stored) if rng.random() < 0.1 else rng.randbytes(32).hex()
            items.append({"algorithm": "pdq", "hash": value})
        out.append(json.dumps({"items": items}).encode())
    return out


def sequential(url: str, key: str, payloads: list[bytes], count: int) -> tuple[float, float]:
    """One client, one request at a time: p50 and p95 latency in ms."""
    latencies = []
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        for i in range(count + 20):
            start = time.perf_counter()
            r = client.post("/v1/match", content=payloads[i % len(payloads)])
            elapsed = time.perf_counter() - start
            r.raise_for_status()
            if i >= 20:  # the first ones warm the connection and the caches
                latencies.append(elapsed * 1e3)
    latencies.sort()
    return statistics.median(latencies), latencies[int(len(latencies) * 0.95)]


def image_items(stored: list[str], rng: random.Random, hit: bool, count: int) -> list[bytes]:
    """Requests of one image's 64 query hashes: a stored hash among them, or none."""
    out = []
    for _ in range(count):
        hashes = [rng.randbytes(32).hex() for _ in range(64)]
        if hit:
            hashes[0] = rng.choice(stored)
        item = {"algorithm": "pdq", "hash": hashes[0], "variants": hashes[1:]}
        out.append(json.dumps({"items": [item]}).encode())
    return out


def wait_ready(url: str, workers: int) -> None:
    ready = 0
    while ready < workers * 3:  # every worker answers ready several times in a row
        try:
            ok = httpx.get(f"{url}/readyz", timeout=2).status_code == 200
        except httpx.TransportError:
            ok = False
        ready = ready + 1 if ok else 0
        time.sleep(0.2)


def run_one(backend: str, url: str, args: argparse.Namespace, tmp: Path) -> dict[str, str]:
    """Seed, serve and measure one database; the table's cells by scenario."""
    rng = random.Random(1)
    data = tmp / f"data-{backend}"
    data.mkdir()
    started = time.perf_counter()
    key, stored = seed(url, args.hashes, rng)
    print(f"[{backend}] seeded {args.hashes:,} hashes in {time.perf_counter() - started:.0f} s")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HASHBANK_")},
        "HASHBANK_DATA_DIR": str(data),
        "HASHBANK_DATABASE_URL": url,
        "HASHBANK_SNAPSHOT_INTERVAL_SECONDS": "0",
    }
    command = [str(BIN / "uvicorn"), "--factory", "service.app:create_app"]
    command += ["--host", "127.0.0.1", "--port", str(args.port), "--workers", str(args.workers)]
    server = subprocess.Popen([*command, "--log-level", "warning", "--no-access-log"], env=env)
    base = f"http://127.0.0.1:{args.port}"
    cells: dict[str, str] = {}
    try:
        started = time.perf_counter()
        wait_ready(base, args.workers)
        print(f"[{backend}] service ready in {time.perf_counter() - started:.0f} s")
        headers = {"X-API-Key": key, "Content-Type": "application/json"}
        scenarios = [
            ("no-op GET /healthz", "/healthz", None, 1),
            ("match, 1 hash per request", "/v1/match", bodies(stored, rng, 1, 5000), 1),
            ("match, 100 hashes per request", "/v1/match", bodies(stored, rng, 100, 300), 100),
            # Again at the end: the ratio uses the better no-op figure, so a slow
            # start (workers still settling) cannot flatter it.
            ("no-op GET /healthz, again", "/healthz", None, 1),
        ]
        use_wrk = shutil.which("wrk") is not None
        if not use_wrk:
            print("(wrk not found: `apt-get install wrk`; using the slower Python client)")
        rates = {}
        for name, path, payload, per in scenarios:
            if use_wrk:
                drive_wrk(base, path, payload, key, 2, args.concurrency, tmp)  # warm-up
                rps, p50, p99, errors = drive_wrk(
                    base, path, payload, key, args.seconds, args.concurrency, tmp
                )
            else:
                asyncio.run(drive(base, path, payload, headers, 2, args.concurrency))
                rps, p50, p99, errors = asyncio.run(
                    drive(base, path, payload, headers, args.seconds, args.concurrency)
                )
            rates[name] = rps
            cells[name] = (
                f"{rps:,.0f} req/s, {rps * per:,.0f} hashes/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, {errors} errors"
            )
        noop = max(rates["no-op GET /healthz"], rates["no-op GET /healthz, again"])
        cells["single-hash match / no-op requests/s"] = (
            f"{rates['match, 1 hash per request'] / noop:.2f}"
        )
        for hit in (True, False):
            p50, p95 = sequential(base, key, image_items(stored, rng, hit, 500), args.requests)
            name = f"one client, one 64-hash image per request, {'hit' if hit else 'miss'}"
            cells[name] = f"p50 {p50:.1f} ms, p95 {p95:.1f} ms"
    finally:
        server.terminate()
        server.wait(timeout=30)
    return cells


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hashes", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--requests", type=int, default=1000, help="per sequential scenario")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--databases", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"]
    )
    args = parser.parse_args()
    results: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.databases:
            if backend == "sqlite":
                url = f"sqlite:///{Path(tmp) / 'hashbank.db'}"
                results[backend] = run_one(backend, url, args, Path(tmp))
                continue
            sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo's tests/
            from tests.databases import PostgresCluster  # only needed for this backend

            cluster = PostgresCluster(durable=True).start()
            try:
                results[backend] = run_one(backend, cluster.database("bench"), args, Path(tmp))
            finally:
                cluster.stop()
    print(f"\n{args.hashes:,} hashes, {args.workers} workers, {args.concurrency} connections")
    print("\n| scenario | " + " | ".join(results) + " |")
    print("|---|" + "---|" * len(results))
    for name in next(iter(results.values())):
        print(f"| {name} | " + " | ".join(cells[name] for cells in results.values()) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
