"""Disputes: the guard against hash-list poisoning.

Anyone can submit hashes, so someone could submit hashes of images that are not
intimate (a news photo, a logo) to get them taken down everywhere. Platforms
review what matches; when at least `min_platforms` distinct platforms' latest
report on a hash is `not_violating` and none reports `removed`, the hash is
suspended (`disputed`): it stops matching at once and partners' feeds drop it.
An operator then reinstates it (the reports so far stop counting) or retires it
for good. Every step is audited, by signal id only: never the hash value.

A dispute is about a picture, and the match policy stores several hashes per
picture (`hashing.policy`): its *siblings*, the hashes a case holds for the same
image, are suspended, reinstated and retired with it. Otherwise an exact copy of
a disputed picture would go on matching through its other forms.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from service.db import Database
from service.errors import ApiError, NotFound
from service.models import CaseSignal, Feedback, Match, Platform, Signal, utcnow
from service.repository import audit
from service.repository.signals import (
    ACTIVE,
    DISPUTED,
    RETIRED,
    WITHDRAWN,
    held_by_active_case,
    set_state,
)


@dataclass(frozen=True)
class Disputed:
    signal_id: int
    algorithm: str
    hash: str
    since: datetime
    not_violating: list[str]  # platform names
    cases: int


def latest_reports(session: Session, signal: Signal) -> dict[str, str]:
    """Platform name -> its latest outcome on this signal since the last reinstatement."""
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


def siblings(session: Session, signal: Signal) -> list[Signal]:
    """The other hashes of the same picture: those a case holds for the same image as
    `signal`, and theirs in turn (one hash can be in several survivors' cases)."""
    mine, theirs = aliased(CaseSignal), aliased(CaseSignal)
    found: dict[int, Signal] = {signal.id: signal}
    frontier = [signal.id]
    while frontier:
        step = session.scalars(
            select(Signal)
            .join(theirs, theirs.signal_id == Signal.id)
            .join(mine, (mine.case_id == theirs.case_id) & (mine.image == theirs.image))
            .where(mine.signal_id.in_(frontier))
            .distinct()
        ).all()
        frontier = [s.id for s in step if s.id not in found]
        found.update((s.id, s) for s in step)
    return sorted((s for s in found.values() if s.id != signal.id), key=lambda s: s.id)


def review(session: Session, signal: Signal, min_platforms: int) -> bool:
    """Suspend `signal` and its siblings if the reports now meet the dispute rule; True if so."""
    if signal.state != ACTIVE:
        return False
    reports = latest_reports(session, signal).values()
    if "removed" in reports or sum(o == "not_violating" for o in reports) < min_platforms:
        return False
    for member in _picture(session, signal, ACTIVE):
        set_state(session, member, DISPUTED)
        _audit(session, "system", "signal.dispute", member, signal)
    return True


def _picture(session: Session, signal: Signal, state: str) -> list[Signal]:
    """`signal`, then those of its siblings in `state` (the ones a decision on it moves)."""
    return [signal] + [s for s in siblings(session, signal) if s.state == state]


def _audit(
    session: Session, actor: str, action: str, member: Signal, signal: Signal, **detail: object
) -> None:
    """Audited by id; a sibling moved with `signal` names it as `via`."""
    if member is not signal:
        detail["via"] = signal.id
    audit.record(session, actor, action, "signal", str(member.id), **detail)


class DisputeRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def list(self) -> list[Disputed]:
        with self.db.transaction(read_only=True) as session:
            signals = session.scalars(
                select(Signal).where(Signal.state == DISPUTED).order_by(Signal.updated_at)
            ).all()
            out = []
            for signal in signals:
                reports = latest_reports(session, signal)
                cases = session.scalar(
                    select(func.count()).where(CaseSignal.signal_id == signal.id)
                )
                out.append(
                    Disputed(
                        signal.id,
                        signal.algorithm,
                        signal.value.hex(),
                        signal.updated_at,
                        sorted(p for p, o in reports.items() if o == "not_violating"),
                        int(cases or 0),
                    )
                )
            return out

    def reinstate(self, signal_id: int, actor: str = "admin") -> str:
        """Back to matching (or withdrawn, if no active case holds it any more), with
        its siblings in the same state as it was (disputed, or retired)."""
        with self.db.transaction() as session:
            signal = self._disputed(session, signal_id, allow_retired=True)
            for member in _picture(session, signal, signal.state):
                state = ACTIVE if held_by_active_case(session, member.id) else WITHDRAWN
                member.disputes_cleared_at = utcnow()
                set_state(session, member, state)
                _audit(session, actor, "signal.reinstate", member, signal, state=state)
            return signal.state

    def retire(self, signal_id: int, actor: str = "admin") -> None:
        """For good, with its disputed siblings."""
        with self.db.transaction() as session:
            signal = self._disputed(session, signal_id, allow_retired=False)
            for member in _picture(session, signal, DISPUTED):
                set_state(session, member, RETIRED)
                _audit(session, actor, "signal.retire", member, signal)

    @staticmethod
    def _disputed(session: Session, signal_id: int, allow_retired: bool) -> Signal:
        signal = session.get(Signal, signal_id)
        if signal is None:
            raise NotFound(f"no hash with id {signal_id}")
        allowed = (DISPUTED, RETIRED) if allow_retired else (DISPUTED,)
        if signal.state not in allowed:
            raise ApiError(
                409, "not_disputed", f"hash {signal_id} is {signal.state}, not {allowed[0]}"
            )
        return signal
