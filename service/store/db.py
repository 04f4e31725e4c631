"""Database engine and sessions: portable SQLAlchemy with SQLite made safe for several workers."""

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

_READ_ONLY = "hashbank_read_only"
_DURABLE = "hashbank_durable"
_CHANGED = "hashbank_changed"  # session.info flag: this transaction wrote the change log
_BUSY_TIMEOUT_MS = 30_000

log = logging.getLogger("hashbank.db")


class Database:
    """Owns the engine; hands out one transaction at a time via `transaction()`."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.engine = _create_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._relaxed_engine: Engine | None = None
        self._after_change: list[Callable[[], object]] = []
        self._relaxed = self._sessions
        self._single = self._sessions
        if not self.is_sqlite:
            # PostgreSQL: match records commit without waiting for the WAL flush, as
            # SQLite's synchronous=NORMAL does for them below (set once per connection,
            # so it costs no round trip per transaction) ...
            self._relaxed_engine = create_engine(
                url, connect_args={"options": "-c synchronous_commit=off"}, pool_size=2
            )
            self._relaxed = sessionmaker(self._relaxed_engine, expire_on_commit=False)
            # ... and a lone SELECT needs no BEGIN and COMMIT round trips around it.
            single = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            self._single = sessionmaker(single, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @contextmanager
    def transaction(self, *, read_only: bool = False, durable: bool = True) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on any error.

        `durable=False` (match records only) lets the database commit without
        waiting for the disk: SQLite's is still safe against a process crash, not
        against power loss; PostgreSQL's (`synchronous_commit=off`) may lose the
        last fraction of a second of such commits if the server crashes.
        """
        sessions = self._sessions if durable else self._relaxed
        with sessions() as session:
            with session.begin():
                session.connection(execution_options={_READ_ONLY: read_only, _DURABLE: durable})
                yield session
            if session.info.get(_CHANGED):
                self._changed()

    @staticmethod
    def mark_changed(session: Session) -> None:
        """Record that this transaction wrote the change log (`service.store.changes`)."""
        session.info[_CHANGED] = True

    def after_change(self, listener: Callable[[], object]) -> None:
        """Call `listener` after every commit that wrote the change log, in the writing thread.

        This is how the write path keeps the worker's own index fresh: the change
        follower listens, so a case is matchable here as soon as its request returns.
        """
        self._after_change.append(listener)

    def _changed(self) -> None:
        for listener in self._after_change:
            try:
                listener()
            except Exception as exc:  # committed already: the follower's poll catches up
                log.warning("after-change listener failed: %s", type(exc).__name__)

    @contextmanager
    def read_once(self) -> Iterator[Session]:
        """A session for one read-only statement, on the hot paths (API key checks, the
        change log). PostgreSQL runs it outside a transaction, saving two round trips;
        several statements in it would not share one snapshot."""
        with self._single() as session, session.begin():
            session.connection(execution_options={_READ_ONLY: True})
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        if self._relaxed_engine is not None:
            self._relaxed_engine.dispose()


def _create_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # No pool_pre_ping: it costs a round trip per transaction. A connection that
        # a database restart broke fails its one request (503, service.api.unhandled)
        # and SQLAlchemy then drops the whole pool.
        return create_engine(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": _BUSY_TIMEOUT_MS / 1000}
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite so BEGIN IMMEDIATE below works.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        _use_wal(cursor)
        cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged case survives power loss
        cursor.execute("PRAGMA foreign_keys=ON")
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


def _use_wal(cursor: Any) -> None:
    """Put the file in WAL mode (readers never block the writer), waiting out other openers.

    WAL is a property of the file, so only its first opener switches it. That
    switch needs the file to itself and SQLite may refuse it at once with "database
    is locked", busy timeout or not, while other processes open the same new file
    (N workers of M replicas starting together): so the switch is retried, for
    no longer than the busy timeout, instead of failing the worker's start.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
    pause = 0.01
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            if cursor.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal":
                return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
        if time.monotonic() > deadline:
            raise sqlite3.OperationalError("could not put the database in WAL mode: locked")
        time.sleep(pause)
        pause = min(pause * 2, 0.25)
