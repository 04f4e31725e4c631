"""Matches and feedback: what platforms found and what they did about it."""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.failures import NotFound
from service.store import audit, disputes
from service.store.credentials import new_public_id
from service.store.db import Database
from service.store.group_commit import GroupCommitter
from service.store.items import StoredItem, items_holding
from service.store.models import CaseSignal, Feedback, Match, Signal, utcnow
from service.store.signals import ACTIVE

OUTCOMES = ("pending_review", "removed", "not_violating")


@dataclass(frozen=True)
class Hit:
    """One index candidate for one query item: signal id and distance."""

    item: int
    signal_id: int
    algorithm: str
    distance: int


@dataclass(frozen=True)
class RecordedMatch:
    item: int
    match_id: str
    algorithm: str
    distance: int
    matched_at: datetime


@dataclass(frozen=True)
class RecordedFeedback:
    match_id: str
    outcome: str
    recorded_at: datetime


class MatchRepository:
    def __init__(self, db: Database, dispute_min_platforms: int = 2) -> None:
        self.db = db
        self.dispute_min_platforms = dispute_min_platforms
        self.writer = GroupCommitter(db, durable=False)

    def record(self, platform_id: int, hits: Iterable[Hit]) -> list[RecordedMatch]:
        """Keep the hits whose signal is active *now* and record each as a match.

        The database check makes a withdrawal or dispute effective at once in
        every worker, even before that worker's index has applied the change.
        """
        hits = list(hits)
        if not hits:
            return []
        # Not fsynced: a match record lost to a power cut costs a platform one
        # feedback call, while fsync per match request would cap matching speed.
        return self.writer.run(lambda session: _record(session, platform_id, hits))

    def items_holding(self, signal_ids: Collection[int]) -> list[StoredItem]:
        """The active case items holding any of these signals (`service.store.items`)."""
        if not signal_ids:
            return []
        with self.db.transaction(read_only=True) as session:
            return items_holding(session, signal_ids)

    def feedback(self, platform_id: int, match_id: str, outcome: str) -> RecordedFeedback:
        with self.db.transaction() as session:
            match = session.scalar(
                select(Match).where(Match.public_id == match_id, Match.platform_id == platform_id)
            )
            if match is None:
                # Another platform's match ids are as unknown to this one as made-up ones.
                raise NotFound(f"no match {match_id!r} for this platform")
            now = utcnow()
            add_feedback(session, match, outcome, now, self.dispute_min_platforms)
            return RecordedFeedback(match.public_id, outcome, now)


def add_feedback(
    session: Session, match: Match, outcome: str, now: datetime, dispute_min_platforms: int
) -> None:
    """Record a platform's outcome on its match (audited); a `not_violating` one may
    suspend the hash (see `disputes`). Used by both feedback routes."""
    session.add(
        Feedback(match_id=match.id, platform_id=match.platform_id, outcome=outcome, created_at=now)
    )
    audit.record(
        session, f"platform:{match.platform_id}", f"feedback.{outcome}", "match", match.public_id
    )
    if outcome == "not_violating":
        session.flush()
        signal = session.get(Signal, match.signal_id)
        if signal is not None:
            disputes.review(session, signal, dispute_min_platforms)


def _record(session: Session, platform_id: int, hits: list[Hit]) -> list[RecordedMatch]:
    # Checked in the writing transaction: a hash withdrawn a moment ago is not
    # reported even if this worker's index has not applied the withdrawal yet.
    case_of, algorithm_of = _active_cases(session, {h.signal_id for h in hits})
    # The match policy stores several hashes per image (hashing.policy), so one upload
    # can hit several hashes of the same case: record only the closest per item and case.
    best: dict[tuple[int, int], Hit] = {}
    for hit in hits:
        case = case_of.get(hit.signal_id)
        if case is not None:
            kept = best.get((hit.item, case))
            if kept is None or hit.distance < kept.distance:
                best[(hit.item, case)] = hit
    now = utcnow()
    recorded: list[RecordedMatch] = []
    for hit in hits:
        case = case_of.get(hit.signal_id)
        if case is not None and best.get((hit.item, case)) is hit:
            # The stored hash's type: a photo's PDQ query can find a video's vPDQ frame.
            algorithm = algorithm_of[hit.signal_id]
            match = Match(
                public_id=new_public_id("m_"),
                platform_id=platform_id,
                signal_id=hit.signal_id,
                algorithm=algorithm,
                distance=hit.distance,
                created_at=now,
            )
            session.add(match)
            recorded.append(RecordedMatch(hit.item, match.public_id, algorithm, hit.distance, now))
    return recorded


def _active_cases(session: Session, ids: set[int]) -> tuple[dict[int, int], dict[int, str]]:
    """For the given signals that are active: signal id -> the first case holding it,
    and signal id -> its signal type.

    One query (it runs in the group-commit writer, where every statement counts).
    """
    rows = session.execute(
        select(Signal.id, Signal.algorithm, func.min(CaseSignal.case_id))
        .outerjoin(CaseSignal, CaseSignal.signal_id == Signal.id)
        .where(Signal.id.in_(ids), Signal.state == ACTIVE)
        .group_by(Signal.id, Signal.algorithm)
    )
    case_of: dict[int, int] = {}
    algorithm_of: dict[int, str] = {}
    for signal_id, algorithm, case_id in rows:
        # A signal with no case link (only in hand-made data) is its own group.
        case_of[signal_id] = -signal_id if case_id is None else case_id
        algorithm_of[signal_id] = algorithm
    return case_of, algorithm_of
