"""Attacks on a survivor's case, tried as an attacker would: through live servers.

- Lock-out: wrong keys for her case from many claimed addresses, across two
  processes on one database; her key still works.
- Sibling amplification: a case pairs a harmless picture's hashes with hers as
  one "image", and platforms honestly report the harmless one; hers still match,
  in the API, the delta feed and Meta's StopNCII client.
- Exposure: partners never see case ids; no log line holds an id, a key or a hash.
"""

import io
from pathlib import Path

import httpx
from PIL import Image
from threatexchange.exchanges.clients.stopncii.api import StopNCIIAPI, StopNCIICaseStatus

from hashing import load_image
from hashing.policy import submission_hashes
from tests.conftest import BSDS500
from tests.e2e.server import Server, platform_key

VICTIM, HARMLESS = sorted(BSDS500.glob("*.jpg"))[200:202]


def _image_hashes(path: Path, image: int = 0) -> list[dict[str, object]]:
    return [
        {"algorithm": "pdq", "hash": h.hex, "quality": h.quality, "image": image}
        for h in submission_hashes(load_image(path))
    ]


def _reencoded(path: Path) -> bytes:
    out = io.BytesIO()
    with Image.open(path) as im:
        im.convert("RGB").resize((im.width * 9 // 10, im.height * 9 // 10)).save(
            out, "JPEG", quality=75
        )
    return out.getvalue()


def _match_image(url: str, key: str, data: bytes) -> list[str]:
    r = httpx.post(
        f"{url}/v1/match/image",
        content=data,
        headers={"X-API-Key": key, "Content-Type": "image/jpeg"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return [m["match_id"] for m in r.json()["matches"]]


def _secrets_absent(log: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in log, "a case id, key or hash value reached a log"


def test_wrong_keys_from_many_addresses_on_two_processes_never_lock_her_out(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    with Server(data, logs[0]) as a, Server(data, logs[1]) as b:
        created = httpx.post(f"{a.url}/v1/cases", json={"hashes": _image_hashes(VICTIM)})
        assert created.status_code == 201, created.text
        case_id, case_key = created.json()["case_id"], created.json()["case_key"]
        codes = []
        for i in range(30):
            server = (a, b)[i % 2]
            r = httpx.get(
                f"{server.url}/v1/cases/{case_id}",
                headers={"X-Case-Key": f"hbc_guess{i}", "X-Forwarded-For": f"203.0.113.{i}"},
            )
            assert set(r.json()["error"]) == {"code", "message", "details"}
            codes.append(r.status_code)
        # One client (the claimed addresses are ignored: no trusted proxy), counted
        # across both processes: 10 wrong keys answered 401, the rest 429.
        assert codes == [401] * 10 + [429] * 20
        for server in (a, b):
            r = httpx.get(f"{server.url}/v1/cases/{case_id}", headers={"X-Case-Key": case_key})
            assert r.status_code == 200, r.text
        r = httpx.delete(f"{b.url}/v1/cases/{case_id}", headers={"X-Case-Key": case_key})
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "withdrawn"
    for log in logs:
        text = log.read_text()
        assert "/v1/cases/{case_id}" in text, "the access log is on, and redacted"
        _secrets_absent(text, case_id, case_key)


def test_a_harmless_picture_cannot_take_the_victims_down_with_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    keys = {n: platform_key(data, "match", "feedback", "sync", platform=n) for n in "ABC"}
    with Server(data, tmp_path / "server.log") as server:
        victim = httpx.post(f"{server.url}/v1/cases", json={"hashes": _image_hashes(VICTIM)})
        assert victim.status_code == 201, victim.text
        victim_id, victim_key = victim.json()["case_id"], victim.json()["case_key"]
        victim_hashes = {h["hash"] for h in victim.json()["status"]["hashes"]}

        # The attacker, as a partner, reads the victim's hashes from the feed and pairs
        # one with a harmless picture's hashes as one image of his own case.
        feed = httpx.get(f"{server.url}/v1/hashes/changes", headers={"X-API-Key": keys["A"]}).json()
        stolen = feed["changes"][0]["hash"]
        assert stolen in victim_hashes
        poison = [*_image_hashes(HARMLESS), {"algorithm": "pdq", "hash": stolen, "image": 0}]
        attacker = httpx.post(f"{server.url}/v1/cases", json={"hashes": poison})
        assert attacker.status_code == 201, attacker.text
        attacker_id = attacker.json()["case_id"]

        # Two platforms see the harmless picture uploaded and honestly say so.
        for name in ("A", "B"):
            (match_id,) = _match_image(server.url, keys[name], _reencoded(HARMLESS))
            r = httpx.post(
                f"{server.url}/v1/feedback",
                json={"match_id": match_id, "outcome": "not_violating"},
                headers={"X-API-Key": keys[name]},
            )
            assert r.status_code == 200, r.text

        assert _match_image(server.url, keys["C"], _reencoded(HARMLESS)) == []
        assert _match_image(server.url, keys["C"], _reencoded(VICTIM)), "hers still matches"
        status = httpx.get(
            f"{server.url}/v1/cases/{victim_id}", headers={"X-Case-Key": victim_key}
        ).json()
        assert {h["state"] for h in status["hashes"]} == {"active"}

        changes = httpx.get(
            f"{server.url}/v1/hashes/changes", headers={"X-API-Key": keys["C"]}
        ).json()["changes"]
        removed = {c["hash"] for c in changes if c["action"] == "remove"}
        assert removed, "the harmless picture left the feed"
        assert not removed & victim_hashes, "none of hers did"

        api = StopNCIIAPI(keys["C"], keys["C"], base_url_override=f"{server.url}/stopncii/v1")
        records = [rec for page in api.fetch_hashes_iter() for rec in page.hashRecords]
        by_hash = {rec.hashValue: rec for rec in records}
        assert {by_hash[h].hashStatus for h in victim_hashes} == {StopNCIICaseStatus.Active}
        assert StopNCIICaseStatus.Deleted in {rec.hashStatus for rec in records}
        refs = {ref for rec in records for ref in rec.caseNumbers}
        assert victim_id not in refs
        assert attacker_id not in refs
        assert all(ref.startswith("r_") for ref in refs)
        for ref in refs:  # a partner's reference opens no case
            r = httpx.get(f"{server.url}/v1/cases/{ref}", headers={"X-Case-Key": victim_key})
            assert r.status_code == 401
    _secrets_absent(
        (tmp_path / "server.log").read_text(),
        victim_id,
        victim_key,
        attacker_id,
        *keys.values(),
        *victim_hashes,
    )
