"""Platforms (partners) and their API keys: issue once, store hashed, scope, revoke."""

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.failures import Conflict, Failure, Forbidden, Invalid, NotFound, Unauthorized
from service.store import audit
from service.store.credentials import hash_secret, new_api_key, new_public_id
from service.store.db import Database
from service.store.models import ApiKey, Platform, utcnow

SCOPES = ("match", "feedback", "sync", "metrics")  # metrics: the operator's Prometheus


@dataclass(frozen=True)
class Caller:
    """An authenticated platform request: who, with which key, allowed what."""

    platform_id: int
    platform_name: str
    key_id: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class PlatformInfo:
    id: int
    name: str
    state: str
    created_at: datetime
    active_keys: int


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    key: str  # shown once, never stored
    platform: str
    scopes: tuple[str, ...]


class PlatformRepository:
    def __init__(self, db: Database, cache_seconds: float = 0.0) -> None:
        self.db = db
        # By default every request checks its key in the database (one indexed read,
        # outside a transaction on PostgreSQL), so a revoked key or a disabled
        # platform stops working in every worker and replica at once. With
        # `cache_seconds` > 0 verified keys are remembered (by hash, never the key):
        # this worker forgets them when it revokes or disables; others within
        # `cache_seconds`.
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Caller | Failure]] = {}
        self._cache_lock = threading.Lock()

    def authenticate(self, key: str | None, scope: str | None) -> Caller:
        """The caller behind an API key, if the key is valid, live and carries `scope`."""
        if not key:
            raise Unauthorized("an API key is required (header X-API-Key)")
        digest = hash_secret(key)
        outcome = self._lookup(digest) if self.cache_seconds <= 0 else self._cached(digest)
        if scope is not None and scope not in outcome.scopes:
            raise Forbidden(f"API key lacks the {scope!r} scope")
        return outcome

    def _cached(self, digest: str) -> Caller:
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is None or now - cached[0] > self.cache_seconds:
            try:
                outcome: Caller | Failure = self._lookup(digest)
            except Failure as exc:
                outcome = exc
            with self._cache_lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()  # bounded: a flood of wrong keys cannot grow it
                self._cache[digest] = (now, outcome)
        else:
            outcome = cached[1]
        if isinstance(outcome, Failure):
            raise outcome
        return outcome

    def _forget(self) -> None:
        with self._cache_lock:
            self._cache.clear()

    def _lookup(self, digest: str) -> Caller:
        with self.db.read_once() as session:
            row = session.execute(
                select(ApiKey, Platform)
                .join(Platform, Platform.id == ApiKey.platform_id)
                .where(ApiKey.key_hash == digest)
            ).first()
            if row is None:
                raise Unauthorized("API key is not valid")
            api_key, platform = row
            if api_key.revoked_at is not None:
                raise Unauthorized("API key has been revoked")
            if platform.state != "active":
                raise Forbidden("this platform is disabled")
            return Caller(
                platform.id, platform.name, api_key.key_id, frozenset(api_key.scopes.split())
            )

    # -- operator actions (hashbank-admin); each one audited ------------------------

    def add(self, name: str, actor: str = "admin") -> PlatformInfo:
        try:
            with self.db.transaction() as session:
                platform = Platform(name=name, state="active", created_at=utcnow())
                session.add(platform)
                session.flush()
                audit.record(session, actor, "platform.add", "platform", platform.id, name=name)
                return PlatformInfo(platform.id, name, platform.state, platform.created_at, 0)
        except IntegrityError:
            raise Conflict(f"a platform named {name!r} exists", "platform_exists") from None

    def list_platforms(self) -> list[PlatformInfo]:
        with self.db.transaction(read_only=True) as session:
            platforms = session.scalars(select(Platform).order_by(Platform.id)).all()
            keys = session.scalars(select(ApiKey).where(ApiKey.revoked_at.is_(None))).all()
            return [
                PlatformInfo(
                    p.id, p.name, p.state, p.created_at, sum(k.platform_id == p.id for k in keys)
                )
                for p in platforms
            ]

    def set_state(self, name: str, state: str, actor: str = "admin") -> None:
        with self.db.transaction() as session:
            platform = self._by_name(session, name)
            platform.state = state
            audit.record(
                session,
                actor,
                f"platform.{'disable' if state != 'active' else 'enable'}",
                "platform",
                platform.id,
            )
        self._forget()  # after the commit, so nothing re-caches the old state

    def issue_key(self, name: str, scopes: list[str], actor: str = "admin") -> IssuedKey:
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise Invalid(f"scopes must be some of {', '.join(SCOPES)}", "invalid_scope")
        key = new_api_key()
        ordered = tuple(s for s in SCOPES if s in scopes)
        with self.db.transaction() as session:
            platform = self._by_name(session, name)
            api_key = ApiKey(
                platform_id=platform.id,
                key_id=new_public_id("k_"),
                key_hash=hash_secret(key),
                scopes=" ".join(ordered),
                created_at=utcnow(),
            )
            session.add(api_key)
            session.flush()
            audit.record(
                session,
                actor,
                "key.issue",
                "api_key",
                api_key.key_id,
                platform=platform.name,
                scopes=list(ordered),
            )
            return IssuedKey(api_key.key_id, key, platform.name, ordered)

    def revoke_key(self, key_id: str, actor: str = "admin") -> None:
        with self.db.transaction() as session:
            api_key = session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
            if api_key is None:
                raise NotFound(f"no API key {key_id!r}")
            if api_key.revoked_at is None:
                api_key.revoked_at = utcnow()
                audit.record(session, actor, "key.revoke", "api_key", key_id)
        self._forget()

    def keys(self, name: str) -> list[tuple[str, str, datetime, datetime | None]]:
        with self.db.transaction(read_only=True) as session:
            platform = self._by_name(session, name)
            rows = session.scalars(select(ApiKey).where(ApiKey.platform_id == platform.id)).all()
            return [(k.key_id, k.scopes, k.created_at, k.revoked_at) for k in rows]

    @staticmethod
    def _by_name(session: Session, name: str) -> Platform:
        platform = session.scalar(select(Platform).where(Platform.name == name))
        if platform is None:
            raise NotFound(f"no platform named {name!r}")
        return platform
