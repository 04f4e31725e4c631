"""Case access: the right key always works, wrong keys are limited per client and per case
across workers, unknown ids cost what wrong keys cost, and case ids never reach partners
or logs."""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event

from service.api.access_log import RedactCaseIds, redact_path
from service.api.client_address import TrustedProxies
from service.api.deps import Services
from service.api.throttle import FailureThrottle
from service.app import create_app
from tests.service.calls import case, stopncii
from tests.service.conftest import issue_key, make_settings, random_pdq, wait_ready


def _status(client: TestClient, case_id: str, key: str, via: str | None = None) -> int:
    headers = {"X-Case-Key": key}
    if via is not None:
        headers["X-Forwarded-For"] = via
    return client.get(f"/v1/cases/{case_id}", headers=headers).status_code


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[FastAPI, TestClient]]:
    """The service behind a trusted reverse proxy at 10.0.0.1: X-Forwarded-For counts."""
    app = create_app(make_settings(tmp_path / "data", trusted_proxies="10.0.0.1"))
    with TestClient(app, client=("10.0.0.1", 4000)) as client:
        wait_ready(client)
        yield app, client


def test_wrong_keys_from_many_addresses_never_lock_the_owner_out(
    proxied: tuple[FastAPI, TestClient],
) -> None:
    _, client = proxied
    case_id, key = case(client, random_pdq(1))
    limit = client.app.state.services.settings.key_failures_allowed  # type: ignore[attr-defined]
    codes = [_status(client, case_id, f"hbc_wrong{i}", via=f"203.0.113.{i}") for i in range(30)]
    # Each address is new, so only the case's own limit applies: 401, then 429.
    assert codes == [401] * limit + [429] * (30 - limit)
    assert _status(client, case_id, key, via="198.51.100.7") == 200
    assert _status(client, case_id, key, via="203.0.113.3") == 200  # even from an attacker's
    withdrawn = client.delete(f"/v1/cases/{case_id}", headers={"X-Case-Key": key})
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["state"] == "withdrawn"


def test_one_client_is_limited_across_cases_and_keeps_its_own_case(
    proxied: tuple[FastAPI, TestClient],
) -> None:
    _, client = proxied
    own_id, own_key = case(client, random_pdq(2))
    limit = client.app.state.services.settings.key_failures_allowed  # type: ignore[attr-defined]
    guesses = [_status(client, f"c_{i:020x}", "hbc_guess", via="192.0.2.9") for i in range(limit)]
    assert guesses == [401] * limit
    refused = client.get(
        "/v1/cases/c_another", headers={"X-Case-Key": "hbc_x", "X-Forwarded-For": "192.0.2.9"}
    )
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert set(refused.json()["error"]) == {"code", "message", "details"}
    assert refused.json()["error"]["code"] == "too_many_attempts"
    assert _status(client, own_id, own_key, via="192.0.2.9") == 200  # the right key still works
    assert _status(client, f"c_{0:020x}", "hbc_guess", via="192.0.2.10") == 401  # another client


def test_limits_hold_across_workers(tmp_path: Path) -> None:
    """Two app instances on one database stand for two worker processes."""
    settings = make_settings(tmp_path / "data", key_failures_allowed=4)
    apps = [create_app(settings), create_app(settings)]
    with TestClient(apps[0]) as first, TestClient(apps[1]) as second:
        wait_ready(first)
        wait_ready(second)
        case_id, key = case(first, random_pdq(3))
        codes = [_status((first, second)[i % 2], case_id, "hbc_wrong") for i in range(6)]
        assert codes == [401] * 4 + [429] * 2
        assert _status(second, case_id, key) == 200


def test_the_window_expires(services: Services) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    throttle = FailureThrottle(services.db, 2, 60, clock=lambda: now[0])
    assert [throttle.fail("client:a") for _ in range(3)] == [None, None, 60]
    now[0] += timedelta(seconds=30)
    assert throttle.fail("client:a") == 30
    now[0] += timedelta(seconds=31)
    assert throttle.fail("client:a") is None  # a new window


@contextmanager
def _statements(services: Services) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_c: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if threading.current_thread().name != "hashbank-sync":  # not the follower's polls
            seen.append(statement)

    event.listen(services.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(services.db.engine, "before_cursor_execute", record)


def test_unknown_ids_and_wrong_keys_cost_the_same(client: TestClient, services: Services) -> None:
    """The same statements, in the same order, whether the case exists or not (the
    timing figures are in docs/benchmarks.md, from scripts/bench_case_access.py)."""
    real = [case(client, *(random_pdq(100 * n + i) for i in range(20)))[0] for n in range(2)]
    assert _status(client, "c_warm", "hbc_wrong") == 401  # this client's count exists now
    runs = []
    for target in (real[0], "c_00000000000000000000", real[1], "c_11111111111111111111"):
        with _statements(services) as statements:
            assert _status(client, target, "hbc_wrong") == 401
        runs.append(statements)
    assert runs[0] == runs[1] == runs[2] == runs[3]
    assert not any("case_signals" in s for s in runs[0]), "hashes loaded before the key check"


def test_over_the_limit_nothing_more_is_written(client: TestClient, services: Services) -> None:
    case_id, _ = case(client, random_pdq(30))
    limit = services.settings.key_failures_allowed
    for _ in range(limit):
        _status(client, case_id, "hbc_wrong")
    with _statements(services) as statements:
        for _ in range(20):
            assert _status(client, case_id, "hbc_wrong") == 429
    writes = [s for s in statements if s.split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == []


def test_forwarded_for_counts_only_behind_a_trusted_proxy() -> None:
    none = TrustedProxies([])
    assert none.client("198.51.100.1", ["1.2.3.4"]) == "198.51.100.1"
    proxies = TrustedProxies(["10.0.0.0/8", "2001:db8::1"])
    assert proxies.client("198.51.100.1", ["1.2.3.4"]) == "198.51.100.1"  # not via a proxy
    # The client wrote "1.2.3.4" itself; the proxy appended the address it saw.
    assert proxies.client("10.0.0.1", ["1.2.3.4, 203.0.113.5"]) == "203.0.113.5"
    assert proxies.client("10.0.0.1", ["203.0.113.5, 10.1.1.1", "10.2.2.2"]) == "203.0.113.5"
    assert proxies.client("2001:db8::1", ["203.0.113.5"]) == "203.0.113.5"
    assert proxies.client("10.0.0.1", ["garbage"]) == "10.0.0.1"
    assert proxies.client("10.0.0.1", []) == "10.0.0.1"
    assert proxies.client(None, []) == "unknown"


def test_trusted_proxies_setting_is_checked(tmp_path: Path) -> None:
    assert make_settings(tmp_path, trusted_proxies="10.0.0.1, 10.1.0.0/16").trusted_proxies == [
        "10.0.0.1",
        "10.1.0.0/16",
    ]
    with pytest.raises(ValueError, match="not-an-address"):
        make_settings(tmp_path, trusted_proxies="not-an-address")


def test_partners_see_an_opaque_stable_reference_not_the_case_id(
    client: TestClient, services: Services
) -> None:
    value = random_pdq(40)
    case_id, key = case(client, value, random_pdq(41))
    sync = issue_key(services, "Partner", ("sync", "feedback"))
    first = client.get("/stopncii/v1/FetchHashes", headers=stopncii(sync)).json()
    refs = [set(r["caseNumbers"]) for r in first["hashRecords"]]
    assert refs[0] == refs[1], "stable: one reference for the case"
    (ref,) = refs[0]
    assert ref.startswith("r_")
    assert case_id not in repr(first)
    assert _status(client, ref, key) == 401, "a reference opens nothing"
    # Stable across workers: another app instance on the same database says the same.
    other = create_app(services.settings)
    with TestClient(other) as second:
        wait_ready(second)
        again = second.get("/stopncii/v1/FetchHashes", headers=stopncii(sync)).json()
    assert {r for rec in again["hashRecords"] for r in rec["caseNumbers"]} == {ref}


def test_access_log_lines_carry_no_case_id(caplog: pytest.LogCaptureFixture) -> None:
    assert redact_path("/v1/cases/c_0123456789abcdef0123") == "/v1/cases/{case_id}"
    assert redact_path("/v1/cases/c_0123/hashes?x=1") == "/v1/cases/{case_id}/hashes?x=1"
    assert redact_path("/v1/cases") == "/v1/cases"
    assert redact_path("/v1/match") == "/v1/match"
    logger = logging.getLogger("test.access")
    logger.addFilter(RedactCaseIds())
    with caplog.at_level(logging.INFO, logger="test.access"):
        args = ("127.0.0.1:5000", "GET", "/v1/cases/c_secretcaseid", "1.1", 200)
        logger.info('%s - "%s %s HTTP/%s" %d', *args)
    assert "c_secretcaseid" not in caplog.text
    assert "/v1/cases/{case_id}" in caplog.text
