"""Disputes: the guard against hash-list poisoning.

Anyone can submit hashes, so someone could submit hashes of images that are not
intimate (a news photo, a logo) to get them taken down everywhere. Platforms
review what matches; when at least `min_platforms` distinct platforms' latest
report on a hash is `not_violating` and none reports `removed`, the hash is
suspended (`disputed`): it stops matching at once and partners' feeds drop it.
An operator then reinstates it (the reports so far stop counting) or retires it
for good. Every step is audited, by signal id only: never the hash value.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

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


def review(session: Session, signal: Signal, min_platforms: int) -> bool:
    """Suspend `signal` if the reports now meet the dispute rule; True if it did."""
    if signal.state != ACTIVE:
        return False
    reports = latest_reports(session, signal).values()
    if "removed" in reports or sum(o == "not_violating" for o in reports) < min_platforms:
        return False
    set_state(session, signal, DISPUTED)
    audit.record(session, "system", "signal.dispute", "signal", str(signal.id))
    return True


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
        """Back to matching (or withdrawn, if no active case holds it any more)."""
        with self.db.transaction() as session:
            signal = self._disputed(session, signal_id, allow_retired=True)
            state = ACTIVE if held_by_active_case(session, signal.id) else WITHDRAWN
            signal.disputes_cleared_at = utcnow()
            set_state(session, signal, state)
            audit.record(session, actor, "signal.reinstate", "signal", str(signal.id), state=state)
            return state

    def retire(self, signal_id: int, actor: str = "admin") -> None:
        with self.db.transaction() as session:
            signal = self._disputed(session, signal_id, allow_retired=False)
            set_state(session, signal, RETIRED)
            audit.record(session, actor, "signal.retire", "signal", str(signal.id))

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
