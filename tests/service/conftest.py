"""Service test fixtures: each test gets its own database and data folder."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hashing import PDQ_ALGORITHM, Hash, load_image
from service.api.deps import Services
from service.app import create_app
from service.settings import Settings
from tests import databases
from tests.conftest import PDQ_REFERENCE

BRIDGE = PDQ_REFERENCE / "reg-test-input" / "dih" / "bridge-1-original.jpg"


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "database_url": databases.database_url(data_dir),  # None: SQLite in data_dir
        "sync_interval_seconds": 0.05,
        "snapshot_interval_seconds": 0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def settings_env(data_dir: Path) -> dict[str, str]:
    """The `HASHBANK_*` variables that point a process (the admin CLI) at this test's data."""
    env = {"HASHBANK_DATA_DIR": str(data_dir)}
    url = databases.database_url(data_dir)
    if url is not None:
        env["HASHBANK_DATABASE_URL"] = url
    return env


def wait_ready(client: TestClient, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "service never became ready"
        time.sleep(0.02)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    created = create_app(settings)
    yield created
    created.state.services.db.dispose()  # also when no client ran its lifespan


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        wait_ready(test_client)
        yield test_client


@pytest.fixture
def services(app: FastAPI) -> Services:
    result: Services = app.state.services
    return result


def issue_key(
    services: Services,
    platform: str = "Platform A",
    scopes: tuple[str, ...] = ("match", "feedback", "sync"),
) -> str:
    names = {p.name for p in services.platforms.list_platforms()}
    if platform not in names:
        services.platforms.add(platform)
    return services.platforms.issue_key(platform, list(scopes)).key


@pytest.fixture
def api_key(services: Services) -> str:
    return issue_key(services)


@pytest.fixture(scope="session")
def bridge_hash() -> Hash:
    return PDQ_ALGORITHM.compute(load_image(BRIDGE))


def random_pdq(seed: int) -> str:
    import random

    return random.Random(seed).randbytes(32).hex()


def flip_bits(hex_value: str, count: int, seed: int = 0) -> str:
    import random

    value = bytearray(bytes.fromhex(hex_value))
    for bit in random.Random(seed).sample(range(len(value) * 8), count):
        value[bit // 8] ^= 0x80 >> (bit % 8)
    return value.hex()
