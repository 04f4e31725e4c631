"""The create page with videos, in headless Chromium against the live service.

The page hashes a reference video (the chair scene's SD original, an H.264 MP4
that Chromium plays as it is), sends nothing but its hashes (every request of
the page and its worker recorded: all to the service's own origin, the only
body the case request's hashes JSON, no slice of the video in it), and the
case then matches the grey version of the same scene when a platform sends
that version's frames, hashed by the Python client (`video_signals`), to
`POST /v1/match/video`. Cancel stops the seeking and the worker's work and
nothing is sent; the limits come from `GET /v1/limits` and are stated; videos
beyond one request's frames go in further requests of whole videos.
"""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import av.video.stream
import httpx
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, Request, Route, expect

from hashing import video_signals
from hashing.video_forms import QUERIED, SUBMITTED
from hashing.vpdq import VPDQ_ALGORITHM, hash_video, select_frames
from tests.browser.test_pages import _screenshot
from tests.conftest import BSDS500, VPDQ_REFERENCE
from tests.e2e.server import Server
from tests.e2e.server import platform_key as issue_key
from tests.hashing.videos import reencode

VIDEOS = VPDQ_REFERENCE / "videos"
ORIGINAL, GREY, OTHER = (
    VIDEOS / "chair-orig-22-sd-bar.mp4",
    VIDEOS / "chair-22-sd-grey-bar.mp4",
    VIDEOS / "doorknob-hd-no-bar.mp4",
)
MAX_DISTANCE = 24  # as test_video_hashing.py
MD5_KEYS = {"algorithm", "hash", "image"}
FRAME_KEYS = {"algorithm", "hash", "quality", "image", "timestamp"}
FORM_KEYS = {"algorithm", "hash", "image", "timestamp", "variant"}
PROBE = """
window.probe = { posted: 0, replies: 0, seeks: 0, last: null };
const NativeWorker = window.Worker;
window.Worker = class extends NativeWorker {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", ({ data }) => {
      window.probe.replies += 1;
      window.probe.last = Object.keys(data).sort().join(",");
    });
  }
  postMessage(...args) { window.probe.posted += 1; return super.postMessage(...args); }
};
const time = Object.getOwnPropertyDescriptor(HTMLMediaElement.prototype, "currentTime");
Object.defineProperty(HTMLMediaElement.prototype, "currentTime", {
  ...time,
  set(value) { window.probe.seeks += 1; time.set.call(this, value); },
});
"""


@dataclass
class Live:
    url: str
    platform_key: str


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("video-page")
    data = root / "data"
    data.mkdir()
    key = issue_key(data, "match", platform="Video Test")
    with Server(data, root / "server.log") as server:
        yield Live(server.url, key)
    assert key not in (root / "server.log").read_text()


@dataclass
class Recorded:
    requests: list[Request]
    refused: list[str]  # URLs the context would not let out


def recording_context(browser: Browser, live: Live) -> tuple[BrowserContext, Recorded]:
    """A context whose every request (the page's and its worker's) is recorded; anything
    not for the service's own origin is refused and noted."""
    context = browser.new_context()
    recorded = Recorded([], [])

    def only_local(route: Route) -> None:
        if route.request.url.startswith(live.url + "/"):
            route.continue_()
        else:
            recorded.refused.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    context.on("request", lambda request: recorded.requests.append(request))
    return context, recorded


def distance(a: str, b: str) -> int:
    return VPDQ_ALGORITHM.distance(VPDQ_ALGORITHM.parse(a), VPDQ_ALGORITHM.parse(b))


def _bodies(recorded: Recorded, live: Live) -> list[tuple[str, list[dict[str, Any]]]]:
    """Checks every request and returns the (URL, hashes) of those with a body."""
    assert recorded.refused == []  # nothing was even tried elsewhere
    out = []
    for r in recorded.requests:
        local = r.url.startswith(live.url + "/")
        blob = r.url.startswith(f"blob:{live.url}/")  # the page's own object URL, no network
        assert local or blob, r.url
        if r.post_data_buffer is None:
            assert r.method == "GET", (r.method, r.url)
            continue
        assert local, r.url
        assert r.method == "POST", r.url
        payload = json.loads(r.post_data_buffer)
        assert set(payload) == {"hashes"}
        out.append((r.url.removeprefix(live.url), payload["hashes"]))
    return out


def _match_video(live: Live, video: Path | bytes) -> list[dict[str, Any]]:
    """What a platform gets for `video`, hashed by the Python client (frames and their
    queried forms, as `PlatformClient.match_video` sends them)."""
    signals = video_signals(video, forms=QUERIED)
    frames = [
        {
            "hash": f.hex,
            "quality": f.quality,
            "timestamp": f.timestamp,
            "variants": [v.hex() for v in f.variants],
        }
        for f in signals.frames
    ]
    r = httpx.post(
        f"{live.url}/v1/match/video",
        json={"frames": frames, "md5": signals.md5.hex, "ref": "upload"},
        headers={"X-API-Key": live.platform_key},
    )
    assert r.status_code == 200, r.text
    matches: list[dict[str, Any]] = r.json()["matches"]
    return matches


def _create(page: Page, live: Live, files: list[Path]) -> tuple[str, str]:
    page.set_input_files("#files", [str(f) for f in files])
    expect(page.locator("#submit")).to_be_enabled(timeout=120_000)
    page.click("#submit")
    page.wait_for_selector("#created:not(.hidden)", timeout=60_000)
    return page.inner_text("#case-id"), page.inner_text("#case-key")


def test_the_page_hashes_a_video_sends_only_hashes_and_the_grey_version_matches(
    browser: Browser, live: Live
) -> None:
    context, recorded = recording_context(browser, live)
    page = context.new_page()
    page.goto(f"{live.url}/")
    expect(page.locator("#video-limits")).to_contain_text("up to 60 minutes long and 1 GB each")
    case_id, key = _create(page, live, [ORIGINAL])
    context.close()

    ((url, sent),) = _bodies(recorded, live)
    assert url == "/v1/cases"
    video = ORIGINAL.read_bytes()
    body = next(r.post_data_buffer for r in recorded.requests if r.post_data_buffer) or b""
    for start in range(0, len(video) - 64, 4096):
        assert video[start : start + 64] not in body
    assert {h["image"] for h in sent} == {0}  # one video: one item of the request
    md5s = [h for h in sent if h["algorithm"] == "md5"]
    frames = [h for h in sent if h["algorithm"] == "vpdq" and "variant" not in h]
    forms = [h for h in sent if h["algorithm"] == "vpdq" and "variant" in h]
    assert len(md5s) + len(frames) + len(forms) == len(sent)
    assert [set(h) for h in md5s] == [MD5_KEYS]
    assert md5s[0]["hash"] == hashlib.md5(video).hexdigest()
    assert all(set(h) == FRAME_KEYS for h in frames)
    assert len(body) < 200 * len(sent)
    # The frames are the Python client's, within a few bits, at the same times.
    python = select_frames(hash_video(ORIGINAL, forms=SUBMITTED).frames)
    assert [h["timestamp"] for h in frames] == pytest.approx([f.timestamp for f in python])
    assert all(h["quality"] >= 50 for h in frames)
    assert max(distance(h["hash"], f.hex) for h, f in zip(frames, python, strict=True)) <= 24
    # Each frame's other forms follow it, at its time, flagged: the Python client's forms.
    assert all(set(h) == FORM_KEYS and h["variant"] is True for h in forms)
    for frame, ours in zip(frames, python, strict=True):
        theirs = [h["hash"] for h in forms if h["timestamp"] == frame["timestamp"]]
        assert len(theirs) == len(ours.variants)
        assert all(distance(a, b.hex()) <= 24 for a, b in zip(theirs, ours.variants, strict=True))

    status = httpx.get(f"{live.url}/v1/cases/{case_id}", headers={"X-Case-Key": key}).json()
    assert sorted(h["algorithm"] for h in status["hashes"]) == ["md5"] + ["vpdq"] * (
        len(frames) + len(forms)
    )
    assert sum(h["variant"] for h in status["hashes"]) == len(forms)

    (found,) = _match_video(live, GREY)
    assert found["algorithm"] == "vpdq"
    assert found["stored_percent"] >= 80
    assert found["query_percent"] >= 80
    assert _match_video(live, OTHER) == []
    (same,) = _match_video(live, ORIGINAL)  # the same file: its MD5 and all its frames
    assert same["stored_percent"] == 100
    # A 10%-cropped, re-encoded copy: Meta's frames alone miss it, the page's forms find it.
    (cropped,) = _match_video(live, reencode(ORIGINAL, crop=0.1, bit_rate=300_000))
    assert cropped["stored_percent"] >= 80


def _long_video(path: Path, seconds: int = 600) -> Path:
    """`seconds` of a photo panning slowly, 320 x 240 at 2 frames per second."""
    with Image.open(sorted(BSDS500.glob("*.jpg"))[0]) as im:
        photo = np.asarray(im.convert("RGB").resize((640, 240)))
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=2)
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for i in range(seconds * 2):
            x = (i * 7) % 320
            frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(photo[:, x : x + 320]), format="rgb24"
            )
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_cancel_stops_the_seeking_and_the_worker_and_nothing_is_sent(
    browser: Browser, live: Live, tmp_path: Path
) -> None:
    long = _long_video(tmp_path / "long-video.mp4")
    context, recorded = recording_context(browser, live)
    context.add_init_script(PROBE)
    page = context.new_page()
    page.goto(f"{live.url}/")
    page.set_input_files("#files", [str(long)])
    status = page.locator("#list li .state")
    expect(status).to_contain_text(" of 600 frames", timeout=60_000)
    page.wait_for_function("() => window.probe.seeks >= 5")
    _screenshot(page, "create-video-hashing")
    # By keyboard: Tab from the file chooser reaches the video's Cancel button.
    cancel = page.get_by_role("button", name="Cancel the fingerprints of long-video.mp4")
    page.focus("#files")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Cancel":
            break
    expect(cancel).to_be_focused()
    page.keyboard.press("Enter")
    expect(status).to_have_text("Cancelled: nothing of this video will be sent")
    expect(cancel).to_have_count(0)
    stopped = page.evaluate("({ ...window.probe })")
    assert stopped["last"] == "cancelled"  # the worker's last word: it let the job go
    assert stopped["seeks"] < 100
    page.wait_for_timeout(2_000)
    assert page.evaluate("({ ...window.probe })") == stopped  # no seek, no worker message
    expect(page.locator("#summary")).to_have_text("Nothing ready to send, 1 video cancelled.")
    expect(page.locator("#submit")).to_be_disabled()
    assert _bodies(recorded, live) == []

    # The page goes on: a photo then is sent alone, without anything of the video.
    page.set_input_files("#files", [str(sorted(BSDS500.glob("*.jpg"))[0])])
    expect(page.locator("#submit")).to_be_enabled(timeout=60_000)
    page.click("#submit")
    page.wait_for_selector("#created:not(.hidden)", timeout=60_000)
    context.close()
    ((url, sent),) = _bodies(recorded, live)
    assert url == "/v1/cases"
    assert {h["algorithm"] for h in sent} == {"pdq"}


def _limits(video_frames: int) -> str:
    return json.dumps({"case_hashes": 100, "video_frames": video_frames})


def test_the_servers_frame_limit_sets_the_length_stated_and_splits_requests(
    browser: Browser, live: Live, tmp_path: Path
) -> None:
    context, recorded = recording_context(browser, live)
    page = context.new_page()
    page.route(
        "**/v1/limits",
        lambda route: route.fulfill(content_type="application/json", body=_limits(6)),
    )
    page.goto(f"{live.url}/")
    expect(page.locator("#video-limits")).to_contain_text("up to 6 seconds long")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"this is no video " * 500)
    padded, doorknob = VIDEOS / "test-padded-dimensions.mp4", VIDEOS / "doorknob-hd-no-bar.mp4"
    page.set_input_files("#files", [str(ORIGINAL), str(broken), str(padded), str(doorknob)])
    expect(page.locator("#submit")).to_be_enabled(timeout=120_000)
    rows = page.locator("#list li")
    expect(rows.nth(0)).to_contain_text("longer than 6 seconds")
    expect(rows.nth(1)).to_contain_text("this browser cannot play this video")
    expect(rows.nth(2)).to_contain_text("frame fingerprints ready")
    expect(page.locator("#summary")).to_have_text(
        "2 videos ready to send, 2 files could not be used."
    )
    _screenshot(page, "create-videos-limits")
    page.click("#submit")
    page.wait_for_selector("#created:not(.hidden)", timeout=60_000)
    case_id, key = page.inner_text("#case-id"), page.inner_text("#case-key")
    context.close()

    sent = _bodies(recorded, live)
    assert [url for url, _ in sent] == ["/v1/cases", f"/v1/cases/{case_id}/hashes"]
    expected_md5 = [hashlib.md5(p.read_bytes()).hexdigest() for p in (padded, doorknob)]
    for (_, hashes), md5 in zip(sent, expected_md5, strict=True):
        assert sum(h["algorithm"] == "vpdq" for h in hashes) <= 6
        assert {h["image"] for h in hashes} == {0}  # a whole video in each
        assert [h["hash"] for h in hashes if h["algorithm"] == "md5"] == [md5]
    status = httpx.get(f"{live.url}/v1/cases/{case_id}", headers={"X-Case-Key": key}).json()
    assert len(status["hashes"]) == sum(len(h) for _, h in sent)  # the case holds both
