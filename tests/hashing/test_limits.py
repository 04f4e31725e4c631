"""hashing.limits and the clients' use of it: read the server's limits once, split by them,
fall back to the defaults on a server older than GET /v1/limits."""

import json
from dataclasses import asdict

import httpx
import pytest

from hashing import PDQ_ALGORITHM
from hashing.algorithm import Hash
from hashing.client import HashbankClient
from hashing.limits import DEFAULT_LIMITS, Limits, batches
from hashing.platform_client import MatchQuery, PlatformClient
from hashing.policy import MAX_QUERY_HASHES
from hashing.transport import ServiceError, Transport

URL = "http://hashbank.test"


def hex_hash(n: int) -> str:
    return f"{n:064x}"


def pdq(n: int) -> Hash:
    return Hash(PDQ_ALGORITHM.name, n.to_bytes(32, "big"), 100)


class Server:
    """/v1/limits as configured (None: 404, an older server), and a /v1/match that
    answers every item without a match; records each request's path and items."""

    def __init__(self, limits: dict[str, object] | None = None, status: int = 200) -> None:
        self.limits, self.status = limits, status
        self.paths: list[str] = []
        self.sent: list[list[dict[str, object]]] = []  # the items of each /v1/match

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if request.url.path == "/v1/limits":
            if self.limits is None:
                return httpx.Response(404, json={"error": {"code": "not_found"}})
            return httpx.Response(self.status, json=self.limits)
        if request.url.path == "/v1/match":
            items = json.loads(request.content)["items"]
            self.sent.append(items)
            results = [{"index": i, "ref": it["ref"], "matches": []} for i, it in enumerate(items)]
            return httpx.Response(200, json={"results": results})
        if request.url.path == "/v1/hashes/changes":
            return httpx.Response(200, json={"changes": [], "next_cursor": "0", "has_more": False})
        return httpx.Response(404, json={})

    def platform(self) -> PlatformClient:
        return PlatformClient(URL, "k_key", transport=httpx.MockTransport(self))

    def survivor(self) -> HashbankClient:
        return HashbankClient(URL, transport=httpx.MockTransport(self))


def served(**changed: int) -> dict[str, object]:
    return {**asdict(DEFAULT_LIMITS), **changed}


# -- reading the reply ----------------------------------------------------------------------


def test_a_full_reply_is_read_field_by_field() -> None:
    reply = served(case_hashes=7, match_items=3, feed_page=2)
    assert Limits.from_json(reply) == Limits(**reply)  # type: ignore[arg-type]


def test_missing_fields_keep_their_default_and_unknown_ones_are_ignored() -> None:
    limits = Limits.from_json({"case_hashes": 7, "audio_seconds": 10})
    assert limits == Limits(**served(case_hashes=7))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "reply", [[], {"case_hashes": 0}, {"match_items": -1}, {"feed_page": True}, {"feed_page": "9"}]
)
def test_a_reply_that_is_no_positive_count_is_refused(reply: object) -> None:
    with pytest.raises(ValueError, match=r"limit|object"):
        Limits.from_json(reply)


def test_the_defaults() -> None:
    assert DEFAULT_LIMITS.case_hashes == 100
    assert (DEFAULT_LIMITS.match_items, DEFAULT_LIMITS.match_hashes) == (1000, 8192)
    assert DEFAULT_LIMITS.match_item_hashes == MAX_QUERY_HASHES


# -- batches --------------------------------------------------------------------------------


def test_batches_keep_both_limits_and_the_order() -> None:
    assert list(batches([1] * 7, 3, 100)) == [(0, 3), (3, 6), (6, 7)]
    assert list(batches([4, 4, 4, 1, 1], 10, 9)) == [(0, 2), (2, 5)]
    assert list(batches([], 3, 10)) == []


def test_an_item_larger_than_a_request_goes_alone_never_as_an_empty_request() -> None:
    assert list(batches([20, 1, 20], 10, 10)) == [(0, 1), (1, 2), (2, 3)]


# -- asking the server ----------------------------------------------------------------------


def test_the_limits_are_asked_once_per_client_and_kept() -> None:
    server = Server(served(match_items=4))
    with server.platform() as client:
        assert client.limits().match_items == 4
        client.match_hashes([hex_hash(i) for i in range(10)])
        client.changes()
    assert server.paths.count("/v1/limits") == 1
    with server.platform() as another:
        another.limits()
    assert server.paths.count("/v1/limits") == 2


def test_an_older_server_without_the_route_gets_the_defaults() -> None:
    server = Server(limits=None)
    with server.platform() as client:
        assert client.limits() is DEFAULT_LIMITS
        client.match_hashes([hex_hash(i) for i in range(1500)])
    assert [len(items) for items in server.sent] == [1000, 500]


def test_a_failing_or_malformed_limits_reply_is_a_service_error() -> None:
    mock = httpx.MockTransport(Server(served(), status=503))
    with Transport(URL, transport=mock) as t, pytest.raises(ServiceError) as caught:
        t.limits()
    assert caught.value.status == 503
    mock = httpx.MockTransport(Server({"match_items": "many"}))
    with Transport(URL, transport=mock) as t, pytest.raises(ServiceError) as caught:
        t.limits()
    assert caught.value.code == "invalid_response"


# -- the clients split by them ----------------------------------------------------------------


def test_the_platform_client_splits_by_the_servers_items_and_hashes() -> None:
    server = Server(served(match_items=3, match_hashes=7))
    with server.platform() as client:
        bare = client.match_hashes([hex_hash(i) for i in range(7)])
        assert [len(items) for items in server.sent] == [3, 3, 1]
        server.sent.clear()
        images = [MatchQuery(hex_hash(i), (hex_hash(100 + i), hex_hash(200 + i))) for i in range(5)]
        grouped = client.match_hashes(images)  # 3 hashes each: 2 per request of 7
    assert [len(items) for items in server.sent] == [2, 2, 1]
    assert [r.index for r in bare] == list(range(7))
    assert [r.index for r in grouped] == list(range(5))


def test_more_variants_than_the_server_takes_is_refused_before_any_hash_is_sent() -> None:
    server = Server(served(match_item_hashes=3))
    query = MatchQuery(hex_hash(1), tuple(hex_hash(v) for v in range(2, 5)))  # 4 hashes
    with server.platform() as client, pytest.raises(ValueError, match="at most 2 variants"):
        client.match_hashes([query])
    assert server.sent == []


def test_the_feed_page_is_kept_within_the_servers() -> None:
    server = Server(served(feed_page=50))
    requests: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return server(request)

    with PlatformClient(URL, "k", transport=httpx.MockTransport(recording)) as client:
        client.changes(limit=500)
        client.changes(limit=20)
    limits = [r.url.params.get("limit") for r in requests if r.url.path != "/v1/limits"]
    assert limits == ["50", "20"]


def test_the_survivor_client_packs_whole_images_by_the_servers_case_limit() -> None:
    images = [[pdq(i * 10 + j) for j in range(4)] for i in range(5)]  # 4 hashes each
    with Server(served(case_hashes=10)).survivor() as client:
        packed = client.case_batches(images)
    assert [len(b.hashes) for b in packed] == [8, 8, 4]
    assert packed[0].images == [0, 0, 0, 0, 1, 1, 1, 1]
    with Server(limits=None).survivor() as client:
        assert [len(b.hashes) for b in client.case_batches(images)] == [20]


def test_the_survivor_clients_match_splits_and_counts_indexes_across_requests() -> None:
    server = Server(served(match_items=2))
    with server.survivor() as client:
        reply = client.match([[pdq(i)] for i in range(5)], refs=[f"r{i}" for i in range(5)])
    assert [len(items) for items in server.sent] == [2, 2, 1]
    assert [r["index"] for r in reply["results"]] == [0, 1, 2, 3, 4]
    assert [r["ref"] for r in reply["results"]] == [f"r{i}" for i in range(5)]
