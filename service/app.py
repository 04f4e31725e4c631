"""`create_app(settings)`: build the whole service from one settings object."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hashing.policy import DEFAULT_POLICY
from index import IndexConfig
from service.api import access_log
from service.api import docs as api_docs
from service.api.body_limits import JSON_BODY_LIMIT, BodyDeadline, BodyLimits
from service.api.client_address import TrustedProxies
from service.api.deps import Services
from service.api.errors import install_error_handlers
from service.api.openapi import with_body_statuses
from service.api.request_metrics import RequestMetrics
from service.api.routes import cases, exchange, health, limits, pages, platform, stopncii
from service.api.routes import metrics as metrics_route
from service.api.throttle import FailureThrottle
from service.api.unhandled import UnhandledErrors
from service.exchange.feed import ExchangeRepository
from service.live.follower import ChangeFollower, Waker
from service.live.indexes import IndexSet
from service.match.decode_budget import DecodeBudget
from service.match.matcher import Matcher
from service.match.video import VideoMatcher
from service.settings import Settings
from service.store import schema
from service.store.cases import CaseRepository
from service.store.db import Database
from service.store.matches import MatchRepository
from service.store.platforms import PlatformRepository
from service.telemetry import log_format, metrics


def _waker(settings: Settings, db: Database) -> Waker | None:
    if db.is_sqlite or not settings.sync_listen:
        return None
    from service.live.change_notify import ChangeListener  # psycopg: the `postgres` extra

    return ChangeListener(db.url)


def build_services(settings: Settings) -> Services:
    db = Database(settings.resolved_database_url)
    schema.upgrade(db)
    indexes = IndexSet(IndexConfig(kind=settings.index_kind))
    follower = ChangeFollower(
        db,
        indexes,
        settings.snapshot_dir,
        settings.sync_interval_seconds,
        settings.snapshot_interval_seconds,
        _waker(settings, db),
    )
    db.after_change(follower.after_commit)  # the write path keeps this worker's index fresh
    matches = MatchRepository(db, settings.dispute_min_platforms)
    meter = metrics.for_settings(settings)
    follower.on_progress = meter.observe_follower
    return Services(
        settings=settings,
        db=db,
        cases=CaseRepository(db),
        platforms=PlatformRepository(db, settings.api_key_cache_seconds),
        matches=matches,
        exchange=ExchangeRepository(db, settings.dispute_min_platforms),
        follower=follower,
        matcher=Matcher(
            indexes,
            matches,
            policy=DEFAULT_POLICY,
            max_batch=settings.max_match_batch,
            max_hashes=settings.max_match_hashes,
            max_image_pixels=settings.max_image_pixels,
            budget=DecodeBudget(
                settings.decode_pool_bytes, settings.max_decode_bytes, settings.decode_wait_seconds
            ),
            meter=meter,
        ),
        video_matcher=VideoMatcher(
            indexes,
            matches,
            max_frames=settings.max_video_frames,
            match_percent=settings.video_match_percent,
        ),
        key_throttle=FailureThrottle(
            db, settings.key_failures_allowed, settings.key_failure_window_seconds
        ),
        proxies=TrustedProxies(settings.trusted_proxies),
        metrics=meter,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    services = build_services(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        services.follower.start()
        try:
            yield
        finally:
            services.follower.stop()
            services.metrics.close()
            services.db.dispose()

    app = FastAPI(
        title="hashbank",
        version="0.1.0",
        summary="Perceptual-hash matching for survivor-initiated takedown of intimate images.",
        description=(
            "Survivors submit **hashes** of their images (never the images); platforms match "
            "uploads against them and report what they did. Platform routes need an API key "
            "in `X-API-Key`; case routes need the case key in `X-Case-Key`."
        ),
        lifespan=lifespan,
        docs_url=None,  # service.api.docs serves them from installed files
        redoc_url=None,
    )
    app.state.services = services
    install_error_handlers(app)
    deadline = BodyDeadline(
        settings.body_idle_timeout_seconds, settings.body_timeout_seconds, settings.body_min_rate
    )
    app.add_middleware(
        BodyLimits, json_limit=JSON_BODY_LIMIT, exempt_paths=("/v1/match/image",), deadline=deadline
    )
    for module in (cases, platform, exchange, stopncii, limits, health, metrics_route, pages):
        app.include_router(module.router)
    app.mount("/static", pages.static_files(), name="static")
    api_docs.install(app)
    app.add_middleware(pages.BrowserHeaders)
    app.add_middleware(UnhandledErrors)  # whatever the rest raises
    # Outermost of ours: it counts the status the client got, UnhandledErrors' 500s too.
    app.add_middleware(RequestMetrics, metrics=services.metrics)
    app.openapi = with_body_statuses(app)  # type: ignore[method-assign]
    logging.getLogger("hashbank").setLevel(logging.INFO)
    access_log.install()
    log_format.install(settings.log_format)
    return app
