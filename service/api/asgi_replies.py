"""Answering in the error shape from ASGI middleware, below FastAPI's handlers.

The middlewares that refuse a request or stand in for a failed route (`body_limits`,
`unhandled`) speak raw ASGI: they need to know whether the app has already started
its response (half a response cannot be replaced) and to send one JSON error body.
"""

import json

from starlette.types import Message, Send

from service.api.errors import error_body


class StartTracking:
    """An ASGI `send` that passes every message on and remembers whether the response began."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        self.started = self.started or message["type"] == "http.response.start"
        await self._send(message)


def encoded_error(code: str, message: str) -> bytes:
    """The error shape as compact JSON bytes."""
    return json.dumps(error_body(code, message), separators=(",", ":")).encode()


async def send_error(
    send: Send,
    status: int,
    code: str,
    message: str,
    headers: tuple[tuple[bytes, bytes], ...] = (),
) -> None:
    """Send a whole response: `status`, the error shape `{code, message}`, and `headers`."""
    body = encoded_error(code, message)
    start_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": start_headers})
    await send({"type": "http.response.body", "body": body})
