"""Run schemathesis over the whole OpenAPI of a live server and audit every exchange.

Shared by the suite's bounded run (tests/e2e/test_fuzz.py) and the longer one
(scripts/fuzz.py). Schemathesis runs as its own CLI (`st run`), with all its
phases (examples, coverage, fuzzing, stateful) and all its checks but two:

- `positive_data_acceptance`: the schema cannot say everything the service
  checks (a `pdq` hash is 64 hex digits but a `phash` 16; a PDQ quality under
  50 is refused; an image must have enough detail to hash), so schema-valid
  requests are rightly refused with 422;
- `use_after_free`: withdrawing a case (`DELETE`) keeps its status readable by
  design, for the survivor to see that her hashes stopped matching.

Its own checks look at each response against its operation; `audit_har` looks
again at every exchange it recorded: no 5xx, and every 4xx in the one error
shape.
"""

import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
EXCLUDED_CHECKS = ("positive_data_acceptance", "use_after_free")


@dataclass
class FuzzRun:
    """What one `st run` did: its own report, and our audit of its recorded exchanges."""

    report: dict[str, Any]
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    outside_error_shape: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def failures(self) -> list[dict[str, Any]]:
        return list(self.report.get("failures", []))

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.report.get("errors", []))


def run_schemathesis(
    url: str,
    key: str | None,
    report_dir: Path,
    *,
    examples: int,
    seed: int,
    timeout: float,
    max_time: float | None = None,
) -> FuzzRun:
    """`st run` against `url`; with `key`, in every header the API reads keys from."""
    report_dir = report_dir.resolve()
    report_dir.mkdir(parents=True, exist_ok=True)
    args = [
        str(BIN / "schemathesis"),
        "run",
        f"{url}/openapi.json",
        f"--max-examples={examples}",
        f"--seed={seed}",
        "--checks=all",
        f"--exclude-checks={','.join(EXCLUDED_CHECKS)}",
        # One worker: several threads parse hypothesis' lambdas at once, which trips a
        # CPython 3.11.7 bug ("AST constructor recursion depth mismatch").
        "--workers=1",
        "--request-timeout=30",
        "--report=json,har",
        f"--report-dir={report_dir}",
    ]
    if max_time is not None:
        args.append(f"--max-time={max_time:g}")
    if key is not None:
        for header in ("X-API-Key", "Ocp-Apim-Subscription-Key", "x-functions-key"):
            args += ["-H", f"{header}: {key}"]
    with open(report_dir / "output.txt", "w") as output:
        done = subprocess.run(  # in report_dir: its example cache (.schemathesis/) goes there
            args,
            cwd=report_dir,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    reports = sorted(report_dir.glob("json-*.json"))
    hars = sorted(report_dir.glob("har-*.json"))
    if done.returncode not in (0, 1) or not reports or not hars:
        raise RuntimeError(
            f"schemathesis exited {done.returncode}:\n{(report_dir / 'output.txt').read_text()}"
        )
    run = FuzzRun(report=json.loads(reports[-1].read_text()))
    run.seconds = float(run.report.get("running_time", 0.0))
    audit_har(hars[-1], run)
    return run


def audit_har(path: Path, run: FuzzRun) -> None:
    """Count every recorded response; note 5xx and 4xx bodies outside the error shape."""
    for entry in json.loads(path.read_text())["log"]["entries"]:
        request, response = entry["request"], entry["response"]
        status = int(response["status"])
        run.statuses[status] += 1
        where = f"{request['method']} {request['url']} -> {status}"
        if status >= 500:
            run.server_errors.append(where)
        elif status >= 400 and not _is_error_shape(response.get("content", {}).get("text")):
            run.outside_error_shape.append(where)


def _is_error_shape(text: object) -> bool:
    try:
        body = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return False
    if not isinstance(body, dict) or set(body) != {"error"} or not isinstance(body["error"], dict):
        return False
    error = body["error"]
    return (
        set(error) == {"code", "message", "details"}
        and isinstance(error["code"], str)
        and isinstance(error["message"], str)
        and isinstance(error["details"], list)
    )
