"""Disputes: platforms' reports suspend a picture's hashes in the case that submitted them,
and never a hash that another case holds in an undisputed picture."""

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.admin.cli import app as admin_app
from service.api.deps import Services
from service.failures import Conflict
from service.settings import Settings
from service.store.disputes import DisputeRepository
from tests.service.calls import case, case_of_images, feed, match, report, stopncii
from tests.service.conftest import issue_key, random_pdq, settings_env


def _states(client: TestClient, case_id: str, case_key: str) -> dict[str, str]:
    r = client.get(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key})
    assert r.status_code == 200, r.text
    return {h["hash"]: h["state"] for h in r.json()["hashes"]}


def _wait_matching(client: TestClient, key: str, values: list[str], timeout: float = 2) -> None:
    """Written outside this worker's request path: its index follows within a poll."""
    deadline = time.monotonic() + timeout
    while not all(match(client, key, v) for v in values):
        assert time.monotonic() < deadline, "not all matching again"
        time.sleep(0.02)


def test_dispute_suspends_a_hash_until_an_operator_decides(
    client: TestClient, services: Services, settings: Settings, monkeypatch: Any
) -> None:
    value = random_pdq(10)
    case_id, case_key = case(client, value)
    keys = [issue_key(services, f"Platform {n}") for n in "ABC"]

    # One platform's "not violating" is not enough (default: 2 platforms).
    first = match(client, keys[0], value)
    report(client, keys[0], first[0]["match_id"], "not_violating")
    second = match(client, keys[1], value)
    assert second, "still matching after one report"
    report(client, keys[1], second[0]["match_id"], "not_violating")

    # Two platforms: suspended at once, for every platform.
    assert match(client, keys[2], value) == []
    status = client.get(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key}).json()
    assert status["hashes"][0]["state"] == "disputed"
    last = feed(client, keys[0])["changes"][-1]
    assert (last["hash"], last["action"], last["state"]) == (value, "remove", "disputed")
    fetched = client.get("/stopncii/v1/FetchHashes", headers=stopncii(keys[0])).json()
    assert [(r["hashValue"], r["hashStatus"]) for r in fetched["hashRecords"]] == [
        (value, "Deleted")
    ]
    assert {
        (f["source"], f["feedbackValue"]) for f in fetched["hashRecords"][0]["CSPFeedbacks"]
    } == {
        ("Platform A", "NotBlocked"),
        ("Platform B", "NotBlocked"),
    }

    for variable, setting in settings_env(settings.data_dir).items():
        monkeypatch.setenv(variable, setting)
    runner = CliRunner()
    listed = runner.invoke(admin_app, ["dispute", "list"])
    assert listed.exit_code == 0, listed.output
    assert "Platform A" in listed.output
    assert "Platform B" in listed.output
    assert value not in listed.output  # only a prefix unless --show-hash
    signal_id = next(
        line.split("│")[1].strip() for line in listed.output.splitlines() if "pdq" in line
    )

    reinstated = runner.invoke(admin_app, ["dispute", "reinstate", signal_id])
    assert reinstated.exit_code == 0, reinstated.output
    # Written by another process (the admin tool): the index follows within the poll interval.
    deadline = time.monotonic() + 1
    while not (third := match(client, keys[2], value)):
        assert time.monotonic() < deadline, "never matched again after reinstatement"
        time.sleep(0.02)
    # Reports made before the reinstatement no longer count: one new one is not enough.
    report(client, keys[2], third[0]["match_id"], "not_violating")
    assert match(client, keys[0], value)

    # A second platform again: disputed again; this time retired for good.
    again = match(client, keys[1], value)
    report(client, keys[1], again[0]["match_id"], "not_violating")
    assert match(client, keys[0], value) == []
    retired = runner.invoke(admin_app, ["dispute", "retire", signal_id])
    assert retired.exit_code == 0, retired.output
    case(client, value)  # resubmitting does not bring a retired hash back
    assert match(client, keys[0], value) == []
    assert runner.invoke(admin_app, ["dispute", "retire", signal_id]).exit_code == 1

    audit = runner.invoke(admin_app, ["audit", "-n", "100"])
    for action in ("signal.dispute", "signal.reinstate", "signal.retire"):
        assert action in audit.output
    assert value not in audit.output


def test_a_removal_report_prevents_a_dispute(client: TestClient, services: Services) -> None:
    value = random_pdq(11)
    case(client, value)
    keys = [issue_key(services, f"Platform {n}") for n in "ABC"]
    removed = match(client, keys[0], value)
    report(client, keys[0], removed[0]["match_id"], "removed")
    for key in keys[1:]:
        found = match(client, key, value)
        report(client, key, found[0]["match_id"], "not_violating")
    assert match(client, keys[0], value), "one platform removed it: still matching"


def test_a_dispute_suspends_the_picture_only_in_the_cases_holding_it(
    client: TestClient, services: Services
) -> None:
    """The policy sends several hashes per image: a dispute is about the picture, as each
    case holding the disputed hash submitted it, and goes no further."""
    a, b, c, d = ([random_pdq(100 + 10 * g + i) for i in range(3)] for g in range(4))
    case_id, case_key = case_of_images(client, a, b)
    # Added later: the request's image 0 is the case's image 2.
    added = client.post(
        f"/v1/cases/{case_id}/hashes",
        json={"hashes": [{"algorithm": "pdq", "hash": v, "image": 0} for v in c]},
        headers={"X-Case-Key": case_key},
    )
    assert added.status_code == 200, added.text
    # Another survivor's picture has one hash in common with the first one (a[1]).
    other_id, other_key = case_of_images(client, [a[1], *d])
    keys = [issue_key(services, f"Platform {n}") for n in "ABC"]
    for key in keys[:2]:
        report(client, key, match(client, key, a[0])[0]["match_id"], "not_violating")

    # a[0] and a[2] are held only in the disputed picture: they stop matching.
    assert all(match(client, keys[2], v) == [] for v in (a[0], a[2]))
    # a[1] is also in the other survivor's undisputed picture: it keeps matching.
    assert all(match(client, keys[2], v) for v in [a[1], *b, *c, *d])
    assert _states(client, case_id, case_key) == {
        **dict.fromkeys(a, "disputed"),  # this case's picture, as this case sees it
        **dict.fromkeys([*b, *c], "active"),
    }
    assert set(_states(client, other_id, other_key).values()) == {"active"}
    removed = {ch["hash"] for ch in feed(client, keys[0])["changes"] if ch["action"] == "remove"}
    assert removed == {a[0], a[2]}

    disputes = DisputeRepository(services.db)
    listed = {x.hash: x for x in disputes.list()}
    assert set(listed) == {a[0], a[2]}
    assert listed[a[0]].via == []
    assert listed[a[0]].reports == {"Platform A": "not_violating", "Platform B": "not_violating"}
    assert listed[a[2]].via == [listed[a[0]].signal_id]
    env = {**settings_env(services.settings.data_dir), "COLUMNS": "250"}
    listed_cli = CliRunner().invoke(admin_app, ["dispute", "list"], env=env)
    assert listed_cli.exit_code == 0, listed_cli.output
    rows = [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in listed_cli.output.splitlines()
        if "pdq" in line
    ]
    by_id = {row[0]: row for row in rows}
    direct, sibling = by_id[str(listed[a[0]].signal_id)], by_id[str(listed[a[2]].signal_id)]
    assert direct[4:6] == ["Platform A: not_violating, Platform B: not_violating", "-"]
    assert sibling[5] == str(listed[a[0]].signal_id)  # via: the dispute that carried it
    with pytest.raises(Conflict) as refused:
        disputes.reinstate(listed[a[2]].signal_id)  # a sibling: decide on its dispute
    assert refused.value.code == "sibling_of_dispute"
    assert disputes.reinstate(listed[a[0]].signal_id) == "active"
    assert disputes.list() == []
    _wait_matching(client, keys[2], a)

    # The other picture disputed through d[0], and retired: a[1] stays matching through
    # the first case's picture, which nothing disputes any more.
    for key in keys[:2]:
        report(client, key, match(client, key, d[0])[0]["match_id"], "not_violating")
    assert {x.hash for x in disputes.list()} == {d[0], d[1], d[2]}
    disputes.retire(next(x.signal_id for x in disputes.list() if x.hash == d[0]))
    assert all(match(client, keys[2], v) == [] for v in d)
    assert all(match(client, keys[2], v) for v in [*a, *b, *c])
    assert _states(client, other_id, other_key) == {
        a[1]: "retired",
        **dict.fromkeys(d, "retired"),
    }
    assert disputes.list() == []  # retired hashes wait for nobody

    # A retired hash never comes back; its siblings come back with any new holder.
    third_id, third_key = case(client, d[0], d[1])
    assert match(client, keys[2], d[0]) == []
    assert match(client, keys[2], d[1])
    assert _states(client, third_id, third_key) == {d[0]: "retired", d[1]: "active"}


def test_a_harmless_hash_cannot_take_a_victims_hash_down_with_it(
    client: TestClient, services: Services
) -> None:
    """The attack: a case pairs a harmless picture's hash with a victim's hash as one
    image; platforms honestly report the harmless one as not violating."""
    victim = [random_pdq(300 + i) for i in range(3)]
    victim_id, victim_key = case_of_images(client, victim)
    harmless = random_pdq(310)
    case_of_images(client, [harmless, victim[0]])
    keys = [issue_key(services, f"Platform {n}") for n in "ABC"]
    for key in keys[:2]:
        report(client, key, match(client, key, harmless)[0]["match_id"], "not_violating")

    assert match(client, keys[2], harmless) == []
    assert all(match(client, keys[2], v) for v in victim), "the victim's hashes still match"
    assert set(_states(client, victim_id, victim_key).values()) == {"active"}
    changes = feed(client, keys[0])["changes"]
    assert {ch["hash"] for ch in changes if ch["action"] == "remove"} == {harmless}
    fetched = client.get("/stopncii/v1/FetchHashes", headers=stopncii(keys[0])).json()
    status = {r["hashValue"]: r["hashStatus"] for r in fetched["hashRecords"]}
    assert status == {harmless: "Deleted", **dict.fromkeys(victim, "Active")}


def test_one_platform_counts_once_however_many_reports_or_keys(
    client: TestClient, services: Services
) -> None:
    value = random_pdq(320)
    case_id, case_key = case(client, value)
    first = issue_key(services, "Flooder")
    second = issue_key(services, "Flooder")  # a second key of the same platform
    assert first != second
    for key in [first, second] * 10:
        report(client, key, match(client, key, value)[0]["match_id"], "not_violating")
    stopncii_body = {"hashFeedbacks": [{"hashValue": value, "feedbackValue": "NotBlocked"}] * 50}
    r = client.post("/stopncii/v1/SubmitFeedback", json=stopncii_body, headers=stopncii(first))
    assert r.status_code == 200, r.text
    assert match(client, issue_key(services, "Other"), value), "one platform is not a dispute"
    assert _states(client, case_id, case_key) == {value: "active"}
    assert DisputeRepository(services.db).list() == []
