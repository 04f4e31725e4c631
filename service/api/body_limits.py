"""Bound every request body, in size and in time, before the app sees it.

JSON bodies are read here in full, up to the limit, and replayed to the app as
one message: a body over the limit gets 413 whether or not it declared its
Content-Length (a chunked one too), before any route runs, and FastAPI still
parses it once, from memory. Image uploads (the exempt paths) stream on to
their route, which enforces its own, larger limit.

Every body, JSON or image, must also arrive in time (`BodyDeadline`); a client
that trickles it is answered 408 and disconnected, instead of holding a
connection and a worker's memory for as long as it likes.
"""

import time
from dataclasses import dataclass

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.asgi_replies import StartTracking, send_error

# The largest JSON body (GET /v1/limits tells clients): a full /v1/match request,
# 8,192 hashes of 64 hex digits in their items, is about 600 kB.
JSON_BODY_LIMIT = 2 * 1024 * 1024


@dataclass(frozen=True)
class BodyDeadline:
    """How slowly a request body may arrive.

    At most `idle_seconds` between two chunks, and the whole body within
    `seconds` plus one second for every `min_rate` bytes received (Apache
    mod_reqtimeout's rule): a large upload on a slow link has time, a client
    sending a byte every few seconds does not.
    """

    idle_seconds: float
    seconds: float
    min_rate: float


class BodyLimits:
    """ASGI middleware: 413 for JSON bodies above `json_limit` bytes, 408 for slow bodies.

    Both answers are in the error shape and close the connection: the rest of
    the body was never read, so the connection cannot carry another request.
    """

    def __init__(
        self,
        app: ASGIApp,
        json_limit: int,
        exempt_paths: tuple[str, ...],
        deadline: BodyDeadline,
    ) -> None:
        self.app, self.json_limit, self.exempt = app, json_limit, exempt_paths
        self.deadline = deadline

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        timed = _TimedReceive(receive, self.deadline)
        if scope["path"] in self.exempt:
            await self._streamed(scope, timed, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.json_limit:
            await self._too_large(send)
            return
        try:
            body = await self._read(timed)
        except _TooLarge:
            await self._too_large(send)
            return
        except _TooSlow:
            await _refuse(send, 408, "request_timeout", _SLOW)
            return
        if body is None:  # the client went away before sending it all: nobody to answer
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:  # after the body, only the disconnect is left to wait for
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _read(self, receive: "_TimedReceive") -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.json_limit:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _streamed(self, scope: Scope, receive: "_TimedReceive", send: Send) -> None:
        tracking = StartTracking(send)
        try:
            await self.app(scope, receive, tracking)
        except _TooSlow:
            if tracking.started:  # not while routes answer after reading: leave it to the guard
                raise
            await _refuse(send, 408, "request_timeout", _SLOW)

    async def _too_large(self, send: Send) -> None:
        message = f"request body is larger than {self.json_limit:,} bytes"
        await _refuse(send, 413, "too_large", message)


_SLOW = "the request body arrived too slowly"


class _TimedReceive:
    """`receive`, raising `_TooSlow` once the body misses its `BodyDeadline`."""

    def __init__(self, receive: Receive, deadline: BodyDeadline) -> None:
        self.receive, self.deadline = receive, deadline
        self.start = time.monotonic()
        self.received = 0
        self.complete = False

    async def __call__(self) -> Message:
        if self.complete:  # waiting for the disconnect after the body is not bounded
            return await self.receive()
        d = self.deadline
        left = self.start + d.seconds + self.received / d.min_rate - time.monotonic()
        wait = min(d.idle_seconds, left)
        if wait <= 0:
            raise _TooSlow
        with anyio.move_on_after(wait) as waited:
            message = await self.receive()
        if waited.cancelled_caught:
            raise _TooSlow
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            self.complete = not message.get("more_body", False)
        return message


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    await send_error(send, status, code, message, ((b"connection", b"close"),))


class _TooLarge(Exception):
    pass


class _TooSlow(Exception):
    pass
