"""A small HTTP client for a hashbank service: survivors' case calls and platforms' matching.

Only hashes travel; images stay on the device that hashed them. Every call
returns the service's JSON object, or raises `ServiceError` (refused) or
`ServiceUnreachable` (no answer), both `ClientError` (`hashing.transport`).
Requests are kept within the server's limits (`GET /v1/limits`, `limits()`):
`case_batches` packs a case's images and videos into requests, `match` splits its items.
"""

from collections.abc import Sequence
from typing import Any

import httpx

from hashing.algorithm import Hash
from hashing.case_items import CaseBatch, CaseItem, pack_items
from hashing.limits import Limits, batches
from hashing.transport import ClientError, ServiceError, ServiceUnreachable, Transport

__all__ = [
    "DEFAULT_SERVER",
    "CaseBatch",
    "CaseItem",
    "ClientError",
    "HashbankClient",
    "Limits",
    "ServiceError",
    "ServiceUnreachable",
]

DEFAULT_SERVER = "http://127.0.0.1:8000"


class HashbankClient:
    """One connection to a hashbank service (`server`); `api_key` only for platform calls."""

    def __init__(
        self,
        server: str = DEFAULT_SERVER,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._transport = Transport(server, api_key=api_key, timeout=timeout, transport=transport)

    def __enter__(self) -> "HashbankClient":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    def limits(self) -> Limits:
        """This server's limits per request (`GET /v1/limits`), asked on first use and
        kept; `hashing.limits.DEFAULT_LIMITS` from a server older than that route."""
        return self._transport.limits()

    # -- survivor ------------------------------------------------------------------

    def case_batches(self, items: Sequence[CaseItem | Sequence[Hash]]) -> list[CaseBatch]:
        """Images' hashes (`hashing.policy.submission_hashes` of each, or a `CaseItem`)
        and videos (`CaseItem.video`) packed into case requests within this server's
        `case_hashes` and `video_frames` (`hashing.case_items.pack_items`): the first
        for `create_case`, the others for `add_hashes`."""
        limits = self.limits()
        packed = [i if isinstance(i, CaseItem) else CaseItem.image(i) for i in items]
        return pack_items(packed, limits.case_hashes, limits.video_frames)

    def create_case(
        self,
        hashes: Sequence[Hash],
        images: Sequence[int] | None = None,
        times: Sequence[float | None] | None = None,
        variants: Sequence[bool] | None = None,
    ) -> dict[str, Any]:
        """`images`: which image or video of this request each hash is of (0, 1, ...),
        so that a dispute treats one item's hashes (`hashing.case_items`) together;
        `times`: each video frame's time in seconds (None for other hashes);
        `variants`: whether each is another form of a video frame."""
        return self._transport.request_json(
            "POST", "/v1/cases", json={"hashes": _payload(hashes, images, times, variants)}
        )

    def case_status(self, case_id: str, case_key: str) -> dict[str, Any]:
        return self._transport.request_json("GET", f"/v1/cases/{case_id}", case_key=case_key)

    def add_hashes(
        self,
        case_id: str,
        case_key: str,
        hashes: Sequence[Hash],
        images: Sequence[int] | None = None,
        times: Sequence[float | None] | None = None,
        variants: Sequence[bool] | None = None,
    ) -> dict[str, Any]:
        return self._transport.request_json(
            "POST",
            f"/v1/cases/{case_id}/hashes",
            json={"hashes": _payload(hashes, images, times, variants)},
            case_key=case_key,
        )

    def withdraw(self, case_id: str, case_key: str) -> dict[str, Any]:
        return self._transport.request_json("DELETE", f"/v1/cases/{case_id}", case_key=case_key)

    # -- platform ------------------------------------------------------------------

    def match(
        self, items: Sequence[Sequence[Hash]], refs: Sequence[str | None] | None = None
    ) -> dict[str, Any]:
        """Match items; each item is a hash followed by its variants (may be just one).

        Sent in requests within this server's `match_items` and `match_hashes`; the
        reply is one `{"results": [...]}` with `index` counted across all items.
        """
        body = [
            {
                "algorithm": group[0].algorithm,
                "hash": group[0].hex,
                "variants": [h.hex for h in group[1:]],
                "ref": refs[i] if refs else None,
            }
            for i, group in enumerate(items)
        ]
        if not body:
            return {"results": []}
        limits = self.limits()
        results: list[Any] = []
        sizes = [len(group) for group in items]
        for start, end in batches(sizes, limits.match_items, limits.match_hashes):
            reply = self._transport.request_json(
                "POST", "/v1/match", json={"items": body[start:end]}
            )
            for result in reply.get("results", []):
                if isinstance(result, dict) and isinstance(result.get("index"), int):
                    result = {**result, "index": start + result["index"]}
                results.append(result)
        return {"results": results}

    def feedback(self, match_id: str, outcome: str) -> dict[str, Any]:
        return self._transport.request_json(
            "POST", "/v1/feedback", json={"match_id": match_id, "outcome": outcome}
        )


def _payload(
    hashes: Sequence[Hash],
    images: Sequence[int] | None,
    times: Sequence[float | None] | None,
    variants: Sequence[bool] | None = None,
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [
        {"algorithm": h.algorithm, "hash": h.hex, "quality": h.quality} for h in hashes
    ]
    if images is not None:
        for item, image in zip(items, images, strict=True):
            item["image"] = image
    if times is not None:
        for item, time in zip(items, times, strict=True):
            if time is not None:
                item["timestamp"] = time
    if variants is not None:
        for item, variant in zip(items, variants, strict=True):
            if variant:
                item["variant"] = True
    return items
