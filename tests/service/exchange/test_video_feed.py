"""Videos in the delta feed: a video's frames and MD5 arrive grouped and all leave together.

Each entry of a video carries the video's opaque reference (`item`), `item_action`
and a frame's `timestamp`; the hash's own `action` stays what it always was, so
a consumer that ignores the new fields keeps a correct copy.
"""

from typing import Any

from fastapi.testclient import TestClient

from service.api.deps import Services
from service.store.disputes import DisputeRepository
from tests.service.calls import case, feed, report, video, video_case, withdraw
from tests.service.conftest import issue_key, random_pdq

Entry = dict[str, Any]


def everything(client: TestClient, key: str, cursor: str = "0", limit: int = 500) -> list[Entry]:
    changes: list[Entry] = []
    while True:
        page = feed(client, key, cursor, limit)
        changes += page["changes"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return changes


def by_item(changes: list[Entry]) -> dict[str, list[Entry]]:
    grouped: dict[str, list[Entry]] = {}
    for change in changes:
        if change["item"] is not None:
            grouped.setdefault(change["item"], []).append(change)
    return grouped


def frames_of(entries: list[Entry]) -> list[tuple[str, float]]:
    return [(e["hash"], e["timestamp"]) for e in entries if e["algorithm"] == "vpdq"]


def test_a_video_arrives_grouped_with_its_times_and_md5_and_leaves_whole(
    client: TestClient, api_key: str
) -> None:
    photo = random_pdq(1)
    case(client, photo)
    frames, md5 = video(1)
    case_id, case_key = video_case(client, (frames, md5))
    arrived = everything(client, api_key)
    # One entry per hash: the photo's, then the video's (its MD5 first, frames in time order).
    assert [(e["algorithm"], e["action"]) for e in arrived] == [("pdq", "add")] + [
        ("md5", "add")
    ] + [("vpdq", "add")] * len(frames)
    assert arrived[0]["item"] is None
    assert arrived[0]["item_action"] is None
    ((ref, entries),) = by_item(arrived).items()
    assert ref.startswith("v_")
    assert case_id not in ref
    assert len(ref) == 22
    assert frames_of(entries) == frames
    assert [(e["hash"], e["timestamp"]) for e in entries if e["algorithm"] == "md5"] == [
        (md5, None)
    ]
    assert {e["item_action"] for e in entries} == {"add"}
    assert {e["quality"] for e in entries if e["algorithm"] == "vpdq"} == {90}
    assert case_id not in str(arrived)

    cursor = feed(client, api_key)["next_cursor"]
    withdraw(client, case_id, case_key)
    left = everything(client, api_key, cursor)
    assert {(e["item"], e["item_action"], e["action"], e["state"]) for e in left} == {
        (ref, "remove", "remove", "withdrawn")
    }
    assert frames_of(left) == frames
    assert len(left) == len(frames) + 1


def test_a_video_shared_with_another_case_leaves_that_video_only(
    client: TestClient, api_key: str
) -> None:
    frames, md5 = video(2)
    first = video_case(client, (frames, md5))
    cursor = feed(client, api_key)["next_cursor"]
    video_case(client, (frames, md5))  # the same file submitted again
    again = everything(client, api_key, cursor)
    # Nothing new to match, but partners learn the second video, under its own reference.
    assert {(e["action"], e["item_action"]) for e in again} == {("add", "add")}
    assert frames_of(again) == frames
    (second_ref,) = by_item(again)
    (first_ref,) = by_item(everything(client, api_key)[: len(frames) + 1])
    assert second_ref != first_ref

    cursor = feed(client, api_key)["next_cursor"]
    withdraw(client, *first)
    left = everything(client, api_key, cursor)
    # The first video leaves; its hashes still match through the second.
    assert {(e["item"], e["item_action"], e["action"]) for e in left} == {
        (first_ref, "remove", "add")
    }
    assert len(left) == len(frames) + 1


def test_a_dispute_takes_the_whole_video_off_the_feed_and_reinstatement_brings_it_back(
    client: TestClient, services: Services
) -> None:
    frames, md5 = video(3)
    video_case(client, (frames, md5))
    sync = issue_key(services, "Syncing Platform", ("sync",))
    cursor = feed(client, sync)["next_cursor"]
    (ref,) = by_item(everything(client, sync))
    for platform in ("Platform A", "Platform B"):
        key = issue_key(services, platform)
        r = client.post(
            "/v1/match/video",
            json={"frames": [{"hash": h, "timestamp": t} for h, t in frames]},
            headers={"X-API-Key": key},
        )
        assert r.status_code == 200, r.text
        (found,) = r.json()["matches"]
        report(client, key, found["match_id"], "not_violating")
    suspended = everything(client, sync, cursor)
    videos = by_item(suspended)
    assert list(videos) == [ref]
    assert {(e["item_action"], e["action"]) for e in videos[ref]} == {("remove", "remove")}
    assert frames_of(videos[ref]) == frames
    assert len(videos[ref]) == len(frames) + 1

    disputes = DisputeRepository(services.db)
    (disputed,) = [s for s in disputes.list() if not s.via]
    cursor = feed(client, sync)["next_cursor"]
    disputes.reinstate(disputed.signal_id)
    back = by_item(everything(client, sync, cursor))
    assert {(e["item_action"], e["action"]) for e in back[ref]} == {("add", "add")}
    assert frames_of(back[ref]) == frames

    # Retired for good (an operator's removal): the video leaves again and stays off.
    for platform in ("Platform C", "Platform D"):
        key = issue_key(services, platform)
        r = client.post(
            "/v1/match/video",
            json={"frames": [{"hash": h, "timestamp": t} for h, t in frames]},
            headers={"X-API-Key": key},
        )
        (found,) = r.json()["matches"]
        report(client, key, found["match_id"], "not_violating")
    (disputed,) = [s for s in disputes.list() if not s.via]
    cursor = feed(client, sync)["next_cursor"]
    disputes.retire(disputed.signal_id)
    after = everything(client, sync, cursor)
    assert by_item(after) == {}  # it had left already: nothing more about the video
    assert {(e["action"], e["state"]) for e in after} == {("remove", "retired")}
    assert {e["hash"] for e in after} == {h for h, _ in frames} | {md5}


def test_a_page_never_splits_a_video(client: TestClient, api_key: str) -> None:
    photos = [random_pdq(10 + n) for n in range(3)]
    case(client, *photos)
    frames, md5 = video(4, frames=7)
    video_case(client, (frames, md5))
    first = feed(client, api_key, limit=5)
    assert [e["algorithm"] for e in first["changes"]] == ["pdq"] * 3  # ends before the video
    assert first["has_more"]
    second = feed(client, api_key, first["next_cursor"], limit=5)
    assert len(second["changes"]) == 8  # the whole video, though more than the limit
    assert frames_of(second["changes"]) == frames
    assert not second["has_more"]
    assert feed(client, api_key, second["next_cursor"])["changes"] == []
    # A video of exactly the page's size, and another one after it.
    frames, md5 = video(5, frames=4)
    video_case(client, (frames, md5), (video(6, frames=2)[0], None))
    page = feed(client, api_key, second["next_cursor"], limit=5)
    assert len(page["changes"]) == 5
    assert page["has_more"]
    rest = feed(client, api_key, page["next_cursor"], limit=5)
    assert len(rest["changes"]) == 2
    assert not rest["has_more"]
    assert len(by_item(page["changes"] + rest["changes"])) == 2


def test_two_videos_of_one_case_have_unrelated_references(client: TestClient, api_key: str) -> None:
    (a, md5_a), (b, md5_b) = video(7), video(8)
    video_case(client, (a, md5_a), (b, md5_b))
    videos = by_item(everything(client, api_key))
    assert sorted(frames_of(v) for v in videos.values()) == sorted([a, b])
    refs = list(videos)
    assert len(refs) == 2
    assert refs[0] != refs[1]


def test_a_frames_variants_travel_with_it_flagged(client: TestClient, api_key: str) -> None:
    """A frame's other forms (hashing.video_forms) are entries of the video at the frame's
    time with `variant` true; the frames themselves, the MD5 and photos are not variants."""
    frames, md5 = video(7, 3)
    crops = [r[0] for r in video(8, 3)[0]]
    hashes: list[dict[str, object]] = []
    for (h, t), crop in zip(frames, crops, strict=True):
        hashes.append({"algorithm": "vpdq", "hash": h, "timestamp": t, "quality": 90, "image": 0})
        hashes.append(
            {"algorithm": "vpdq", "hash": crop, "timestamp": t, "image": 0, "variant": True}
        )
    hashes.append({"algorithm": "md5", "hash": md5, "image": 0})
    r = client.post("/v1/cases", json={"hashes": hashes})
    assert r.status_code == 201, r.text
    case(client, random_pdq(3))
    arrived = everything(client, api_key)
    ((ref, entries),) = by_item(arrived).items()
    assert sorted((e["hash"], e["timestamp"]) for e in entries if e["variant"]) == sorted(
        zip(crops, [t for _, t in frames], strict=True)
    )
    assert sorted(frames_of([e for e in entries if not e["variant"]])) == sorted(frames)
    assert [e["variant"] for e in arrived if e["item"] is None] == [False]
    withdraw(client, r.json()["case_id"], r.json()["case_key"])
    left = [
        e for e in everything(client, api_key) if e["item"] == ref and e["item_action"] == "remove"
    ]
    assert sum(e["variant"] for e in left) == 3
