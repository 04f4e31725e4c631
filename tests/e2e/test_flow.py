"""The whole flow through a real server on 127.0.0.1, with real command-line clients.

A survivor submits a folder with `hashbank submit`; a platform matches a
re-encoded, resized and flipped copy; reports it removed; the survivor sees the
removal; withdraws; the copy no longer matches. Every log line of the server
and the clients is then searched for hash values, case keys and API keys.
"""

import io
import json
import re
import shutil
from collections import Counter
from pathlib import Path

import httpx
from PIL import Image

from hashing import PDQ_ALGORITHM, load_image
from hashing.policy import submission_hashes
from tests.conftest import BSDS500
from tests.e2e.server import BIN, Server, run_cli, service_env

PHOTOS = ["100075.jpg", "101085.jpg", "118035.jpg"]


def transformed_copy(path: Path) -> bytes:
    image = Image.open(path).convert("RGB").transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    image = image.resize((image.width * 3 // 4, image.height * 3 // 4), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=60)
    return buffer.getvalue()


def test_survivor_to_platform_and_back(tmp_path: Path) -> None:
    folder = tmp_path / "to-protect"
    folder.mkdir()
    for name in PHOTOS:
        shutil.copy(BSDS500 / name, folder / name)
    data, logs = tmp_path / "data", tmp_path / "server.log"
    env = service_env(data)
    with Server(data, logs) as server:
        admin = BIN / "hashbank-admin"
        assert run_cli([str(admin), "platform", "add", "Example"], env).returncode == 0
        issued = run_cli(
            [str(admin), "key", "issue", "Example", "-s", "match", "-s", "feedback"], env
        )
        assert issued.returncode == 0, issued.stderr
        api_key = issued.stdout.strip().splitlines()[-1]

        saved = tmp_path / "my-case.txt"
        submitted = run_cli(
            [
                str(BIN / "hashbank"),
                "submit",
                str(folder),
                "--server",
                server.url,
                "--save",
                str(saved),
            ],
            env,
        )
        assert submitted.returncode == 0, submitted.stderr
        case_id = re.search(r"case id:\s+(\S+)", submitted.stdout)
        case_key = re.search(r"case key:\s+(\S+)", submitted.stdout)
        assert case_id
        assert case_key
        assert saved.stat().st_mode & 0o077 == 0
        assert case_key.group(1) in saved.read_text()

        platform = httpx.Client(base_url=server.url, headers={"X-API-Key": api_key})
        copy = transformed_copy(folder / PHOTOS[0])
        found = platform.post(
            "/v1/match/image", files={"image": ("upload.jpg", copy, "image/jpeg")}
        )
        assert found.status_code == 200, found.text
        matches = found.json()["matches"]
        assert len(matches) == 1
        reported = platform.post(
            "/v1/feedback", json={"match_id": matches[0]["match_id"], "outcome": "removed"}
        )
        assert reported.status_code == 200

        case_env = {**env, "HASHBANK_CASE_KEY": case_key.group(1), "HASHBANK_SERVER": server.url}
        status = run_cli([str(BIN / "hashbank"), "status", case_id.group(1), "--json"], case_env)
        assert status.returncode == 0, status.stderr
        body = json.loads(status.stdout)
        per_image = [len(submission_hashes(load_image(folder / n))) for n in PHOTOS]
        assert len(body["hashes"]) == sum(per_image)  # hashing.policy: several per image
        # Each hash says which image it is of (a dispute suspends one image's together).
        images = Counter(h["image"] for h in body["hashes"])
        assert set(images) == set(range(len(PHOTOS)))
        assert sorted(images.values()) == sorted(per_image)
        assert [(o["outcome"], o["platform"]) for o in body["outcomes"]] == [("removed", "Example")]
        assert body["outcomes"][0]["reported_at"]

        more = tmp_path / "more"
        more.mkdir()
        shutil.copy(BSDS500 / "12003.jpg", more / "12003.jpg")
        added = run_cli([str(BIN / "hashbank"), "add", case_id.group(1), str(more)], case_env)
        assert added.returncode == 0, added.stderr
        status = run_cli([str(BIN / "hashbank"), "status", case_id.group(1), "--json"], case_env)
        added_hashes = len(submission_hashes(load_image(more / "12003.jpg")))
        assert len(json.loads(status.stdout)["hashes"]) == sum(per_image) + added_hashes
        images = Counter(h["image"] for h in json.loads(status.stdout)["hashes"])
        assert images[len(PHOTOS)] == added_hashes  # numbered on from the case's last image
        shown = run_cli([str(BIN / "hashbank"), "status", case_id.group(1)], case_env)
        assert shown.returncode == 0, shown.stderr
        total = sum(per_image) + added_hashes
        assert f"images: {len(PHOTOS) + 1}; videos: 0; hashes: {total} active" in shown.stdout
        (tmp_path / "copy.jpg").write_bytes(copy)
        platform_env = {**env, "HASHBANK_API_KEY": api_key, "HASHBANK_SERVER": server.url}
        tested = run_cli([str(BIN / "hashbank"), "match", str(tmp_path / "copy.jpg")], platform_env)
        assert tested.returncode == 0, tested.stderr
        assert len(json.loads(tested.stdout)["matches"]) == 1

        withdrawn = run_cli(
            [str(BIN / "hashbank"), "withdraw", case_id.group(1), "--yes"], case_env
        )
        assert withdrawn.returncode == 0, withdrawn.stderr
        again = platform.post(
            "/v1/match/image", files={"image": ("upload.jpg", copy, "image/jpeg")}
        )
        assert again.status_code == 200
        assert again.json()["matches"] == []
        platform.close()

    secrets = [api_key, case_key.group(1)]
    secrets += [PDQ_ALGORITHM.compute(load_image(folder / n)).hex for n in PHOTOS]
    secrets += [v.hex for v in PDQ_ALGORITHM.compute_dihedral(load_image(copy))]
    server_log = logs.read_text()
    assert "POST /v1/match/image" in server_log  # the log was captured at debug level
    for text in (
        server_log,
        submitted.stderr,
        status.stderr,
        added.stderr,
        tested.stderr,
        withdrawn.stderr,
    ):
        for secret in secrets:
            assert secret not in text
            assert secret[:16] not in text  # nor a prefix of one
