"""A longer schemathesis run over the whole OpenAPI of a fresh live server (docs/security.md).

Starts the service on 127.0.0.1 with an empty database, issues an all-scope
platform key with `hashbank-admin`, and runs schemathesis (all phases, all
checks but the two tests/e2e/fuzzing.py explains) with the key and without
it. Prints, per run: test cases, HTTP exchanges by status, schemathesis'
failures and errors, and our own audit (5xx, 4xx outside the error shape).
Exits non-zero if anything was found. The suite runs the same, bounded, in
tests/e2e/test_fuzz.py.

    .venv/bin/python scripts/fuzz.py --examples 500 --seed 1
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for tests.e2e
from tests.e2e.fuzzing import EXCLUDED_CHECKS, FuzzRun, run_schemathesis
from tests.e2e.server import Server, platform_key


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=500, help="per operation and phase")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-time", type=float, default=None, help="seconds per run")
    parser.add_argument("--keep", type=Path, default=None, help="keep reports and logs here")
    args = parser.parse_args()

    base = args.keep or Path(tempfile.mkdtemp(prefix="hashbank-fuzz-"))
    data = base / "data"
    data.mkdir(parents=True)
    key = platform_key(data, "match", "feedback", "sync", platform="Fuzzer")

    print(
        f"schemathesis, {args.examples} examples, seed {args.seed}; excluded checks: "
        f"{', '.join(EXCLUDED_CHECKS)}; reports in {base}"
    )
    found = False
    with Server(data, base / "server.log") as server:
        for label, run_key in (("all-scope key", key), ("no key", None)):
            started = time.monotonic()
            run = run_schemathesis(
                server.url,
                run_key,
                base / label.replace(" ", "-"),
                examples=args.examples,
                seed=args.seed,
                timeout=24 * 3600,
                max_time=args.max_time,
            )
            found |= report(label, run, time.monotonic() - started)
        log = server.log_path.read_text()
    leaks = [word for word in ("Traceback", "unhandled") if word in log]
    print(f"server log: {'clean' if not leaks else 'contains ' + ', '.join(leaks)}")
    return 1 if found or leaks else 0


def report(label: str, run: FuzzRun, seconds: float) -> bool:
    cases = run.report.get("test_cases", {})
    statuses = ", ".join(f"{status}: {n:,}" for status, n in sorted(run.statuses.items()))
    print(
        f"\n{label}: {cases.get('generated', 0):,} test cases, {run.requests:,} requests "
        f"in {seconds:.0f} s"
    )
    print(f"  statuses      {statuses}")
    print(
        f"  failures      {len(run.failures)}  "
        + "; ".join(f"{f['code']} {f['title']} x{f['count']}" for f in run.failures)
    )
    print(f"  errors        {len(run.errors)}")
    print(f"  5xx           {len(run.server_errors)}  " + "; ".join(run.server_errors[:5]))
    print(
        f"  4xx not in the error shape  {len(run.outside_error_shape)}  "
        + "; ".join(run.outside_error_shape[:5])
    )
    return bool(run.failures or run.errors or run.server_errors or run.outside_error_shape)


if __name__ == "__main__":
    sys.exit(main())
