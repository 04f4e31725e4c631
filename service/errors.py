"""The service's one error shape, and the map from domain errors to HTTP statuses.

Every error response is `{"error": {"code": ..., "message": ..., "details": [...]}}`.
Domain exceptions from `hashing` and `index` carry no HTTP; this module decides.
"""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from hashing.errors import (
    HashingError,
    ImageTooLarge,
    InvalidHash,
    LowQualityImage,
    UnknownAlgorithm,
    UnreadableImage,
)

log = logging.getLogger("hashbank.errors")


class ApiError(Exception):
    """An error the service reports to its caller as-is."""

    def __init__(
        self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or []


class NotFound(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(404, "not_found", message)


class Unauthorized(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(401, "unauthorized", message)


class Forbidden(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(403, "forbidden", message)


class Throttled(ApiError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(429, "too_many_attempts", "too many wrong keys; try again later")
        self.retry_after = retry_after


_HASHING_STATUS: dict[type[HashingError], tuple[int, str]] = {
    InvalidHash: (422, "invalid_hash"),
    UnknownAlgorithm: (422, "unknown_algorithm"),
    LowQualityImage: (422, "low_quality_image"),
    UnreadableImage: (422, "unreadable_image"),
    ImageTooLarge: (413, "image_too_large"),
}


def error_body(
    code: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


def _respond(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through the one shape; never echo request bodies back."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Throttled) else None
        return _respond(exc.status, exc.code, exc.message, exc.details, headers)

    @app.exception_handler(HashingError)
    async def _hashing(_: Request, exc: HashingError) -> JSONResponse:
        status, code = next(
            (v for k, v in _HASHING_STATUS.items() if isinstance(exc, k)), (422, "invalid_input")
        )
        return _respond(status, code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Pydantic's "input" field would echo hash values and keys: report location and reason only.
        details = [
            {"location": ".".join(str(p) for p in err.get("loc", ())), "reason": err.get("msg", "")}
            for err in exc.errors()
        ]
        malformed = any(err.get("type") == "json_invalid" for err in exc.errors())
        code, message = (
            ("malformed_json", "request body is not valid JSON")
            if malformed
            else ("invalid_request", "request failed validation; see details")
        )
        return _respond(422, code, message, details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            exc.status_code, "http_error"
        )
        headers = dict(exc.headers) if exc.headers else None
        return _respond(exc.status_code, code, str(exc.detail), headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # Log the type only: messages and tracebacks can carry request data.
        log.error("unhandled %s", type(exc).__name__)
        return _respond(500, "internal_error", "the service failed; nothing was changed")
