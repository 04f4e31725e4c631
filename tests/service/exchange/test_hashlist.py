"""`hashbank-admin export` / `import`: python-threatexchange's file format, round trips, safety."""

import os
import re
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from threatexchange.exchanges.fetch_state import FetchedSignalMetadata
from threatexchange.exchanges.impl.file_api import (
    FileCollaborationConfig,
    LocalFileSignalExchangeAPI,
)
from threatexchange.signal_type.pdq.signal import PdqSignal
from typer.testing import CliRunner

from service.admin.cli import app as admin
from service.api.deps import Services
from service.app import create_app
from service.store import schema
from service.store.db import Database
from service.store.models import AuditEvent, Case, CaseSignal, Change, Dispute, Signal, utcnow
from tests.service.conftest import issue_key, make_settings, random_pdq, settings_env, wait_ready

runner = CliRunner()
PHASH = "aca29c1c33dc23d7"


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(admin, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def flat(text: str) -> str:
    """Messages with rich's line wrapping undone."""
    return " ".join(text.split())


UseData = Callable[[str], Path]


@pytest.fixture
def use_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> UseData:
    """`use_data("a")` points hashbank-admin at its own fresh database under tmp_path,
    made as an operator makes one (`hashbank-admin db upgrade`)."""

    def select_dir(name: str) -> Path:
        data = tmp_path / name
        for variable, setting in settings_env(data).items():
            monkeypatch.setenv(variable, setting)
        code, _, err = run("db", "upgrade")
        assert code == 0, err
        return data

    return select_dir


@contextmanager
def serving(data: Path) -> Iterator[tuple[TestClient, Services]]:
    app = create_app(make_settings(data))
    with TestClient(app) as client:
        wait_ready(client)
        yield client, app.state.services


def create_case(client: TestClient, *hashes: str, algorithm: str = "pdq") -> tuple[str, str]:
    response = client.post(
        "/v1/cases", json={"hashes": [{"algorithm": algorithm, "hash": h} for h in hashes]}
    )
    assert response.status_code == 201, response.text
    return response.json()["case_id"], response.json()["case_key"]


def matches(client: TestClient, key: str, value: str) -> int:
    response = client.post(
        "/v1/match",
        headers={"X-API-Key": key},
        json={"items": [{"algorithm": "pdq", "hash": value}]},
    )
    assert response.status_code == 200, response.text
    return len(response.json()["results"][0]["matches"])


def printed_case(out: str) -> tuple[str, str]:
    found = re.fullmatch(r"case id:  (c_\S+)\ncase key: (hbc_\S+)\n", out)
    assert found is not None, out
    return found[1], found[2]


_opened: list[Database] = []  # closed after each test by `_close_databases`


@pytest.fixture(autouse=True)
def _close_databases() -> Iterator[None]:
    yield
    while _opened:
        _opened.pop().dispose()


def db_for(data: Path) -> Database:
    """The test's own view of the database behind `data` (closed when the test ends)."""
    db = Database(make_settings(data).resolved_database_url)
    _opened.append(db)
    schema.upgrade(db)
    return db


def count(db: Database, model: type) -> int:
    with db.transaction(read_only=True) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def audit_events(db: Database) -> list[tuple[str, str, dict[str, object]]]:
    with db.transaction(read_only=True) as session:
        return [(e.actor, e.action, e.detail) for e in session.scalars(select(AuditEvent))]


def test_export_import_round_trip_into_a_fresh_database(use_data: UseData, tmp_path: Path) -> None:
    pdq = sorted(random_pdq(i) for i in range(1, 6))
    source = use_data("source")
    with serving(source) as (client, _):
        create_case(client, pdq[0], pdq[1], pdq[2])
        create_case(client, pdq[2], pdq[3], pdq[4])  # pdq[2] is held by both cases
        create_case(client, PHASH, algorithm="phash")

    exported = tmp_path / "hashes.txt"
    exported.write_text("stale\n")
    exported.chmod(0o644)
    code, out, _ = run("export", str(exported))
    assert code == 0
    assert "5 active hashes (pdq, video_md5) written" in flat(out)
    assert "1 active hashes of other algorithms skipped" in flat(out)
    assert exported.read_text() == "".join(f"pdq {h}\n" for h in pdq)
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600  # replaced, not rewritten in place
    assert [n for n in os.listdir(tmp_path) if n.startswith(".")] == []  # no temporary file left

    fresh = use_data("fresh")
    code, out, err = run("import", str(exported))
    assert code == 0, err
    case_id, case_key = printed_case(out)
    assert "5 new" in flat(err)
    again = tmp_path / "again.txt"
    assert run("export", str(again))[0] == 0
    assert again.read_bytes() == exported.read_bytes()

    with serving(fresh) as (client, services):
        key = issue_key(services)
        assert all(matches(client, key, h) == 1 for h in pdq)
        # The printed key withdraws the imported list like any case.
        withdrawn = client.delete(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key})
        assert withdrawn.status_code == 200, withdrawn.text
        assert {h["state"] for h in withdrawn.json()["hashes"]} == {"withdrawn"}
        assert all(matches(client, key, h) == 0 for h in pdq)
    code, out, _ = run("export", "-")
    assert code == 0
    assert out == ""


def test_only_active_hashes_are_exported(use_data: UseData, tmp_path: Path) -> None:
    withdrawn, kept, disputed, retired = (random_pdq(i) for i in range(10, 14))
    data = use_data("data")
    with serving(data) as (client, _):
        case_id, case_key = create_case(client, withdrawn)
        create_case(client, kept, disputed, retired)
        assert client.delete(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key}).is_success
    with db_for(data).transaction() as session:
        for value, state in ((disputed, "disputed"), (retired, "retired")):
            session.execute(
                update(Signal).where(Signal.value == bytes.fromhex(value)).values(state=state)
            )

    code, out, err = run("export", "-")
    assert code == 0
    assert out == f"pdq {kept}\n"  # the list alone on stdout, the summary on stderr
    assert "1 active hashes (pdq, video_md5) written to standard output" in flat(err)


def test_python_threatexchange_reads_the_export(use_data: UseData, tmp_path: Path) -> None:
    pdq = [random_pdq(i) for i in range(20, 24)]
    with serving(use_data("data")) as (client, _):
        create_case(client, *pdq)
    exported = tmp_path / "hashes.txt"
    assert run("export", str(exported))[0] == 0

    collab = FileCollaborationConfig(name="hashbank", filename=str(exported))
    api = LocalFileSignalExchangeAPI.for_collab(collab)
    merged: dict[tuple[str, str], FetchedSignalMetadata] = {}
    for delta in api.fetch_iter([PdqSignal], None):
        LocalFileSignalExchangeAPI.naive_fetch_merge(merged, delta.updates)
    assert sorted(merged) == sorted(("pdq", h) for h in pdq)
    by_type = LocalFileSignalExchangeAPI.naive_convert_to_signal_type([PdqSignal], collab, merged)
    assert sorted(by_type[PdqSignal]) == sorted(pdq)


BAD_FILES = {
    "wrong length": ("pdq {good}\npdq {short}\n", [], "line 2: pdq hash must be 64 hex digits"),
    "unknown type": ("pdq {good}\nmd5 {good}\n", [], "line 2: unknown signal type 'md5'"),
    "upper-case type": ("\nPDQ {good}\n", [], "line 2: unknown signal type 'PDQ'"),
    "bare hex": ("pdq {good}\n{other}\n", [], "line 2: no signal type"),
    "two spaces": ("pdq {good}\npdq  {other}\n", [], "line 2: expected the signal type, exactly"),
    "trailing text": ("pdq {good}\npdq {other} x\n", [], "line 2: expected the signal type"),
    "bad --signal-type": ("{good}\n", ["--signal-type", "PDQ"], "--signal-type: unknown signal"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_line_imports_nothing(use_data: UseData, tmp_path: Path, case: str) -> None:
    template, options, message = BAD_FILES[case]
    good, other = random_pdq(30), random_pdq(31)
    listing = tmp_path / "list.txt"
    listing.write_text(template.format(good=good, other=other, short=other[:-1]))
    data = use_data("data")

    code, out, err = run("import", str(listing), *options)
    assert code == 1
    assert message in flat(err)
    assert "nothing imported" in err
    assert out == ""
    assert good not in err
    assert other[:-1] not in err
    db = db_for(data)
    assert [count(db, m) for m in (Case, Signal, CaseSignal, Change)] == [0, 0, 0, 0]
    assert audit_events(db) == []


def test_bare_hashes_with_signal_type_blank_lines_and_stdin(use_data: UseData) -> None:
    pdq = [random_pdq(i) for i in range(40, 43)]
    data = use_data("data")
    code, out, err = run(
        "import", "-", "--signal-type", "pdq", stdin=f"\n{pdq[0]}\n\n  pdq {pdq[1]}  \r\n{pdq[2]}"
    )
    assert code == 0, err
    printed_case(out)
    assert "imported 3 hashes from 3 lines" in flat(err)
    assert count(db_for(data), Signal) == 3
    code, _, err = run("import", "-", stdin="\n \n")
    assert code == 1
    assert "no hashes" in err


def test_import_folds_reactivates_links_and_is_audited(
    use_data: UseData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    withdrawn, active, new, disputed = (random_pdq(i) for i in range(50, 54))
    data = use_data("data")
    with serving(data) as (client, _):
        case_id, case_key = create_case(client, withdrawn)
        assert client.delete(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key}).is_success
        create_case(client, active, disputed)
    with db_for(data).transaction() as session:  # as an open dispute leaves it
        signal = session.scalar(select(Signal).where(Signal.value == bytes.fromhex(disputed)))
        assert signal is not None
        signal.state = "disputed"
        session.add(Dispute(signal_id=signal.id, state="open", opened_at=utcnow()))
    listing = tmp_path / "list.txt"
    listing.write_text(
        f"pdq {withdrawn}\npdq {active}\npdq {new}\n\npdq {new.upper()}\npdq {disputed}\n"
    )
    # The survivors' per-case limit does not apply to an operator's import.
    monkeypatch.setenv("HASHBANK_MAX_HASHES_PER_CASE", "2")

    code, out, err = run("import", str(listing))
    assert code == 0, err
    imported_id, imported_key = printed_case(out)
    summary = flat(err)
    assert "imported 4 hashes from 5 lines (1 duplicates folded)" in summary
    assert "1 new, 1 already active, 1 reactivated, 1 disputed or retired" in summary

    db = db_for(data)
    with db.transaction(read_only=True) as session:
        states = dict(session.execute(select(Signal.value, Signal.state)).all())
        case = session.scalar(select(Case).where(Case.public_id == imported_id))
        assert case is not None
        assert imported_key not in case.key_hash  # only a hash of the key is kept
        assert len(case.links) == 4
    # An import does not revive a hash that platforms' reports suspended.
    assert states == {
        **{bytes.fromhex(h): "active" for h in (withdrawn, active, new)},
        bytes.fromhex(disputed): "disputed",
    }

    events = audit_events(db)
    assert ("admin", "import") in [(actor, action) for actor, action, _ in events]
    (created,) = [d for actor, action, d in events if actor == "admin" and action == "case.create"]
    assert created == {"hashes": 4, "origin": "import"}
    (imported,) = [d for _, action, d in events if action == "import"]
    assert imported == {
        "case": imported_id,
        "lines": 5,
        "hashes": 4,
        "new": 1,
        "already_active": 1,
        "reactivated": 1,
        "not_matching": 1,
    }
    assert run("export", str(tmp_path / "out.txt"))[0] == 0
    (exported,) = [d for _, action, d in audit_events(db) if action == "export"]
    assert exported["hashes"] == 3  # the withdrawn hash is active again, held by the import
    code, log, _ = run("audit", "-n", "100")
    assert code == 0
    for secret in (withdrawn, active, new, new.upper(), disputed, imported_key):
        assert secret not in log
        assert all(secret not in str(d) for _, _, d in audit_events(db))
