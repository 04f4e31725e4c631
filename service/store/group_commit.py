"""Group commit: many request threads' small writes done in one transaction.

SQLite has one writer at a time, and a writer that finds the lock taken backs
off by sleeping, so one transaction per match request caps throughput and
stretches tail latency. Request threads hand their work (a function of the
session) to one writer thread per worker and wait until the transaction that
ran it has committed, so an acknowledged match is always recorded.
"""

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from service.store.db import Database

T = TypeVar("T")


class GroupCommitter:
    def __init__(self, db: Database, durable: bool = False) -> None:
        self.db, self.durable = db, durable
        self._queue: queue.Queue[tuple[Callable[[Session], Any], Future[Any]]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def run(self, work: Callable[[Session], T]) -> T:
        """Run `work` in the next group transaction; its result once that has committed.

        If the work or the commit fails, every caller in the group gets the error.
        """
        done: Future[T] = Future()
        self._ensure_thread()
        self._queue.put((work, done))
        return done.result()

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
                    results = [work(session) for work, _ in batch]
            except Exception as exc:  # every waiter learns its work was not committed
                for _, done in batch:
                    done.set_exception(exc)
            else:
                for (_, done), result in zip(batch, results, strict=True):
                    done.set_result(result)
