"""Group commit: many request threads' small inserts written in one transaction.

SQLite has one writer at a time, and a writer that finds the lock taken backs
off by sleeping, so one transaction per match request caps throughput and
stretches tail latency. Request threads hand their rows to one writer thread
per worker and wait until the transaction holding them has committed, so an
acknowledged match is always recorded.
"""

import queue
import threading
from concurrent.futures import Future

from service.db import Database
from service.models import Base


class GroupCommitter:
    def __init__(self, db: Database, durable: bool = False) -> None:
        self.db, self.durable = db, durable
        self._queue: queue.Queue[tuple[list[Base], Future[None]]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def write(self, rows: list[Base]) -> None:
        """Insert `rows`; returns once they are committed (raises if the commit failed)."""
        done: Future[None] = Future()
        self._ensure_thread()
        self._queue.put((rows, done))
        done.result()

    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="hashbank-writer", daemon=True
                    )
                    self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while True:  # everything that queued up while the last commit ran
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                with self.db.transaction(durable=self.durable) as session:
                    for rows, _ in batch:
                        session.add_all(rows)
            except Exception as exc:  # every waiter learns its rows were not written
                for _, done in batch:
                    done.set_exception(exc)
            else:
                for _, done in batch:
                    done.set_result(None)
