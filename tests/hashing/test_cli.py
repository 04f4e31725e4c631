"""The survivor's `hashbank hash` command, run as she would run it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hashing import PDQ_ALGORITHM, load_image
from hashing.cli import app
from tests.conftest import BSDS500, PDQ_REFERENCE

runner = CliRunner()
MISC = PDQ_REFERENCE / "misc-images"


def run_json(*args: str) -> tuple[int, list[dict[str, object]]]:
    result = runner.invoke(app, ["hash", "--json", *args])
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result.exit_code, lines


def test_json_lines_one_result_per_image_with_reasons(tmp_path: Path) -> None:
    (tmp_path / "notes.jpg").write_text("not an image")
    code, lines = run_json(
        str(MISC / "b.jpg"), str(MISC / "small.jpg"), str(tmp_path / "notes.jpg")
    )
    assert code == 0
    by_name = {Path(str(line["path"])).name: line for line in lines}
    assert set(by_name) == {"b.jpg", "small.jpg", "notes.jpg"}
    good = by_name["b.jpg"]["hashes"]
    assert isinstance(good, list)
    assert good[0]["algorithm"] == "pdq"
    assert len(good[0]["hash"]) == 64
    assert good[0]["quality"] == 100
    assert "too little detail" in str(by_name["small.jpg"]["error"])
    assert "not an image" in str(by_name["notes.jpg"]["error"])


def test_folders_are_searched_recursively(tmp_path: Path) -> None:
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "photo.JPG").write_bytes((MISC / "b.jpg").read_bytes())
    (tmp_path / "readme.txt").write_text("skipped: not an image suffix")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.jpg").write_bytes((MISC / "b.jpg").read_bytes())
    code, lines = run_json(str(tmp_path))
    assert code == 0
    assert [Path(str(line["path"])).name for line in lines] == ["photo.JPG"]


def test_several_algorithms() -> None:
    code, lines = run_json("-a", "pdq", "-a", "phash", "-a", "dhash", str(MISC / "b.jpg"))
    assert code == 0
    hashes = lines[0]["hashes"]
    assert isinstance(hashes, list)
    assert [(h["algorithm"], len(h["hash"])) for h in hashes] == [
        ("pdq", 64),
        ("phash", 16),
        ("dhash", 16),
    ]


def test_exit_code_is_non_zero_only_when_nothing_hashed(tmp_path: Path) -> None:
    code, lines = run_json(str(MISC / "small.jpg"), str(tmp_path / "missing.jpg"))
    assert code == 1
    assert [line["error"] for line in lines][1] == "file not found"
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["hash", str(empty)])
    assert result.exit_code == 1
    assert "no image or video files" in result.stderr


@pytest.mark.parametrize("name", ["sha1", "md5"])  # md5 is a signal type, but not of images
def test_unknown_algorithm_is_a_usage_error(name: str) -> None:
    result = runner.invoke(app, ["hash", "-a", name, str(MISC / "b.jpg")])
    assert result.exit_code == 2
    assert f"unknown image hash algorithm '{name}'; known: dhash, pdq, phash" in result.stderr


def test_readable_table() -> None:
    result = runner.invoke(app, ["hash", str(MISC / "b.jpg"), str(MISC / "small.jpg")])
    assert result.exit_code == 0
    assert "f8f8f0cee0f4a84f" in result.stdout  # the bridge photo's PDQ prefix, one line
    assert "not hashed" in result.stdout
    assert "too little detail" in result.stdout
    assert "1 of 2 images hashed" in result.stderr


@pytest.mark.slow
def test_whole_dataset_with_progress_bar_and_no_network() -> None:
    """All 500 BSDS photos through the installed command, with sockets forbidden."""
    assert len(list(BSDS500.glob("*.jpg"))) == 500
    # sitecustomize-style guard: any socket creation in the child aborts it.
    guard = (
        "import socket, sys\n"
        "def _no(*a, **k): raise SystemExit('network use attempted')\n"
        "socket.socket.connect = socket.socket.connect_ex = socket.socket.sendto = _no\n"
        "socket.create_connection = socket.getaddrinfo = _no\n"
        "from hashing.cli import main; sys.argv = ['hashbank'] + sys.argv[1:]; main()\n"
    )
    env = {**os.environ, "COLUMNS": "100"}
    proc = subprocess.run(
        [sys.executable, "-c", guard, "hash", "--json", "--progress", str(BSDS500)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(lines) == 500
    assert sum("hashes" in line for line in lines) >= 495  # a few flat photos may be low quality
    assert "━" in proc.stderr
    assert "500/500" in proc.stderr


def test_requests_carry_whole_images_and_their_numbers() -> None:
    from hashing.case_items import CaseItem, pack_items
    from hashing.limits import DEFAULT_CASE_HASHES as CASE_LIMIT
    from hashing.limits import DEFAULT_VIDEO_FRAMES

    hashes = [PDQ_ALGORITHM.compute(load_image(p)) for p in sorted(BSDS500.glob("*.jpg"))[:6]]
    images = [CaseItem.image([hashes[i % 6]] * (5 + i % 2)) for i in range(40)]  # 5 or 6 each
    batches = pack_items(images, CASE_LIMIT, DEFAULT_VIDEO_FRAMES)
    assert [len(b.hashes) for b in batches] == [99, 99, 22]  # 18 + 18 + 4 images
    for batch in batches:
        assert len(batch.hashes) <= CASE_LIMIT
        assert len(batch.images) == len(batch.hashes)
        assert batch.images == sorted(batch.images)
        assert batch.images[0] == 0  # each request numbers its own images from 0
        assert batch.times == [None] * len(batch.hashes)
    numbers = [n for b in batches for n in dict.fromkeys(b.images)]
    assert numbers == [*range(18), *range(18), *range(4)]


def test_an_unreachable_server_is_one_line_not_a_traceback() -> None:
    down = "http://127.0.0.1:9"  # the discard port: nothing listens there
    env = {"HASHBANK_CASE_KEY": "ck_secret", "COLUMNS": "200"}  # a wide terminal: no wrapping
    result = runner.invoke(app, ["status", "c_0123", "--server", down], env=env)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: cannot reach the hashbank service at {down}")
    assert "ck_secret" not in result.stderr
