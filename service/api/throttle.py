"""Limit wrong case keys per client address and per case, across every worker and replica.

Case keys carry 256 random bits, so guessing is hopeless anyway: the limit only
has to stop load and make abuse visible. It never refuses a right key: the key
is checked first, and only a wrong one is counted, so nobody can lock a survivor
out of her own case by sending wrong keys for it, from any number of addresses.
After `limit` wrong keys in a window from one client, or for one case, further
wrong keys get 429 with Retry-After instead of 401.

Counts live in the database (`KeyFailure`, a fixed window per scope) so the
limit holds across processes. Writes are bounded: a scope that is already over
its limit is only read, so a flood of wrong keys costs at most `limit` writes
per scope and window. Scopes are stored as SHA-256 digests, never as addresses
or case ids.
"""

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.store.credentials import hash_secret
from service.store.db import Database
from service.store.models import KeyFailure, utcnow


class FailureThrottle:
    def __init__(
        self,
        db: Database,
        limit: int,
        window_seconds: float,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db, self.limit, self.clock = db, limit, clock
        self.window = timedelta(seconds=window_seconds)

    def fail(self, *scopes: str) -> int | None:
        """Count one wrong key against each scope. Seconds until the caller may try
        again if one of them was already over its limit, else None."""
        digests = sorted({hash_secret(f"throttle:{scope}") for scope in scopes})
        now = self.clock()
        with self.db.transaction(read_only=True) as session:
            rows = self._rows(session, digests)
        if len(rows) == len(digests) and all(self._over(row, now) for row in rows.values()):
            return self._wait(rows.values(), now)  # nothing left to count: no write
        for attempt in range(2):
            try:
                return self._count(digests, now)
            except IntegrityError:
                if attempt:  # two writers created the same scope row at once: count again
                    raise
        return None  # pragma: no cover - the loop returns or raises

    def _count(self, digests: list[str], now: datetime) -> int | None:
        # Not fsynced: a count lost to a power cut only gives a guesser a few more tries.
        with self.db.transaction(durable=False) as session:
            rows = self._rows(session, digests)
            wait = self._wait(rows.values(), now)
            for digest in digests:
                row = rows.get(digest)
                if row is None:
                    session.add(KeyFailure(scope=digest, window_start=now, failures=1))
                elif row.window_start <= now - self.window:
                    row.window_start, row.failures = now, 1
                elif row.failures < self.limit:
                    row.failures += 1
            # Expired windows are dropped as new ones are written: the table stays small.
            session.execute(delete(KeyFailure).where(KeyFailure.window_start <= now - self.window))
        return wait

    @staticmethod
    def _rows(session: Session, digests: list[str]) -> dict[str, KeyFailure]:
        found = session.scalars(select(KeyFailure).where(KeyFailure.scope.in_(digests)))
        return {row.scope: row for row in found}

    def _over(self, row: KeyFailure, now: datetime) -> bool:
        return row.window_start > now - self.window and row.failures >= self.limit

    def _wait(self, rows: Iterable[KeyFailure], now: datetime) -> int | None:
        waits = [
            max(1, int((row.window_start + self.window - now).total_seconds()))
            for row in rows
            if self._over(row, now)
        ]
        return max(waits) if waits else None
