"""uvicorn's httptools protocol with a deadline and a size cap on request headers.

uvicorn bounds nothing before a request's headers are complete, whichever
parser it runs: a connection that sends nothing, or a header byte every few
seconds, stays open for ever (`timeout_keep_alive` starts only after a
response, and any byte that arrives cancels it), and httptools takes headers
of any size. The ASGI app never hears of such a connection, so this cannot be
done in middleware. `HeaderLimitsProtocol` closes a connection whose request
line and headers are not complete within `header_timeout_seconds` of its
opening or of its previous response (408 in the error shape if some of them
came, silently if none did), and answers 431 to headers over
`max_header_bytes`. Request bodies are bounded in time by `service.api.body_limits`.

    uvicorn --http service.api.header_limits:HeaderLimitsProtocol ...   (or UVICORN_HTTP=...)
"""

import asyncio
from functools import cache
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.api.asgi_replies import encoded_error
from service.settings import Settings


@cache
def _limits() -> tuple[float, int]:
    """Read once per process: uvicorn builds the protocol per connection, not `create_app`."""
    settings = Settings()
    return settings.header_timeout_seconds, settings.max_header_bytes


def _reply(status: int, reason: bytes, code: str, message: str) -> bytes:
    body = encoded_error(code, message)
    return (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
        b"connection: close\r\n\r\n%s" % (status, reason, len(body), body)
    )


_TIMED_OUT = _reply(
    408, b"Request Timeout", "request_timeout", "request headers arrived too slowly"
)
_TOO_LARGE = _reply(
    431, b"Request Header Fields Too Large", "headers_too_large", "request headers are too large"
)


class HeaderLimitsProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol`, plus the header deadline and size cap described above."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout, self._max_header_bytes = _limits()
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0  # received since the deadline was set

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._header_bytes += len(data)
        super().data_received(data)
        # Judged after parsing: a read that completed the headers may carry body bytes too.
        awaiting = self._header_timer is not None
        if (
            awaiting
            and self._header_bytes > self._max_header_bytes
            and not self.transport.is_closing()
        ):
            self._stop_timer()
            self.transport.write(_TOO_LARGE)
            self.transport.close()

    def on_headers_complete(self) -> None:
        self._stop_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._await_headers()  # of the next request on this keep-alive connection

    def _await_headers(self) -> None:
        self._stop_timer()
        self._header_bytes = 0
        self._header_timer = self.loop.call_later(self._header_timeout, self._expired)

    def _stop_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expired(self) -> None:
        self._header_timer = None
        # A request still being answered (pipelined behind this one) is not waiting for headers.
        busy = self.cycle is not None and not self.cycle.response_complete
        if self.transport.is_closing() or busy:
            return
        if self._header_bytes:
            self.transport.write(_TIMED_OUT)
        self.transport.close()
