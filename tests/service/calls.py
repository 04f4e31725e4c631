"""Calls to the service's API that the service tests share (through `TestClient`)."""

from typing import Any

import httpx
from fastapi.testclient import TestClient


class Via(httpx.BaseTransport):
    """A client's requests (`HashbankClient`, `PlatformClient`), sent through a
    TestClient to the app in this process; `paths` and `bodies` record what was sent."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.paths: list[tuple[str, str]] = []  # (method, path)
        self._bodies: list[tuple[str, bytes]] = []

    def bodies(self, path: str) -> list[bytes]:
        """The bodies sent to `path`, in order."""
        return [body for sent_to, body in self._bodies if sent_to == path]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append((request.method, request.url.path))
        self._bodies.append((request.url.path, request.read()))
        answer = self.client.request(
            request.method, str(request.url), headers=dict(request.headers), content=request.read()
        )
        return httpx.Response(
            answer.status_code,
            headers={"Content-Type": answer.headers.get("content-type", "")},
            content=answer.content,
        )


def case(client: TestClient, *values: str) -> tuple[str, str]:
    r = client.post("/v1/cases", json={"hashes": [{"algorithm": "pdq", "hash": v} for v in values]})
    assert r.status_code == 201, r.text
    return r.json()["case_id"], r.json()["case_key"]


def match(client: TestClient, key: str, value: str) -> list[dict[str, Any]]:
    r = client.post(
        "/v1/match",
        json={"items": [{"algorithm": "pdq", "hash": value}]},
        headers={"X-API-Key": key},
    )
    assert r.status_code == 200, r.text
    matches: list[dict[str, Any]] = r.json()["results"][0]["matches"]
    return matches


def report(client: TestClient, key: str, match_id: str, outcome: str) -> None:
    r = client.post(
        "/v1/feedback", json={"match_id": match_id, "outcome": outcome}, headers={"X-API-Key": key}
    )
    assert r.status_code == 200, r.text


def feed(client: TestClient, key: str, cursor: str = "0", limit: int = 500) -> dict[str, Any]:
    r = client.get(
        "/v1/hashes/changes", params={"cursor": cursor, "limit": limit}, headers={"X-API-Key": key}
    )
    assert r.status_code == 200, r.text
    page: dict[str, Any] = r.json()
    return page


def stopncii(key: str) -> dict[str, str]:
    return {"Ocp-Apim-Subscription-Key": key, "x-functions-key": key}


def case_of_images(client: TestClient, *images: list[str]) -> tuple[str, str]:
    hashes = [
        {"algorithm": "pdq", "hash": v, "image": i}
        for i, values in enumerate(images)
        for v in values
    ]
    r = client.post("/v1/cases", json={"hashes": hashes})
    assert r.status_code == 201, r.text
    return r.json()["case_id"], r.json()["case_key"]


def video(seed: int, frames: int = 5) -> tuple[list[tuple[str, float]], str]:
    """A made-up video: (frame hash, time) at 1 per second, and its MD5."""
    import random

    rng = random.Random(f"video-{seed}")
    return [(rng.randbytes(32).hex(), float(t)) for t in range(frames)], rng.randbytes(16).hex()


def video_case(
    client: TestClient, *videos: tuple[list[tuple[str, float]], str | None]
) -> tuple[str, str]:
    """A case of these videos (numbered 0, 1, ...): each its vPDQ frames (quality 90) and MD5."""
    hashes: list[dict[str, object]] = []
    for number, (frames, md5) in enumerate(videos):
        hashes += [
            {"algorithm": "vpdq", "hash": h, "timestamp": t, "quality": 90, "image": number}
            for h, t in frames
        ]
        if md5 is not None:
            hashes.append({"algorithm": "md5", "hash": md5, "image": number})
    r = client.post("/v1/cases", json={"hashes": hashes})
    assert r.status_code == 201, r.text
    return r.json()["case_id"], r.json()["case_key"]


def withdraw(client: TestClient, case_id: str, case_key: str) -> None:
    r = client.delete(f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key})
    assert r.status_code == 200, r.text
