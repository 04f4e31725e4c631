"""Schemathesis over the whole OpenAPI of a live server, with and without an all-scope key.

Bounded (a few dozen examples per operation, a fixed seed) to stay well under
two minutes; `scripts/fuzz.py` runs the same for longer (figures in
docs/security.md). Every run must find no server error, no 4xx outside the
error shape, and nothing schemathesis' checks reject (responses, statuses,
content types and headers as the OpenAPI documents them).
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.fuzzing import run_schemathesis
from tests.e2e.server import Server, platform_key

EXAMPLES = 40
SEED = 14


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    base = tmp_path_factory.mktemp("fuzz")
    data = base / "data"
    data.mkdir()
    key = platform_key(data, "match", "feedback", "sync", platform="Fuzzer")
    with Server(data, base / "server.log") as server:
        yield server, key


@pytest.mark.slow
@pytest.mark.parametrize("keyed", [True, False], ids=["all-scope key", "no key"])
def test_schemathesis_finds_nothing(live: tuple[Server, str], keyed: bool, tmp_path: Path) -> None:
    server, key = live
    run = run_schemathesis(
        server.url,
        key if keyed else None,
        tmp_path / "report",
        examples=EXAMPLES,
        seed=SEED,
        timeout=100,
    )
    assert run.report["operations"]["tested"] == run.report["operations"]["total"] >= 12
    assert run.server_errors == []
    assert run.outside_error_shape == []
    assert run.failures == [], (tmp_path / "report" / "output.txt").read_text()[-6000:]
    assert run.errors == [], (tmp_path / "report" / "output.txt").read_text()[-6000:]
    assert run.requests > 500  # it did reach the service, past the key checks too
    if keyed:
        assert run.statuses[200] + run.statuses[201] > 50
    log = server.log_path.read_text()
    assert "Traceback" not in log, log[log.find("Traceback") - 300 :][:6000]
    assert "unhandled" not in log
