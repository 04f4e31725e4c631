"""The HTTP layer both clients share: one connection pool, one way to fail.

`Transport` wraps one keep-alive `httpx.Client` with the service's base URL, a
timeout, the client's User-Agent and, when given, the platform's API key
(`X-API-Key`). `request_json` sends one request (a survivor's case key goes in
`X-Case-Key` of that request alone) and returns the JSON object the service
answered. Every way a call can fail is one of two domain errors, both
`ClientError`, so a caller (a command line) can print one line for either:

- `ServiceError`: the service answered, and not with success (any status outside
  2xx). It carries the status and the service's one error body,
  `{"error": {"code", "message", "details"}}` (`service.api.errors`); an answer
  without that body has code `http_error` and the status's reason. A success that
  is not a JSON object is `ServiceError` with code `invalid_response`.
- `ServiceUnreachable`: no answer at all (connection refused, name not found,
  timeout, connection dropped). It is an `httpx.TransportError` as well, so code
  written when the clients let httpx's own errors through still catches it.

The messages carry no hash value and no key: the service's own never repeat
them, and the transport adds only the server's address and httpx's reason.

`limits()` asks the server for its request limits once (`GET /v1/limits`,
`hashing.limits`) and keeps them for the transport's life; a server older than
that route (404) gets `hashing.limits.DEFAULT_LIMITS`.
"""

from importlib import metadata
from types import TracebackType
from typing import Any, Self

import httpx

from hashing.limits import DEFAULT_LIMITS, Limits

__all__ = ["ClientError", "ServiceError", "ServiceUnreachable", "Transport"]


class ClientError(Exception):
    """A call to a hashbank service did not succeed; `str()` is one line for a person."""


class ServiceError(ClientError):
    """The service refused a request; carries its status, error code, message and details."""

    def __init__(
        self, status: int, code: str, message: str, details: list[Any] | None = None
    ) -> None:
        super().__init__(f"{message} (HTTP {status}, {code})")
        self.status, self.code, self.message, self.details = status, code, message, details or []


class ServiceUnreachable(ClientError, httpx.TransportError):
    """No answer from the service: it could not be reached, or did not answer in time."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        httpx.TransportError.__init__(self, message, request=request)


def _user_agent() -> str:
    try:
        version = metadata.version("hashbank")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        version = "unknown"
    return f"hashbank-client/{version}"


USER_AGENT = _user_agent()


class Transport:
    """One keep-alive HTTP connection to a hashbank service; close it, or use it in `with`."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """`transport`: httpx's own (an `httpx.MockTransport` in tests), None for the network."""
        headers = {"User-Agent": USER_AGENT}
        if api_key:
            headers["X-API-Key"] = api_key
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )
        self._limits: Limits | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def request_json(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        case_key: str | None = None,
    ) -> dict[str, Any]:
        """Send one request and return the service's JSON object.

        Raises `ServiceError` (refused, or an answer of the wrong kind) or
        `ServiceUnreachable` (no answer).
        """
        headers = {"X-Case-Key": case_key} if case_key is not None else None
        try:
            response = self._http.request(method, path, json=json, params=params, headers=headers)
        except httpx.TransportError as exc:
            # httpx's reason is about the connection (refused, timed out), never the body.
            reason = str(exc) or type(exc).__name__
            raise ServiceUnreachable(
                f"cannot reach the hashbank service at {self.base_url}: {reason}",
                request=exc.request,  # httpx attaches the request to whatever it raises
            ) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if not response.is_success:
            raise _refusal(response, body)
        if not isinstance(body, dict):
            raise ServiceError(
                response.status_code,
                "invalid_response",
                f"{method} {path} answered without a JSON object",
            )
        return body

    def limits(self) -> Limits:
        """This server's request limits, asked for on first use and kept.

        `DEFAULT_LIMITS` when the server is older than `GET /v1/limits` (404); a reply
        of the wrong shape is `ServiceError` with code `invalid_response`.
        """
        if self._limits is None:
            try:
                data = self.request_json("GET", "/v1/limits")
            except ServiceError as exc:
                if exc.status != 404:
                    raise
                self._limits = DEFAULT_LIMITS
            else:
                try:
                    self._limits = Limits.from_json(data)
                except ValueError as exc:
                    raise ServiceError(200, "invalid_response", str(exc)) from None
        return self._limits


def _refusal(response: httpx.Response, body: Any) -> ServiceError:
    """The service's error body as a `ServiceError`, whatever of it is there."""
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    details = error.get("details")
    return ServiceError(
        response.status_code,
        str(error.get("code", "http_error")),
        str(error.get("message", response.reason_phrase)),
        details if isinstance(details, list) else None,
    )
