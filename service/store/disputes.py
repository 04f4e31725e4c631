"""Disputes: the guard against hash-list poisoning, which must not become a way to
silence a survivor.

Anyone can submit hashes, so someone could submit hashes of images that are not
intimate (a news photo, a logo) to get them taken down everywhere. Platforms
review what matches; when at least `min_platforms` distinct platforms' latest
report on a hash is `not_violating` and none reports `removed`, the hash is
disputed: a `Dispute` row opens, it stops matching at once and partners' feeds
drop it. An operator then reinstates it (the reports so far stop counting) or
retires it for good. Every step is audited, by signal id only: never the hash value.

A dispute is about a picture, and the match policy stores several hashes per
picture (`hashing.policy`): the other hashes that a case holding the disputed
hash submitted for the same image (its *siblings*) are suspended with it in
that case, so an exact copy does not go on matching through its other forms.
Only within that case: a sibling that another case holds in an undisputed
image keeps matching (`signals.derived_state`). Otherwise an attacker could
pair a harmless picture's hash with a victim's in one "image", have platforms
honestly report the harmless one, and take the victim's hash down with it.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.failures import Conflict, NotFound
from service.store import audit, video_feed
from service.store.db import Database
from service.store.models import CaseSignal, Dispute, Feedback, Match, Platform, Signal, utcnow
from service.store.signals import (
    ACTIVE,
    DISPUTED,
    OPEN,
    REINSTATED,
    RETIRED,
    image_mates,
    settle,
)


@dataclass(frozen=True)
class Suspended:
    """A hash that does not match because of a dispute: its own (`via` empty), or as a
    sibling of the disputed hashes in `via` (signal ids)."""

    signal_id: int
    algorithm: str
    hash: str
    since: datetime
    reports: dict[str, str]  # platform name -> its latest outcome on this hash
    via: list[int]
    cases: int


def latest_reports(session: Session, signal: Signal) -> dict[str, str]:
    """Platform name -> its latest outcome on this signal since the last reinstatement.

    One entry per platform however many keys or reports it used: a flood from one
    platform counts once.
    """
    query = (
        select(Platform.name, Feedback.outcome)
        .join(Match, Match.id == Feedback.match_id)
        .join(Platform, Platform.id == Feedback.platform_id)
        .where(Match.signal_id == signal.id)
        .order_by(Feedback.id)
    )
    if signal.disputes_cleared_at is not None:
        query = query.where(Feedback.created_at > signal.disputes_cleared_at)
    return {row[0]: row[1] for row in session.execute(query)}  # later reports win


def review(session: Session, signal: Signal, min_platforms: int) -> bool:
    """Open a dispute on `signal` if the reports now meet the rule; True if so."""
    if signal.state != ACTIVE:
        return False
    reports = latest_reports(session, signal).values()
    if "removed" in reports or sum(o == "not_violating" for o in reports) < min_platforms:
        return False
    dispute = session.get(Dispute, signal.id)
    if dispute is None:
        dispute = Dispute(signal_id=signal.id)
        session.add(dispute)
    dispute.state, dispute.opened_at, dispute.resolved_at = OPEN, utcnow(), None
    session.flush()
    _settle_picture(session, signal, "system", "signal.dispute")
    return True


def _settle_picture(
    session: Session, signal: Signal, actor: str, action: str, **detail: object
) -> None:
    """Re-derive the state of `signal` and its siblings in every case holding it;
    audit each one whose state changed (a sibling names `signal` as `via`)."""
    ids = image_mates(session, [signal.id])
    members = session.scalars(select(Signal).where(Signal.id.in_(ids)).order_by(Signal.id))
    for member in members:
        before = member.state
        settle(session, member)
        if member is signal or member.state != before:
            extra = dict(detail, state=member.state)
            if member is not signal:
                extra["via"] = signal.id
            audit.record(session, actor, action, "signal", str(member.id), **extra)
    # A video holding it leaves partners' feeds whole, or comes back whole.
    holders = session.scalars(select(CaseSignal).where(CaseSignal.signal_id == signal.id))
    video_feed.publish(session, video_feed.items_of(holders))


class DisputeRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def list(self) -> list[Suspended]:
        """Every hash suspended by a dispute, oldest first: open disputes with each
        platform's report, and hashes suspended as their siblings, naming the dispute."""
        with self.db.transaction(read_only=True) as session:
            open_ids = set(
                session.scalars(select(Dispute.signal_id).where(Dispute.state == OPEN)).all()
            )
            signals = session.scalars(
                select(Signal)
                .where(Signal.state == DISPUTED)
                .order_by(Signal.updated_at, Signal.id)
            ).all()
            out = []
            for signal in signals:
                via = (
                    []
                    if signal.id in open_ids
                    else sorted((image_mates(session, [signal.id]) & open_ids) - {signal.id})
                )
                cases = session.scalar(
                    select(func.count()).where(CaseSignal.signal_id == signal.id)
                )
                out.append(
                    Suspended(
                        signal.id,
                        signal.algorithm,
                        signal.value.hex(),
                        signal.updated_at,
                        latest_reports(session, signal),
                        via,
                        int(cases or 0),
                    )
                )
            return out

    def reinstate(self, signal_id: int, actor: str = "admin") -> str:
        """Close the dispute on a disputed (or retired) hash: it and its siblings match
        again wherever nothing else suspends them. Returns the hash's state now."""
        with self.db.transaction() as session:
            signal, dispute = self._disputed(session, signal_id, (OPEN, RETIRED))
            dispute.state, dispute.resolved_at = REINSTATED, utcnow()
            signal.disputes_cleared_at = dispute.resolved_at
            session.flush()
            _settle_picture(session, signal, actor, "signal.reinstate")
            return signal.state

    def retire(self, signal_id: int, actor: str = "admin") -> None:
        """For good: it never matches or reaches partners again, even if resubmitted.
        Its siblings stay suspended in the cases that submitted them with it."""
        with self.db.transaction() as session:
            signal, dispute = self._disputed(session, signal_id, (OPEN,))
            dispute.state, dispute.resolved_at = RETIRED, utcnow()
            session.flush()
            _settle_picture(session, signal, actor, "signal.retire")

    @staticmethod
    def _disputed(
        session: Session, signal_id: int, allowed: tuple[str, ...]
    ) -> tuple[Signal, Dispute]:
        signal = session.get(Signal, signal_id)
        if signal is None:
            raise NotFound(f"no hash with id {signal_id}")
        dispute = session.get(Dispute, signal_id)
        if dispute is None or dispute.state not in allowed:
            if signal.state == DISPUTED:
                raise Conflict(
                    f"hash {signal_id} is suspended as another hash's sibling; "
                    "decide on that hash (see `dispute list`, column via)",
                    "sibling_of_dispute",
                )
            wanted = "disputed" if allowed == (OPEN,) else "disputed or retired"
            raise Conflict(f"hash {signal_id} is {signal.state}, not {wanted}", "not_disputed")
        return signal, dispute
