"""Wake a worker when another replica commits a change: PostgreSQL LISTEN/NOTIFY.

Migration 0003 makes every commit that appends to the change log send NOTIFY
on `hashbank_changes`. `ChangeListener.wait(timeout)` blocks until such a
notification arrives or the timeout passes, so the change follower
(`service.live.follower`) applies other replicas' writes within milliseconds while
still polling every interval: a notification lost with a dropped connection
costs at most one interval, never a change (the log itself is what is applied).

It holds one connection of its own, outside the SQLAlchemy pool (a LISTEN
lives as long as its session), and reconnects after any failure.
"""

import logging
import time

import psycopg
from sqlalchemy.engine import URL

log = logging.getLogger("hashbank.sync")
CHANNEL = "hashbank_changes"


class ChangeListener:
    def __init__(self, url: URL) -> None:
        # libpq takes the same URL without SQLAlchemy's "+driver" part.
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None

    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds; True if a change was notified meanwhile."""
        deadline = time.monotonic() + timeout
        try:
            connection = self._connect()
            notified = False
            for _ in connection.notifies(timeout=timeout, stop_after=1):
                notified = True
            # Several commits may have notified at once: take them all now.
            for _ in connection.notifies(timeout=0):
                notified = True
            return notified
        except psycopg.Error as exc:
            log.warning("change notifications lost (%s); polling meanwhile", type(exc).__name__)
            self.close()
            time.sleep(max(0.0, deadline - time.monotonic()))
            return False

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None

    def _connect(self) -> "psycopg.Connection[tuple[object, ...]]":
        if self._connection is None or self._connection.closed:
            connection = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5)
            connection.execute(f"LISTEN {CHANNEL}")
            self._connection = connection
        return self._connection
