"""Count and time every HTTP request for /metrics, by route template, method and status.

The route label is the matched route's template (`/v1/cases/{case_id}`),
never the path: a path can hold a case id, and one series per path would
grow without bound. A path no route matched is `unmatched`, and a method
outside HTTP's usual few is `other`, so a scanner cannot mint new series.
The template is read after the app ran: the router records the route it
chose in the request's scope.
"""

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.errors import HTTP_METHODS
from service.telemetry.metrics import Metrics

UNMATCHED = "unmatched"


class RequestMetrics:
    """ASGI middleware, outermost of the app's own: it sees the status the client got."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Stays 500 only if the app ends without answering (the connection is then cut).
        status = 500

        async def tracking(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, tracking)
        finally:
            method = scope["method"] if scope["method"] in HTTP_METHODS else "other"
            self.metrics.observe_request(
                route_template(scope), method, status, time.perf_counter() - started
            )


def route_template(scope: Scope) -> str:
    """The template of the route that handled the request, or `unmatched`."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    # A mounted app (the static files) sets no route, but moves the mount's prefix into
    # root_path: the prefix is the template, the rest is a file name.
    root, app_root = scope.get("root_path", ""), scope.get("app_root_path", "")
    if "endpoint" in scope and root.startswith(app_root) and len(root) > len(app_root):
        return f"{root[len(app_root) :]}/{{path}}"
    return UNMATCHED
