"""Signals: distinct hash values, shared by every case that submitted them.

A signal's state is derived (`settle`) from its own dispute, if any, and from
the cases holding it:

- `retired` / `disputed`: its own dispute was retired by an operator / is open
  (platforms' reports on its matches suspended it; a resubmission does not
  bring it back);
- `active`: otherwise, when at least one active case holds it in an image
  (its hashes submitted together as one picture) that no dispute has touched;
- `disputed` / `retired`: when every active case holding it holds it in an
  image whose other hash is disputed / retired (it was suspended as a sibling);
- `withdrawn`: no active case holds it.

So one case's disputed picture never suspends a hash that another case holds
in an undisputed one. Every change of state writes a change-log row in the same
transaction, which is what every worker's index follows.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from service.store import changes
from service.store.models import Case, CaseSignal, Dispute, Signal, utcnow

ACTIVE, WITHDRAWN, DISPUTED, RETIRED = "active", "withdrawn", "disputed", "retired"
# Dispute rows: OPEN suspends, RETIRED removes for good, REINSTATED no longer counts.
OPEN, REINSTATED = "open", "reinstated"
_SUSPENDING = {OPEN: DISPUTED, RETIRED: RETIRED}


@dataclass(frozen=True)
class SignalInput:
    """A validated hash as submitted: algorithm name, raw bytes, optional PDQ quality,
    which image or video of its request it is of (None: an image of its own), a
    video frame's time in seconds, and whether it is another form of that frame
    (`hashing.video_forms`) rather than the frame's own hash."""

    algorithm: str
    value: bytes
    quality: int | None = None
    image: int | None = None
    timestamp: float | None = None
    variant: bool = False


def fold_duplicates(inputs: list[SignalInput]) -> list[SignalInput]:
    seen: dict[tuple[str, bytes], SignalInput] = {}
    for item in inputs:
        key = (item.algorithm, item.value)
        # A frame's own hash wins over an equal variant of another frame.
        if key not in seen or (seen[key].variant and not item.variant):
            seen[key] = item
    return list(seen.values())


_IN_CHUNK = 500  # values per IN (...) lookup


def get_or_create_many(session: Session, items: list[SignalInput]) -> list[Signal]:
    """The signal of each (distinct) item, in order; new ones created (active), each
    with its change-log row. Looked up and inserted in bulk, so a large import holds
    the writer's lock for seconds, not minutes. The caller links them to its case,
    then `settle_many`s the ones that were not active (a new holder can bring back
    a withdrawn hash)."""
    found: dict[tuple[str, bytes], Signal] = {}
    by_algorithm: dict[str, list[bytes]] = {}
    for item in items:
        by_algorithm.setdefault(item.algorithm, []).append(item.value)
    for algorithm, values in by_algorithm.items():
        for start in range(0, len(values), _IN_CHUNK):
            chunk = values[start : start + _IN_CHUNK]
            for signal in session.scalars(
                select(Signal).where(Signal.algorithm == algorithm, Signal.value.in_(chunk))
            ):
                found[(algorithm, signal.value)] = signal
    now = utcnow()
    fresh = [
        Signal(
            algorithm=item.algorithm,
            value=item.value,
            quality=item.quality,
            state=ACTIVE,
            created_at=now,
            updated_at=now,
        )
        for item in items
        if (item.algorithm, item.value) not in found
    ]
    if fresh:
        session.add_all(fresh)
        session.flush()
        changes.record_many(session, fresh, "add")
        found.update(((s.algorithm, s.value), s) for s in fresh)
    return [found[(item.algorithm, item.value)] for item in items]


def settle(session: Session, signal: Signal) -> None:
    """Set `signal`'s state to what its dispute and its holders make it (module docstring)."""
    set_state(session, signal, derived_state(session, signal))


def settle_many(session: Session, signals: Iterable[Signal]) -> None:
    for signal in signals:
        settle(session, signal)


def derived_state(session: Session, signal: Signal) -> str:
    own = session.get(Dispute, signal.id)
    if own is not None and own.state in _SUSPENDING:
        return _SUSPENDING[own.state]
    holder, mate = aliased(CaseSignal), aliased(CaseSignal)
    rows = session.execute(
        select(holder.case_id, holder.image, Dispute.state)
        .join(Case, (Case.id == holder.case_id) & (Case.state == ACTIVE))
        .outerjoin(mate, (mate.case_id == holder.case_id) & (mate.image == holder.image))
        .outerjoin(
            Dispute,
            (Dispute.signal_id == mate.signal_id) & Dispute.state.in_(tuple(_SUSPENDING)),
        )
        .where(holder.signal_id == signal.id, holder.state == ACTIVE)
    ).all()
    if not rows:
        return WITHDRAWN
    suspended: dict[tuple[int, int | None], set[str]] = {}
    for case_id, image, dispute in rows:
        states = suspended.setdefault((case_id, image), set())
        if dispute is not None:
            states.add(_SUSPENDING[dispute])
    if any(not states for states in suspended.values()):
        return ACTIVE  # some case holds it in an undisputed picture
    return DISPUTED if any(DISPUTED in states for states in suspended.values()) else RETIRED


def image_mates(session: Session, signal_ids: Iterable[int]) -> set[int]:
    """Every signal that some case submitted in the same image as one of `signal_ids`
    (the ids themselves included). Never crosses cases: each case's own grouping."""
    ids = set(signal_ids)
    mine, theirs = aliased(CaseSignal), aliased(CaseSignal)
    found = session.scalars(
        select(theirs.signal_id)
        .join(mine, (mine.case_id == theirs.case_id) & (mine.image == theirs.image))
        .where(mine.signal_id.in_(ids))
        .distinct()
    ).all()
    return ids | set(found)


def set_state(session: Session, signal: Signal, state: str) -> None:
    """Change a signal's state and log whether it now enters or leaves the index."""
    if signal.state == state:
        return
    was_matching = signal.state == ACTIVE
    signal.state, signal.updated_at = state, utcnow()
    session.flush()
    if was_matching != (state == ACTIVE):
        changes.record(session, signal, "add" if state == ACTIVE else "remove")
    else:
        # Still out of the index, but partners' feeds must learn the new state.
        changes.record(session, signal, "remove")
