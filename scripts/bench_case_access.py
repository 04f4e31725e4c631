"""Time case-key checks against a live server: a wrong key on a real case, an unknown
case id, and the right key, interleaved so they share the machine's noise.

The service must not tell a real case from an unknown id by time (issue 14): both
failures should cost the same. The right key's time is the baseline (it does more:
it loads the case's hashes). The limit on wrong keys is raised for the run so every
request is a full check, not a 429.

    .venv/bin/python scripts/bench_case_access.py --rounds 2000 --hashes 100
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.e2e.server import Server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--hashes", type=int, default=100, help="hashes in the real case")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        env = {"HASHBANK_KEY_FAILURES_ALLOWED": str(10 * args.rounds)}
        with (
            Server(data, Path(tmp) / "server.log", **env) as server,
            httpx.Client(base_url=server.url) as client,
        ):
            hashes = [
                {"algorithm": "pdq", "hash": rng.randbytes(32).hex()} for _ in range(args.hashes)
            ]
            created = client.post("/v1/cases", json={"hashes": hashes}).json()
            targets = {
                "wrong key, real case": (created["case_id"], "hbc_" + "x" * 43),
                "unknown case id": ("c_" + "0" * 20, "hbc_" + "x" * 43),
                "right key (baseline)": (created["case_id"], created["case_key"]),
            }
            times: dict[str, list[float]] = {name: [] for name in targets}
            for _ in range(50):  # warm up connections and caches
                for case_id, key in targets.values():
                    client.get(f"/v1/cases/{case_id}", headers={"X-Case-Key": key})
            order = list(targets)
            for _ in range(args.rounds):
                rng.shuffle(order)
                for name in order:
                    case_id, key = targets[name]
                    start = time.perf_counter()
                    client.get(f"/v1/cases/{case_id}", headers={"X-Case-Key": key})
                    times[name].append(time.perf_counter() - start)
    base = statistics.median(times["right key (baseline)"])
    print(f"{args.rounds} rounds, real case of {args.hashes} hashes, one worker, keep-alive")
    for name, values in times.items():
        p50, p95 = statistics.median(values), statistics.quantiles(values, n=20)[18]
        print(
            f"  {name:24s} p50 {p50 * 1e3:6.2f} ms  p95 {p95 * 1e3:6.2f} ms  "
            f"x{p50 / base:.2f} of the right key"
        )
    wrong, unknown = (statistics.median(times[n]) for n in order if "baseline" not in n)
    print(f"  unknown / wrong-key p50 ratio: {unknown / wrong:.3f}")


if __name__ == "__main__":
    main()
