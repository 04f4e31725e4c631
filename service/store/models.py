"""SQLAlchemy 2.0 models: the database is the source of truth for everything.

Names follow DESIGN.md: a *signal* is one distinct hash value (algorithm +
bytes) held once however many cases submit it; `case_signals` says which case
submitted which signal and whether that submission is still in force.
"""

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Integer primary keys that are BIGINT on PostgreSQL and still SQLite's rowid alias.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns timezone-aware UTC datetimes, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: hashbank stores UTC only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]

    links: Mapped[list["CaseSignal"]] = relationship(
        back_populates="case", order_by="CaseSignal.signal_id"
    )


class Signal(Base):
    __tablename__ = "signals"
    __table_args__ = (UniqueConstraint("algorithm", "value"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    value: Mapped[bytes] = mapped_column(LargeBinary(64))
    quality: Mapped[int | None]
    # active: matches; withdrawn: no case holds it any more; disputed: suspended after
    # platforms reported it as not violating; retired: an operator confirmed that.
    state: Mapped[str] = mapped_column(String(16), default="active", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Reports before this (an operator's reinstatement) no longer count towards a dispute.
    disputes_cleared_at: Mapped[datetime | None]


class CaseSignal(Base):
    __tablename__ = "case_signals"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id"), primary_key=True, index=True)
    state: Mapped[str] = mapped_column(String(16), default="active")
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    # Which of the case's images this hash is of (numbered from 0 across the case's
    # requests); None when the client did not say. A dispute suspends one image's
    # hashes together (repository/disputes.py).
    image: Mapped[int | None]
    # A video's frame hash: its time in seconds from the video's start (None otherwise).
    timestamp: Mapped[float | None] = mapped_column(Float)
    # Another form of the video frame at `timestamp` (hashing.video_forms), not a frame.
    variant: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    case: Mapped[Case] = relationship(back_populates="links")
    signal: Mapped[Signal] = relationship()


class Platform(Base):
    __tablename__ = "platforms"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id"), index=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)  # public, for revoking
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(64))  # space-separated
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    platform: Mapped[Platform] = relationship()


class Match(Base):
    __tablename__ = "matches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id"), index=True)
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id"), index=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    distance: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id"), index=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id"))
    outcome: Mapped[str] = mapped_column(String(20))  # pending_review, removed, not_violating
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Change(Base):
    """The change log: every change to what matches, in commit order (`seq`)."""

    __tablename__ = "changes"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id"), index=True)
    # add, remove: the signal enters or leaves the index; item: its own state did not
    # change, only its place in a video (below), so the index follower skips the row.
    op: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16))  # the signal's state after the change
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A video's hash joining (item_op add) or leaving (remove) the video: the case's item
    # `case_signals.image` of this case and signal (service/store/video_feed.py). The
    # case is never shown to partners: the feed shows an opaque reference of the video.
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", name="fk_changes_case_id"), index=True
    )
    item_op: Mapped[str | None] = mapped_column(String(8))

    signal: Mapped[Signal] = relationship()


CHANGES_COUNTER = "changes"


class Counter(Base):
    """Named counters; the `changes` row is incremented under the writer's lock."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class Dispute(Base):
    """A hash that platforms' reports suspended directly (not as another hash's sibling).

    One row per signal, reused if it is disputed again after a reinstatement.
    `state`: open (suspended, waiting for an operator), reinstated, retired. What
    it suspends besides the hash itself is derived: the hashes each holding case
    submitted for the same image (`repository.disputes`).
    """

    __tablename__ = "disputes"

    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]


class KeyFailure(Base):
    """Wrong case keys per scope (a client address or a case id) in a fixed window.

    Shared through the database so the limit holds across workers and replicas.
    `scope` is a SHA-256 of the scope's name: no address or case id is kept here.
    """

    __tablename__ = "key_failures"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(index=True)
    failures: Mapped[int]


PARTNER_REFS_SECRET = "partner_refs"  # noqa: S105 - a row name, not a secret
SECRETS = (PARTNER_REFS_SECRET,)


class ServiceSecret(Base):
    """Random per-deployment secrets (`SECRETS`), created with the schema."""

    __tablename__ = "service_secrets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary(64))


class AuditEvent(Base):
    """Append-only: every state change and admin action. Never holds a secret or hash value."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
