"""Bad requests get a 4xx that says what is wrong, in the error shape, and the OpenAPI says so.

Each case here was a 500, a vague 400 or a wrong document in an outside fuzzing
run (issue 14); the live-server side (logs, keep-alive, slow bodies) is in
tests/e2e/test_http_hardening.py.
"""

import json
import logging
import sqlite3
from collections.abc import Iterator

import anyio
import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError
from starlette.types import Message, Receive, Scope, Send

from index.errors import InvalidCodes, SnapshotError
from service import failures
from service.api.body_limits import JSON_BODY_LIMIT
from service.api.errors import install_error_handlers
from service.api.unhandled import UnhandledErrors

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
JSON = {"Content-Type": "application/json"}


def error(response: object) -> tuple[int, str]:
    status: int = response.status_code  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return status, body["error"]["code"]


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/v1/hashes/changes?cursor=9223372036854775808", 422),
        ("/v1/hashes/changes?cursor=99999999999999999999", 422),
        ("/v1/hashes/changes?cursor=999999999999999999", 200),  # 18 digits: < 2**63
        ("/stopncii/v1/FetchHashes?nextPageToken=9223372036854775808", 422),
        ("/stopncii/v1/FetchHashes?nextPageToken=999999999999999999", 200),
        ("/stopncii/v1/FetchHashes?startTimestamp=253402300800", 422),  # year 10000
        ("/stopncii/v1/FetchHashes?startTimestamp=1099511627776", 422),  # 2**40
        ("/stopncii/v1/FetchHashes?startTimestamp=253402300799", 200),  # 9999-12-31T23:59:59Z
    ],
)
def test_feed_positions_are_bounded(
    client: TestClient, api_key: str, url: str, status: int
) -> None:
    headers = {"X-API-Key": api_key, "Ocp-Apim-Subscription-Key": api_key}
    response = client.get(url, headers={**headers, "x-functions-key": api_key})
    assert response.status_code == status, response.text
    if status == 422:
        assert error(response) == (422, "invalid_request")


@pytest.mark.parametrize(
    ("body", "code", "reason"),
    [
        (
            b'{"hashes": [{"algorithm": "pdq", "hash": "\xff"}]}',
            "invalid_utf8",
            "byte 42 cannot be decoded as utf-8",
        ),
        (b"[" * 100_000, "json_too_deep", "nested deeper"),
        (b'{"hashes": [{"quality": ' + b"7" * 5000 + b"}]}", "number_too_long", "4,300 digits"),
        (b'{"hashes": [', "malformed_json", "Expecting value at character 12"),
    ],
)
def test_unparsable_json_says_what_is_wrong(
    client: TestClient, body: bytes, code: str, reason: str
) -> None:
    response = client.post("/v1/cases", content=body, headers=JSON)
    assert error(response) == (422, code)
    (detail,) = response.json()["error"]["details"]
    assert detail["location"] == "body"
    assert reason in detail["reason"]
    assert "parsing the body" not in response.text


def test_a_body_that_is_not_json_gets_415(client: TestClient) -> None:
    body = json.dumps({"hashes": [{"algorithm": "pdq", "hash": PDQ}]}).encode()
    for headers in ({"Content-Type": "text/plain"}, {}):
        assert error(client.post("/v1/cases", content=body, headers=headers)) == (
            415,
            "unsupported_media_type",
        )


def test_json_over_the_limit_sent_chunked_gets_413(client: TestClient, api_key: str) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: httpx sends it chunked
        yield b'{"items": ['
        for _ in range(JSON_BODY_LIMIT // 900):
            yield b'{"algorithm": "pdq", "hash": "' + b"0" * 950 + b'"},'
        yield b"]}"

    response = client.post("/v1/match", content=chunks(), headers={**JSON, "X-API-Key": api_key})
    assert error(response) == (413, "too_large")
    assert response.headers["connection"] == "close"
    small = client.post(
        "/v1/match",
        content=iter([b'{"items": [{"algorithm": "pdq", ', b'"hash": "' + PDQ.encode() + b'"}]}']),
        headers={**JSON, "X-API-Key": api_key},
    )
    assert small.status_code == 200, small.text  # a chunked body under the limit is replayed whole


@pytest.mark.parametrize("value", [False, True, "3", 1.5])
def test_integers_are_integers(client: TestClient, value: object) -> None:
    body = {"hashes": [{"algorithm": "pdq", "hash": PDQ, "image": value}]}
    assert error(client.post("/v1/cases", json=body)) == (422, "invalid_request")
    assert client.post("/v1/cases", json={"hashes": [{**body["hashes"][0], "image": 0}]}).is_success


def test_stopncii_count_is_a_strict_integer(client: TestClient, api_key: str) -> None:
    headers = {"Ocp-Apim-Subscription-Key": api_key, "x-functions-key": api_key}
    for count in (True, 10**30):
        response = client.post(
            "/stopncii/v1/SubmitFeedback",
            json={"count": count, "hashFeedbacks": []},
            headers=headers,
        )
        assert error(response) == (422, "invalid_request")


def test_405_names_every_method_of_the_path(client: TestClient) -> None:
    response = client.request("OPTIONS", "/v1/cases/c_0123456789abcdef0123")
    assert error(response) == (405, "method_not_allowed")
    assert response.headers["allow"] == "GET, DELETE"
    assert client.put("/v1/match").headers["allow"] == "POST"


def test_openapi_lists_what_each_operation_can_answer(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    for path, methods in paths.items():
        for method, operation in methods.items():
            responses = operation["responses"]
            for status, response in responses.items():
                if status.startswith("4") and path not in ("/healthz", "/readyz"):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == error_ref, (method, path, status)
            if "requestBody" in operation:
                assert {"408", "413", "415", "422"} <= set(responses), (method, path)
    assert "400" in paths["/v1/match/image"]["post"]["responses"]  # a multipart body that breaks
    assert "422" in paths["/v1/hashes/changes"]["get"]["responses"]
    cursor = next(
        p for p in paths["/v1/hashes/changes"]["get"]["parameters"] if p["name"] == "cursor"
    )
    assert cursor["schema"]["maxLength"] == 18
    image = client.get("/openapi.json").json()["components"]["schemas"]["HashIn"]
    assert image["properties"]["image"]["anyOf"][0] == {
        "type": "integer",
        "minimum": 0,
        "maximum": 9999,
    }


def test_an_unhandled_error_is_a_500_and_one_line_of_type_and_route(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = FastAPI()
    app.add_middleware(
        UnhandledErrors
    )  # inside Starlette's ServerErrorMiddleware, as in create_app

    @app.get("/v1/cases/{case_id}")
    def boom(case_id: str) -> None:
        raise RuntimeError(f"SELECT * FROM cases WHERE id = '{case_id}'")

    with TestClient(app) as client, caplog.at_level(logging.INFO):
        response = client.get("/v1/cases/c_secretcaseid")
    assert error(response) == (500, "internal_error")
    served = [r for r in caplog.records if not r.name.startswith("httpx")]  # not the client's
    assert [r.getMessage() for r in served] == ["unhandled RuntimeError in GET /v1/cases/{case_id}"]
    assert all(r.exc_info is None for r in served)


def test_an_error_after_the_response_started_cuts_it_and_logs_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def half(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise ExceptionGroup("two", [KeyError("k"), ValueError("v")])

    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "GET"}
    with caplog.at_level(logging.INFO):
        anyio.run(UnhandledErrors(half), scope, receive, send)
    assert [m["type"] for m in sent] == ["http.response.start"]  # no second start, no body
    assert caplog.messages == ["unhandled ExceptionGroup(KeyError, ValueError) in GET -"]


@pytest.mark.parametrize(
    ("cause", "status", "code"),
    [
        (psycopg.OperationalError("server closed the connection unexpectedly"), 503, None),
        (sqlite3.OperationalError("database is locked"), 503, None),
        (sqlite3.OperationalError("no such table: cases"), 500, "internal_error"),
    ],
)
def test_a_database_that_does_not_answer_is_a_503_to_retry(
    cause: Exception, status: int, code: str | None
) -> None:
    app = FastAPI()
    app.add_middleware(UnhandledErrors)

    @app.get("/v1/match")
    def lost() -> None:
        raise OperationalError("SELECT 1", {}, cause)

    with TestClient(app) as client:
        response = client.get("/v1/match")
    assert error(response) == (status, code or "database_unavailable")
    assert (response.headers.get("retry-after") == "1") == (status == 503)


@pytest.mark.parametrize(
    ("raised", "status", "code"),
    [
        (failures.NotFound("no match 'm_1' for this platform"), 404, "not_found"),
        (failures.Unauthorized("case id or case key is wrong"), 401, "unauthorized"),
        (failures.Forbidden("API key lacks the 'match' scope"), 403, "forbidden"),
        (failures.Conflict("this case was withdrawn", "case_withdrawn"), 409, "case_withdrawn"),
        (failures.TooLarge("at most 1000 items", "batch_too_large"), 413, "batch_too_large"),
        (failures.Invalid("some items are not valid", "invalid_hash"), 422, "invalid_hash"),
        (failures.Throttled(retry_after=7), 429, "too_many_attempts"),
        (failures.Busy("decoding as many images as it can", "busy", 3), 503, "busy"),
        (InvalidCodes("codes must be 32 bytes"), 422, "invalid_hash"),
        (SnapshotError("snapshot unreadable"), 500, "internal_error"),
    ],
)
def test_each_domain_failure_has_one_status_at_the_edge(
    raised: Exception, status: int, code: str
) -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/refused")
    def refused() -> None:
        raise raised

    with TestClient(app) as client:
        response = client.get("/refused")
    assert error(response) == (status, code)
    retry_after = getattr(raised, "retry_after", None)
    assert response.headers.get("retry-after") == (
        None if retry_after is None else str(retry_after)
    )
