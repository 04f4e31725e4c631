"""The write path keeps this worker's index fresh: no route calls the follower, no poll needed.

With the background poll slowed to an hour, every write that changes what
matches (a new case, added hashes, a withdrawal, a dispute from platforms'
feedback, its reinstatement) must reach this worker's index as soon as its
request returns, because the database tells the follower after each commit
that wrote the change log (`Database.after_change`).
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.api.deps import Services
from service.app import create_app
from tests.service.calls import case, match, report
from tests.service.conftest import issue_key, make_settings, random_pdq, wait_ready


@pytest.fixture
def slow_poll(tmp_path: Path) -> Iterator[tuple[TestClient, Services]]:
    app = create_app(make_settings(tmp_path / "data", sync_interval_seconds=3600))
    with TestClient(app) as client:
        wait_ready(client)
        yield client, app.state.services
    app.state.services.db.dispose()


def test_every_write_reaches_the_index_before_its_request_returns(
    slow_poll: tuple[TestClient, Services],
) -> None:
    client, services = slow_poll
    indexed = services.follower.indexes
    keys = [issue_key(services, f"Platform {n}") for n in "AB"]
    first, second, third = random_pdq(1), random_pdq(2), random_pdq(3)

    case_id, case_key = case(client, first)
    assert indexed.count("pdq") == 1
    added = client.post(
        f"/v1/cases/{case_id}/hashes",
        json={"hashes": [{"algorithm": "pdq", "hash": second}]},
        headers={"X-Case-Key": case_key},
    )
    assert added.status_code == 200
    assert indexed.count("pdq") == 2

    # Feedback that disputes a hash (two platforms: not violating) takes it out at once.
    for key in keys:
        (found,) = match(client, key, second)
        report(client, key, found["match_id"], "not_violating")
    assert indexed.count("pdq") == 1

    # A withdrawal empties it; a second case is matchable at once.
    assert (
        client.delete(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key}).status_code == 200
    )
    assert indexed.count("pdq") == 0
    case(client, third)
    assert indexed.count("pdq") == 1
    assert match(client, keys[0], third)


def test_a_failing_listener_never_fails_a_committed_write(
    slow_poll: tuple[TestClient, Services],
) -> None:
    client, services = slow_poll

    def broken() -> None:
        raise RuntimeError("the follower is away")

    services.db.after_change(broken)
    case_id, case_key = case(client, random_pdq(4))  # committed: 201, the poll catches up
    status = client.get(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key})
    assert status.status_code == 200
