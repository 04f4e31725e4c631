"""Keep this worker's in-memory indexes in step with the database's change log.

Start-up loads the newest snapshot and replays only the changes after it (or
rebuilds from the database when there is no usable snapshot). After that a
background thread polls the log every `interval` seconds for other workers'
writes, and the database calls `after_commit()` right after each of this
worker's own commits that wrote the change log (`Database.after_change`), so a
worker sees its own writes at once and everyone else's within one poll.
On PostgreSQL a `ChangeListener` (`service.live.change_notify`) wakes the thread as
soon as another replica commits, so their writes arrive within milliseconds;
the poll stays as the safety net. Snapshots are written periodically by
whichever worker holds the lock file.
"""

import fcntl
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from service.live.indexes import IndexSet
from service.store import changes
from service.store.db import Database
from service.store.signals import ACTIVE

log = logging.getLogger("hashbank.sync")
_BATCH = 10_000


class Waker(Protocol):
    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds, returning early (True) when there is news."""
        ...

    def close(self) -> None: ...


class ChangeFollower:
    def __init__(
        self,
        db: Database,
        indexes: IndexSet,
        snapshot_dir: Path,
        interval: float,
        snapshot_interval: float,
        waker: Waker | None = None,
    ) -> None:
        self.db, self.indexes, self.snapshot_dir = db, indexes, snapshot_dir
        self.interval, self.snapshot_interval = interval, snapshot_interval
        self.waker = waker
        self.seq = 0
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._apply_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._snapshot_seq = -1
        # Wall-clock time of the last catch-up that found nothing more to apply; 0: none yet.
        self.caught_up_at = 0.0
        # Called after each catch-up (service.telemetry.metrics records the new position).
        self.on_progress: Callable[[ChangeFollower], None] | None = None

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def start(self) -> None:
        """Load or rebuild, catch up, then follow in the background."""
        self._thread = threading.Thread(target=self._run, name="hashbank-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.waker is not None:
            self.waker.close()

    def load(self) -> None:
        loaded = self.indexes.load(self.snapshot_dir)
        if loaded is None:
            self.rebuild()
        else:
            self.seq = loaded
            log.info("index snapshot loaded at change %d", loaded)
        self.catch_up()
        self._snapshot_seq = self.seq if loaded is not None else -1
        self._ready.set()
        self._progressed()

    def rebuild(self) -> None:
        """Fill the indexes from the database alone (the source of truth)."""
        started = time.monotonic()
        with self.db.transaction(read_only=True) as session:
            # Read the position first: anything committed after it is replayed
            # by catch_up(), and replaying an add or a remove twice is harmless.
            seq = changes.last_seq(session)
        with self.db.transaction(read_only=True) as session:
            self.indexes.rebuild(changes.active_signals(session, ACTIVE))
        with self._apply_lock:
            self.seq = seq
        log.info(
            "index rebuilt from database: %d hashes in %.1fs",
            len(self.indexes),
            time.monotonic() - started,
        )

    def catch_up(self) -> int:
        """Apply every change committed since the last one applied; returns how many."""
        applied = 0
        with self._apply_lock:
            while True:
                with self.db.read_once() as session:
                    rows = changes.since(session, self.seq, _BATCH)
                if not rows:
                    self.caught_up_at = time.time()
                    break
                self.indexes.apply(rows)
                self.seq = rows[-1].seq
                applied += len(rows)
        self._progressed()
        return applied

    def after_commit(self) -> None:
        """This worker committed a change: apply it now, unless the index is still loading
        (loading catches up by itself)."""
        if self.ready:
            self.catch_up()

    def log_head(self) -> int:
        """The change log's newest position in the database (this worker may be behind it)."""
        with self.db.transaction(read_only=True) as session:
            return changes.last_seq(session)

    def _progressed(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self)

    def snapshot(self) -> bool:
        """Write a snapshot unless another worker is writing one; True if written."""
        self.snapshot_dir.mkdir(parents=True, exist_ok=True)
        with open(self.snapshot_dir / ".lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            with self._apply_lock:
                self.indexes.save(self.snapshot_dir, self.seq)
                self._snapshot_seq = self.seq
            return True

    def _run(self) -> None:
        try:
            self.load()
        except Exception as exc:  # a traceback could carry SQL parameters: hash values
            log.error("index load failed (%s); the worker stays not-ready", type(exc).__name__)
            return
        last_snapshot = time.monotonic()
        while not self._pause():
            try:
                self.catch_up()
                due = self.snapshot_interval > 0 and (
                    time.monotonic() - last_snapshot >= self.snapshot_interval
                )
                if due and self.seq != self._snapshot_seq:
                    self.snapshot()
                    last_snapshot = time.monotonic()
            except Exception as exc:  # a database hiccup must not kill the follower
                log.warning("change-log poll failed: %s", type(exc).__name__)

    def _pause(self) -> bool:
        """Wait for news or one interval; True when it is time to stop."""
        if self.waker is None:
            return self._stop.wait(self.interval)
        self.waker.wait(self.interval)
        return self._stop.is_set()
