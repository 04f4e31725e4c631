"""What a live server does with hostile HTTP, on raw sockets: errors keep the connection,
logs keep quiet, oversized and slow bodies are cut off (issue 14)."""

import random
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from service.api.body_limits import JSON_BODY_LIMIT
from tests import databases
from tests.e2e.server import Server, platform_key

Response = tuple[int, dict[str, str], bytes]


def _connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def _read_response(sock: socket.socket) -> Response:
    """One response with a Content-Length body (all this service sends)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    while len(body) < int(headers["content-length"]):
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside a response body"
        body += chunk
    return int(status_line.split()[1]), headers, body


def _get(sock: socket.socket, path: str, key: str) -> Response:
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: hashbank\r\nX-API-Key: {key}\r\n"
        f"Ocp-Apim-Subscription-Key: {key}\r\nx-functions-key: {key}\r\n\r\n".encode()
    )
    return _read_response(sock)


def _closed(sock: socket.socket, within: float = 5) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    base = tmp_path_factory.mktemp("hardening")
    data = base / "data"
    data.mkdir()
    key = platform_key(data, "sync")
    with Server(data, base / "server.log") as server:
        yield server, key


def test_an_unhandled_error_keeps_the_connection_and_logs_only_type_and_route(
    live: tuple[Server, str],
) -> None:
    server, key = live
    # A table the feed reads goes missing under the running server: the query fails, and
    # the driver's error carries the SQL statement and its parameters.
    engine = create_engine(databases.url_of(server.data_dir))
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE feedback RENAME TO feedback_gone"))
    try:
        with _connect(server) as sock:
            status, headers, body = _get(sock, "/stopncii/v1/FetchHashes", key)
            assert status == 500
            assert body == (
                b'{"error":{"code":"internal_error","message":'
                b'"the service failed; nothing was changed","details":[]}}'
            )
            assert headers.get("connection") != "close"
            # The same connection goes on: an error reply, a bounds error, a 404, a success.
            assert _get(sock, "/stopncii/v1/FetchHashes", key)[0] == 500
            assert _get(sock, "/stopncii/v1/FetchHashes?startTimestamp=253402300800", key)[0] == 422
            assert _get(sock, "/v1/hashes/changes?cursor=9223372036854775808", key)[0] == 422
            assert _get(sock, "/nowhere", key)[0] == 404
            assert _get(sock, "/healthz", key)[:1] == (200,)
    finally:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE feedback_gone RENAME TO feedback"))
        engine.dispose()
    log = server.log_path.read_text()
    # What a missing table raises: SQLite's driver and psycopg's differ in the type.
    error = "ProgrammingError" if databases.backend() == "postgresql" else "OperationalError"
    assert log.count(f"unhandled {error} in GET /stopncii/v1/FetchHashes") == 2
    for leak in ("Traceback", "SELECT", "no such table", "sqlalchemy", key):
        assert leak not in log, leak


def test_chunked_json_over_the_limit_gets_413_and_the_connection_closes(
    live: tuple[Server, str],
) -> None:
    server, _ = live
    with _connect(server) as sock:
        sock.sendall(
            b"POST /v1/match HTTP/1.1\r\nHost: hashbank\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"[" + b" " * 65534 + b"]"
        try:
            for _ in range(JSON_BODY_LIMIT // len(chunk) + 2):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and hung up while the rest was still on its way
        status, headers, body = _read_response(sock)
        assert status == 413
        assert b'"code":"too_large"' in body
        assert headers["connection"] == "close"
        assert _closed(sock)


def _slow_server(base: Path) -> tuple[str, Server]:
    data = base / "data"
    data.mkdir()
    key = platform_key(data, "match")  # the image route checks the key before it reads the body
    return key, Server(
        data,
        base / "server.log",
        HASHBANK_BODY_TIMEOUT_SECONDS="2",
        HASHBANK_BODY_IDLE_TIMEOUT_SECONDS="1",
        HASHBANK_BODY_MIN_RATE="500",
    )


def _post_head(
    path: str, length: int, content_type: str = "application/json", key: str = ""
) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: hashbank\r\nContent-Type: {content_type}\r\n"
        f"X-API-Key: {key}\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def test_slow_bodies_get_408_and_are_disconnected(tmp_path: Path) -> None:
    key, server = _slow_server(tmp_path)
    with server, ExitStack() as sockets:
        # 50 clients trickle a byte every 0.5 s (never idle for 1 s): the 2 s budget runs out.
        trickling = []
        for i in range(50):
            sock = sockets.enter_context(_connect(server))
            path = "/v1/match/image" if i % 5 == 0 else "/v1/cases"  # streamed and JSON bodies
            kind = "image/png" if i % 5 == 0 else "application/json"
            sock.sendall(_post_head(path, 1000, kind, key))
            trickling.append(sock)
        started = time.monotonic()
        answered: dict[int, float] = {}
        while len(answered) < len(trickling) and time.monotonic() - started < 15:
            for i, sock in enumerate(trickling):
                if i in answered:
                    continue
                try:
                    sock.sendall(b"{")
                except (BrokenPipeError, ConnectionResetError):
                    answered[i] = time.monotonic() - started
                    continue
                sock.settimeout(0.005)
                try:
                    if sock.recv(1, socket.MSG_PEEK):
                        answered[i] = time.monotonic() - started
                except TimeoutError:
                    pass
            time.sleep(0.5)
        assert len(answered) == 50, f"{50 - len(answered)} slow bodies still open after 15 s"
        assert max(answered.values()) < 6
        for sock in trickling:
            sock.settimeout(5)
            status, headers, body = _read_response(sock)
            assert status == 408
            assert b'"code":"request_timeout"' in body
            assert headers["connection"] == "close"
            assert _closed(sock)

        # A body that stops arriving is cut after the idle timeout, well before the budget.
        with _connect(server) as sock:
            sock.sendall(_post_head("/v1/cases", 100) + b'{"hashes": ')
            before = time.monotonic()
            assert _read_response(sock)[0] == 408
            assert 0.8 < time.monotonic() - before < 1.9
            assert _closed(sock)

        # A prompt body on the same server is unaffected, and keeps its connection.
        with _connect(server) as sock:
            value = random.Random(14).randbytes(32).hex().encode()
            body = b'{"hashes": [{"algorithm": "pdq", "hash": "' + value + b'"}]}'
            sock.sendall(_post_head("/v1/cases", len(body)) + body)
            assert _read_response(sock)[0] == 201
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hashbank\r\n\r\n")
            assert _read_response(sock)[0] == 200


def _read_all(sock: socket.socket, within: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    sock.settimeout(within)
    started, data = time.monotonic(), b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data, time.monotonic() - started


def test_slow_or_huge_headers_are_cut_off_by_the_header_limits_protocol(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    server = Server(
        data,
        tmp_path / "server.log",
        HASHBANK_HEADER_TIMEOUT_SECONDS="1",
    )
    with server, ExitStack() as sockets:
        # 20 clients send a header byte every 0.3 s; one opens and says nothing.
        slow = [sockets.enter_context(_connect(server)) for _ in range(20)]
        silent = sockets.enter_context(_connect(server))
        request = b"GET /healthz HTTP/1.1\r\nHost: hashbank\r\nX-Pad: " + b"a" * 100
        started = time.monotonic()
        for i in range(12):
            for sock in slow:
                with suppress(BrokenPipeError, ConnectionResetError):
                    sock.sendall(request[i : i + 1])
            time.sleep(0.3)
        for sock in slow:
            answer, _ = _read_all(sock, 5)
            assert answer.startswith(b"HTTP/1.1 408 ")
            assert answer.endswith(
                b'"code":"request_timeout","message":"request headers arrived '
                b'too slowly","details":[]}}'
            )
        assert _read_all(silent, 5)[0] == b""  # nothing to answer: just closed
        assert time.monotonic() - started < 8

        # Between requests too: a keep-alive connection's next headers have the same deadline.
        with _connect(server) as sock:
            for _ in range(3):  # prompt requests, with pauses under the deadline, go on
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hashbank\r\n\r\n")
                assert _read_response(sock)[0] == 200
                time.sleep(0.5)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: ")
            answer, waited = _read_all(sock, 5)
            assert answer.startswith(b"HTTP/1.1 408 ")
            assert waited < 2

        with _connect(server) as sock:  # a large body in the headers' reads is no header
            body = b" " * 300_000 + b"{}"
            sock.sendall(_post_head("/v1/cases", len(body)) + body)
            assert _read_response(sock)[0] == 422

        with _connect(server) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hashbank\r\nX-Pad: " + b"a" * 70_000)
            answer, _ = _read_all(sock, 5)
            assert answer.startswith(b"HTTP/1.1 431 ")
            assert b'"code":"headers_too_large"' in answer
