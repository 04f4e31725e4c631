"""Partner exchange against a live server: Meta's real StopNCII client, and the delta feed
read while cases are created and withdrawn concurrently."""

import hashlib
import json
import random
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from threatexchange.exchanges.clients.stopncii.api import (
    StopNCIIAPI,
    StopNCIICaseStatus,
    StopNCIICSPFeedbackValue,
    StopNCIIEndpoint,
    StopNCIISignalType,
)
from threatexchange.exchanges.impl import stop_ncii_api
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal

from tests import databases
from tests.e2e.server import BIN, Server, create_case, platform_key, run_cli, service_env


def test_real_stopncii_client_fetches_withdrawals_and_reports(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    key = platform_key(data, "sync", "feedback")
    rng = random.Random(5)
    with (
        Server(data, tmp_path / "server.log") as server,
        httpx.Client(base_url=server.url) as client,
    ):
        cases: dict[str, tuple[str, list[str]]] = {}
        for _ in range(9):  # 900 hashes: more than the client's fixed page of 800
            values = [rng.randbytes(32).hex() for _ in range(100)]
            case_id, case_key = create_case(client, values)
            cases[case_id] = (case_key, values)
        create_case(client, [rng.randbytes(8).hex()], algorithm="phash")  # not in a PDQ feed

        api = StopNCIIAPI(
            key,
            key,
            additional_function_keys={StopNCIIEndpoint.SubmitFeedback: key},
            base_url_override=f"{server.url}/stopncii/v1",
        )
        pages = list(api.fetch_hashes_iter())
        assert len(pages) == 2
        records = [rec for page in pages for rec in page.hashRecords]
        fetched = [rec.hashValue for rec in records]
        assert len(fetched) == len(set(fetched)) == 900  # every active hash exactly once
        owner = {v: case_id for case_id, (_, values) in cases.items() for v in values}
        assert set(fetched) == set(owner)
        ref_of: dict[str, str] = {}  # case id -> the partners' reference for it
        for rec in records:
            assert rec.signalType == StopNCIISignalType.ImagePDQ
            assert rec.hashStatus == StopNCIICaseStatus.Active
            ((ref, state),) = rec.caseNumbers.items()
            assert state == StopNCIICaseStatus.Active
            assert ref.startswith("r_"), "partners get a reference, never the case id"
            assert ref_of.setdefault(owner[rec.hashValue], ref) == ref, "one per case"
        assert len(set(ref_of.values())) == len(cases)
        checkpoint = pages[-1].nextSetTimestamp

        withdrawn_id = next(iter(cases))
        withdrawn_key, withdrawn_values = cases[withdrawn_id]
        r = client.delete(f"/v1/cases/{withdrawn_id}", headers={"X-Case-Key": withdrawn_key})
        assert r.status_code == 200, r.text
        later = [
            r
            for page in api.fetch_hashes_iter(start_timestamp=checkpoint)
            for r in page.hashRecords
        ]
        latest = {r.hashValue: r for r in later}  # a later record replaces an earlier one
        for value in withdrawn_values:
            assert latest[value].hashStatus == StopNCIICaseStatus.Withdrawn
            assert latest[value].caseNumbers == {ref_of[withdrawn_id]: StopNCIICaseStatus.Withdrawn}
        assert not any(
            rec.hashStatus == StopNCIICaseStatus.Withdrawn
            for v, rec in latest.items()
            if v not in withdrawn_values
        )

        blocked_id, (blocked_key, blocked_values) = list(cases.items())[1]
        api.submit_feedback(
            StopNCIISignalType.ImagePDQ, blocked_values[3], StopNCIICSPFeedbackValue.Blocked
        )
        status = client.get(f"/v1/cases/{blocked_id}", headers={"X-Case-Key": blocked_key}).json()
        assert [(o["platform"], o["outcome"]) for o in status["outcomes"]] == [
            ("Partner", "removed")
        ]
        assert status["outcome_counts"] == {"removed": 1}
        assert status["outcomes"][0]["reported_at"] is not None
    log = (tmp_path / "server.log").read_text()
    assert key not in log
    assert not any(v in log for v in blocked_values + withdrawn_values)


def test_delta_feed_reader_converges_while_cases_change(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    key = platform_key(data, "sync")
    with Server(data, tmp_path / "server.log") as server:
        stop = threading.Event()
        errors: list[str] = []

        def writer(seed: int) -> None:
            rng = random.Random(seed)
            open_cases: list[tuple[str, str]] = []
            with httpx.Client(base_url=server.url, timeout=30) as client:
                while not stop.is_set():
                    # Reused values make re-activation of withdrawn hashes part of the mix.
                    values = [rng.randbytes(2).hex() * 16 for _ in range(rng.randint(1, 5))]
                    r = client.post(
                        "/v1/cases",
                        json={"hashes": [{"algorithm": "pdq", "hash": v} for v in values]},
                    )
                    if r.status_code != 201:
                        errors.append(r.text)
                        continue
                    open_cases.append((r.json()["case_id"], r.json()["case_key"]))
                    if rng.random() < 0.5:
                        case_id, case_key = open_cases.pop(rng.randrange(len(open_cases)))
                        w = client.delete(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key})
                        if w.status_code != 200:
                            errors.append(w.text)

        local: set[str] = set()
        seqs: list[int] = []
        cursor = "0"

        def read_some(pages: int) -> bool:
            """Page on from the saved cursor with a fresh connection; True at the end."""
            nonlocal cursor
            with httpx.Client(base_url=server.url, headers={"X-API-Key": key}) as client:
                for _ in range(pages):
                    r = client.get("/v1/hashes/changes", params={"cursor": cursor, "limit": 7})
                    assert r.status_code == 200, r.text
                    page = r.json()
                    for change in page["changes"]:
                        seqs.append(change["seq"])
                        if change["action"] == "add":
                            local.add(change["hash"])
                        else:
                            local.discard(change["hash"])
                    cursor = page["next_cursor"]
                    if not page["has_more"]:
                        return True
            return False

        threads = [threading.Thread(target=writer, args=(seed,)) for seed in (1, 2)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            read_some(3)  # stop after a few pages and resume later, as a partner's cron would
            time.sleep(0.01)
        stop.set()
        for t in threads:
            t.join()
        while not read_some(50):
            pass

    assert not errors
    assert len(seqs) > 100, "the writers made too few changes for the test to mean much"
    assert seqs == list(range(1, len(seqs) + 1)), "a change was missed or repeated"
    engine = create_engine(databases.url_of(data))
    with engine.connect() as connection:
        active = {
            bytes(v).hex()
            for (v,) in connection.execute(
                text("SELECT value FROM signals WHERE state = 'active' AND algorithm = 'pdq'")
            )
        }
    engine.dispose()
    assert local == active


def test_documented_platform_example_runs_against_a_live_server(tmp_path: Path) -> None:
    from hashing import PDQ_ALGORITHM, load_image
    from tests.conftest import PDQ_REFERENCE

    image = PDQ_REFERENCE / "reg-test-input" / "dih" / "bridge-1-original.jpg"
    flipped = PDQ_REFERENCE / "reg-test-input" / "dih" / "bridge-5-flipx.jpg"
    data = tmp_path / "data"
    data.mkdir()
    key = platform_key(data, "sync", "match")
    checkpoint = tmp_path / "state" / "cursor"
    example = Path(__file__).parents[2] / "docs" / "examples" / "platform_sync.py"
    with (
        Server(data, tmp_path / "server.log") as server,
        httpx.Client(base_url=server.url) as client,
    ):
        value = PDQ_ALGORITHM.compute(load_image(image)).hex
        case_id, case_key = create_case(client, [value, random.Random(3).randbytes(32).hex()])
        env = {**service_env(data), "HASHBANK_URL": server.url, "HASHBANK_API_KEY": key}

        def run() -> dict[str, object]:
            done = run_cli(
                [str(BIN / "python"), str(example), str(flipped), "--checkpoint", str(checkpoint)],
                env,
            )
            assert done.returncode == 0, done.stderr
            assert key not in done.stdout + done.stderr
            assert value not in done.stdout + done.stderr
            result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
            return result

        first = run()
        assert first["hashes"] == 2
        assert first["local_matches"]
        assert first["matches"]
        client.delete(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key})
        second = run()  # resumes from the checkpoint: applies the two removals only
        assert second["hashes"] == 0
        assert second["local_matches"] == second["matches"] == []


def test_real_stopncii_client_takes_video_md5_like_stopncii_itself(tmp_path: Path) -> None:
    """MD5 (a registered signal type) reaches Meta's client as `VideoMD5`, which pytx maps to
    its `video_md5` signal type; feedback by an MD5 hash reaches the survivor."""
    data = tmp_path / "data"
    data.mkdir()
    key = platform_key(data, "sync", "feedback")
    md5 = hashlib.md5(b"a survivor's video file", usedforsecurity=False).hexdigest()
    pdq = random.Random(6).randbytes(32).hex()
    with (
        Server(data, tmp_path / "server.log") as server,
        httpx.Client(base_url=server.url) as client,
    ):
        md5_case = create_case(client, [md5], algorithm="md5")
        create_case(client, [pdq])
        api = StopNCIIAPI(
            key,
            key,
            additional_function_keys={StopNCIIEndpoint.SubmitFeedback: key},
            base_url_override=f"{server.url}/stopncii/v1",
        )
        records = [rec for page in api.fetch_hashes_iter() for rec in page.hashRecords]
        assert {(r.signalType, r.hashValue) for r in records} == {
            (StopNCIISignalType.VideoMD5, md5),
            (StopNCIISignalType.ImagePDQ, pdq),
        }
        keys = {stop_ncii_api._get_delta_mapping(r)[0] for r in records}
        assert keys == {(VideoMD5Signal.get_name(), md5), (PdqSignal.get_name(), pdq)}

        api.submit_feedback(StopNCIISignalType.VideoMD5, md5, StopNCIICSPFeedbackValue.Blocked)
        case_id, case_key = md5_case
        status = client.get(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key}).json()
        assert status["outcome_counts"] == {"removed": 1}
    assert md5 not in (tmp_path / "server.log").read_text()


def test_a_video_reaches_stopncii_clients_as_its_video_md5_only(tmp_path: Path) -> None:
    """StopNCII's signal types are ImagePDQ, VideoMD5 and VideoTMK: none holds vPDQ frames, so
    a video's frames stay off FetchHashes and its MD5 travels as `VideoMD5`, through Meta's
    client, the match routes, feedback and the withdrawal."""
    data = tmp_path / "data"
    data.mkdir()
    key = platform_key(data, "sync", "feedback", "match")
    rng = random.Random(7)
    md5 = hashlib.md5(b"a survivor's video", usedforsecurity=False).hexdigest()
    frames = [(rng.randbytes(32).hex(), float(t)) for t in range(4)]
    hashes = [
        {"algorithm": "vpdq", "hash": h, "timestamp": t, "quality": 90, "image": 0}
        for h, t in frames
    ] + [{"algorithm": "md5", "hash": md5, "image": 0}]
    assert {s.name for s in StopNCIISignalType} == {
        "Unknown",
        "ImagePDQ",
        "VideoMD5",
        "VideoTMK",
        "Text",
        "URL",
    }
    with (
        Server(data, tmp_path / "server.log") as server,
        httpx.Client(base_url=server.url) as client,
    ):
        created = client.post("/v1/cases", json={"hashes": hashes})
        assert created.status_code == 201, created.text
        case_id, case_key = created.json()["case_id"], created.json()["case_key"]
        api = StopNCIIAPI(
            key,
            key,
            additional_function_keys={StopNCIIEndpoint.SubmitFeedback: key},
            base_url_override=f"{server.url}/stopncii/v1",
        )
        (record,) = [rec for page in api.fetch_hashes_iter() for rec in page.hashRecords]
        assert (record.signalType, record.hashValue) == (StopNCIISignalType.VideoMD5, md5)
        assert record.hashStatus == StopNCIICaseStatus.Active
        ((ref, state),) = record.caseNumbers.items()
        assert state == StopNCIICaseStatus.Active
        assert case_id not in ref

        # A platform holding only the file's MD5 finds the video through both match routes.
        headers = {"X-API-Key": key}
        by_md5 = client.post(
            "/v1/match", json={"items": [{"algorithm": "md5", "hash": md5}]}, headers=headers
        )
        assert [m["algorithm"] for m in by_md5.json()["results"][0]["matches"]] == ["md5"]
        as_video = client.post("/v1/match/video", json={"frames": [], "md5": md5}, headers=headers)
        assert as_video.status_code == 200, as_video.text
        assert [m["algorithm"] for m in as_video.json()["matches"]] == ["md5"]

        api.submit_feedback(StopNCIISignalType.VideoMD5, md5, StopNCIICSPFeedbackValue.Blocked)
        status = client.get(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key}).json()
        assert status["outcome_counts"].get("removed") == 1

        client.delete(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key})
        (gone,) = [rec for page in api.fetch_hashes_iter() for rec in page.hashRecords]
        assert (gone.hashValue, gone.hashStatus) == (md5, StopNCIICaseStatus.Withdrawn)
        assert gone.caseNumbers == {ref: StopNCIICaseStatus.Withdrawn}
    log = (tmp_path / "server.log").read_text()
    assert md5 not in log
    assert all(h not in log for h, _ in frames)
    assert case_id not in log
