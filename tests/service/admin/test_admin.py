"""`hashbank-admin`: platforms, keys (shown once), rebuild, stats, audit; every action audited."""

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from index import load_snapshot
from service.admin.cli import app as admin
from service.app import create_app
from service.store import schema
from tests.service.conftest import make_settings, random_pdq, settings_env, wait_ready

runner = CliRunner()


@pytest.fixture
def empty_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The settings point at a data folder with no database yet."""
    data = tmp_path / "data"
    for variable, setting in settings_env(data).items():
        monkeypatch.setenv(variable, setting)
    return data


@pytest.fixture
def data_dir(empty_dir: Path) -> Path:
    """A database made as an operator makes one: `hashbank-admin db upgrade`."""
    code, _, err = run("db", "upgrade")
    assert code == 0, err
    return empty_dir


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(admin, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_admin_never_makes_a_database_it_was_not_asked_to(empty_dir: Path) -> None:
    for command in (["platform", "add", "Example"], ["stats"], ["db", "current"]):
        code, _, err = run(*command)
        assert code == 1
        assert "no hashbank database at" in err
        assert "db upgrade" in err
    assert not (empty_dir / "hashbank.db").exists()
    code, out, err = run("db", "upgrade")
    assert code == 0, err
    assert f"at revision {schema.head()} (newest)" in out
    assert "database: " in err  # it says which database it opened
    assert run("db", "current")[1].strip() == f"revision {schema.head()}; newest {schema.head()}"
    assert run("platform", "add", "Example")[0] == 0
    assert run("db", "upgrade")[0] == 0  # again: nothing to do, nothing lost
    assert "Example" in run("platform", "list")[1]


def test_platform_and_key_lifecycle(data_dir: Path) -> None:
    assert run("platform", "add", "Example")[0] == 0
    code, _, err = run("platform", "add", "Example")
    assert code == 1
    assert "exists" in err
    code, out, err = run("key", "issue", "Example", "-s", "match", "-s", "sync")
    assert code == 0
    assert "shown only this once" in err
    key = out.strip()
    assert key.startswith("hbk_")
    assert key not in err
    code, out, _ = run("key", "list", "Example")
    assert code == 0
    assert "match sync" in out
    assert key not in out
    key_id = out.split("k_", 1)[1].split()[0]
    assert run("key", "revoke", f"k_{key_id}")[0] == 0
    listed = run("key", "list", "Example")[1]
    assert len(re.findall(r"\d{4}-\d\d-\d\dT", listed)) == 2  # created and revoked times
    code, _, err = run("key", "issue", "Example", "-s", "admin")
    assert code == 1
    assert "scopes must be" in err
    assert run("platform", "disable", "Example")[0] == 0
    code, out, _ = run("platform", "list")
    assert "disabled" in out
    code, _, err = run("platform", "disable", "Nobody")
    assert code == 1
    assert "no platform" in err


def test_rebuild_stats_and_audit(data_dir: Path) -> None:
    settings = make_settings(data_dir)
    app = create_app(settings)
    with TestClient(app) as client:
        wait_ready(client)
        services = app.state.services
        services.platforms.add("P")
        key = services.platforms.issue_key("P", ["match", "feedback"]).key
        value = random_pdq(1)
        created = client.post(
            "/v1/cases",
            json={
                "hashes": [
                    {"algorithm": "pdq", "hash": value},
                    {"algorithm": "pdq", "hash": random_pdq(2)},
                ]
            },
        )
        found = client.post(
            "/v1/match",
            headers={"X-API-Key": key},
            json={"items": [{"algorithm": "pdq", "hash": value}]},
        ).json()
        match_id = found["results"][0]["matches"][0]["match_id"]
        client.post(
            "/v1/feedback",
            headers={"X-API-Key": key},
            json={"match_id": match_id, "outcome": "removed"},
        )
        case_id = created.json()["case_id"]

    code, out, _ = run("rebuild-index")
    assert code == 0
    assert "2 hashes" in out
    index, seq = load_snapshot(settings.snapshot_dir / "pdq", "pdq", 256)
    assert len(index) == 2
    assert seq >= 2

    code, out, _ = run("stats", "--json")
    stats = json.loads(out)
    assert stats["cases_active"] == 1
    assert stats["hashes_by_state"] == {"active": 2}
    assert stats["matches"] == 1
    assert stats["removals"] == 1
    assert stats["median_hours_to_first_removal"] is not None
    assert 0 <= stats["median_hours_to_first_removal"] < 1

    code, out, _ = run("audit", "-n", "20")
    assert code == 0
    for action in ("case.create", "feedback.removed", "index.rebuild", "stats.read"):
        assert action in out
    assert case_id in out
    assert value not in out
    assert key not in out
