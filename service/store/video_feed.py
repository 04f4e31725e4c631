"""Which videos partners see: the change rows that group a video's hashes in the feed.

A video is a case item (`case_signals.image`) holding vPDQ frames (links with a
`timestamp`) and usually the file's MD5. Partners see a video while it is *in
force*: its case is active and no dispute, open or retired, is on any of its
hashes (a dispute suspends the whole video: service/store/disputes.py). Whenever
that changes, `publish` writes one change row per hash of the video with the case
(`Change.case_id`) and `item_op` (add: the hash is part of the video; remove: no
longer), contiguous and in the video's order (the MD5 first, then the frames by
time), so the feed can keep a video's rows on one page (service/exchange/feed.py).
When the hash's own state changed in the same transaction in the same direction
(a new frame, a withdrawn one that no other case holds), the video's row takes the
place of the hash's own row (its `op` add or remove, the other row dropped before
commit), so the feed says it once; otherwise its `op` is `ITEM`: the hash's own
state did not change.

What was announced last is read back from the change log (each hash's latest row
for the case), so `publish` may be called after any write to the items it
touched: it writes only the difference, nothing when nothing changed.
"""

from collections.abc import Iterable

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from service.store import changes
from service.store.db import Database
from service.store.models import Case, CaseSignal, Change, Dispute, Signal, utcnow
from service.store.signals import ACTIVE, OPEN, RETIRED

Item = tuple[int, int]  # (case id, item number)


def publish(session: Session, items: Iterable[Item]) -> None:
    """Announce each video among `items` joining or leaving the feed, if it did."""
    for case_id, image in sorted(set(items)):
        _publish_one(session, case_id, image)


def items_of(links: Iterable[CaseSignal]) -> set[Item]:
    """The numbered items these links belong to (`publish` skips those that are not videos)."""
    return {(link.case_id, link.image) for link in links if link.image is not None}


def _publish_one(session: Session, case_id: int, image: int) -> None:
    links = session.execute(
        select(CaseSignal, Signal)
        .join(Signal, Signal.id == CaseSignal.signal_id)
        .where(CaseSignal.case_id == case_id, CaseSignal.image == image)
    ).all()
    if not any(link.timestamp is not None for link, _ in links):
        return  # a photo: partners never see photos grouped
    ids = [signal.id for _, signal in links]
    suspended = session.scalar(
        select(func.count())
        .select_from(Dispute)
        .where(Dispute.signal_id.in_(ids), Dispute.state.in_((OPEN, RETIRED)))
    )
    case_state = session.scalar(select(Case.state).where(Case.id == case_id))
    in_force = case_state == ACTIVE and not suspended
    announced = _announced(session, case_id, ids)
    due = [
        (link, signal, "add" if want else "remove")
        for link, signal in sorted(
            links,
            key=lambda row: (row[0].timestamp is not None, row[0].timestamp or 0.0, row[1].id),
        )
        if (want := in_force and link.state == ACTIVE) != (announced.get(signal.id) == "add")
    ]
    if not due:
        return
    now = utcnow()
    Database.mark_changed(session)
    written = changes.written(session)
    rows = []
    for seq, (_, signal, item_op) in zip(changes.next_seqs(session, len(due)), due, strict=True):
        op = changes.ITEM
        own = written.get(signal.id)
        if own is not None and own.case_id is None and own.op == item_op:
            op = own.op  # this row says both: the hash's change and the video's
            if inspect(own).pending:
                session.expunge(own)
            else:
                session.delete(own)
        row = Change(
            seq=seq,
            signal_id=signal.id,
            op=op,
            state=signal.state,
            created_at=now,
            case_id=case_id,
            item_op=item_op,
        )
        written[signal.id] = row
        rows.append(row)
    session.add_all(rows)
    session.flush()


def _announced(session: Session, case_id: int, signal_ids: list[int]) -> dict[int, str]:
    """Signal id -> the item_op of its latest row for this case (absent: never announced)."""
    latest = (
        select(func.max(Change.seq).label("seq"))
        .where(Change.case_id == case_id, Change.signal_id.in_(signal_ids))
        .group_by(Change.signal_id)
        .subquery()
    )
    rows = session.execute(
        select(Change.signal_id, Change.item_op).join(latest, latest.c.seq == Change.seq)
    ).all()
    return {signal_id: item_op for signal_id, item_op in rows if item_op is not None}
