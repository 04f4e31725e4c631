"""hashing.transport: the one HTTP layer under both clients, and its two domain errors."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from hashing import PDQ_ALGORITHM
from hashing.algorithm import Hash
from hashing.client import HashbankClient
from hashing.platform_client import PlatformClient
from hashing.transport import (
    USER_AGENT,
    ClientError,
    ServiceError,
    ServiceUnreachable,
    Transport,
)

KEY = "k_secret_platform_key"
CASE_KEY = "ck_secret_case_key"
Handler = Callable[[httpx.Request], httpx.Response]


def transport(handler: Handler, api_key: str | None = KEY) -> Transport:
    return Transport(
        "http://hashbank.test/", api_key=api_key, transport=httpx.MockTransport(handler)
    )


def refused(status: int, code: str, message: str, details: list[Any] | None = None) -> Handler:
    body = {"error": {"code": code, "message": message, "details": details or []}}
    return lambda _: httpx.Response(status, json=body)


def test_headers_base_url_and_json_body() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    with transport(handler) as t:
        assert t.request_json("POST", "/v1/match", json={"items": []}) == {"ok": True}
        t.request_json("GET", "/v1/cases/c_1", params={"a": "b"}, case_key=CASE_KEY)
    first, second = seen
    assert str(first.url) == "http://hashbank.test/v1/match"
    assert first.headers["X-API-Key"] == KEY
    assert first.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("hashbank-client/")
    assert first.content == b'{"items":[]}'
    assert "X-Case-Key" not in first.headers  # only on the request it is given to
    assert second.headers["X-Case-Key"] == CASE_KEY
    assert second.url.params["a"] == "b"


def test_no_api_key_sends_no_api_key_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    with transport(handler, api_key=None) as t:
        t.request_json("GET", "/healthz")
    assert "X-API-Key" not in seen[0].headers


def test_a_refusal_carries_the_services_error_body() -> None:
    details = [{"location": "body.hashes.0.hash", "reason": "not hex"}]
    handler = refused(422, "invalid_hash", "a hash is not well-formed", details)
    with transport(handler) as t, pytest.raises(ServiceError) as caught:
        t.request_json("POST", "/v1/cases", json={})
    error = caught.value
    assert (error.status, error.code, error.message, error.details) == (
        422,
        "invalid_hash",
        "a hash is not well-formed",
        details,
    )
    assert str(error) == "a hash is not well-formed (HTTP 422, invalid_hash)"
    assert isinstance(error, ClientError)


@pytest.mark.parametrize(
    ("response", "status", "code", "message"),
    [
        (httpx.Response(502, text="<html>bad gateway</html>"), 502, "http_error", "Bad Gateway"),
        (httpx.Response(500, json={"detail": "oops"}), 500, "http_error", "Internal Server Error"),
        (httpx.Response(503, json={"error": "busy"}), 503, "http_error", "Service Unavailable"),
        (httpx.Response(302, headers={"Location": "/x"}), 302, "http_error", "Found"),
        (httpx.Response(200, text="not json"), 200, "invalid_response", "GET /x answered"),
        (httpx.Response(200, json=[1, 2]), 200, "invalid_response", "GET /x answered"),
    ],
)
def test_an_answer_without_the_error_shape_or_not_an_object(
    response: httpx.Response, status: int, code: str, message: str
) -> None:
    with transport(lambda _: response) as t, pytest.raises(ServiceError) as caught:
        t.request_json("GET", "/x")
    assert (caught.value.status, caught.value.code) == (status, code)
    assert caught.value.message.startswith(message)
    assert caught.value.details == []


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("[Errno 111] Connection refused"),
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
)
def test_no_answer_is_service_unreachable_in_one_line(failure: httpx.TransportError) -> None:
    def handler(_: httpx.Request) -> httpx.Response:
        raise failure

    with transport(handler) as t, pytest.raises(ServiceUnreachable) as caught:
        t.request_json("POST", "/v1/cases/c_1/hashes", json={"h": "ab" * 32}, case_key=CASE_KEY)
    error = caught.value
    assert str(error) == f"cannot reach the hashbank service at http://hashbank.test: {failure}"
    assert "\n" not in str(error)
    assert KEY not in str(error)
    assert CASE_KEY not in str(error)
    assert "ab" * 32 not in str(error)
    assert error.__cause__ is failure
    # Still httpx's kind, for code written when the clients let httpx's errors through.
    assert isinstance(error, httpx.TransportError)
    assert isinstance(error, ClientError)
    assert error.request.url.path == "/v1/cases/c_1/hashes"


def test_both_clients_fail_the_same_way() -> None:
    def down(_: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    mock = httpx.MockTransport(down)
    pdq = Hash(PDQ_ALGORITHM.name, bytes(32), 100)
    with HashbankClient("http://hashbank.test", transport=mock) as survivor:
        with pytest.raises(ServiceUnreachable):
            survivor.create_case([pdq])
        with pytest.raises(ServiceUnreachable):
            survivor.case_status("c_1", CASE_KEY)
    with PlatformClient("http://hashbank.test", KEY, transport=mock) as platform:
        with pytest.raises(ServiceUnreachable):
            platform.feedback("m_1", "removed")
        with pytest.raises(ServiceUnreachable):
            platform.changes()

    mock = httpx.MockTransport(refused(401, "unauthorized", "missing or unknown API key"))
    with (
        HashbankClient("http://hashbank.test", api_key=KEY, transport=mock) as survivor,
        pytest.raises(ServiceError, match="HTTP 401, unauthorized"),
    ):
        survivor.feedback("m_1", "removed")
    with (
        PlatformClient("http://hashbank.test", KEY, transport=mock) as platform,
        pytest.raises(ServiceError, match="HTTP 401, unauthorized"),
    ):
        platform.feedback("m_1", "removed")


def test_the_survivor_client_sends_the_case_key_only_as_a_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"case_id": "c_1"})

    with HashbankClient("http://hashbank.test", transport=httpx.MockTransport(handler)) as c:
        c.case_status("c_1", CASE_KEY)
        c.withdraw("c_1", CASE_KEY)
    assert [(r.method, r.url.path) for r in seen] == [
        ("GET", "/v1/cases/c_1"),
        ("DELETE", "/v1/cases/c_1"),
    ]
    assert all(r.headers["X-Case-Key"] == CASE_KEY for r in seen)
    assert all(CASE_KEY not in str(r.url) for r in seen)
    assert all("X-API-Key" not in r.headers for r in seen)
