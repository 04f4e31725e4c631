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
    """A validated hash as submitted: algorithm name, raw bytes, optional PDQ quality."""

    algorithm: str
    value: bytes
    quality: int | None = None


def fold_duplicates(inputs: list[SignalInput]) -> list[SignalInput]:
    seen: dict[tuple[str, bytes], SignalInput] = {}
    for item in inputs:
        seen.setdefault((item.algorithm, item.value), item)
    return list(seen.values())


def get_or_create(session: Session, item: SignalInput) -> Signal:
    """The signal for this value, (re)activated if it had been withdrawn."""
    signal = session.scalar(
        select(Signal).where(Signal.algorithm == item.algorithm, Signal.value == item.value)
    )
    if signal is None:
        signal = Signal(
            algorithm=item.algorithm,
            value=item.value,
            quality=item.quality,
            state=ACTIVE,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        session.add(signal)
        session.flush()
        changes.record(session, signal, "add")
    elif signal.state == WITHDRAWN:
        set_state(session, signal, ACTIVE)
    return signal


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
