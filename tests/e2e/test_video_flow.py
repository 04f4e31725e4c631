"""A video through a real server on 127.0.0.1, with the real command-line clients.

A survivor submits a reference video with `hashbank submit`; a partner's feed
sees its frames arrive; a platform matches a cropped (10%), smaller,
re-encoded copy of it
(`PlatformClient.match_video` and `hashbank match`) and reports it removed; the
survivor's status shows the video and the removal; she withdraws; the copy no
longer matches and the feed sees every frame leave. No log line holds a hash
value or a key.
"""

import json
import re
import shutil
from collections import Counter
from pathlib import Path

from hashing import VPDQ_ALGORITHM
from hashing.platform_client import PlatformClient
from hashing.video_forms import SUBMITTED
from hashing.video_signals import video_signals
from hashing.vpdq_match import match_videos
from tests.conftest import VPDQ_REFERENCE
from tests.e2e.server import BIN, Server, platform_key, run_cli, service_env
from tests.hashing.videos import reencode

VIDEO = VPDQ_REFERENCE / "videos" / "chair-orig-22-sd-bar.mp4"


def _feed(platform: PlatformClient) -> Counter[tuple[str, str]]:
    """(algorithm, action) counts over the whole change feed."""
    cursor, seen = "0", Counter[tuple[str, str]]()
    while True:
        page = platform.changes(cursor, limit=500)
        seen.update((c.algorithm, c.action) for c in page.changes)
        cursor = page.next_cursor
        if not page.has_more:
            return seen


def test_a_video_from_survivor_to_platform_and_back(tmp_path: Path) -> None:
    folder = tmp_path / "to-protect"
    folder.mkdir()
    shutil.copy(VIDEO, folder / VIDEO.name)
    stored = video_signals(VIDEO, forms=SUBMITTED)
    frame_hashes = sum(1 + len(f.variants) for f in stored.frames)
    copy = reencode(VIDEO, crop=0.1, bit_rate=250_000, width=320)
    # Meta's frame hashes alone do not survive the crop; the frames' other forms do.
    plain = match_videos(video_signals(copy).frames, video_signals(VIDEO).frames)
    assert plain.stored_percent < 50
    (tmp_path / "copy.mp4").write_bytes(copy)
    data, logs = tmp_path / "data", tmp_path / "server.log"
    env = service_env(data)
    with Server(data, logs) as server:
        api_key = platform_key(data, "match", "feedback", "sync", platform="Example")

        submitted = run_cli(
            [str(BIN / "hashbank"), "submit", str(folder), "--server", server.url], env
        )
        assert submitted.returncode == 0, submitted.stderr
        assert (
            f"1 of 1 videos hashed ({len(stored.frames)} frames, {frame_hashes} frame hashes"
            in submitted.stderr
        )
        case_id = re.search(r"case id:\s+(\S+)", submitted.stdout)
        case_key = re.search(r"case key:\s+(\S+)", submitted.stdout)
        assert case_id
        assert case_key

        with PlatformClient(server.url, api_key) as platform:
            arrived = _feed(platform)
            assert arrived[(VPDQ_ALGORITHM.name, "add")] == frame_hashes
            assert arrived[("md5", "add")] == 1

            found = platform.match_video(copy, ref="upload-1")
            assert found.ref == "upload-1"
            assert len(found.matches) == 1  # one case video, however many frames match
            (match,) = found.matches
            assert match.algorithm == VPDQ_ALGORITHM.name
            assert match.stored_percent is not None
            assert match.stored_percent >= 80
            assert match.query_percent >= 80
            assert match.stored_ranges
            assert match.stored_ranges[0].start <= 1.0  # the copy covers the whole video
            assert match.stored_ranges[-1].end >= stored.frames[-1].timestamp - 1.0
            platform.feedback(match.match_id, "removed")

            platform_env = {**env, "HASHBANK_API_KEY": api_key, "HASHBANK_SERVER": server.url}
            tested = run_cli(
                [str(BIN / "hashbank"), "match", str(tmp_path / "copy.mp4")], platform_env
            )
            assert tested.returncode == 0, tested.stderr
            shown = json.loads(tested.stdout)
            assert shown["video"] == str(tmp_path / "copy.mp4")
            assert [m["stored_percent"] >= 80 for m in shown["matches"]] == [True]

            case_env = {
                **env,
                "HASHBANK_CASE_KEY": case_key.group(1),
                "HASHBANK_SERVER": server.url,
            }
            status = run_cli([str(BIN / "hashbank"), "status", case_id.group(1)], case_env)
            assert status.returncode == 0, status.stderr
            total = frame_hashes + 1
            assert f"images: 0; videos: 1; hashes: {total} active" in status.stdout
            assert "Example: removed" in status.stdout

            withdrawn = run_cli(
                [str(BIN / "hashbank"), "withdraw", case_id.group(1), "--yes"], case_env
            )
            assert withdrawn.returncode == 0, withdrawn.stderr
            assert platform.match_video(copy).matches == ()
            left = _feed(platform)
            assert left[(VPDQ_ALGORITHM.name, "remove")] == frame_hashes
            assert left[("md5", "remove")] == 1

    secrets = [api_key, case_key.group(1), stored.md5.hex]
    secrets += [f.hex for f in stored.frames]
    secrets += [v.hex() for f in stored.frames for v in f.variants]
    for text in (logs.read_text(), submitted.stderr, tested.stderr, status.stderr):
        for secret in secrets:
            assert secret not in text
            assert secret[:16] not in text  # nor a prefix of one
