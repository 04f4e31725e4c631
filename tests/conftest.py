"""Shared test fixtures: where the reference data lives."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# ../shared sits beside the clone on developer machines and in CI.
SHARED = Path(os.environ.get("HASHBANK_SHARED", REPO.parent / "shared"))
PDQ_REFERENCE = SHARED / "pdq-reference"
BSDS500 = SHARED / "datasets" / "bsds500"


@pytest.fixture(scope="session")
def pdq_reference() -> Path:
    assert PDQ_REFERENCE.is_dir(), f"reference data missing at {PDQ_REFERENCE}"
    return PDQ_REFERENCE
