"""hashbank's pytx extension (`hashing.threatexchange_ext`) against a live server.

The real `threatexchange` CLI, with its state in a temporary HOME, is configured
exactly as docs/threatexchange.md tells a partner to: it fetches, matches a
re-encoded copy of a protected photo, and stops matching it once the survivor
withdraws. Then pytx's own unified store (`DBMStore`, the same storage interface
HMA's `DefaultOMMStore` implements) is driven the way HMA's fetcher drives it.
"""

import importlib.util
import io
import json
import os
import pickle
import random
import re
from pathlib import Path

import httpx
import pytest
from PIL import Image
from threatexchange.exchanges.fetch_state import FetchDelta
from threatexchange.exchanges.impl.static_sample import StaticSampleSignalExchangeAPI
from threatexchange.signal_type.pdq.signal import PdqSignal
from threatexchange.storage.local_dbm import DBMStore
from threatexchange.utils import dataclass_json

from hashing import PDQ_ALGORITHM, load_image
from hashing.threatexchange_ext import (
    HashbankCheckpoint,
    HashbankCollabConfig,
    HashbankSignalExchangeAPI,
    HashbankSignalMetadata,
)
from tests.conftest import PDQ_REFERENCE
from tests.e2e.server import BIN, Server, create_case, platform_key, run_cli, with_checkout
from tests.pytx_vpdq import PYTHONPATH as VPDQ_STAND_IN

PHOTO = PDQ_REFERENCE / "reg-test-input" / "dih" / "bridge-1-original.jpg"
OTHER_PHOTO = PDQ_REFERENCE / "reg-test-input" / "pen-and-coaster.png"
COLLAB = "partner"


def _withdraw(client: httpx.Client, case_id: str, case_key: str) -> None:
    r = client.delete(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key})
    assert r.status_code == 200, r.text


class Partner:
    """The `threatexchange` CLI of a partner platform, its whole state under `home`."""

    def __init__(self, home: Path, api_key: str | None) -> None:
        self.home = home
        home.mkdir()
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("HASHBANK_", "TX_")) and k != "HOME"
        }
        self.env["HOME"] = str(home)  # pytx keeps everything in ~/.threatexchange
        self.env = with_checkout(self.env)
        # pytx's vPDQ type needs `vpdq` importable. Ask where this process finds it: another
        # test may have put the stand-in on this process's path, never on the child's.
        spec = importlib.util.find_spec("vpdq")
        if spec is None or str(spec.origin).startswith(VPDQ_STAND_IN):
            self.env["PYTHONPATH"] += os.pathsep + VPDQ_STAND_IN
        if api_key is not None:
            self.env["TX_HASHBANK_API_KEY"] = api_key

    def tx(self, *args: str, ok: bool = True) -> "CompletedTx":
        done = run_cli([str(BIN / "threatexchange"), *args], self.env)
        if ok:
            assert done.returncode == 0, (args, done.stdout, done.stderr)
        return CompletedTx(done.returncode, done.stdout, done.stderr)

    def configure(self, server_url: str) -> None:
        """The commands of docs/threatexchange.md, "threatexchange CLI"."""
        added = self.tx("config", "extensions", "add", "hashing.threatexchange_ext")
        assert "hashbank - HashbankSignalExchangeAPI" in added.stdout
        self.tx(
            "config", "collab", "edit", "hashbank", COLLAB, "--create", "--base-url", server_url
        )

    def fetched(self, kind: str = "pdq") -> set[str]:
        """The hashes of one type the CLI holds now (`threatexchange dataset -P -S`)."""
        out = self.tx("dataset", "--print-signals", "--print-signals-only").stdout
        lines = [line.split(" ", 1) for line in out.splitlines() if line.strip()]
        if kind == "pdq":
            assert all(k == "pdq" for k, _ in lines), out
        return {value for k, value in lines if k == kind}

    def matches(self, photo: Path) -> list[str]:
        return self.tx("match", "photo", str(photo)).stdout.splitlines()

    @property
    def state_file(self) -> Path:
        return self.home / ".threatexchange" / "fetched" / "hashbank" / f"{COLLAB}.state.pickle"

    def checkpoint(self) -> HashbankCheckpoint:
        """The checkpoint the CLI stored (its state file is a pickled `FetchDelta`)."""
        with self.state_file.open("rb") as f:
            delta = pickle.load(f)  # written by this test's own CLI run
        assert isinstance(delta, FetchDelta)
        assert isinstance(delta.checkpoint, HashbankCheckpoint)
        return delta.checkpoint


class CompletedTx:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def _reencoded(photo: Path, target: Path, quality: int = 60) -> Path:
    image = Image.open(photo).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    target.write_bytes(buffer.getvalue())
    return target


def _feed_requests(log: Path, start: int) -> list[str]:
    """The change-feed requests in the server's access log after byte `start`."""
    text = log.read_bytes()[start:].decode(errors="replace")
    return re.findall(r'"GET (/v1/hashes/changes\?[^ ]*) HTTP', text)


def test_cli_fetches_matches_and_forgets_a_withdrawn_photo(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    key = platform_key(data, "sync")
    withdrawn = PDQ_ALGORITHM.compute(load_image(PHOTO)).hex
    kept = PDQ_ALGORITHM.compute(load_image(OTHER_PHOTO)).hex
    copy = _reencoded(PHOTO, tmp_path / "upload.jpg")
    other_copy = _reencoded(OTHER_PHOTO, tmp_path / "other-upload.jpg")
    distance = PDQ_ALGORITHM.distance(
        PDQ_ALGORITHM.compute(load_image(copy)).value, bytes.fromhex(withdrawn)
    )
    assert 0 < distance <= PDQ_ALGORITHM.threshold  # a near copy, not the same hash
    # Two hashes stay, so the last index is a real one: pytx 1.2.17 loses the only
    # entry of a one-hash PDQ index when it saves it (docs/threatexchange.md).
    unrelated = random.Random(14).randbytes(32).hex()
    partner = Partner(tmp_path / "home", key)
    with (
        Server(data, tmp_path / "server.log") as server,
        httpx.Client(base_url=server.url) as client,
    ):
        case_id, case_key = create_case(client, [withdrawn])
        create_case(client, [kept, unrelated])  # another survivor's, protected throughout
        create_case(client, [random.Random(1).randbytes(8).hex()], algorithm="phash")  # skipped
        partner.configure(server.url)

        fetch = partner.tx("fetch")
        assert f"[hashbank] {COLLAB} - Up to date" in fetch.stderr
        assert partner.fetched() == {withdrawn, kept, unrelated}
        found = partner.matches(copy)
        assert len(found) == 1, found
        assert found[0].startswith("pdq ")
        assert f"({COLLAB})" in found[0]
        assert "INVESTIGATION_SEED" in found[0]

        _withdraw(client, case_id, case_key)
        partner.tx("fetch")
        assert partner.fetched() == {kept, unrelated}  # the withdrawn hash is deleted
        assert partner.matches(copy) == []
        assert len(partner.matches(other_copy)) == 1  # the index itself still works

    stored = b"".join(p.read_bytes() for p in partner.home.rglob("*") if p.is_file())
    assert key.encode() not in stored  # the key lives in the environment only
    assert key not in (tmp_path / "server.log").read_text()


def _video_case(client: httpx.Client, seed: int) -> tuple[str, str, str, str]:
    """A case of one video (4 frames, quality 90, 1 per second, and its MD5): its id and
    key, the video as pytx's vPDQ value, and its MD5."""
    rng = random.Random(seed)
    frames = [(rng.randbytes(32).hex(), float(t)) for t in range(4)]
    md5 = rng.randbytes(16).hex()
    hashes = [
        {"algorithm": "vpdq", "hash": h, "timestamp": t, "quality": 90, "image": 0}
        for h, t in frames
    ] + [{"algorithm": "md5", "hash": md5, "image": 0}]
    r = client.post("/v1/cases", json={"hashes": hashes})
    assert r.status_code == 201, r.text
    value = json.dumps([f"{h},90,{t:.3f}" for h, t in frames])
    return r.json()["case_id"], r.json()["case_key"], value, md5


def test_cli_fetches_a_video_as_pytx_vpdq_matches_it_and_forgets_it_when_withdrawn(
    tmp_path: Path,
) -> None:
    """With pytx's vPDQ extension a partner holds each video as one `vpdq` signal (its
    frames, as a JSON list) and its `video_md5`, matches both, and drops them on withdrawal."""
    data = tmp_path / "data"
    data.mkdir()
    key = platform_key(data, "sync")
    partner = Partner(tmp_path / "home", key)
    with (
        Server(data, tmp_path / "server.log") as server,
        httpx.Client(base_url=server.url) as client,
    ):
        case_id, case_key, withdrawn, withdrawn_md5 = _video_case(client, 1)
        _, _, kept, kept_md5 = _video_case(client, 2)  # two of each: pytx's one-entry pitfall
        partner.configure(server.url)
        added = partner.tx("config", "extensions", "add", "threatexchange.extensions.vpdq.manifest")
        assert "vpdq" in added.stdout

        partner.tx("fetch")
        assert partner.fetched("vpdq") == {withdrawn, kept}
        assert partner.fetched("video_md5") == {withdrawn_md5, kept_md5}
        found = partner.tx("match", "-H", "-S", "vpdq", "video", "--", withdrawn).stdout
        assert len(found.splitlines()) == 1, found
        assert found.startswith("vpdq ")
        assert f"({COLLAB})" in found
        assert "INVESTIGATION_SEED" in found
        by_md5 = partner.tx("match", "-H", "-S", "video_md5", "video", "--", withdrawn_md5)
        assert len(by_md5.stdout.splitlines()) == 1, by_md5.stdout

        _withdraw(client, case_id, case_key)
        partner.tx("fetch")
        assert partner.fetched("vpdq") == {kept}
        assert partner.fetched("video_md5") == {kept_md5}
        assert partner.tx("match", "-H", "-S", "vpdq", "video", "--", withdrawn).stdout == ""
        assert (
            len(partner.tx("match", "-H", "-S", "vpdq", "video", "--", kept).stdout.splitlines())
            == 1
        )
        gone = partner.tx("match", "-H", "-S", "video_md5", "video", "--", withdrawn_md5)
        assert gone.stdout == ""
    log = (tmp_path / "server.log").read_text()
    assert withdrawn_md5 not in log
    assert case_id not in log


def test_cli_forgets_the_last_hash_with_the_documented_workaround(tmp_path: Path) -> None:
    """pytx 1.2.17 keeps the old index file when no PDQ hash is left (`CliIndexStore.clear`
    compares paths with names), so docs/threatexchange.md has partners clear it.

    Only the workaround is asserted, not the bug: a pytx that fixes it passes too."""
    data = tmp_path / "data"
    data.mkdir()
    key = platform_key(data, "sync")
    copy = _reencoded(PHOTO, tmp_path / "upload.jpg")
    values = [PDQ_ALGORITHM.compute(load_image(PHOTO)).hex, random.Random(2).randbytes(32).hex()]
    partner = Partner(tmp_path / "home", key)
    with (
        Server(data, tmp_path / "server.log") as server,
        httpx.Client(base_url=server.url) as client,
    ):
        case_id, case_key = create_case(client, values)
        partner.configure(server.url)
        partner.tx("fetch")
        assert len(partner.matches(copy)) == 1

        _withdraw(client, case_id, case_key)
        partner.tx("fetch")
        assert partner.fetched() == set()
        # The docs' line: `threatexchange dataset -z | grep -qx 'pdq: 0' &&
        # threatexchange dataset --clear-indices && threatexchange dataset --rebuild-indices`
        assert "pdq: 0" in partner.tx("dataset", "-z").stdout.splitlines()
        partner.tx("dataset", "--clear-indices")
        partner.tx("dataset", "--rebuild-indices")
        refused = partner.tx("match", "photo", str(copy), ok=False)
        assert refused.returncode == 1
        assert refused.stdout == ""
        assert "No indices available" in refused.stderr


def test_cli_fetch_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    key = platform_key(data, "sync")
    rng = random.Random(6)
    first = [rng.randbytes(32).hex() for _ in range(3)]
    later = rng.randbytes(32).hex()
    partner = Partner(tmp_path / "home", key)
    log = tmp_path / "server.log"
    with Server(data, log) as server, httpx.Client(base_url=server.url) as client:
        create_case(client, first)
        partner.configure(server.url)

        start = log.stat().st_size
        partner.tx("fetch")
        assert _feed_requests(log, start) == [
            "/v1/hashes/changes?cursor=0&limit=1",  # for_collab's key check
            "/v1/hashes/changes?cursor=0&limit=500",
        ]
        checkpoint = partner.checkpoint()
        assert checkpoint.cursor == "3"
        assert checkpoint.base_url == server.url
        state = partner.state_file.read_bytes()

        start = log.stat().st_size
        again = partner.tx("fetch")  # nothing changed meanwhile
        assert f"[hashbank] {COLLAB} - Up to date" in again.stderr
        assert _feed_requests(log, start)[-1] == "/v1/hashes/changes?cursor=3&limit=500"
        assert partner.state_file.read_bytes() == state  # nothing new was delivered or written
        assert partner.fetched() == set(first)

        create_case(client, [later])
        start = log.stat().st_size
        partner.tx("fetch")
        assert _feed_requests(log, start)[-1] == "/v1/hashes/changes?cursor=3&limit=500"
        assert partner.checkpoint().cursor == "4"
        assert partner.fetched() == {*first, later}

        # The same server under another name is, to a cursor, another server.
        moved = server.url.replace("127.0.0.1", "localhost")
        partner.tx("config", "collab", "edit", "hashbank", COLLAB, "--base-url", moved)
        refused = partner.tx("-v", "fetch", ok=False)
        assert refused.returncode == 3
        assert f"now reads {moved}, but its fetched state came from {server.url}" in refused.stderr
        partner.tx("fetch", "--clear")  # the docs' remedy
        partner.tx("fetch")
        assert partner.checkpoint().base_url == moved
        assert partner.fetched() == {*first, later}


def test_cli_reports_a_refused_or_missing_key_clearly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    match_only = platform_key(data, "match")
    with Server(data, tmp_path / "server.log") as server:
        for name, key, expected in [
            ("wrong", "hbk_" + "0" * 40, "(HTTP 401, unauthorized)"),
            ("scope", match_only, "(HTTP 403, forbidden)"),
        ]:
            partner = Partner(tmp_path / name, key)
            partner.configure(server.url)
            refused = partner.tx("fetch", ok=False)
            assert refused.returncode == 2, refused.stderr
            assert f"Invalid auth for hashbank: {server.url} refused the API key" in refused.stderr
            assert expected in refused.stderr
            assert "it needs the sync scope" in refused.stderr
            assert key not in refused.stdout + refused.stderr
            assert not partner.state_file.exists()

        partner = Partner(tmp_path / "none", None)
        partner.configure(server.url)
        missing = partner.tx("fetch", ok=False)
        assert missing.returncode == 2
        assert "Couldn't authenticate hashbank" in missing.stderr
        assert "TX_HASHBANK_API_KEY" in missing.stderr
        assert "~/.tx_hashbank_api_key" in missing.stderr

        # The file the message points to works (docs/threatexchange.md, option 2).
        (partner.home / ".tx_hashbank_api_key").write_text(platform_key(data, "sync") + "\n")
        assert f"[hashbank] {COLLAB} - Up to date" in partner.tx("fetch").stderr


def _hma_style_fetch(store: DBMStore, name: str) -> None:
    """One fetch as HMA's `background_tasks/fetcher.py` `_fetch` does it: client from the
    store, checkpoint from the store, each delta committed with the checkpoint it replaces."""
    collab = store.exchanges_get()[name]
    api = store.exchange_get_client(collab)
    checkpoint = store.exchange_get_fetch_checkpoint(name)
    signal_types = [c.signal_type for c in store.get_signal_type_configs().values()]
    for delta in api.fetch_iter(signal_types, checkpoint):
        store.exchange_commit_fetch(collab, checkpoint, delta.updates, delta.checkpoint)
        checkpoint = delta.checkpoint
        assert store.exchange_get_fetch_checkpoint(name) == checkpoint  # survives its JSON


def test_hma_shaped_store_follows_adds_and_deletes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    key = platform_key(data, "sync")
    rng = random.Random(8)
    kept, withdrawn = rng.randbytes(32).hex(), rng.randbytes(32).hex()
    folder = tmp_path / "hma"
    folder.mkdir()
    store = DBMStore(
        folder,
        exchange_types=[StaticSampleSignalExchangeAPI, HashbankSignalExchangeAPI],  # type: ignore[list-item]
    )
    with (
        Server(data, tmp_path / "server.log") as server,
        httpx.Client(base_url=server.url) as client,
    ):
        create_case(client, [kept])
        case_id, case_key = create_case(client, [withdrawn])
        video_id, video_key, video, _ = _video_case(client, 3)
        feed = client.get("/v1/hashes/changes", headers={"X-API-Key": key}).json()["changes"]
        (video_ref,) = {c["item"] for c in feed if c["item"]}

        # What HMA's `POST /c/exchanges/api/hashbank {"credential_json": {...}}` does.
        api_cfg = store.exchange_apis_get_configs()["hashbank"]
        api_cfg.set_credentials_from_json_dict({"api_key": key})
        store.exchange_api_config_update(api_cfg)
        # What HMA's `POST /c/exchanges` does with {"bank": ..., "api": ..., "api_json": ...}.
        api_json = {"base_url": server.url, "name": "HASHBANK", "enabled": True, "api": "hashbank"}
        collab = dataclass_json.dataclass_load_dict(api_json, HashbankCollabConfig)
        store.exchange_update(collab, create=True)

        _hma_style_fetch(store, "HASHBANK")
        assert store.exchange_get_fetch_status("HASHBANK").fetched_items == 4  # 2 pdq, vpdq, md5
        assert store.exchange_get_data("HASHBANK", (PdqSignal.get_name(), withdrawn))
        # The video: one record under its reference, holding pytx's vpdq value.
        record = store.exchange_get_data("HASHBANK", ("vpdq", video_ref))
        assert isinstance(record, HashbankSignalMetadata)
        assert record.signal == video

        _withdraw(client, case_id, case_key)
        _withdraw(client, video_id, video_key)
        _hma_style_fetch(store, "HASHBANK")
        assert store.exchange_get_fetch_status("HASHBANK").fetched_items == 1
        with pytest.raises(KeyError):
            store.exchange_get_data("HASHBANK", ("vpdq", video_ref))
        assert store.exchange_get_data("HASHBANK", (PdqSignal.get_name(), kept))
        with pytest.raises(KeyError):  # deleted, not kept
            store.exchange_get_data("HASHBANK", (PdqSignal.get_name(), withdrawn))
        status = store.exchange_get_fetch_status("HASHBANK")
        assert status.checkpoint_ts is not None
