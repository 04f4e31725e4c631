"""Migrations: a 0.1 database upgrades keeping its data, the newest revision is what the
models say, and several processes starting together on an empty database all come up."""

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from service.store import schema
from service.store.db import Database
from service.store.models import Base
from tests import databases

DATA = Path(__file__).parent / "data"


def _database(data_dir: Path) -> Database:
    url = databases.database_url(data_dir) or f"sqlite:///{data_dir / 'hashbank.db'}"
    data_dir.mkdir(parents=True, exist_ok=True)
    return Database(url)


def _run_sql(db: Database, script: str) -> None:
    code = "\n".join(line for line in script.splitlines() if not line.startswith("--"))
    with db.engine.begin() as connection:
        for statement in code.split(";"):
            if statement.strip():
                connection.exec_driver_sql(statement)


def test_a_database_made_by_0_1_upgrades_and_keeps_its_data(tmp_path: Path) -> None:
    db = _database(tmp_path / "data")
    try:
        dialect = "postgresql" if databases.backend() == "postgresql" else "sqlite"
        _run_sql(db, (DATA / f"schema-0.1.{dialect}.sql").read_text())
        at = datetime(2026, 11, 30, tzinfo=UTC)
        with db.engine.begin() as c:
            c.execute(text("INSERT INTO counters (name, value) VALUES ('changes', 3)"))
            c.execute(
                text(
                    "INSERT INTO cases (id, public_id, key_hash, state, created_at) "
                    "VALUES (1, 'c_old', :k, 'active', :at)"
                ),
                {"k": "ab" * 32, "at": at},
            )
            for n, state in enumerate(("active", "disputed", "retired"), start=1):
                c.execute(
                    text(
                        "INSERT INTO signals (id, algorithm, value, quality, state, created_at, "
                        "updated_at) VALUES (:id, 'pdq', :v, 90, :s, :at, :at)"
                    ),
                    {"id": n, "v": bytes([n]) * 32, "s": state, "at": at},
                )
                c.execute(
                    text(
                        "INSERT INTO case_signals (case_id, signal_id, state, added_at, image) "
                        "VALUES (1, :id, 'active', :at, 0)"
                    ),
                    {"id": n, "at": at},
                )
        assert schema.current(db) is None
        schema.upgrade(db)
        assert schema.current(db) == schema.head()
        with db.engine.connect() as c:
            assert c.execute(text("SELECT value FROM counters")).scalar_one() == 3
            assert c.execute(text("SELECT public_id FROM cases")).scalar_one() == "c_old"
            assert c.execute(text("SELECT count(*) FROM case_signals")).scalar_one() == 3
            states: dict[int, str] = dict(c.execute(text("SELECT id, state FROM signals")).all())
            assert states == {1: "active", 2: "disputed", 3: "retired"}
            # Suspended in 0.1, suspended still: each has a dispute of its own now.
            disputes: dict[int, str] = dict(
                c.execute(text("SELECT signal_id, state FROM disputes")).all()
            )
            assert disputes == {2: "open", 3: "retired"}
            secret = c.execute(text("SELECT value FROM service_secrets")).scalar_one()
            assert len(secret) == 32
        schema.upgrade(db)  # again: nothing to do, nothing changed
        with db.engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM disputes")).scalar_one() == 2
    finally:
        db.dispose()


def test_the_newest_revision_is_what_the_models_say(tmp_path: Path) -> None:
    db = _database(tmp_path / "data")
    try:
        schema.upgrade(db)
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            counters = connection.execute(text("SELECT name, value FROM counters")).all()
            assert [tuple(row) for row in counters] == [("changes", 0)]
    finally:
        db.dispose()


def test_processes_starting_together_on_an_empty_database_all_come_up(tmp_path: Path) -> None:
    db = _database(tmp_path / "data")
    url = db.url.render_as_string(hide_password=False)
    program = (
        "import sys; from service.store import schema; from service.store.db import Database; "
        "db = Database(sys.argv[1]); schema.upgrade(db); db.dispose(); print(schema.head())"
    )
    try:
        starts = [
            subprocess.Popen(
                [sys.executable, "-c", program, url],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        results = [p.communicate(timeout=120) for p in starts]
        assert [p.returncode for p in starts] == [0] * 4, [err for _, err in results]
        assert schema.current(db) == schema.head()
    finally:
        db.dispose()


def test_0005_announces_the_videos_stored_before_it_to_the_feed(tmp_path: Path) -> None:
    db = _database(tmp_path / "data")
    try:
        schema.upgrade(db, "0004")
        at = datetime(2026, 12, 3, tzinfo=UTC)
        with db.engine.begin() as c:
            for case_id, state in ((1, "active"), (2, "withdrawn")):
                c.execute(
                    text(
                        "INSERT INTO cases (id, public_id, key_hash, state, created_at) "
                        "VALUES (:id, :p, :k, :s, :at)"
                    ),
                    {"id": case_id, "p": f"c_{case_id}", "k": "ab" * 32, "s": state, "at": at},
                )
            # Case 1: a video (two frames and its MD5) and a photo; case 2, withdrawn: a video.
            hashes = [
                (1, "vpdq", 0, 2.0, 1),
                (2, "vpdq", 0, 1.0, 1),
                (3, "md5", 0, None, 1),
                (4, "pdq", 1, None, 1),
                (5, "vpdq", 0, 0.0, 2),
            ]
            for signal_id, algorithm, image, timestamp, case_id in hashes:
                state = "active" if case_id == 1 else "withdrawn"
                c.execute(
                    text(
                        "INSERT INTO signals (id, algorithm, value, quality, state, created_at, "
                        "updated_at) VALUES (:id, :a, :v, 90, :s, :at, :at)"
                    ),
                    {
                        "id": signal_id,
                        "a": algorithm,
                        "v": bytes([signal_id]) * 32,
                        "s": state,
                        "at": at,
                    },
                )
                c.execute(
                    text(
                        "INSERT INTO case_signals (case_id, signal_id, state, added_at, image, "
                        "timestamp) VALUES (:c, :id, :s, :at, :image, :t)"
                    ),
                    {
                        "c": case_id,
                        "id": signal_id,
                        "s": state,
                        "at": at,
                        "image": image,
                        "t": timestamp,
                    },
                )
            c.execute(text("UPDATE counters SET value = 7"))
        schema.upgrade(db)
        with db.engine.connect() as c:
            rows = c.execute(
                text("SELECT seq, signal_id, op, case_id, item_op FROM changes ORDER BY seq")
            ).all()
            counter = c.execute(text("SELECT value FROM counters")).scalar_one()
        # Case 1's video only: its MD5, then its frames in time order, after the log's end.
        assert [tuple(r) for r in rows] == [
            (8, 3, "item", 1, "add"),
            (9, 2, "item", 1, "add"),
            (10, 1, "item", 1, "add"),
        ]
        assert counter == 10
    finally:
        db.dispose()
