"""Shared test fixtures: where the reference data lives, and which database the run uses."""

import os
from pathlib import Path

import pytest

from tests import databases

REPO = Path(__file__).resolve().parents[1]
# ../shared sits beside the clone on developer machines and in CI.
SHARED = Path(os.environ.get("HASHBANK_SHARED", REPO.parent / "shared"))
PDQ_REFERENCE = SHARED / "pdq-reference"
VPDQ_REFERENCE = SHARED / "vpdq-reference"
BSDS500 = SHARED / "datasets" / "bsds500"


@pytest.fixture(scope="session")
def pdq_reference() -> Path:
    assert PDQ_REFERENCE.is_dir(), f"reference data missing at {PDQ_REFERENCE}"
    return PDQ_REFERENCE


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=databases.BACKENDS,
        default="sqlite",
        help="the database every test's service runs on (tests/databases.py)",
    )


def pytest_configure(config: pytest.Config) -> None:
    missing = [p for p in (PDQ_REFERENCE, VPDQ_REFERENCE, BSDS500) if not p.is_dir()]
    if missing:
        # Before collection: one clear line instead of a module's FileNotFoundError.
        raise pytest.UsageError(
            f"the reference data is missing at {SHARED} (no {missing[0].relative_to(SHARED)}): "
            "put the project's shared folder beside the clone as ../shared, or set "
            "HASHBANK_SHARED=/path/to/shared"
        )
    # The operator's own service settings must never leak into a test (the harness's
    # HASHBANK_SHARED, _SCREENSHOTS and _CHROMIUM are not service settings).
    from service.settings import Settings

    for name in Settings.model_fields:
        os.environ.pop(f"HASHBANK_{name.upper()}", None)
    if config.getoption("--db") == "postgresql":
        cluster = databases.PostgresCluster().start()
        config.add_cleanup(cluster.stop)
        databases.use_postgres(cluster)


def pytest_report_header(config: pytest.Config) -> str:
    return f"hashbank database: {config.getoption('--db')}"
