"""The last resort for exceptions nothing else handled: a 500 in the error shape, logged bare.

Starlette's own `ServerErrorMiddleware` calls the app's 500 handler and then
re-raises, so uvicorn logs the full traceback (SQL statements and their
parameters, which can hold hash values) and drops the keep-alive connection.
`UnhandledErrors` sits inside it and never re-raises: it logs the exception's
type and the route template (never the path, which can hold a case id) and
answers 500, so the connection stays usable for the client's next request.
A database that cannot be reached (restarted, failed over, out of
connections) is the client's cue to retry: 503 with `Retry-After`.
"""

import logging

from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api.asgi_replies import StartTracking, send_error

log = logging.getLogger("hashbank.errors")


_FAILED = "the service failed; nothing was changed"
_UNAVAILABLE = "the database did not answer; nothing was changed, try again"


class UnhandledErrors:
    """ASGI middleware: any `Exception` from the app becomes a 500 and one log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracking = StartTracking(send)
        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            log.error("unhandled %s in %s %s", _kind(exc), scope.get("method"), _route(scope))
            if tracking.started:
                # Half a response cannot be mended: returning without finishing it makes
                # uvicorn close the connection, so the client sees a cut, not a wrong body.
                return
            if _database_unavailable(exc):
                await send_error(
                    send, 503, "database_unavailable", _UNAVAILABLE, ((b"retry-after", b"1"),)
                )
            else:
                await send_error(send, 500, "internal_error", _FAILED)


def _database_unavailable(exc: BaseException) -> bool:
    """A lost or refused database connection (not a bug in a statement)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError):
        return False
    # psycopg's OperationalError is about the connection or the server; SQLite's is
    # also raised for mistakes ("no such table"), of which only a busy file is transient.
    return type(exc.orig).__module__.startswith("psycopg") or "locked" in str(exc.orig)


def _kind(exc: BaseException) -> str:
    """The type's name; for an exception group, the names of what it holds."""
    if isinstance(exc, BaseExceptionGroup):
        return f"{type(exc).__name__}({', '.join(_kind(e) for e in exc.exceptions)})"
    return type(exc).__name__


def _route(scope: Scope) -> str:
    """The matched route's template (`/v1/cases/{case_id}`), or `-` if none matched."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else "-"
