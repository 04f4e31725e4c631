"""Contract tests of the pytx extension against pytx's own interfaces and a fake feed.

The feed is an `httpx.MockTransport` that pages a list of changes the way the
service's `GET /v1/hashes/changes` does; the live service and the real CLI are
in tests/e2e/test_pytx_extension.py.
"""

import dataclasses
import pickle
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from threatexchange.cli.cli_config import CLiConfig
from threatexchange.cli.main import _get_settings
from threatexchange.exchanges.auth import (
    SignalExchangeAPIInvalidAuthException,
    SignalExchangeAPIMissingAuthException,
)
from threatexchange.exchanges.fetch_state import FetchDelta
from threatexchange.extensions.manifest import ThreatExchangeExtensionManifest
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal
from threatexchange.storage.interfaces import SignalExchangeAPIConfig
from threatexchange.utils import dataclass_json

from hashing import threatexchange_ext as ext
from hashing.client import ServiceError
from hashing.platform_replies import Change
from hashing.threatexchange_ext import (
    HashbankCheckpoint,
    HashbankCollabConfig,
    HashbankCredentials,
    HashbankSignalExchangeAPI,
    HashbankSignalMetadata,
)
from hashing.threatexchange_records import page_updates
from tests.pytx_vpdq import vpdq_signal

URL = "https://hashbank.example"
KEY = "hbk_test_key"
H1, H2, H3 = "a" * 64, "b" * 64, "c" * 64


def _change(seq: int, value: str, action: str = "add", algorithm: str = "pdq") -> dict[str, Any]:
    return {
        "seq": seq,
        "algorithm": algorithm,
        "hash": value,
        "action": action,
        "state": "active" if action == "add" else "withdrawn",
        "changed_at": f"2026-11-23T10:00:{seq:02d}Z",
    }


class FakeFeed:
    """The service's change feed over a list of changes; records every request."""

    def __init__(self, changes: list[dict[str, Any]], key: str = KEY) -> None:
        self.changes, self.key = changes, key
        self.requests: list[tuple[str, int]] = []  # (cursor, limit)
        self.status: int | None = None  # answer every request with this error instead

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/limits":
            return _error(404, "not_found", "Not Found")  # a server older than the route
        assert request.url.path == "/v1/hashes/changes"
        if request.headers.get("X-API-Key") != self.key:
            return _error(401, "unauthorized", "unknown API key")
        if self.status is not None:
            return _error(self.status, "forbidden", "this key lacks the sync scope")
        cursor, limit = request.url.params["cursor"], int(request.url.params["limit"])
        self.requests.append((cursor, limit))
        after = [c for c in self.changes if c["seq"] > int(cursor)]
        page = after[:limit]
        next_cursor = str(page[-1]["seq"]) if page else cursor
        return httpx.Response(
            200, json={"changes": page, "next_cursor": next_cursor, "has_more": len(after) > limit}
        )

    def api(self, base_url: str = URL, key: str = KEY) -> HashbankSignalExchangeAPI:
        collab = HashbankCollabConfig(name="partner", base_url=base_url)
        return HashbankSignalExchangeAPI(collab, key, transport=httpx.MockTransport(self.handler))


def _error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message}})


Delta = FetchDelta[tuple[str, str], HashbankSignalMetadata, HashbankCheckpoint]


def _fetch(api: HashbankSignalExchangeAPI, checkpoint: HashbankCheckpoint | None) -> list[Delta]:
    return list(api.fetch_iter([PdqSignal], checkpoint))


def _apply(deltas: list[Delta], into: dict[tuple[str, str], HashbankSignalMetadata]) -> set[str]:
    """Merge as pytx's stores do, and return the PDQ hashes an index would be built from."""
    for delta in deltas:
        HashbankSignalExchangeAPI.naive_fetch_merge(into, delta.updates)
    collab = HashbankCollabConfig(name="partner", base_url=URL)
    signals = HashbankSignalExchangeAPI.naive_convert_to_signal_type([PdqSignal], collab, into)
    return set(signals.get(PdqSignal, {}))


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ext, "PAGE_SIZE", 2)


def test_manifest_loads_into_the_cli_beside_the_built_in_exchanges(tmp_path: Path) -> None:
    manifest = ThreatExchangeExtensionManifest.load_from_module_name("hashing.threatexchange_ext")
    assert manifest.apis == (HashbankSignalExchangeAPI,)
    # What every `threatexchange` run does with its configured extensions; it raises
    # on a name taken twice.
    settings, extended = _get_settings(
        CLiConfig(extensions={"hashing.threatexchange_ext"}), tmp_path
    )
    extended.assert_no_errors()
    names = {api.get_name() for api in settings.apis}
    assert {"hashbank", "stop_ncii", "ncmec", "sample"} <= names


@pytest.mark.usefixtures("small_pages")
def test_adds_and_removes_arrive_in_order_one_delta_per_page() -> None:
    feed = FakeFeed(
        [
            _change(1, H1),
            _change(2, "0" * 16, algorithm="phash"),  # no pytx signal type: skipped
            _change(3, H2.upper()),  # canonical lowercase key
            _change(4, H1, "remove"),
            _change(5, H3),
            _change(6, H3, "remove"),  # removed again within the same page
        ]
    )
    deltas = _fetch(feed.api(), None)
    assert feed.requests == [("0", 2), ("2", 2), ("4", 2)]  # the third says has_more: false
    assert [d.checkpoint.cursor for d in deltas] == ["2", "4", "6"]
    assert deltas[0].updates == {("pdq", H1): HashbankSignalMetadata()}
    assert deltas[1].updates == {("pdq", H2): HashbankSignalMetadata(), ("pdq", H1): None}
    assert deltas[2].updates == {("pdq", H3): None}
    assert _apply(deltas, {}) == {H2}


@pytest.mark.usefixtures("small_pages")
def test_resuming_from_a_checkpoint_reads_only_later_changes() -> None:
    feed = FakeFeed([_change(1, H1), _change(2, H2), _change(3, H3)])
    first = _fetch(feed.api(), None)
    records: dict[tuple[str, str], HashbankSignalMetadata] = {}
    assert _apply(first, records) == {H1, H2, H3}
    checkpoint = first[-1].checkpoint

    feed.requests.clear()
    assert _fetch(feed.api(), checkpoint) == []  # caught up: nothing to store
    assert feed.requests == [("3", 2)]

    feed.changes += [_change(4, H2, "remove"), _change(5, H1, "remove")]
    later = _fetch(feed.api(), checkpoint)
    assert [d.checkpoint.cursor for d in later] == ["5"]
    assert _apply(later, records) == {H3}


def test_a_first_fetch_of_an_empty_feed_still_leaves_a_checkpoint() -> None:
    deltas = _fetch(FakeFeed([]).api(), None)
    assert [(d.updates, d.checkpoint) for d in deltas] == [({}, HashbankCheckpoint(URL, "0"))]


def test_progress_is_the_newest_change_time_and_never_goes_back() -> None:
    changes = [_change(1, H1), _change(2, H2)]
    changes[1]["changed_at"] = "2026-11-23T09:00:00+00:00"  # earlier than seq 1
    deltas = _fetch(FakeFeed(changes).api(), None)
    first_ts = 1795428001  # 2026-11-23T10:00:01Z
    assert deltas[-1].checkpoint.get_progress_timestamp() == first_ts
    resumed = HashbankCheckpoint(URL, "0", first_ts + 100)
    again = _fetch(FakeFeed(changes).api(), resumed)
    assert again[-1].checkpoint.get_progress_timestamp() == first_ts + 100


def test_the_checkpoint_survives_pickle_and_dataclass_json() -> None:
    checkpoint = HashbankCheckpoint(URL, "41", 1795428001)
    assert pickle.loads(pickle.dumps(checkpoint)) == checkpoint  # the CLI's state file
    as_json = dataclass_json.dataclass_dump_dict(checkpoint)  # HMA's checkpoint_json
    assert as_json == {"base_url": URL, "cursor": "41", "latest_change_ts": 1795428001}
    assert dataclass_json.dataclass_load_dict(as_json, HashbankCheckpoint) == checkpoint
    assert not checkpoint.is_stale()
    metadata = HashbankSignalMetadata()  # the records: pickled by HMA, JSON in pytx's DBMStore
    stored = dataclass_json.dataclass_dumps(metadata)
    assert dataclass_json.dataclass_loads(stored, HashbankSignalMetadata) == metadata
    assert pickle.loads(pickle.dumps(metadata)) == metadata


def test_a_checkpoint_from_another_server_is_refused() -> None:
    api = FakeFeed([_change(1, H1)]).api(base_url=URL + "/")  # a trailing slash is the same
    assert _fetch(api, HashbankCheckpoint(URL, "0")) != []
    with pytest.raises(ValueError, match=r"fetched state came from https://old\.example"):
        _fetch(api, HashbankCheckpoint("https://old.example", "0"))


@pytest.mark.parametrize(("status", "expected"), [(401, "unauthorized"), (403, "forbidden")])
def test_a_refused_key_is_pytx_invalid_auth(status: int, expected: str) -> None:
    feed = FakeFeed([_change(1, H1)])
    if status == 403:
        feed.status = 403
    api = feed.api(key=KEY if status == 403 else "hbk_wrong")
    with pytest.raises(SignalExchangeAPIInvalidAuthException) as raised:
        _fetch(api, None)
    assert raised.value.src_api is HashbankSignalExchangeAPI
    assert f"{URL} refused the API key" in raised.value.message
    assert f"(HTTP {status}, {expected})" in raised.value.message
    assert "hbk_wrong" not in raised.value.message


def test_a_feed_that_does_not_advance_is_an_error() -> None:
    def stuck(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"changes": [], "next_cursor": "0", "has_more": True})

    collab = HashbankCollabConfig(name="partner", base_url=URL)
    api = HashbankSignalExchangeAPI(collab, KEY, transport=httpx.MockTransport(stuck))
    with pytest.raises(ServiceError, match="did not advance"):
        _fetch(api, None)


def test_credentials_come_from_the_caller_environment_or_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("TX_HASHBANK_API_KEY", raising=False)
    with pytest.raises(SignalExchangeAPIMissingAuthException) as missing:
        HashbankCredentials.get(HashbankSignalExchangeAPI)
    assert "TX_HASHBANK_API_KEY" in missing.value.pretty_str()
    assert "~/.tx_hashbank_api_key" in missing.value.pretty_str()

    (tmp_path / ".tx_hashbank_api_key").write_text("hbk_from_file\n")
    assert HashbankCredentials.get(HashbankSignalExchangeAPI).api_key == "hbk_from_file"
    monkeypatch.setenv("TX_HASHBANK_API_KEY", " hbk_from_env ")
    assert HashbankCredentials.get(HashbankSignalExchangeAPI).api_key == "hbk_from_env"
    monkeypatch.setenv("TX_HASHBANK_API_KEY", "two words")
    with pytest.raises(SignalExchangeAPIInvalidAuthException):
        HashbankCredentials.get(HashbankSignalExchangeAPI)
    assert "hbk_from_env" not in repr(HashbankCredentials("hbk_from_env"))


def test_hma_credential_json_and_api_json_shapes() -> None:
    # HMA accepts exactly the credential dataclass's init fields as `credential_json`
    # (OpenMediaMatch/utils/exchange_credentials.py) and loads it with dataclass_json.
    assert [f.name for f in dataclasses.fields(HashbankCredentials) if f.init] == ["api_key"]
    api_cfg = SignalExchangeAPIConfig(HashbankSignalExchangeAPI)  # type: ignore[arg-type]
    api_cfg.set_credentials_from_json_dict({"api_key": KEY})
    assert api_cfg.credentials == HashbankCredentials(KEY)
    # `POST /c/exchanges` fills in name, api and enabled, then loads `api_json`.
    api_json = {"base_url": URL, "name": "HASHBANK", "api": "hashbank", "enabled": True}
    collab = dataclass_json.dataclass_load_dict(api_json, HashbankCollabConfig)
    assert collab == HashbankCollabConfig(name="HASHBANK", base_url=URL)
    assert dataclass_json.dataclass_dump_dict(collab) == api_json


def test_for_collab_defers_an_unreachable_service_to_the_fetch() -> None:
    collab = HashbankCollabConfig(name="partner", base_url="http://127.0.0.1:9")  # discard port
    api = HashbankSignalExchangeAPI.for_collab(collab, HashbankCredentials(KEY))
    with pytest.raises(httpx.TransportError):
        _fetch(api, None)


def test_the_hashing_package_does_not_need_threatexchange() -> None:
    code = (
        "import sys, hashing, hashing.cli, hashing.platform_client; "
        "assert 'threatexchange' not in sys.modules, 'hashing imported threatexchange'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_the_docs_give_the_names_the_code_and_tests_use() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "threatexchange.md").read_text()
    for text in [
        "threatexchange config extensions add hashing.threatexchange_ext",  # as the e2e test
        "threatexchange config collab edit hashbank partner --create --base-url",
        f"export {HashbankCredentials.ENV_VARIABLE}=",
        HashbankCredentials.FILE_NAME,
        "from hashing.threatexchange_ext import HashbankSignalExchangeAPI",
        '"api": "hashbank", "api_json": {"base_url":',
        '{"credential_json": {"api_key":',
        "pip install 'hashbank[threatexchange]'",
    ]:
        assert text in doc, text


def _video_change(
    seq: int, value: str, item: str, item_action: str, timestamp: float | None, **extra: Any
) -> dict[str, Any]:
    """A video's entry: a vPDQ frame (with its time) or, `timestamp` None, its MD5."""
    change = _change(
        seq, value, extra.pop("action", item_action), "md5" if timestamp is None else "vpdq"
    )
    return {
        **change,
        "item": item,
        "item_action": item_action,
        "timestamp": timestamp,
        "quality": None if timestamp is None else 90,
        **extra,
    }


MD5 = "d" * 32


def _video(seq: int, item: str, item_action: str, **extra: Any) -> list[dict[str, Any]]:
    """The entries of a video of 3 frames and its MD5, as the feed gives them."""
    return [
        _video_change(seq, MD5, item, item_action, None, **extra),
        _video_change(seq + 1, H1, item, item_action, 0.0, **extra),
        _video_change(seq + 2, H2, item, item_action, 1.0, **extra),
        _video_change(seq + 3, H3, item, item_action, 2.5, **extra),
    ]


def test_a_video_is_one_vpdq_signal_keyed_by_its_reference_and_its_md5() -> None:
    VPDQSignal = vpdq_signal()  # noqa: N806 - pytx's class
    feed = FakeFeed(
        [_change(1, "e" * 64), *_video(2, "v_one", "add"), *_video(6, "v_two", "add", action="add")]
    )
    (delta,) = _fetch(feed.api(), None)
    expected = f'["{H1},90,0.000", "{H2},90,1.000", "{H3},90,2.500"]'
    assert delta.updates == {
        ("pdq", "e" * 64): HashbankSignalMetadata(),
        ("video_md5", MD5): HashbankSignalMetadata(),
        ("vpdq", "v_one"): HashbankSignalMetadata(expected),
        ("vpdq", "v_two"): HashbankSignalMetadata(expected),
    }
    collab = HashbankCollabConfig(name="partner", base_url=URL)
    merged: dict[tuple[str, str], HashbankSignalMetadata] = {}
    HashbankSignalExchangeAPI.naive_fetch_merge(merged, delta.updates)
    signals = HashbankSignalExchangeAPI.naive_convert_to_signal_type(
        [PdqSignal, VideoMD5Signal, VPDQSignal], collab, merged
    )
    assert set(signals[VPDQSignal]) == {expected}  # one value, held by two videos
    assert VPDQSignal.validate_signal_str(expected) == expected
    assert set(signals[VideoMD5Signal]) == {MD5}

    # The first video is withdrawn: its record goes, the second keeps the value matching.
    feed.changes += _video(10, "v_one", "remove", action="add")
    (later,) = _fetch(feed.api(), delta.checkpoint)
    assert later.updates == {("vpdq", "v_one"): None, ("video_md5", MD5): HashbankSignalMetadata()}
    HashbankSignalExchangeAPI.naive_fetch_merge(merged, later.updates)
    signals = HashbankSignalExchangeAPI.naive_convert_to_signal_type([VPDQSignal], collab, merged)
    assert set(signals[VPDQSignal]) == {expected}
    feed.changes += _video(14, "v_two", "remove", action="remove")
    (last,) = _fetch(feed.api(), later.checkpoint)
    HashbankSignalExchangeAPI.naive_fetch_merge(merged, last.updates)
    assert set(merged) == {("pdq", "e" * 64)}


def test_video_records_survive_pickle_and_dataclass_json() -> None:
    record = HashbankSignalMetadata(f'["{H1},90,0.000"]')
    assert pickle.loads(pickle.dumps(record)) == record
    assert (
        dataclass_json.dataclass_loads(
            dataclass_json.dataclass_dumps(record), HashbankSignalMetadata
        )
        == record
    )
    plain = dataclass_json.dataclass_loads(
        dataclass_json.dataclass_dumps(HashbankSignalMetadata()), HashbankSignalMetadata
    )
    assert plain.signal is None


def test_a_videos_pytx_record_holds_its_frames_not_their_variants() -> None:
    now = datetime.now(UTC)
    frames = [f"{i:02x}" * 32 for i in range(1, 4)]
    crops = [f"{i:02x}" * 32 for i in range(0xA1, 0xA4)]
    changes = []
    for seq, (frame, crop) in enumerate(zip(frames, crops, strict=True)):
        for value, variant in ((frame, False), (crop, True)):
            changes.append(
                Change(
                    seq * 2 + variant,
                    "vpdq",
                    value,
                    "add",
                    "active",
                    now,
                    quality=90,
                    item="v_0123456789abcdef0123",
                    item_action="add",
                    timestamp=float(seq),
                    variant=variant,
                )
            )
    (record,) = [r for key, r in page_updates(changes).items() if key[0] == "vpdq"]
    assert record is not None
    assert record.signal is not None
    assert all(frame in record.signal for frame in frames)
    assert not any(crop in record.signal for crop in crops)
