"""`hashbank-admin import` of a long list: bounded transactions, survivors' writes in between,
and nothing of the list left matching when writing fails part-way."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.store.cases import CaseRepository, NewCase
from service.store.db import Database
from service.store.models import Case, CaseSignal, Signal
from service.store.signals import SignalInput
from tests.service.conftest import issue_key, make_settings, random_pdq, settings_env
from tests.service.exchange.test_hashlist import create_case, matches, printed_case, run, serving


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The admin's database, made as an operator makes one."""
    folder = tmp_path / "data"
    for variable, setting in settings_env(folder).items():
        monkeypatch.setenv(variable, setting)
    code, _, err = run("db", "upgrade")
    assert code == 0, err
    return folder


@contextmanager
def opened(data: Path) -> Iterator[Database]:
    db = Database(make_settings(data).resolved_database_url)
    try:
        yield db
    finally:
        db.dispose()


def _listing(tmp_path: Path, values: list[str]) -> Path:
    listing = tmp_path / "list.txt"
    listing.write_text("".join(f"pdq {v}\n" for v in values))
    return listing


@contextmanager
def _counting_write_transactions(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many hashes each write transaction of the import links (new case links)."""
    sizes: list[int] = []
    original = Database.transaction

    def links(session: Session) -> int:
        return int(session.scalar(select(func.count()).select_from(CaseSignal)) or 0)

    @contextmanager
    def counted(
        self: Database, *, read_only: bool = False, durable: bool = True
    ) -> Iterator[Session]:
        with original(self, read_only=read_only, durable=durable) as session:
            before = links(session)
            yield session
            sizes.append(links(session) - before)

    monkeypatch.setattr(Database, "transaction", counted)
    yield sizes


def test_a_long_list_is_written_in_chunks_and_all_of_it_matches(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = [random_pdq(1000 + i) for i in range(53)]
    with _counting_write_transactions(monkeypatch) as sizes:
        code, out, err = run("import", str(_listing(tmp_path, values)), "--chunk", "10")
    assert code == 0, err
    case_id, _ = printed_case(out)
    linking = [n for n in sizes if n]
    assert linking == [10, 10, 10, 10, 10, 3]  # never more than a chunk per transaction
    with opened(data) as db, db.transaction(read_only=True) as session:
        case = session.scalars(select(Case).where(Case.public_id == case_id)).one()
        assert case.state == "active"
        assert len(case.links) == 53
        assert {link.signal.state for link in case.links} == {"active"}
    with serving(data) as (client, services):
        key = issue_key(services, "match")
        assert all(matches(client, key, v) == 1 for v in (values[0], values[25], values[52]))


def test_survivors_write_while_a_long_import_runs(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between two chunks of the import, another writer's case is created and committed."""
    values = [random_pdq(2000 + i) for i in range(30)]
    done: list[str] = []
    original = CaseRepository.create

    def create_then_let_a_survivor_in(
        self: CaseRepository, inputs: list[SignalInput], **kwargs: Any
    ) -> NewCase:
        created = original(self, inputs, **kwargs)
        with opened(data) as db:  # another connection, as another worker's would be

            def survivor() -> None:
                new = original(
                    CaseRepository(db), [SignalInput("pdq", bytes.fromhex(random_pdq(2999)))]
                )
                done.append(new.case_id)

            thread = threading.Thread(target=survivor)
            thread.start()
            thread.join(timeout=20)
        return created

    monkeypatch.setattr(CaseRepository, "create", create_then_let_a_survivor_in)
    code, _, err = run("import", str(_listing(tmp_path, values)), "--chunk", "10")
    assert code == 0, err
    assert len(done) == 1, "the survivor's case waited for the import"
    with opened(data) as db, db.transaction(read_only=True) as session:
        cases = session.scalars(select(Case).order_by(Case.id)).all()
        assert [len(c.links) for c in cases] == [30, 1]  # the import's chunks came after


def test_a_failure_part_way_leaves_nothing_of_the_list_matching(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    held_elsewhere = random_pdq(3000)
    values = [held_elsewhere, *(random_pdq(3001 + i) for i in range(24))]
    with serving(data) as (client, _):
        create_case(client, held_elsewhere)
    original = CaseRepository._append
    calls = 0

    def failing_append(session: object, case_id: str, inputs: list[object]) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError("disk full")
        original(session, case_id, inputs)  # type: ignore[arg-type]

    monkeypatch.setattr(CaseRepository, "_append", staticmethod(failing_append))
    code, out, err = run("import", str(_listing(tmp_path, values)), "--chunk", "10")
    assert code == 1
    assert "failed part-way (OSError)" in " ".join(err.split())
    assert "withdrawn again" in err
    # The key was shown as soon as the case existed: whoever imports always holds it.
    case_id, _ = printed_case(out)
    with opened(data) as db, db.transaction(read_only=True) as session:
        imported = session.scalars(select(Case).order_by(Case.id.desc())).first()
        assert imported is not None
        assert imported.public_id == case_id
        assert imported.state == "withdrawn"
        assert len(imported.links) == 20  # two chunks written, then withdrawn again
        states: dict[bytes, str] = dict(session.execute(select(Signal.value, Signal.state)).all())
    assert states.pop(bytes.fromhex(held_elsewhere)) == "active"  # another case holds it
    assert set(states.values()) == {"withdrawn"}
