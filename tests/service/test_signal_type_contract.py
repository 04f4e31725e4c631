"""The service side of the signal-type contract, run for every registered signal type.

Whatever a signal type is, once it is registered (`hashing.registry`) the
service takes its hashes into a case, matches them within its threshold
through `/v1/match`, publishes them on the delta feed, serves them on the
StopNCII API when StopNCII has a name for it (with feedback by hash), exports
them in python-threatexchange's format when pytx has a name for it, and stops
matching and tells partners when the case is withdrawn. The hashing side of
the contract is `tests/hashing/test_signal_types.py`.
"""

import random

import pytest
from fastapi.testclient import TestClient

from hashing import SIGNAL_TYPES, SignalType
from service.api.deps import Services
from service.exchange import hashlist, hashlist_store
from tests.service.calls import feed, stopncii

TYPES = list(SIGNAL_TYPES)


def value_of(signal_type: SignalType, seed: int) -> str:
    return random.Random(f"{signal_type.name}-{seed}").randbytes(signal_type.bits // 8).hex()


def flipped(text: str, bits: int) -> str:
    value = bytearray(bytes.fromhex(text))
    for bit in random.Random(bits).sample(range(len(value) * 8), bits):
        value[bit // 8] ^= 0x80 >> (bit % 8)
    return value.hex()


def submitted(signal_type: SignalType, value: str) -> dict[str, object]:
    """A case request's hash; a video frame says which video it is of and its time."""
    frame = {"image": 0, "timestamp": 1.5} if signal_type.timed else {}
    return {"algorithm": signal_type.name, "hash": value, **frame}


def matches(client: TestClient, key: str, algorithm: str, value: str) -> list[dict[str, object]]:
    r = client.post(
        "/v1/match",
        json={"items": [{"algorithm": algorithm, "hash": value}]},
        headers={"X-API-Key": key},
    )
    assert r.status_code == 200, r.text
    found: list[dict[str, object]] = r.json()["results"][0]["matches"]
    return found


@pytest.mark.parametrize("signal_type", TYPES, ids=[s.name for s in TYPES])
def test_a_signal_type_travels_through_every_route_feed_and_export(
    client: TestClient, services: Services, api_key: str, signal_type: SignalType
) -> None:
    name, stored = signal_type.name, value_of(signal_type, 1)
    created = client.post("/v1/cases", json={"hashes": [submitted(signal_type, stored)]})
    assert created.status_code == 201, created.text
    case_id, case_key = created.json()["case_id"], created.json()["case_key"]
    (held,) = created.json()["status"]["hashes"]
    assert held["algorithm"] == name
    assert held["timestamp"] == (1.5 if signal_type.timed else None)

    # Matching: within the type's own threshold, inclusive; nothing beyond it.
    (exact,) = matches(client, api_key, name, stored)
    assert (exact["algorithm"], exact["distance"]) == (name, 0)
    at_threshold = matches(client, api_key, name, flipped(stored, signal_type.threshold))
    assert [m["distance"] for m in at_threshold] == [signal_type.threshold]
    assert matches(client, api_key, name, flipped(stored, signal_type.threshold + 1)) == []

    # The delta feed carries it under its name.
    (change,) = feed(client, api_key)["changes"]
    assert (change["algorithm"], change["hash"], change["action"]) == (name, stored, "add")

    # The StopNCII API serves it when StopNCII has a name for it; feedback by hash works.
    fetched = client.get("/stopncii/v1/FetchHashes", headers=stopncii(api_key)).json()
    served = [(r["signalType"], r["hashValue"]) for r in fetched["hashRecords"]]
    if signal_type.stopncii is None:
        assert served == []
    else:
        assert served == [(signal_type.stopncii, stored)]
        reported = client.post(
            "/stopncii/v1/SubmitFeedback",
            json={"count": 1, "hashFeedbacks": [{"hashValue": stored, "feedbackValue": "Blocked"}]},
            headers=stopncii(api_key),
        )
        assert reported.status_code == 200, reported.text
        assert (reported.json()["count"], reported.json()["unknownHashes"]) == (1, 0)

    # The hash-list export writes it when python-threatexchange has a name for it.
    with services.db.transaction(read_only=True) as session:
        rows = list(hashlist_store.exportable(session, hashlist.EXPORTABLE))
    lines = [hashlist.format_line(a, v) for a, v in rows]
    expected = (
        [] if signal_type.threatexchange is None else [f"{signal_type.threatexchange} {stored}"]
    )
    assert lines == expected
    if expected:
        (parsed,) = hashlist.parse_lines(lines).inputs
        assert (parsed.algorithm, parsed.value.hex()) == (name, stored)
    # A video frame is exported with its video, whole (here a video of one frame).
    with services.db.transaction(read_only=True) as session:
        videos = [[(f.hex, f.timestamp) for f in v.frames] for v in hashlist_store.videos(session)]
    assert videos == ([[(stored, 1.5)]] if signal_type.timed else [])

    # Withdrawal: no more matches at once, and partners are told to delete it.
    assert (
        client.delete(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key}).status_code == 200
    )
    assert matches(client, api_key, name, stored) == []
    last = feed(client, api_key)["changes"][-1]
    assert (last["algorithm"], last["hash"], last["action"]) == (name, stored, "remove")


@pytest.mark.parametrize("signal_type", TYPES, ids=[s.name for s in TYPES])
def test_a_malformed_value_of_any_type_is_refused_and_nothing_is_written(
    client: TestClient, api_key: str, signal_type: SignalType
) -> None:
    short = value_of(signal_type, 2)[:-1]
    r = client.post("/v1/cases", json={"hashes": [submitted(signal_type, short)]})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_hash"
    assert f"{signal_type.bits // 4} hex digits" in r.json()["error"]["details"][0]["reason"]
    m = client.post(
        "/v1/match",
        json={"items": [{"algorithm": signal_type.name, "hash": short}]},
        headers={"X-API-Key": api_key},
    )
    assert m.status_code == 422
    assert feed(client, api_key)["changes"] == []


@pytest.mark.parametrize("signal_type", TYPES, ids=[s.name for s in TYPES])
def test_only_a_video_frame_has_a_time_and_it_must_have_one(
    client: TestClient, api_key: str, signal_type: SignalType
) -> None:
    value = value_of(signal_type, 3)
    wrong: dict[str, object] = {"algorithm": signal_type.name, "hash": value}
    wrong.update({} if signal_type.timed else {"image": 0, "timestamp": 2.0})
    r = client.post("/v1/cases", json={"hashes": [wrong]})
    assert r.status_code == 422, r.text
    reason = r.json()["error"]["details"][0]["reason"]
    if signal_type.timed:
        assert "video frame: give its video (image) and its time (timestamp)" in reason
    else:
        assert f"only video frames have a timestamp, not {signal_type.name}" in reason
    assert feed(client, api_key)["changes"] == []
