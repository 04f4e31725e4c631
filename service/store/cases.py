"""Cases: a survivor's submission, its secret key, its hashes, and what became of them."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from service.failures import Conflict, Unauthorized
from service.store import audit, video_feed
from service.store.credentials import hash_secret, new_case_key, new_public_id, secret_matches
from service.store.db import Database
from service.store.models import Case, CaseSignal, Dispute, Feedback, Match, Platform, utcnow
from service.store.signals import (
    ACTIVE,
    DISPUTED,
    OPEN,
    RETIRED,
    WITHDRAWN,
    SignalInput,
    fold_duplicates,
    get_or_create_many,
    settle_many,
)

# Compared against when a case id is unknown, so both failures take the same time.
_DUMMY_HASH = hash_secret("no such case")


@dataclass(frozen=True)
class CaseHash:
    algorithm: str
    hash: str
    state: str
    added_at: datetime
    withdrawn_at: datetime | None
    image: int | None
    timestamp: float | None = None
    variant: bool = False


@dataclass(frozen=True)
class Outcome:
    match_id: str
    platform: str
    outcome: str
    matched_at: datetime
    reported_at: datetime | None


@dataclass(frozen=True)
class CaseStatus:
    case_id: str
    state: str
    created_at: datetime
    withdrawn_at: datetime | None
    hashes: list[CaseHash]
    match_count: int
    outcome_counts: dict[str, int]
    outcomes: list[Outcome] = field(default_factory=list)


@dataclass(frozen=True)
class NewCase:
    case_id: str
    case_key: str  # shown once, never stored
    status: CaseStatus


class CaseRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self, inputs: list[SignalInput], *, actor: str = "survivor", origin: str | None = None
    ) -> NewCase:
        """A new case holding `inputs` (validated; duplicates folded, withdrawn ones reactivated).

        No size limit here: callers enforce theirs (survivors' requests are capped by
        the route; an operator's `hashbank-admin import` is not). `origin` is noted in
        the audit event when the case does not come from a survivor.
        """
        key = new_case_key()
        with self.db.transaction() as session:
            case = Case(
                public_id=new_public_id("c_"),
                key_hash=hash_secret(key),
                state=ACTIVE,
                created_at=utcnow(),
            )
            session.add(case)
            session.flush()
            added = self._link(session, case, inputs)
            detail: dict[str, object] = {"hashes": added}
            if origin is not None:
                detail["origin"] = origin
            audit.record(session, actor, "case.create", "case", case.public_id, **detail)
            status = self._status(session, case)
        return NewCase(case.public_id, key, status)

    def status(self, case_id: str, key: str) -> CaseStatus:
        with self.db.transaction(read_only=True) as session:
            return self._status(session, self._authorised(session, case_id, key))

    def add(self, case_id: str, key: str, inputs: list[SignalInput]) -> CaseStatus:
        with self.db.transaction() as session:
            case = self._authorised(session, case_id, key)
            if case.state != ACTIVE:
                raise Conflict("this case was withdrawn; create a new one", "case_withdrawn")
            added = self._link(session, case, inputs)
            audit.record(
                session, "survivor", "case.add_hashes", "case", case.public_id, hashes=added
            )
            return self._status(session, case)

    def withdraw(self, case_id: str, key: str) -> CaseStatus:
        with self.db.transaction() as session:
            case = self._authorised(session, case_id, key)
            self._withdraw(session, case, "survivor")
            return self._status(session, case)

    def create_in_chunks(
        self,
        inputs: list[SignalInput],
        chunk: int,
        *,
        actor: str,
        origin: str,
        on_created: Callable[[NewCase], None] = lambda _: None,
    ) -> NewCase:
        """`create` for long lists (an operator's import): one transaction per `chunk`
        hashes, so the write lock is never held long and survivors' writes go on.

        `on_created` gets the case (its key) as soon as the first chunk is committed,
        so whoever imports holds the key even if the process dies half-way. If a later
        chunk fails, the case is withdrawn before the error is raised, so no part of
        the list stays active. A video is never split between chunks: partners' feeds
        get each video whole, in one transaction.
        """
        inputs = fold_duplicates(inputs)
        parts = _chunks(inputs, chunk)
        created = self.create(parts[0], actor=actor, origin=origin)
        try:
            on_created(created)
            for part in parts[1:]:
                with self.db.transaction() as session:
                    self._append(session, created.case_id, part)
            with self.db.transaction(read_only=True) as session:
                status = self._status(session, self._by_public_id(session, created.case_id))
        except BaseException:
            with self.db.transaction() as session:
                self._withdraw(session, self._by_public_id(session, created.case_id), actor)
            raise
        return NewCase(created.case_id, created.case_key, status)

    # -- internals ------------------------------------------------------------------

    def _withdraw(self, session: Session, case: Case, actor: str) -> None:
        if case.state != ACTIVE:
            return
        now = utcnow()
        case.state, case.withdrawn_at = WITHDRAWN, now
        for link in case.links:
            if link.state == ACTIVE:
                link.state, link.withdrawn_at = WITHDRAWN, now
        session.flush()
        # Withdrawn unless another active case holds it; a retired one stays so.
        settle_many(session, [link.signal for link in case.links])
        video_feed.publish(session, video_feed.items_of(case.links))
        audit.record(
            session, actor, "case.withdraw", "case", case.public_id, hashes=len(case.links)
        )

    @staticmethod
    def _append(session: Session, case_id: str, inputs: list[SignalInput]) -> None:
        """Link hashes (distinct and new to this case; image numbers as given, so an import
        numbers its videos itself) to a case without loading what it already holds: each
        chunk of an import costs the same."""
        case_pk = session.scalars(select(Case.id).where(Case.public_id == case_id)).one()
        signals = get_or_create_many(session, inputs)
        now = utcnow()
        links = [
            CaseSignal(
                case_id=case_pk,
                signal_id=s.id,
                state=ACTIVE,
                added_at=now,
                image=item.image,
                timestamp=item.timestamp,
            )
            for item, s in zip(inputs, signals, strict=True)
        ]
        session.add_all(links)
        session.flush()
        settle_many(session, [s for s in signals if s.state != ACTIVE])
        video_feed.publish(session, video_feed.items_of(links))

    @staticmethod
    def _by_public_id(session: Session, case_id: str) -> Case:
        return session.scalars(
            select(Case)
            .where(Case.public_id == case_id)
            .options(selectinload(Case.links).selectinload(CaseSignal.signal))
        ).one()

    def _authorised(self, session: Session, case_id: str, key: str) -> Case:
        """The case, if `key` opens it. An unknown id and a wrong key cost the same:
        one indexed read of the case row and one digest comparison, nothing more
        before the answer (the case's hashes are loaded only once the key is right)."""
        case = session.scalar(select(Case).where(Case.public_id == case_id))
        if not secret_matches(key, case.key_hash if case else _DUMMY_HASH) or case is None:
            raise Unauthorized("case id or case key is wrong")
        return session.scalars(
            select(Case)
            .where(Case.id == case.id)
            .options(selectinload(Case.links).selectinload(CaseSignal.signal))
            .execution_options(populate_existing=True)
        ).one()

    def _link(self, session: Session, case: Case, inputs: list[SignalInput]) -> int:
        held = {link.signal_id for link in case.links}
        # A request numbers its images from 0; the case numbers them across requests.
        first_image = 1 + max(
            (link.image for link in case.links if link.image is not None), default=-1
        )
        inputs = fold_duplicates(inputs)
        signals = get_or_create_many(session, inputs)
        links: list[CaseSignal] = []
        for item, signal in zip(inputs, signals, strict=True):
            if signal.id not in held:
                links.append(
                    CaseSignal(
                        case_id=case.id,
                        signal_id=signal.id,
                        state=ACTIVE,
                        added_at=utcnow(),
                        image=None if item.image is None else first_image + item.image,
                        timestamp=item.timestamp,
                        variant=item.variant,
                    )
                )
                held.add(signal.id)
        session.add_all(links)
        session.flush()
        # A new holder brings back a withdrawn hash, or one suspended only as another
        # case's sibling; never one whose own dispute is open or retired.
        settle_many(session, [s for s in signals if s.state != ACTIVE])
        video_feed.publish(session, video_feed.items_of(links))
        session.refresh(case, ["links"])
        return len(links)

    def _status(self, session: Session, case: Case) -> CaseStatus:
        suspended = self._suspended(session, case)
        hashes = [
            CaseHash(
                algorithm=link.signal.algorithm,
                hash=link.signal.value.hex(),
                state=WITHDRAWN
                if link.state == WITHDRAWN
                else suspended.get(("hash", link.signal_id))
                or suspended.get(("image", link.image))
                or link.signal.state,
                added_at=link.added_at,
                withdrawn_at=link.withdrawn_at,
                image=link.image,
                timestamp=link.timestamp,
                variant=link.variant,
            )
            for link in case.links
        ]
        outcomes = self._outcomes(session, case)
        counts: dict[str, int] = {}
        for o in outcomes:
            counts[o.outcome] = counts.get(o.outcome, 0) + 1
        return CaseStatus(
            case.public_id,
            case.state,
            case.created_at,
            case.withdrawn_at,
            hashes,
            len(outcomes),
            counts,
            outcomes,
        )

    @staticmethod
    def _suspended(session: Session, case: Case) -> dict[tuple[str, int | None], str]:
        """What disputes suspend in this case, as this case sees it: each disputed hash
        (`("hash", signal id)`) and each image holding one (`("image", number)`).

        A hash of a disputed image reads `disputed` here even while another case
        keeps it matching, so a case's status never tells whether anyone else holds
        the same hash.
        """
        found: dict[tuple[str, int | None], str] = {}
        rows = session.execute(
            select(CaseSignal.signal_id, CaseSignal.image, Dispute.state)
            .join(Dispute, Dispute.signal_id == CaseSignal.signal_id)
            .where(CaseSignal.case_id == case.id, Dispute.state.in_((OPEN, RETIRED)))
        )
        for signal_id, image, dispute in rows:
            state = RETIRED if dispute == RETIRED else DISPUTED
            found[("hash", signal_id)] = state
            if image is not None and found.get(("image", image)) != RETIRED:
                found[("image", image)] = state
        return found

    def _outcomes(self, session: Session, case: Case) -> list[Outcome]:
        """Each match on this case's hashes since it submitted them, with its latest report."""
        since = {link.signal_id: link.added_at for link in case.links}
        if not since:
            return []
        rows = session.execute(
            select(Match, Platform.name)
            .join(Platform, Platform.id == Match.platform_id)
            .where(Match.signal_id.in_(since))
            .order_by(Match.id)
        ).all()
        matches = [(m, name) for m, name in rows if m.created_at >= since[m.signal_id]]
        latest: dict[int, Feedback] = {}
        if matches:
            for fb in session.scalars(
                select(Feedback)
                .where(Feedback.match_id.in_([m.id for m, _ in matches]))
                .order_by(Feedback.id)
            ):
                latest[fb.match_id] = fb
        return [
            Outcome(
                match_id=m.public_id,
                platform=name,
                outcome=latest[m.id].outcome if m.id in latest else "matched",
                matched_at=m.created_at,
                reported_at=latest[m.id].created_at if m.id in latest else None,
            )
            for m, name in matches
        ]


def _chunks(inputs: list[SignalInput], size: int) -> list[list[SignalInput]]:
    """`inputs` cut every `size` or a little later, never inside an item (a video: the
    consecutive inputs with one image number)."""
    parts: list[list[SignalInput]] = [[]]
    for position, item in enumerate(inputs):
        previous = inputs[position - 1] if position else None
        same_item = previous is not None and item.image is not None and previous.image == item.image
        if len(parts[-1]) >= size and not same_item:
            parts.append([])
        parts[-1].append(item)
    return parts
