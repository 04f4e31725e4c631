"""The last resort for exceptions nothing else handled: a 500 in the error shape, logged bare.

Starlette's own `ServerErrorMiddleware` calls the app's 500 handler and then
re-raises, so uvicorn logs the full traceback (SQL statements and their
parameters, which can hold hash values) and drops the keep-alive connection.
`UnhandledErrors` sits inside it and never re-raises: it logs the exception's
type and the route template (never the path, which can hold a case id) and
answers 500, so the connection stays usable for the client's next request.
"""

import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import error_body

log = logging.getLogger("hashbank.errors")

_BODY = json.dumps(
    error_body("internal_error", "the service failed; nothing was changed"), separators=(",", ":")
).encode()


class UnhandledErrors:
    """ASGI middleware: any `Exception` from the app becomes a 500 and one log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            log.error("unhandled %s in %s %s", _kind(exc), scope.get("method"), _route(scope))
            if started:
                # Half a response cannot be mended: returning without finishing it makes
                # uvicorn close the connection, so the client sees a cut, not a wrong body.
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(_BODY)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": _BODY})


def _kind(exc: BaseException) -> str:
    """The type's name; for an exception group, the names of what it holds."""
    if isinstance(exc, BaseExceptionGroup):
        return f"{type(exc).__name__}({', '.join(_kind(e) for e in exc.exceptions)})"
    return type(exc).__name__


def _route(scope: Scope) -> str:
    """The matched route's template (`/v1/cases/{case_id}`), or `-` if none matched."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else "-"
