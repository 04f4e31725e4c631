"""The platform client against a small fake hashbank that speaks the documented API shapes."""

import json
import runpy
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from hashing import PDQ_ALGORITHM, InvalidHash, LowQualityImage, load_image
from hashing.platform_client import (
    MAX_HASHES,
    MAX_ITEMS,
    Change,
    MatchQuery,
    PlatformClient,
    ServiceError,
    read_checkpoint,
)
from hashing.policy import MAX_QUERY_HASHES, query_hashes
from tests.conftest import PDQ_REFERENCE

KEY = "k_test_platform_key"
IMAGE = PDQ_REFERENCE / "reg-test-input/dih/bridge-1-original.jpg"  # quality 100
LOW_QUALITY_IMAGE = PDQ_REFERENCE / "reg-test-input/labelme-subset/q0003.jpg"  # quality 3


def hex_hash(n: int) -> str:
    return f"{n:064x}"


def error(status: int, code: str, message: str, details: list[Any] | None = None) -> httpx.Response:
    body = {"error": {"code": code, "message": message, "details": details or []}}
    return httpx.Response(status, json=body)


@dataclass
class FakeHashbank:
    """The platform routes as documented: auth, /v1/match, /v1/feedback, /v1/hashes/changes,
    and /v1/limits (no key), which answers 404 while `limits` is None (an older server)."""

    known: set[str] = field(default_factory=set)  # hashes that match (exactly)
    log: list[dict[str, Any]] = field(default_factory=list)  # the change feed, seq from 1
    max_batch: int = 1000
    max_hashes: int = 8192
    limits: dict[str, int] | None = None
    limits_asked: int = 0
    requests: list[httpx.Request] = field(default_factory=list)  # all but /v1/limits

    def add(self, h: str, action: str = "add", state: str = "active") -> None:
        self.log.append(
            {
                "seq": len(self.log) + 1,
                "algorithm": "pdq",
                "hash": h,
                "action": action,
                "state": state,
                "changed_at": datetime(2025, 1, 1, tzinfo=UTC).isoformat(),
            }
        )

    def client(self, key: str = KEY) -> PlatformClient:
        return PlatformClient("http://hashbank.test/", key, transport=httpx.MockTransport(self))

    @property
    def bodies(self) -> list[bytes]:
        return [r.content for r in self.requests]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/limits":
            self.limits_asked += 1
            if self.limits is None:
                return error(404, "not_found", "Not Found")
            return httpx.Response(200, json=self.limits)
        self.requests.append(request)
        if request.headers.get("X-API-Key") != KEY:
            return error(401, "unauthorized", "missing or unknown API key")
        route = (request.method, request.url.path)
        if route == ("POST", "/v1/match"):
            return self._match(json.loads(request.content))
        if route == ("POST", "/v1/feedback"):
            return self._feedback(json.loads(request.content))
        if route == ("GET", "/v1/hashes/changes"):
            return self._changes(request.url.params)
        return error(404, "not_found", "no such route")

    def _match(self, body: dict[str, Any]) -> httpx.Response:
        items = body["items"]
        if len(items) > self.max_batch:
            return error(413, "batch_too_large", f"at most {self.max_batch} items per request")
        if sum(1 + len(item["variants"]) for item in items) > self.max_hashes:
            return error(413, "too_many_hashes", f"at most {self.max_hashes} hashes per request")
        results = []
        for i, item in enumerate(items):
            assert set(item) == {"algorithm", "hash", "variants", "ref"}
            assert len(item["variants"]) <= MAX_QUERY_HASHES - 1
            hits = [h for h in [item["hash"], *item["variants"]] if h in self.known]
            matches = [{"match_id": f"m_{i}", "algorithm": "pdq", "distance": 0}] if hits else []
            results.append({"index": i, "ref": item["ref"], "matches": matches})
        return httpx.Response(200, json={"results": results})

    def _feedback(self, body: dict[str, Any]) -> httpx.Response:
        if body["outcome"] not in ("pending_review", "removed", "not_violating"):
            details = [{"location": "body.outcome", "reason": "not a known outcome"}]
            return error(422, "invalid_request", "request failed validation; see details", details)
        recorded = {**body, "recorded_at": "2025-01-02T03:04:05.678901Z"}
        return httpx.Response(200, json=recorded)

    def _changes(self, params: httpx.QueryParams) -> httpx.Response:
        after, limit = int(params.get("cursor", "0")), int(params["limit"])
        if not 1 <= limit <= (self.limits or {}).get("feed_page", 1000):
            return error(422, "invalid_request", "limit must be 1..1000")
        page = [c for c in self.log if c["seq"] > after][:limit]
        next_cursor = str(page[-1]["seq"] if page else after)
        has_more = any(c["seq"] > int(next_cursor) for c in self.log)
        return httpx.Response(
            200, json={"changes": page, "next_cursor": next_cursor, "has_more": has_more}
        )


@pytest.fixture
def fake() -> FakeHashbank:
    return FakeHashbank()


@pytest.fixture
def client(fake: FakeHashbank) -> Iterator[PlatformClient]:
    with fake.client() as c:
        yield c


# -- match_hashes -------------------------------------------------------------------------


def test_match_hashes_chunks_2500_items_into_3_requests(
    fake: FakeHashbank, client: PlatformClient
) -> None:
    fake.known = {hex_hash(5), hex_hash(1500), hex_hash(2499)}
    queries = [MatchQuery(hex_hash(i), ref=f"upload-{i}") for i in range(2500)]

    results = client.match_hashes(queries)

    assert [len(json.loads(b)["items"]) for b in fake.bodies] == [1000, 1000, 500]
    assert [r.index for r in results] == list(range(2500))
    assert [r.ref for r in results] == [f"upload-{i}" for i in range(2500)]
    assert [r.index for r in results if r.matched] == [5, 1500, 2499]
    assert results[1500].matches[0].match_id == "m_500"  # the service's id, index is global


def test_match_hashes_batches_by_hash_count_too(fake: FakeHashbank, client: PlatformClient) -> None:
    # 300 images of 64 query hashes: 128 of them (8,192 hashes) per request, not 1,000.
    queries = [
        MatchQuery(hex_hash(i * 100), tuple(hex_hash(i * 100 + v) for v in range(1, 64)))
        for i in range(300)
    ]
    fake.known = {hex_hash(250 * 100 + 63)}  # the last variant of image 250

    results = client.match_hashes(queries)

    sent = [json.loads(b)["items"] for b in fake.bodies]
    assert [len(items) for items in sent] == [128, 128, 44]
    assert all(sum(1 + len(i["variants"]) for i in items) <= MAX_HASHES for items in sent)
    assert [r.index for r in results] == list(range(300))
    assert [r.index for r in results if r.matched] == [250]


def test_match_hashes_fills_requests_with_mixed_items(
    fake: FakeHashbank, client: PlatformClient
) -> None:
    # Bare hashes and full images mixed: every request stays within both limits.
    queries = [
        MatchQuery(hex_hash(i), tuple(hex_hash(10**6 + i * 64 + v) for v in range(63)))
        if i % 3 == 0
        else MatchQuery(hex_hash(i))
        for i in range(1200)
    ]
    results = client.match_hashes(queries)
    sent = [json.loads(b)["items"] for b in fake.bodies]
    sizes = [sum(1 + len(i["variants"]) for i in items) for items in sent]
    assert all(len(items) <= MAX_ITEMS for items in sent)
    assert all(size <= MAX_HASHES for size in sizes)
    assert sum(len(items) for items in sent) == 1200
    assert sizes[0] + 1 + len(sent[1][0]["variants"]) > MAX_HASHES  # each request was full
    assert [r.index for r in results] == list(range(1200))


def test_match_hashes_takes_bare_pdq_hex_and_normalises_it(
    fake: FakeHashbank, client: PlatformClient
) -> None:
    fake.known = {hex_hash(0xAB)}
    results = client.match_hashes([hex_hash(0xAB).upper(), hex_hash(7)])
    items = json.loads(fake.bodies[0])["items"]
    assert items[0] == {"algorithm": "pdq", "hash": hex_hash(0xAB), "variants": [], "ref": None}
    assert [r.matched for r in results] == [True, False]
    assert results[0].matches[0].distance == 0


def test_match_hashes_checks_every_item_before_sending_anything(
    fake: FakeHashbank, client: PlatformClient
) -> None:
    items = [hex_hash(i) for i in range(1500)] + ["not-a-hash"]
    with pytest.raises(InvalidHash):
        client.match_hashes(items)
    with pytest.raises(TypeError):
        client.match_hashes(hex_hash(1))
    assert fake.requests == []
    assert client.match_hashes([]) == []
    assert fake.requests == []


def test_hashes_stay_out_of_reprs() -> None:
    query = MatchQuery(hex_hash(0xDEADBEEF), (hex_hash(1),))
    assert "deadbeef" not in repr(query)


# -- errors --------------------------------------------------------------------------------


def test_wrong_key_is_unauthorized(fake: FakeHashbank) -> None:
    with fake.client("k_wrong") as client, pytest.raises(ServiceError) as caught:
        client.match_hashes([hex_hash(1)])
    assert caught.value.status == 401
    assert caught.value.code == "unauthorized"
    assert caught.value.message == "missing or unknown API key"


def test_too_large_batch_maps_413(fake: FakeHashbank, client: PlatformClient) -> None:
    fake.max_batch = 500
    with pytest.raises(ServiceError) as caught:
        client.match_hashes([hex_hash(i) for i in range(600)])
    assert caught.value.status == 413
    assert caught.value.code == "batch_too_large"


def test_validation_error_maps_422_with_details(client: PlatformClient) -> None:
    with pytest.raises(ServiceError) as caught:
        client.feedback("m_1", "deleted")  # type: ignore[arg-type]
    assert caught.value.status == 422
    assert caught.value.code == "invalid_request"
    assert caught.value.details == [{"location": "body.outcome", "reason": "not a known outcome"}]


@pytest.mark.parametrize(
    ("response", "status", "code"),
    [
        (httpx.Response(502, text="<html>bad gateway</html>"), 502, "http_error"),
        (httpx.Response(500, json={"detail": "oops"}), 500, "http_error"),
        (httpx.Response(200, text="not json"), 200, "invalid_response"),
        (httpx.Response(200, json={"results": "nope"}), 200, "invalid_response"),
        (httpx.Response(200, json={"results": []}), 200, "invalid_response"),
    ],
)
def test_unexpected_responses_raise_service_error(
    response: httpx.Response, status: int, code: str
) -> None:
    transport = httpx.MockTransport(lambda _: response)
    with (
        PlatformClient("http://x", KEY, transport=transport) as client,
        pytest.raises(ServiceError) as caught,
    ):
        client.match_hashes([hex_hash(1)])
    assert caught.value.status == status
    assert caught.value.code == code


# -- match_image ----------------------------------------------------------------------------


def test_match_image_sends_only_the_policys_hex_hashes(
    fake: FakeHashbank, client: PlatformClient
) -> None:
    dihedral = [h.hex for h in PDQ_ALGORITHM.compute_dihedral(load_image(IMAGE))]
    expected = [h.hex for h in query_hashes(load_image(IMAGE))]
    assert expected[:8] == dihedral  # then those of the other forms (hashing.policy)
    fake.known = {dihedral[3]}  # an upload that was rotated by 270 degrees
    image_bytes = IMAGE.read_bytes()

    from_path = client.match_image(IMAGE, ref="upload-1")
    from_bytes = client.match_image(image_bytes)

    assert from_path.matched
    assert from_path.ref == "upload-1"
    assert from_bytes.matched
    assert len(fake.requests) == 2
    for body in fake.bodies:
        assert len(body) < 4096  # at most 40 hashes of 64 hex digits; the image is ~100 kB
        for start in range(0, len(image_bytes) - 32, len(image_bytes) // 50):
            assert image_bytes[start : start + 32] not in body
        (item,) = json.loads(body)["items"]
        assert item["algorithm"] == "pdq"
        assert [item["hash"], *item["variants"]] == expected


def test_match_image_agrees_with_the_reference_hash(
    fake: FakeHashbank, client: PlatformClient
) -> None:
    expected = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"  # expected.csv
    client.match_image(IMAGE)
    sent = json.loads(fake.bodies[0])["items"][0]["hash"]
    assert PDQ_ALGORITHM.distance(bytes.fromhex(sent), bytes.fromhex(expected)) <= 10


def test_match_image_refuses_low_quality_before_sending(
    fake: FakeHashbank, client: PlatformClient
) -> None:
    with pytest.raises(LowQualityImage):
        client.match_image(LOW_QUALITY_IMAGE)
    assert fake.requests == []


# -- feedback ----------------------------------------------------------------------------------


def test_feedback_returns_a_typed_receipt(fake: FakeHashbank, client: PlatformClient) -> None:
    receipt = client.feedback("m_0123", "removed")
    assert json.loads(fake.bodies[0]) == {"match_id": "m_0123", "outcome": "removed"}
    assert receipt.match_id == "m_0123"
    assert receipt.outcome == "removed"
    assert receipt.recorded_at == datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


# -- changes and sync ----------------------------------------------------------------------------


def feed(n: int) -> FakeHashbank:
    fake = FakeHashbank()
    for i in range(1, n + 1):
        fake.add(hex_hash(i))
    return fake


def cursors(fake: FakeHashbank) -> list[str | None]:
    return [r.url.params.get("cursor") for r in fake.requests]


def test_changes_returns_one_typed_page() -> None:
    fake = feed(3)
    fake.add(hex_hash(2), action="remove", state="withdrawn")
    with fake.client() as client:
        page = client.changes(limit=2)
        rest = client.changes(page.next_cursor, limit=1000)
    assert [c.seq for c in page.changes] == [1, 2]
    assert page.has_more
    assert page.changes[0] == Change(
        1, "pdq", hex_hash(1), "add", "active", datetime(2025, 1, 1, tzinfo=UTC)
    )
    assert [(c.seq, c.action, c.state) for c in rest.changes] == [
        (3, "add", "active"),
        (4, "remove", "withdrawn"),
    ]
    assert not rest.has_more
    assert rest.next_cursor == "4"
    with pytest.raises(ValueError, match="limit"):
        client.changes(limit=0)


def test_sync_applies_every_change_in_order_and_checkpoints_the_end(tmp_path: Path) -> None:
    fake = feed(5)
    fake.add(hex_hash(2), action="remove", state="withdrawn")
    fake.add(hex_hash(6))
    checkpoint = tmp_path / "state" / "cursor"
    local: set[str] = set()
    with fake.client() as client:
        for change in client.sync(checkpoint, limit=3):
            (local.add if change.action == "add" else local.discard)(change.hash)
    assert local == {hex_hash(i) for i in (1, 3, 4, 5, 6)}
    assert cursors(fake) == ["0", "3", "6"]  # a missing checkpoint means from the start
    assert read_checkpoint(checkpoint) == "7"
    assert [p.name for p in checkpoint.parent.iterdir()] == ["cursor"]  # no temp files left


def test_sync_that_stops_mid_page_sees_that_page_again(tmp_path: Path) -> None:
    fake, checkpoint = feed(7), tmp_path / "cursor"
    with fake.client() as client:
        seen = []
        for change in client.sync(checkpoint, limit=3):
            seen.append(change.seq)
            if change.seq == 5:
                break  # crash in the middle of the second page
        assert seen == [1, 2, 3, 4, 5]
        assert read_checkpoint(checkpoint) == "3"  # the first page was taken whole

        resumed = [c.seq for c in client.sync(checkpoint, limit=3)]
    assert resumed == [4, 5, 6, 7]  # the second page again, nothing missed
    assert read_checkpoint(checkpoint) == "7"


def apply_failing_at(seq: int, changes: Iterator[Change]) -> None:
    for change in changes:
        if change.seq == seq:
            raise RuntimeError("local store is down")


def test_sync_that_fails_while_applying_does_not_advance(tmp_path: Path) -> None:
    fake, checkpoint = feed(3), tmp_path / "cursor"
    with fake.client() as client:
        with pytest.raises(RuntimeError):
            apply_failing_at(3, client.sync(checkpoint, limit=3))
        assert not checkpoint.exists()
        # Taking the page's last change is not yet "past" it: only the next step saves.
        changes = client.sync(checkpoint, limit=3)
        assert [next(changes).seq for _ in range(3)] == [1, 2, 3]
        assert not checkpoint.exists()
        assert list(changes) == []
    assert read_checkpoint(checkpoint) == "3"


def test_sync_later_picks_up_only_new_changes(tmp_path: Path) -> None:
    fake, checkpoint = feed(4), tmp_path / "cursor"
    with fake.client() as client:
        assert [c.seq for c in client.sync(checkpoint)] == [1, 2, 3, 4]
        assert list(client.sync(checkpoint)) == []  # nothing new
        fake.add(hex_hash(2), action="remove", state="withdrawn")
        fake.add(hex_hash(9))
        later = [(c.seq, c.action) for c in client.sync(checkpoint)]
    assert later == [(5, "remove"), (6, "add")]
    assert cursors(fake) == ["0", "4", "4"]
    assert read_checkpoint(checkpoint) == "6"


def test_sync_refuses_a_feed_that_does_not_advance(tmp_path: Path) -> None:
    stuck = {"changes": [], "next_cursor": "0", "has_more": True}
    transport = httpx.MockTransport(lambda _: httpx.Response(200, json=stuck))
    with (
        PlatformClient("http://x", KEY, transport=transport) as client,
        pytest.raises(ServiceError) as caught,
    ):
        list(client.sync(tmp_path / "cursor"))
    assert caught.value.code == "invalid_response"


# -- docs/examples/platform_sync.py ------------------------------------------------------------

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "platform_sync.py"


def run_example(
    fake: FakeHashbank,
    argv: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    key: str = KEY,
) -> tuple[int, dict[str, Any], str]:
    namespace = runpy.run_path(str(EXAMPLE))  # not as __main__: main() is called below
    main = namespace["main"]
    monkeypatch.setitem(main.__globals__, "PlatformClient", lambda url, key: fake.client(key))
    monkeypatch.setattr("sys.argv", ["platform_sync.py", *argv])
    monkeypatch.setenv("HASHBANK_URL", "http://hashbank.test")
    monkeypatch.setenv("HASHBANK_API_KEY", key)
    code = main()
    out, err = capsys.readouterr()
    return code, json.loads(out.splitlines()[-1]) if code == 0 else {}, out + err


def test_example_syncs_matches_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dihedral = [h.hex for h in PDQ_ALGORITHM.compute_dihedral(load_image(IMAGE))]
    fake = feed(4)
    fake.add(dihedral[1])  # the image, rotated: seq 5
    fake.known = {dihedral[1]}
    argv = [str(IMAGE), "--checkpoint", str(tmp_path / "state" / "cursor"), "--limit", "2"]

    code, first, output = run_example(fake, argv, monkeypatch, capsys)
    assert code == 0
    assert first == {
        "hashes": 5,
        "local_matches": [{"algorithm": "pdq", "distance": 0}],
        "matches": [{"match_id": "m_0", "algorithm": "pdq", "distance": 0}],
    }
    assert KEY not in output
    assert all(h not in output for h in dihedral)

    fake.add(dihedral[1], action="remove", state="withdrawn")  # the survivor withdrew
    code, second, _ = run_example(fake, [*argv, "--local-only"], monkeypatch, capsys)
    assert code == 0
    assert second == {"hashes": 4, "local_matches": [], "matches": []}
    assert cursors(fake)[-1] == "5"  # resumed where the first run ended

    # A checkpoint that ran ahead of the saved set (a crash before saving) is set back.
    (tmp_path / "state" / "cursor.hashes.json").unlink()
    code, third, _ = run_example(fake, [*argv, "--local-only"], monkeypatch, capsys)
    assert code == 0
    assert third["hashes"] == 4
    assert cursors(fake)[-3:] == ["0", "2", "4"]


def test_example_reports_a_refused_key_and_a_bad_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake, checkpoint = feed(1), str(tmp_path / "cursor")
    code, _, output = run_example(
        fake, [str(IMAGE), "--checkpoint", checkpoint], monkeypatch, capsys, key="k_wrong_key"
    )
    assert code == 1
    assert "unauthorized" in output
    assert "k_wrong_key" not in output

    requests = len(fake.requests)
    code, _, output = run_example(
        fake, [str(LOW_QUALITY_IMAGE), "--checkpoint", checkpoint], monkeypatch, capsys
    )
    assert code == 2
    assert "too little detail" in output
    assert len(fake.requests) == requests  # refused before any call
