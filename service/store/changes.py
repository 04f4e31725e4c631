"""The change log: written in the same transaction as the change it records.

Sequence numbers come from a counter row incremented under the transaction's
write lock, so they are assigned in commit order on every backend: a follower
that has applied everything up to N can never later see a commit with a
number below N (which plain autoincrement ids do not guarantee on PostgreSQL).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service.store.db import Database
from service.store.models import CHANGES_COUNTER, Change, Counter, Signal, utcnow

# `Change.op` of a row that only says a hash joined or left a video (service/store/video_feed):
# its own state did not change, so the index follower skips it.
ITEM = "item"


@dataclass(frozen=True)
class ChangeRow:
    seq: int
    signal_id: int
    algorithm: str
    value: bytes
    op: str  # "add" (now matchable), "remove" (delete it) or ITEM (a video's grouping only)
    state: str  # the hash's state after this change
    changed_at: datetime


def next_seqs(session: Session, count: int) -> range:
    """Reserve `count` consecutive sequence numbers (under the writer's lock). The
    counter's row is created by the first migration (`service/store/migrations`)."""
    if count <= 0:
        return range(0)
    last = session.execute(
        update(Counter)
        .where(Counter.name == CHANGES_COUNTER)
        .values(value=Counter.value + count)
        .returning(Counter.value)
    ).scalar_one()
    return range(int(last) - count + 1, int(last) + 1)


def next_seq(session: Session) -> int:
    return next_seqs(session, 1)[0]


_WRITTEN = "hashbank_changes_written"  # session.info: signal id -> its latest row this transaction


def record(session: Session, signal: Signal, op: str) -> int:
    """Append one change for `signal` (already flushed) and return its sequence number."""
    seq = next_seq(session)
    Database.mark_changed(session)
    change = Change(seq=seq, signal_id=signal.id, op=op, state=signal.state, created_at=utcnow())
    session.add(change)
    written(session)[signal.id] = change
    return seq


def record_many(session: Session, signals: Sequence[Signal], op: str) -> None:
    """One change per signal (all flushed), numbered in the given order, in one step."""
    now = utcnow()
    Database.mark_changed(session)
    rows = [
        Change(seq=seq, signal_id=signal.id, op=op, state=signal.state, created_at=now)
        for seq, signal in zip(next_seqs(session, len(signals)), signals, strict=True)
    ]
    session.add_all(rows)
    written(session).update((row.signal_id, row) for row in rows)


def written(session: Session) -> dict[int, Change]:
    """The latest change row this transaction wrote for each signal (by signal id), so a
    video's row can take the place of its hash's own (service/store/video_feed.py)."""
    found: dict[int, Change] = session.info.setdefault(_WRITTEN, {})
    return found


def since(session: Session, after: int, limit: int) -> Sequence[ChangeRow]:
    """The change log's one reader: up to `limit` changes after sequence `after`, in order.

    The live index follower and the partners' delta feed both page with it.
    """
    rows = session.execute(
        select(
            Change.seq,
            Change.signal_id,
            Signal.algorithm,
            Signal.value,
            Change.op,
            Change.state,
            Change.created_at,
        )
        .join(Signal, Signal.id == Change.signal_id)
        .where(Change.seq > after)
        .order_by(Change.seq)
        .limit(limit)
    ).all()
    return [
        ChangeRow(r.seq, r.signal_id, r.algorithm, r.value, r.op, r.state, r.created_at)
        for r in rows
    ]


def last_seq(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(Change.seq), 0))) or 0)


def active_signals(session: Session, active: str) -> Sequence[tuple[int, str, bytes]]:
    """(id, algorithm, value) of every signal that should be in the index."""
    rows = session.execute(
        select(Signal.id, Signal.algorithm, Signal.value).where(Signal.state == active)
    ).all()
    return [(r.id, r.algorithm, r.value) for r in rows]
