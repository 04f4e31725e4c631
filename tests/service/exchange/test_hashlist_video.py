"""Videos in hash lists: exported whole in pytx's form and in Meta's vPDQ text format, and
imported back into the same grouping (frames with their times, and the MD5, in one video)."""

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from threatexchange.exchanges.fetch_state import FetchedSignalMetadata
from threatexchange.exchanges.impl.file_api import (
    FileCollaborationConfig,
    LocalFileSignalExchangeAPI,
)
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal

from hashing import VideoFrameHash, format_pytx_vpdq, parse_pytx_vpdq
from hashing.errors import InvalidHash
from service.exchange import hashlist
from tests.pytx_vpdq import vpdq_signal
from tests.service.calls import video, video_case, withdraw
from tests.service.conftest import random_pdq
from tests.service.exchange.test_hashlist import (
    UseData,
    create_case,
    flat,
    printed_case,
    run,
    serving,
    use_data,
)

__all__ = ["use_data"]  # the fixture, shared with test_hashlist

Frames = list[tuple[str, float]]


def videos_of(client: TestClient, case_id: str, case_key: str) -> dict[int, tuple[Frames, str]]:
    """The case's videos as its status shows them: item number -> (frames, MD5)."""
    status = client.get(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key}).json()
    found: dict[int, tuple[Frames, str]] = {}
    numbered = [h for h in status["hashes"] if h["image"] is not None]
    for h in sorted(numbered, key=lambda h: (h["image"], h["timestamp"] or 0)):
        frames, md5 = found.get(h["image"], ([], ""))
        if h["algorithm"] == "vpdq":
            frames.append((h["hash"], h["timestamp"]))
        else:
            md5 = h["hash"]
        found[h["image"]] = (frames, md5)
    return found


def _source(data: Path) -> tuple[list[tuple[Frames, str]], str]:
    """Three videos in force (two in one case), one withdrawn, and a photo."""
    kept = [video(1, 4), video(2, 3), video(3, 6)]
    photo = random_pdq(1)
    with serving(data) as (client, _):
        video_case(client, kept[0], kept[1])
        video_case(client, kept[2])
        withdraw(client, *video_case(client, video(4, 3)))
        create_case(client, photo)
    return kept, photo


@pytest.mark.parametrize("form", hashlist.FORMATS)
def test_videos_round_trip_whole_in_either_form(
    use_data: UseData, tmp_path: Path, form: str
) -> None:
    kept, photo = _source(use_data("source"))
    exported = tmp_path / "list.txt"
    code, out, err = run("export", str(exported), "--format", form)
    assert code == 0, err
    assert "1 active hashes (pdq, video_md5) and 3 videos (13 frames" in flat(out)
    lines = exported.read_text().splitlines()
    if form == "pytx":
        assert lines == [
            line
            for frames, md5 in kept
            for line in (
                f"video_md5 {md5}",
                "vpdq " + json.dumps([f"{h},90,{t:.3f}" for h, t in frames]),
            )
        ] + [f"pdq {photo}"]
    else:
        assert lines == [
            line
            for frames, md5 in kept
            for line in (
                f"video {md5}",
                *(f"{n},90,{h},{t:.3f}" for n, (h, t) in enumerate(frames)),
            )
        ] + [f"pdq {photo}"]

    use_data("fresh")
    code, out, err = run("import", str(exported))
    assert code == 0, err
    assert "3 videos" in flat(err)
    case_id, case_key = printed_case(out)
    again = tmp_path / "again.txt"
    assert run("export", str(again), "--format", form)[0] == 0
    assert again.read_bytes() == exported.read_bytes()
    other = "vpdq" if form == "pytx" else "pytx"
    assert run("export", str(tmp_path / "other.txt"), "--format", other)[0] == 0
    with serving(use_data("fresh")) as (client, _):
        # One case, each video one item: its frames with their times and its MD5.
        assert sorted(videos_of(client, case_id, case_key).values()) == sorted(kept)
    # The other form of the same list reads back to the same videos.
    use_data("third")
    code, out, err = run("import", str(tmp_path / "other.txt"))
    assert code == 0, err
    assert run("export", str(tmp_path / "third.txt"), "--format", form)[0] == 0
    assert (tmp_path / "third.txt").read_bytes() == exported.read_bytes()


def test_pytx_reads_the_export_and_its_own_vpdq_type_accepts_every_video(
    use_data: UseData, tmp_path: Path
) -> None:
    kept, photo = _source(use_data("data"))
    exported = tmp_path / "list.txt"
    assert run("export", str(exported))[0] == 0
    VPDQSignal = vpdq_signal()  # noqa: N806 - pytx's class
    collab = FileCollaborationConfig(name="hashbank", filename=str(exported))
    api = LocalFileSignalExchangeAPI.for_collab(collab)
    merged: dict[tuple[str, str], FetchedSignalMetadata] = {}
    for delta in api.fetch_iter([PdqSignal, VideoMD5Signal, VPDQSignal], None):
        LocalFileSignalExchangeAPI.naive_fetch_merge(merged, delta.updates)
    by_type = LocalFileSignalExchangeAPI.naive_convert_to_signal_type(
        [PdqSignal, VideoMD5Signal, VPDQSignal], collab, merged
    )
    assert sorted(by_type[PdqSignal]) == [photo]
    assert sorted(by_type[VideoMD5Signal]) == sorted(md5 for _, md5 in kept)
    # pytx's own parser (validate_signal_str, json_to_vpdq) read every video, frame by frame.
    assert len(by_type[VPDQSignal]) == 3
    from threatexchange.extensions.vpdq.vpdq_util import json_to_vpdq

    parsed = sorted(
        [(f.pdq_hex, f.timestamp) for f in json_to_vpdq(value)] for value in by_type[VPDQSignal]
    )
    assert parsed == sorted(frames for frames, _ in kept)
    # And pytx's matcher finds a video in itself.
    value = next(iter(by_type[VPDQSignal]))
    assert VPDQSignal.compare_hash(value, value).match


def test_pytx_written_values_parse_including_its_own_spelling_of_times() -> None:
    VPDQSignal = vpdq_signal()  # noqa: N806 - pytx's class
    from threatexchange.extensions.vpdq.vpdq_util import VpdqCompactFeature, vpdq_to_json

    hashes = [random_pdq(n) for n in range(3)]
    theirs = vpdq_to_json(
        [VpdqCompactFeature(h, 90, t) for h, t in zip(hashes, (150.0, 0.5, 12.345), strict=True)]
    )
    assert "1.5e+02" in theirs
    assert "12.3" in theirs
    frames = parse_pytx_vpdq(theirs)
    assert [(f.frame_number, f.hex, f.timestamp) for f in frames] == [
        (0, hashes[1], 0.5),
        (1, hashes[2], 12.3),
        (2, hashes[0], 150.0),
    ]
    ours = format_pytx_vpdq(frames)
    assert VPDQSignal.validate_signal_str(ours) == ours
    assert parse_pytx_vpdq(ours) == frames
    for bad in (
        "",
        "{}",
        "[1]",
        '["x,90,1.0"]',
        f'["{hashes[0]},101,1.0"]',
        f'["{hashes[0]},90,-1"]',
        f'["{hashes[0]},90,nan"]',
        f'["{hashes[0]},90"]',
    ):
        with pytest.raises(InvalidHash) as caught:
            parse_pytx_vpdq(bad)
        assert hashes[0] not in str(caught.value)


def test_a_low_quality_frame_is_dropped_and_a_bad_video_imports_nothing(
    use_data: UseData, tmp_path: Path
) -> None:
    good = VideoFrameHash(0, 0.0, 90, bytes.fromhex(random_pdq(5)))
    flat_frame = VideoFrameHash(1, 1.0, 10, bytes.fromhex(random_pdq(6)))
    listed = tmp_path / "list.txt"
    listed.write_text(f"vpdq {format_pytx_vpdq([good, flat_frame])}\n")
    use_data("data")
    code, _out, err = run("import", str(listed))
    assert code == 0, err
    assert "1 videos (1 frames below quality 50 dropped)" in flat(err)
    bad = f"pdq {random_pdq(7)}\nvideo\n0,90,{good.hex},1.000\n1,90,{good.hex},0.500\n"
    listed.write_text(bad)
    code, _, err = run("import", str(listed))
    assert code == 1
    assert "line 2: the video starting here: vPDQ line 2: timestamps must not decrease" in flat(err)
    assert good.hex not in err


def test_a_frames_variants_stay_out_of_the_exported_video(
    use_data: UseData, tmp_path: Path
) -> None:
    """Meta's and pytx's formats hold a video's frames only: its frames' other forms
    (`variant` links, hashing.video_forms) would count there as frames of their own."""
    frames, md5 = video(5, 4)
    crops = [h for h, _ in video(6, 4)[0]]
    with serving(use_data("source")) as (client, _):
        hashes: list[dict[str, object]] = [{"algorithm": "md5", "hash": md5, "image": 0}]
        for (h, t), crop in zip(frames, crops, strict=True):
            hashes += [
                {"algorithm": "vpdq", "hash": h, "timestamp": t, "quality": 90, "image": 0},
                {"algorithm": "vpdq", "hash": crop, "timestamp": t, "image": 0, "variant": True},
            ]
        r = client.post("/v1/cases", json={"hashes": hashes})
        assert r.status_code == 201, r.text
    for form in hashlist.FORMATS:
        exported = tmp_path / f"list-{form}.txt"
        code, _, err = run("export", str(exported), "--format", form)
        assert code == 0, err
        text = exported.read_text()
        assert all(h in text for h, _ in frames)
        assert not any(crop in text for crop in crops)
