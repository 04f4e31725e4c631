"""The audit log: an append-only record of every state change and admin action.

Details name ids and counts, never hash values, case keys or API keys.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.store.models import AuditEvent, utcnow


def record(
    session: Session,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str | int,
    **detail: Any,
) -> None:
    session.add(
        AuditEvent(
            at=utcnow(),
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=str(subject_id),
            detail=detail,
        )
    )


def tail(session: Session, limit: int) -> Sequence[AuditEvent]:
    rows = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)).all()
    return list(reversed(rows))
