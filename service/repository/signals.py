"""Signals: distinct hash values, shared by every case that submitted them.

A signal matches while at least one active case holds it and no dispute has
suspended it (disputed) or an operator retired it (retired; a resubmission
does not bring it back). Every change of that fact writes a change-log row in the same
transaction, which is what every worker's index follows.
"""

from dataclasses import dataclass

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from service.models import Case, CaseSignal, Signal, utcnow
from service.repository import changes

ACTIVE, WITHDRAWN, DISPUTED, RETIRED = "active", "withdrawn", "disputed", "retired"


@dataclass(frozen=True)
class SignalInput:
    """A validated hash as submitted: algorithm name, raw bytes, optional PDQ quality,
    and which image of its request it is of (None: an image of its own)."""

    algorithm: str
    value: bytes
    quality: int | None = None
    image: int | None = None


def fold_duplicates(inputs: list[SignalInput]) -> list[SignalInput]:
    seen: dict[tuple[str, bytes], SignalInput] = {}
    for item in inputs:
        seen.setdefault((item.algorithm, item.value), item)
    return list(seen.values())


_IN_CHUNK = 500  # values per IN (...) lookup


def get_or_create_many(session: Session, items: list[SignalInput]) -> list[Signal]:
    """The signal of each (distinct) item, in order; new ones created, withdrawn ones
    reactivated, each with its change-log row. Looked up and inserted in bulk, so a
    large import holds the writer's lock for seconds, not minutes."""
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
    signals = [found[(item.algorithm, item.value)] for item in items]
    for signal in signals:
        if signal.state == WITHDRAWN:
            set_state(session, signal, ACTIVE)
    return signals


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


def held_by_active_case(session: Session, signal_id: int) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    and_(
                        CaseSignal.signal_id == signal_id,
                        CaseSignal.state == ACTIVE,
                        CaseSignal.case_id == Case.id,
                        Case.state == ACTIVE,
                    )
                )
            )
        )
    )
