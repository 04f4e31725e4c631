"""Videos in cases and POST /v1/match/video, with Meta's expected vPDQ frames as the hashes.

The frames are those Meta's `vpdq` computes for its reference videos
(`../shared/vpdq-reference/hashes`), taken at 1 frame per second as a client
would send them: versions of one scene (colour, grey, with a logo) must match,
another scene must not, a trimmed copy and a clip inside a longer video must,
and a single frame sent as a photo's PDQ finds the video.
"""

import random
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.api.deps import Services
from service.settings import Settings
from tests.conftest import VPDQ_REFERENCE
from tests.service.calls import report
from tests.service.conftest import issue_key, make_settings

MAX_FRAMES = 200
ORIGINAL, GREY, LOGO, OTHER = (
    "chair-orig-22-sd-bar",
    "chair-22-sd-grey-bar",
    "chair-22-with-small-logo-bar",
    "doorknob-hd-no-bar",
)
MD5 = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", max_video_frames=MAX_FRAMES)


def frames(video: str, rate: float = 1.0) -> list[dict[str, Any]]:
    """Meta's frames of a reference video at `rate` per second: at each t = k / rate the
    frame shown then (the last one whose time is at most t), quality 50 or more."""
    rows = [
        line.split(",") for line in (VPDQ_REFERENCE / "hashes" / f"{video}.txt").read_text().split()
    ]
    shown: dict[int, dict[str, Any]] = {}
    for _, quality, value, time in rows:
        k = int(float(time) * rate + 1e-9)
        if int(quality) >= 50:
            shown[k] = {"hash": value, "timestamp": float(time), "quality": int(quality)}
    return [shown[k] for k in sorted(shown)]


def video_case(client: TestClient, video: str, md5: str = MD5) -> tuple[str, str]:
    hashes = [{"algorithm": "vpdq", "image": 0, **f} for f in frames(video)]
    hashes.append({"algorithm": "md5", "hash": md5, "image": 0})
    r = client.post("/v1/cases", json={"hashes": hashes})
    assert r.status_code == 201, r.text
    return r.json()["case_id"], r.json()["case_key"]


def match_video(
    client: TestClient, key: str, sent: list[dict[str, object]], md5: str | None = None
) -> list[dict[str, Any]]:
    r = client.post(
        "/v1/match/video",
        json={"frames": sent, "md5": md5, "ref": "upload-1"},
        headers={"X-API-Key": key},
    )
    assert r.status_code == 200, r.text
    assert r.json()["ref"] == "upload-1"
    found: list[dict[str, Any]] = r.json()["matches"]
    return found


def test_a_case_holds_a_video_as_its_frames_with_their_times_and_its_md5(
    client: TestClient,
) -> None:
    sent = frames(ORIGINAL)
    assert len(sent) > 20  # 22 seconds at 1 per second: more than one frame per second kept
    case_id, key = video_case(client, ORIGINAL)
    status = client.get(f"/v1/cases/{case_id}", headers={"X-Case-Key": key}).json()
    held = status["hashes"]
    assert {h["image"] for h in held} == {0}
    assert sorted(h["timestamp"] for h in held if h["algorithm"] == "vpdq") == sorted(
        {f["timestamp"] for f in sent}
    )
    assert [h["timestamp"] for h in held if h["algorithm"] == "md5"] == [None]


def test_versions_of_the_scene_match_with_their_shares_and_time_ranges(
    client: TestClient, api_key: str
) -> None:
    video_case(client, ORIGINAL)
    for version in (ORIGINAL, GREY, LOGO):
        (found,) = match_video(client, api_key, frames(version))
        assert found["algorithm"] == "vpdq"
        assert found["query_percent"] >= 80
        assert found["stored_percent"] >= 80
        assert found["query_ranges"]
        assert found["stored_ranges"]
        first = found["stored_ranges"][0]
        assert first["start"] <= 1.0 <= first["end"]
    assert match_video(client, api_key, frames(OTHER)) == []


def test_a_trimmed_copy_and_a_clip_inside_a_longer_video_match(
    client: TestClient, api_key: str
) -> None:
    video_case(client, ORIGINAL)
    grey = frames(GREY)
    middle = grey[len(grey) // 5 : -len(grey) // 5]  # the first and last 20% cut off
    (trimmed,) = match_video(client, api_key, middle)
    assert trimmed["query_percent"] >= 80
    assert 40 <= trimmed["stored_percent"] < 80
    other, pattern = frames(OTHER), frames("pattern-hd-no-bar")
    inside = [
        *other,
        *({**f, "timestamp": 100 + f["timestamp"]} for f in grey),
        *({**f, "timestamp": 200 + f["timestamp"]} for f in pattern),
    ]
    (clip,) = match_video(client, api_key, inside)
    assert clip["stored_percent"] >= 80
    assert clip["query_percent"] < 80
    (where,) = clip["query_ranges"]
    assert 100 <= where["start"] < where["end"] <= 130


def test_the_same_file_matches_by_md5_alone(client: TestClient, api_key: str) -> None:
    video_case(client, ORIGINAL)
    (found,) = match_video(client, api_key, [], md5=MD5)
    assert (found["algorithm"], found["distance"]) == ("md5", 0)
    assert match_video(client, api_key, [], md5="f" * 32) == []


def test_a_frame_grab_sent_as_a_photo_finds_the_video(client: TestClient, api_key: str) -> None:
    video_case(client, ORIGINAL)
    grab = frames(GREY)[10]["hash"]
    r = client.post(
        "/v1/match",
        json={"items": [{"algorithm": "pdq", "hash": grab}]},
        headers={"X-API-Key": api_key},
    )
    (found,) = r.json()["results"][0]["matches"]
    assert found["algorithm"] == "vpdq"
    assert found["distance"] <= 31


def test_a_photo_shown_in_a_video_is_a_match(client: TestClient, api_key: str) -> None:
    still = frames(ORIGINAL)[5]["hash"]
    r = client.post("/v1/cases", json={"hashes": [{"algorithm": "pdq", "hash": still}]})
    assert r.status_code == 201, r.text
    (found,) = match_video(client, api_key, frames(GREY))
    assert found["algorithm"] == "pdq"
    assert found["stored_percent"] is None
    assert 0 < found["query_percent"] < 80


def test_feedback_and_withdrawal_work_per_video(client: TestClient, api_key: str) -> None:
    case_id, key = video_case(client, ORIGINAL)
    (found,) = match_video(client, api_key, frames(GREY))
    r = client.post(
        "/v1/feedback",
        json={"match_id": found["match_id"], "outcome": "removed"},
        headers={"X-API-Key": api_key},
    )
    assert r.status_code == 200, r.text
    status = client.get(f"/v1/cases/{case_id}", headers={"X-Case-Key": key}).json()
    assert status["outcome_counts"] == {"removed": 1}
    assert client.delete(f"/v1/cases/{case_id}", headers={"X-Case-Key": key}).status_code == 200
    assert match_video(client, api_key, frames(GREY), md5=MD5) == []


def test_bad_videos_are_refused_whole(client: TestClient, api_key: str) -> None:
    sent = frames(GREY)
    headers = {"X-API-Key": api_key}
    too_many = client.post("/v1/match/video", json={"frames": sent * 10}, headers=headers)
    assert too_many.status_code == 413
    assert too_many.json()["error"]["code"] == "too_many_frames"
    bad = [{**sent[0], "hash": "xyz"}, {**sent[1], "quality": 10}]
    r = client.post("/v1/match/video", json={"frames": bad, "md5": "00"}, headers=headers)
    assert r.status_code == 422
    assert [d["location"] for d in r.json()["error"]["details"]] == ["frames.0", "frames.1", "md5"]
    empty = client.post("/v1/match/video", json={"frames": []}, headers=headers)
    assert empty.status_code == 422
    assert client.post("/v1/match/video", json={"frames": sent}).status_code == 401
    hashes = [{"algorithm": "vpdq", "image": 0, **f} for f in sent * 10]
    r = client.post("/v1/cases", json={"hashes": hashes})
    assert (r.status_code, r.json()["error"]["code"]) == (413, "too_many_frames")
    # More than the images' limit of 100 hashes, within the frames' limit: one video is fine.
    long = [{**f, "timestamp": i * 1.0} for i, f in enumerate(sent * 7)][:150]
    ok = client.post(
        "/v1/cases", json={"hashes": [{"algorithm": "vpdq", "image": 0, **f} for f in long]}
    )
    assert ok.status_code == 201, ok.text


def test_a_dispute_suspends_the_whole_video(client: TestClient, services: Services) -> None:
    case_id, key = video_case(client, ORIGINAL)
    for platform in ("Platform A", "Platform B"):
        platform_key = issue_key(services, platform)
        (found,) = match_video(client, platform_key, frames(GREY))
        report(client, platform_key, found["match_id"], "not_violating")
    held = client.get(f"/v1/cases/{case_id}", headers={"X-Case-Key": key}).json()["hashes"]
    assert {h["state"] for h in held} == {"disputed"}  # every frame and the MD5
    third = issue_key(services, "Platform C")
    assert match_video(client, third, frames(GREY), md5=MD5) == []


def _unrelated(rng: random.Random) -> str:
    """A random 256-bit value: about 128 bits from any hash (none within 31, in practice)."""
    return f"{rng.getrandbits(256):064x}"


def test_a_frame_matches_by_its_variants_and_counts_once(client: TestClient, api_key: str) -> None:
    """A cropped copy's frames are far from the stored frames' own hashes; the stored
    frames' variants (their crop forms, flagged `variant`) are what it matches."""
    sent = frames(ORIGINAL)[:10]
    rng = random.Random(5)
    crops = [_unrelated(rng) for _ in sent]  # stand-ins for the crop forms
    hashes = [{"algorithm": "vpdq", "image": 0, **f} for f in sent]
    hashes += [
        {"algorithm": "vpdq", "image": 0, "hash": c, "timestamp": f["timestamp"], "variant": True}
        for f, c in zip(sent, crops, strict=True)
    ]
    r = client.post("/v1/cases", json={"hashes": hashes})
    assert r.status_code == 201, r.text
    case_id, key = r.json()["case_id"], r.json()["case_key"]
    held = client.get(f"/v1/cases/{case_id}", headers={"X-Case-Key": key}).json()["hashes"]
    assert sorted(h["variant"] for h in held) == [False] * 10 + [True] * 10

    # The copy: 8 frames equal to a crop form, 2 unrelated; nothing near a frame's own hash.
    copy = [
        {"hash": crops[i] if i < 8 else _unrelated(rng), "timestamp": float(i)} for i in range(10)
    ]
    (found,) = match_video(client, api_key, copy)
    assert (found["query_percent"], found["stored_percent"]) == (80.0, 80.0)
    assert found["distance"] == 0

    # The query's own variants count as their frame, once: frame 9 now also matches.
    copy[9]["variants"] = [sent[9]["hash"], crops[9]]
    (found,) = match_video(client, api_key, copy)
    assert (found["query_percent"], found["stored_percent"]) == (90.0, 90.0)


def test_variants_are_only_for_video_frames_and_bounded(client: TestClient, api_key: str) -> None:
    (f,) = frames(ORIGINAL)[:1]
    photo = {"algorithm": "pdq", "hash": f["hash"], "quality": 100, "variant": True}
    r = client.post("/v1/cases", json={"hashes": [photo]})
    assert r.status_code == 422
    assert "only video frames have variants" in r.text
    sent = {**f, "variants": [f["hash"]] * 9}
    r = client.post("/v1/match/video", json={"frames": [sent]}, headers={"X-API-Key": api_key})
    assert r.status_code == 422
    bad = {**f, "variants": ["zz" * 32]}
    r = client.post("/v1/match/video", json={"frames": [bad]}, headers={"X-API-Key": api_key})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_hash")
    assert r.json()["error"]["details"][0]["location"] == "frames.0"
