"""Annotated dependencies: what a route may ask for, each one narrow thing.

`create_app` builds one `Services` (the composition root) per app and keeps it
on `app.state`; routes never receive it whole. Each asks for the one
repository, the matcher, the settings, the authenticated caller (`MatchCaller`,
...) or the client's address that it uses, as FastAPI's full-stack template does.
"""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from service.api.client_address import TrustedProxies
from service.api.throttle import FailureThrottle
from service.exchange.feed import ExchangeRepository
from service.failures import Forbidden, Unauthorized
from service.live.follower import ChangeFollower
from service.match.matcher import Matcher
from service.match.video import VideoMatcher
from service.settings import Settings
from service.store.cases import CaseRepository
from service.store.db import Database
from service.store.matches import MatchRepository
from service.store.platforms import Caller, PlatformRepository
from service.telemetry.metrics import Metrics


@dataclass
class Services:
    """Everything one app instance owns; built by `create_app`, kept on `app.state`."""

    settings: Settings
    db: Database
    cases: CaseRepository
    platforms: PlatformRepository
    matches: MatchRepository
    exchange: ExchangeRepository
    follower: ChangeFollower
    matcher: Matcher
    video_matcher: VideoMatcher
    key_throttle: FailureThrottle
    proxies: TrustedProxies
    metrics: Metrics


# Dependencies are async: plain sync ones would each cost a thread-pool hop per request.
async def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


# What a route may ask for: each one thing, never the whole `Services`.
_ServicesDep = Annotated[Services, Depends(_services)]


def _part(name: str) -> Any:
    """A dependency that hands a route one attribute of the app's `Services`."""

    async def dependency(services: _ServicesDep) -> object:
        return getattr(services, name)

    return Depends(dependency)


SettingsDep = Annotated[Settings, _part("settings")]
CasesDep = Annotated[CaseRepository, _part("cases")]
MatchesDep = Annotated[MatchRepository, _part("matches")]
ExchangeDep = Annotated[ExchangeRepository, _part("exchange")]
MatcherDep = Annotated[Matcher, _part("matcher")]
VideoMatcherDep = Annotated[VideoMatcher, _part("video_matcher")]
FollowerDep = Annotated[ChangeFollower, _part("follower")]
MetricsDep = Annotated[Metrics, _part("metrics")]
KeyThrottleDep = Annotated[FailureThrottle, _part("key_throttle")]


async def client_address(request: Request, services: _ServicesDep) -> str:
    """The client's address (`service.api.client_address`): the peer, or trusted proxies' word."""
    peer = request.client.host if request.client else None
    return services.proxies.client(peer, request.headers.getlist("x-forwarded-for"))


ClientAddress = Annotated[str, Depends(client_address)]
CaseKey = Annotated[
    str,
    Header(
        alias="X-Case-Key",
        description="The secret case key shown when the case was created",
        min_length=1,
        max_length=200,
    ),
]


async def _api_key(
    x_api_key: Annotated[str | None, Header(description="Your platform API key")] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> str | None:
    if x_api_key:
        return x_api_key
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


ApiKeyDep = Annotated[str | None, Depends(_api_key)]


def require_scope(scope: str) -> object:
    async def dependency(services: _ServicesDep, key: ApiKeyDep) -> Caller:
        # One indexed read (service.store.platforms), on the event loop: a hop to
        # a thread and back costs more than the read (scripts/bench_api.py: 350
        # against 833 single-hash matches/s).
        return services.platforms.authenticate(key, scope)

    return Depends(dependency)


MatchCaller = Annotated[Caller, require_scope("match")]
FeedbackCaller = Annotated[Caller, require_scope("feedback")]
SyncCaller = Annotated[Caller, require_scope("sync")]
MetricsCaller = Annotated[Caller, require_scope("metrics")]


def stopncii_caller(scope: str) -> object:
    """StopNCII-style credentials: two hashbank API keys of one platform.

    `x-functions-key` must hold `scope` (StopNCII issues one function key per
    endpoint); `Ocp-Apim-Subscription-Key` identifies the platform and may be
    the same key.
    """

    async def dependency(
        services: _ServicesDep,
        subscription: Annotated[str | None, Header(alias="Ocp-Apim-Subscription-Key")] = None,
        function: Annotated[str | None, Header(alias="x-functions-key")] = None,
    ) -> Caller:
        if not subscription or not function:
            raise Unauthorized(
                "send hashbank API keys in both Ocp-Apim-Subscription-Key and x-functions-key"
            )
        caller = services.platforms.authenticate(function, scope)
        if subscription != function:
            owner = services.platforms.authenticate(subscription, None)
            if owner.platform_id != caller.platform_id:
                raise Forbidden("the two keys belong to different platforms")
        return caller

    return Depends(dependency)
