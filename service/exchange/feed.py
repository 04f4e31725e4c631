"""The partner feeds, read from the change log, and feedback that arrives by hash.

Both feeds page through the change log in sequence order. Sequence numbers are
handed out under the writers' lock in commit order (see `changes`), so a reader
that has seen change N can never later find a new change below N: paging by
sequence never misses a change, however cases are created and withdrawn meanwhile.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from service.store import changes as change_log
from service.store.credentials import new_public_id
from service.store.db import Database
from service.store.matches import add_feedback
from service.store.models import CaseSignal, Change, Feedback, Match, Platform, Signal, utcnow
from service.store.partner_refs import PartnerRefs
from service.store.signals import ACTIVE


@dataclass(frozen=True)
class ChangeEntry:
    seq: int
    algorithm: str
    hash: str
    action: str  # add: now matchable; remove: delete it
    state: str  # the hash's state after this change
    changed_at: datetime
    quality: int | None = None
    # A video's hash joining (item_action add) or leaving (remove) the video `item`, an
    # opaque reference (PartnerRefs.video); `timestamp`: a frame's time in it.
    item: str | None = None
    timestamp: float | None = None
    item_action: str | None = None
    variant: bool = False  # another form of the frame at `timestamp` (hashing.video_forms)


@dataclass(frozen=True)
class HashRecord:
    """One hash's current picture, at the position of its latest change."""

    seq: int
    changed_at: datetime
    algorithm: str
    hash: str
    state: str
    cases: dict[str, str]  # partner reference of the case -> active / withdrawn
    reports: dict[str, str]  # platform name -> its latest outcome


class ExchangeRepository:
    def __init__(self, db: Database, dispute_min_platforms: int) -> None:
        self.db = db
        self.dispute_min_platforms = dispute_min_platforms
        self.refs = PartnerRefs(db)

    def changes(self, after: int, limit: int) -> tuple[list[ChangeEntry], bool]:
        """Every change after sequence `after`, in order; and whether more follow.

        A video's rows (written together by `video_feed.publish`) are never split
        between pages: a page ends before them, or, when they start it and outnumber
        `limit`, holds all of them.
        """
        with self.db.transaction(read_only=True) as session:
            rows = _feed_rows(session, after, limit + 1)
            more = len(rows) > limit
            if (
                more
                and _run(rows[limit - 1]) is not None
                and _run(rows[limit - 1]) == _run(rows[limit])
            ):
                start = limit - 1
                while start > 0 and _run(rows[start - 1]) == _run(rows[limit]):
                    start -= 1
                if start > 0:
                    rows = rows[:start]
                else:  # one video's rows start the page and outnumber the limit
                    rows, more = _whole_run(session, rows[:limit], limit)
            else:
                rows = rows[:limit]
            entries = [
                ChangeEntry(
                    r.seq,
                    r.algorithm,
                    r.value.hex(),
                    _action(r.op, r.state),
                    r.state,
                    r.created_at,
                    r.quality,
                    None if r.case_id is None else self.refs.video(session, r.case_id, r.image),
                    r.timestamp,
                    r.item_op,
                    bool(r.variant),
                )
                for r in rows
            ]
        return entries, more

    def latest_records(
        self, algorithms: Sequence[str], since: datetime, after: int, limit: int
    ) -> tuple[list[HashRecord], bool]:
        """Each hash once, at its latest change, for changes at or after `since` past `after`.

        A hash that changes again while a partner pages simply shows up again
        later with its new state; one that does not change is delivered once.
        """
        later = aliased(Change)
        newest = (
            ~select(later.seq)
            .where(later.signal_id == Change.signal_id, later.seq > Change.seq)
            .exists()
        )
        with self.db.transaction(read_only=True) as session:
            rows = session.execute(
                select(
                    Change.seq,
                    Change.created_at,
                    Change.state,
                    Signal.id,
                    Signal.algorithm,
                    Signal.value,
                )
                .join(Signal, Signal.id == Change.signal_id)
                .where(
                    Signal.algorithm.in_(list(algorithms)),
                    Change.seq > after,
                    Change.created_at >= since,
                    newest,
                )
                .order_by(Change.seq)
                .limit(limit + 1)
            ).all()
            page = rows[:limit]
            ids = [r.id for r in page]
            cases: dict[int, dict[str, str]] = {i: {} for i in ids}
            for signal_id, case_number, link_state in session.execute(
                select(CaseSignal.signal_id, CaseSignal.case_id, CaseSignal.state).where(
                    CaseSignal.signal_id.in_(ids)
                )
            ):
                cases[signal_id][self.refs.of(session, case_number)] = link_state
            reports: dict[int, dict[str, str]] = {i: {} for i in ids}
            for signal_id, platform, outcome in session.execute(
                select(Match.signal_id, Platform.name, Feedback.outcome)
                .join(Match, Match.id == Feedback.match_id)
                .join(Platform, Platform.id == Feedback.platform_id)
                .where(Match.signal_id.in_(ids))
                .order_by(Feedback.id)
            ):
                reports[signal_id][platform] = outcome
        records = [
            HashRecord(
                r.seq,
                r.created_at,
                r.algorithm,
                r.value.hex(),
                r.state,
                cases[r.id],
                reports[r.id],
            )
            for r in page
        ]
        return records, len(rows) > limit

    def feedback_by_hash(
        self, platform_id: int, reports: Sequence[tuple[str, bytes, str]]
    ) -> tuple[int, int]:
        """Record outcomes reported by hash value (no match id); (recorded, unknown hashes).

        Each report attaches to the platform's latest match on that hash, or to a
        new match (distance 0) when it found the hash through a feed, so the
        survivor's status shows it like any other report. All or nothing.
        """
        recorded = unknown = 0
        with self.db.transaction() as session:
            now = utcnow()
            for algorithm, value, outcome in reports:
                signal = session.scalar(
                    select(Signal).where(Signal.algorithm == algorithm, Signal.value == value)
                )
                if signal is None:
                    unknown += 1
                    continue
                match = session.scalar(
                    select(Match)
                    .where(Match.platform_id == platform_id, Match.signal_id == signal.id)
                    .order_by(Match.id.desc())
                    .limit(1)
                )
                if match is None:
                    match = Match(
                        public_id=new_public_id("m_"),
                        platform_id=platform_id,
                        signal_id=signal.id,
                        algorithm=algorithm,
                        distance=0,
                        created_at=now,
                    )
                    session.add(match)
                    session.flush()
                add_feedback(session, match, outcome, now, self.dispute_min_platforms)
                recorded += 1
        return recorded, unknown


def _feed_rows(session: Session, after: int, limit: int) -> Sequence[Any]:
    """Up to `limit` change rows after `after`, each with its hash and, for a video's
    rows, the case's link (its item number and time)."""
    link = aliased(CaseSignal)
    return session.execute(
        select(
            Change.seq,
            Change.op,
            Change.state,
            Change.created_at,
            Change.case_id,
            Change.item_op,
            Signal.algorithm,
            Signal.value,
            Signal.quality,
            link.image,
            link.timestamp,
            link.variant,
        )
        .join(Signal, Signal.id == Change.signal_id)
        .outerjoin(link, (link.case_id == Change.case_id) & (link.signal_id == Change.signal_id))
        .where(Change.seq > after)
        .order_by(Change.seq)
        .limit(limit)
    ).all()


def _whole_run(session: Session, rows: Sequence[Any], limit: int) -> tuple[list[Any], bool]:
    """`rows` (all of one video's run) with the rest of that run; and whether more follow."""
    run, whole = _run(rows[0]), list(rows)
    while True:
        following = _feed_rows(session, whole[-1].seq, limit)
        end = next((i for i, r in enumerate(following) if _run(r) != run), None)
        if end is not None:
            return whole + list(following[:end]), True
        whole += following
        if len(following) < limit:
            return whole, False


def _run(row: Any) -> tuple[int, int, str] | None:
    """What keeps rows on one page: one video's rows of one publication."""
    return None if row.case_id is None else (row.case_id, row.image, row.item_op)


def _action(op: str, state: str) -> str:
    """The hash's own action: a video's row repeats whether the hash is matchable."""
    if op == change_log.ITEM:
        return "add" if state == ACTIVE else "remove"
    return op
