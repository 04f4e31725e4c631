"""Operator statistics: counts and the time it takes for a survivor's hashes to get results."""

import statistics
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from service.store.db import Database
from service.store.models import Case, CaseSignal, Feedback, Match, Signal


@dataclass(frozen=True)
class Stats:
    cases_active: int
    cases_withdrawn: int
    hashes_by_state: dict[str, int]
    matches: int
    removals: int
    not_violating: int
    median_hours_to_first_removal: float | None


def collect(db: Database) -> Stats:
    with db.transaction(read_only=True) as session:
        cases = dict(session.execute(select(Case.state, func.count()).group_by(Case.state)).all())
        hashes = dict(
            session.execute(select(Signal.state, func.count()).group_by(Signal.state)).all()
        )
        matches = session.scalar(select(func.count()).select_from(Match)) or 0
        outcomes = dict(
            session.execute(
                select(Feedback.outcome, func.count(func.distinct(Feedback.match_id))).group_by(
                    Feedback.outcome
                )
            ).all()
        )
        # First removal per case: the earliest "removed" report on any match of its hashes.
        first_removal = session.execute(
            select(Case.created_at, func.min(Feedback.created_at))
            .join(CaseSignal, CaseSignal.case_id == Case.id)
            .join(Match, Match.signal_id == CaseSignal.signal_id)
            .join(Feedback, Feedback.match_id == Match.id)
            .where(Feedback.outcome == "removed", Match.created_at >= CaseSignal.added_at)
            .group_by(Case.id, Case.created_at)
        ).all()
    delays = [_hours(created, _aware(removed)) for created, removed in first_removal if removed]
    return Stats(
        cases_active=cases.get("active", 0),
        cases_withdrawn=cases.get("withdrawn", 0),
        hashes_by_state={str(k): int(v) for k, v in hashes.items()},
        matches=int(matches),
        removals=int(outcomes.get("removed", 0)),
        not_violating=int(outcomes.get("not_violating", 0)),
        median_hours_to_first_removal=statistics.median(delays) if delays else None,
    )


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600
