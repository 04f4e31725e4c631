"""A small HTTP client for a hashbank service: survivors' case calls and platforms' matching.

Only hashes travel; images stay on the device that hashed them. Every call
returns the service's JSON object, or raises `ServiceError` (refused) or
`ServiceUnreachable` (no answer), both `ClientError` (`hashing.transport`).
"""

from collections.abc import Sequence
from typing import Any

import httpx

from hashing.algorithm import Hash
from hashing.transport import ClientError, ServiceError, ServiceUnreachable, Transport

__all__ = [
    "DEFAULT_SERVER",
    "ClientError",
    "HashbankClient",
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

    # -- survivor ------------------------------------------------------------------

    def create_case(
        self, hashes: Sequence[Hash], images: Sequence[int] | None = None
    ) -> dict[str, Any]:
        """`images`: which image of this request each hash is of (0, 1, ...), so that a
        dispute treats one image's hashes (`hashing.policy`) together."""
        return self._transport.request_json(
            "POST", "/v1/cases", json={"hashes": _payload(hashes, images)}
        )

    def case_status(self, case_id: str, case_key: str) -> dict[str, Any]:
        return self._transport.request_json("GET", f"/v1/cases/{case_id}", case_key=case_key)

    def add_hashes(
        self,
        case_id: str,
        case_key: str,
        hashes: Sequence[Hash],
        images: Sequence[int] | None = None,
    ) -> dict[str, Any]:
        return self._transport.request_json(
            "POST",
            f"/v1/cases/{case_id}/hashes",
            json={"hashes": _payload(hashes, images)},
            case_key=case_key,
        )

    def withdraw(self, case_id: str, case_key: str) -> dict[str, Any]:
        return self._transport.request_json("DELETE", f"/v1/cases/{case_id}", case_key=case_key)

    # -- platform ------------------------------------------------------------------

    def match(
        self, items: Sequence[Sequence[Hash]], refs: Sequence[str | None] | None = None
    ) -> dict[str, Any]:
        """Match items; each item is a hash followed by its dihedral variants (may be just one)."""
        body = [
            {
                "algorithm": group[0].algorithm,
                "hash": group[0].hex,
                "variants": [h.hex for h in group[1:]],
                "ref": refs[i] if refs else None,
            }
            for i, group in enumerate(items)
        ]
        return self._transport.request_json("POST", "/v1/match", json={"items": body})

    def feedback(self, match_id: str, outcome: str) -> dict[str, Any]:
        return self._transport.request_json(
            "POST", "/v1/feedback", json={"match_id": match_id, "outcome": outcome}
        )


def _payload(hashes: Sequence[Hash], images: Sequence[int] | None) -> list[dict[str, Any]]:
    items = [{"algorithm": h.algorithm, "hash": h.hex, "quality": h.quality} for h in hashes]
    if images is not None:
        for item, image in zip(items, images, strict=True):
            item["image"] = image
    return items
