"""The service's one error shape, and the map from domain errors to HTTP statuses.

Every error response is `{"error": {"code": ..., "message": ..., "details": [...]}}`.
Domain exceptions (`service.failures`, `hashing.errors`, `index.errors`) carry no
HTTP; the tables here decide. `ApiError`, which names its status, is for the HTTP
edge alone: request bodies and uploads (`service.api.upload`) and the StopNCII
routes' own wire rules.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match, Mount

from hashing.errors import (
    HashingError,
    ImageTooLarge,
    InvalidHash,
    LowQualityImage,
    UnknownAlgorithm,
    UnreadableImage,
)
from index.errors import IndexError_, InvalidCodes
from service.api.json_body import explain, syntax_reason
from service.failures import (
    Busy,
    Conflict,
    Failure,
    Forbidden,
    Invalid,
    NotFound,
    Throttled,
    TooLarge,
    Unauthorized,
)


class ApiError(Exception):
    """An error the service reports to its caller as-is."""

    def __init__(
        self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or []


# The methods the API knows (the order `Allow` lists them in); service.api.request_metrics
# counts any other as `other`.
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

_FAILURE_STATUS: dict[type[Failure], int] = {
    NotFound: 404,
    Unauthorized: 401,
    Forbidden: 403,
    Conflict: 409,
    TooLarge: 413,
    Invalid: 422,
    Throttled: 429,
    Busy: 503,
}


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


_FASTAPI_PARSE_FAILED = "There was an error parsing the body"


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through the one shape; never echo request bodies back.

    Exceptions nothing here handles are answered by `service.api.unhandled.UnhandledErrors`
    (a 500 in the same shape, the connection kept usable).
    """

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return _respond(exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(Failure)
    async def _failure(_: Request, exc: Failure) -> JSONResponse:
        status = next((v for k, v in _FAILURE_STATUS.items() if isinstance(exc, k)), 400)
        # Throttled and Busy say when to come back.
        retry_after = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        return _respond(status, exc.code, exc.message, exc.details, headers)

    @app.exception_handler(IndexError_)
    async def _index(_: Request, exc: IndexError_) -> JSONResponse:
        # Queries are validated before they reach the index; a code it still refuses
        # is the caller's malformed hash, anything else a fault of the service.
        if isinstance(exc, InvalidCodes):
            return _respond(422, "invalid_hash", str(exc))
        return _respond(500, "internal_error", "the service failed; nothing was changed")

    @app.exception_handler(HashingError)
    async def _hashing(_: Request, exc: HashingError) -> JSONResponse:
        status, code = next(
            (v for k, v in _HASHING_STATUS.items() if isinstance(exc, k)), (422, "invalid_input")
        )
        return _respond(status, code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        # FastAPI hands a body it did not read as JSON (no or another Content-Type)
        # to the model as bytes: say what to send rather than "not a dictionary".
        if isinstance(exc.body, bytes | bytearray) and exc.body:
            return _respond(
                415,
                "unsupported_media_type",
                "send the request body as JSON, with Content-Type: application/json",
            )
        syntax = next((err for err in errors if err.get("type") == "json_invalid"), None)
        if syntax is not None:
            loc = tuple(syntax.get("loc", ()))
            reason = syntax_reason(
                str(syntax.get("ctx", {}).get("error", "")), loc[1] if len(loc) > 1 else None
            )
            return _respond(
                422,
                "malformed_json",
                "request body is not valid JSON",
                [{"location": "body", "reason": reason}],
            )
        # Pydantic's "input" field would echo hash values and keys: report location and reason only.
        details = [
            {"location": ".".join(str(p) for p in err.get("loc", ())), "reason": err.get("msg", "")}
            for err in errors
        ]
        return _respond(422, "invalid_request", "request failed validation; see details", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # FastAPI's bare 400 for a JSON body its parser refused: its cause says why.
        if exc.status_code == 400 and exc.detail == _FASTAPI_PARSE_FAILED:
            problem = explain(exc.__cause__)
            details = [{"location": "body", "reason": problem.reason}]
            return _respond(422, problem.code, problem.message, details)
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            exc.status_code, "http_error"
        )
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405 and (allowed := _allowed_methods(request)):
            headers["Allow"] = ", ".join(allowed)
        return _respond(exc.status_code, code, str(exc.detail), headers=headers or None)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this request's path.

    Starlette's own `Allow` names only the first route whose path matches, but
    one path has a route per method (GET and DELETE on a case). Routes are asked
    through their public `matches` only; mounts (the static files) answer every
    method and say nothing.
    """
    routes: list[BaseRoute] = request.app.router.routes
    allowed = []
    for method in HTTP_METHODS:
        probe = {**request.scope, "method": method}
        if any(
            route.matches(probe)[0] is Match.FULL
            for route in routes
            if not isinstance(route, Mount)
        ):
            allowed.append(method)
    return allowed
