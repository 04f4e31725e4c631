"""The OpenAPI document, completed with the answers every route that reads a body can give.

Routes declare their own error statuses (`schemas.error_responses`). Four more
come from the layers in front of every route, whatever it does: `limits`
answers 408 (body too slow) and 413 (JSON body too large), `errors` answers
415 (a body that is not JSON) and 422 (one that does not parse or validate).
They are added here to every operation with a request body, so a client
generated from the document knows them all.
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

BODY_STATUSES = {
    "408": "The request body arrived too slowly; the connection is closed.",
    "413": "The request body is too large; the connection is closed.",
    "415": "The request body is not in a format this operation reads.",
    "422": "The request body does not parse or does not validate.",
}
_ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorResponse"}


def with_body_statuses(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """A replacement for `app.openapi`: FastAPI's document, with `BODY_STATUSES` added."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        document = build()  # built once and cached by FastAPI; adding again changes nothing
        for path in document.get("paths", {}).values():
            for operation in path.values():
                if isinstance(operation, dict) and "requestBody" in operation:
                    responses = operation.setdefault("responses", {})
                    for status, description in BODY_STATUSES.items():
                        responses.setdefault(
                            status,
                            {
                                "description": description,
                                "content": {"application/json": {"schema": _ERROR_SCHEMA}},
                            },
                        )
        return document

    return openapi
