"""`hashbank hash` on videos: the file's MD5 and its vPDQ frames, in Meta's format or JSON."""

import hashlib
import io
import json
import re
import shutil
from pathlib import Path

from PIL import Image
from typer.testing import CliRunner

from hashing.cli import app
from hashing.video_signals import video_signals
from hashing.vpdq import EVERY_FRAME
from hashing.vpdq_text import format_vpdq, parse_vpdq
from tests.conftest import PDQ_REFERENCE, VPDQ_REFERENCE

runner = CliRunner()
DOORKNOB = VPDQ_REFERENCE / "videos" / "doorknob-hd-no-bar.mp4"


def test_a_video_prints_its_md5_and_frames_in_metas_format() -> None:
    result = runner.invoke(app, ["hash", str(DOORKNOB)])
    assert result.exit_code == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    md5 = hashlib.md5(DOORKNOB.read_bytes()).hexdigest()
    frames = video_signals(DOORKNOB).frames  # 2 of the 4 sampled have quality >= 50
    assert header.startswith(f"# {DOORKNOB}: md5 {md5}, 4.000 s, {len(frames)} vpdq frames")
    assert "\n".join(lines) + "\n" == format_vpdq(frames)
    assert parse_vpdq("\n".join(lines)) == list(frames)
    assert "1 of 1 videos hashed" in result.stderr


def test_json_and_every_frame() -> None:
    result = runner.invoke(app, ["hash", "--json", "--every-frame", str(DOORKNOB)])
    assert result.exit_code == 0
    (line,) = [json.loads(text) for text in result.stdout.splitlines()]
    every = video_signals(DOORKNOB, rate=EVERY_FRAME)
    assert line["md5"] == every.md5.hex
    assert line["duration"] == 4.0
    assert [f["frame_number"] for f in line["vpdq"]] == [f.frame_number for f in every.frames]
    assert line["vpdq"][0]["hash"] == every.frames[0].hex


def test_folders_mix_photos_and_videos_and_bad_videos_say_why(tmp_path: Path) -> None:
    shutil.copy(DOORKNOB, tmp_path / "clip.MOV")
    shutil.copy(PDQ_REFERENCE / "misc-images" / "b.jpg", tmp_path / "photo.jpg")
    png = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(png, "PNG")
    (tmp_path / "fake.mp4").write_bytes(png.getvalue())
    # A video saved under a photo's suffix is recognised by its bytes.
    shutil.copy(DOORKNOB, tmp_path / "really-a-video.jpg")
    result = runner.invoke(app, ["hash", "--json", str(tmp_path)])
    assert result.exit_code == 0
    lines = [json.loads(text) for text in result.stdout.splitlines()]
    by_name = {Path(line["path"]).name: line for line in lines}
    assert set(by_name) == {"clip.MOV", "photo.jpg", "fake.mp4", "really-a-video.jpg"}
    assert by_name["photo.jpg"]["hashes"][0]["algorithm"] == "pdq"
    assert by_name["clip.MOV"]["md5"] == by_name["really-a-video.jpg"]["md5"]
    assert "not a video" in by_name["fake.mp4"]["error"]
    assert "2 of 3 videos hashed" in result.stderr


def test_nothing_hashed_is_a_failure(tmp_path: Path) -> None:
    (tmp_path / "empty.webm").write_bytes(b"")
    result = runner.invoke(app, ["hash", str(tmp_path / "empty.webm")])
    assert result.exit_code == 1
    assert "not hashed: video file is empty" in result.stdout


def test_a_progress_bar_per_video_with_frames_per_second() -> None:
    result = runner.invoke(app, ["hash", "--progress", str(DOORKNOB), str(DOORKNOB)])
    assert result.exit_code == 0
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", result.stderr)  # terminal colours
    assert shown.count("doorknob-hd-no-bar.mp4") >= 2
    assert "120/120 frames, 4 hashed" in shown
    assert "frames/s" in shown
