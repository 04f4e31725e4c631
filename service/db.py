"""Database engine and sessions: portable SQLAlchemy with SQLite made safe for several workers."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

_READ_ONLY = "hashbank_read_only"
_DURABLE = "hashbank_durable"


class Database:
    """Owns the engine; hands out one transaction at a time via `transaction()`."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.engine = _create_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @contextmanager
    def transaction(self, *, read_only: bool = False, durable: bool = True) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on any error.

        `durable=False` (match records only) lets SQLite commit without waiting
        for the disk: still safe against a process crash, not against power loss.
        """
        with self._sessions() as session, session.begin():
            session.connection(execution_options={_READ_ONLY: read_only, _DURABLE: durable})
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def _create_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite so BEGIN IMMEDIATE below works.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged case survives power loss
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # Writers take the lock up front: no deadlock-prone read-then-upgrade
        # between worker processes, and sequence numbers follow commit order.
        options = connection.get_execution_options()
        if not options.get(_READ_ONLY, False):
            durable = options.get(_DURABLE, True)
            connection.exec_driver_sql(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        connection.exec_driver_sql("BEGIN" if options.get(_READ_ONLY, False) else "BEGIN IMMEDIATE")

    return engine
