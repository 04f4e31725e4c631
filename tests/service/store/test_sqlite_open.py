"""Opening the SQLite file never fails because another process is writing it.

N workers of M replicas open one new file at once. A connection that finds the
file still in rollback mode must switch it to WAL, and SQLite refuses that
switch at once ("database is locked", no busy wait) while another connection
holds the write lock; a worker that took the refusal died at start. The switch
is now retried within the busy timeout.
"""

import sqlite3
import threading
import time
from pathlib import Path

from sqlalchemy import text

from service.store.db import Database


def test_opening_waits_for_another_process_writing_the_file_in_rollback_mode(
    tmp_path: Path,
) -> None:
    path = tmp_path / "hashbank.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE t (x INTEGER)")  # the file is in rollback (DELETE) mode
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1)")
    release = threading.Timer(0.3, other.execute, ("COMMIT",))
    release.start()
    db = Database(f"sqlite:///{path}")
    try:
        started = time.monotonic()
        with db.transaction(read_only=True) as session:
            assert session.execute(text("SELECT count(*) FROM t")).scalar() == 1
            assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert time.monotonic() - started >= 0.2  # it waited for the writer, not around it
    finally:
        release.join()
        other.close()
        db.dispose()
