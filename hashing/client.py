"""A small HTTP client for a hashbank service: survivors' case calls and platforms' matching.

Only hashes travel; images stay on the device that hashed them.
"""

from collections.abc import Sequence
from typing import Any

import httpx

from hashing.algorithm import Hash

DEFAULT_SERVER = "http://127.0.0.1:8000"


class ServiceError(Exception):
    """The service refused a request; carries its status, error code and message."""

    def __init__(
        self, status: int, code: str, message: str, details: list[Any] | None = None
    ) -> None:
        super().__init__(f"{message} (HTTP {status}, {code})")
        self.status, self.code, self.message, self.details = status, code, message, details or []


class HashbankClient:
    def __init__(
        self,
        server: str = DEFAULT_SERVER,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"X-API-Key": api_key} if api_key else {}
        self._http = httpx.Client(
            base_url=server.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )

    def __enter__(self) -> "HashbankClient":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- survivor ------------------------------------------------------------------

    def create_case(
        self, hashes: Sequence[Hash], images: Sequence[int] | None = None
    ) -> dict[str, Any]:
        """`images`: which image of this request each hash is of (0, 1, ...), so that a
        dispute treats one image's hashes (`hashing.policy`) together."""
        return self._call("POST", "/v1/cases", json={"hashes": _payload(hashes, images)})

    def case_status(self, case_id: str, case_key: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key})

    def add_hashes(
        self,
        case_id: str,
        case_key: str,
        hashes: Sequence[Hash],
        images: Sequence[int] | None = None,
    ) -> dict[str, Any]:
        return self._call(
            "POST",
            f"/v1/cases/{case_id}/hashes",
            json={"hashes": _payload(hashes, images)},
            headers={"X-Case-Key": case_key},
        )

    def withdraw(self, case_id: str, case_key: str) -> dict[str, Any]:
        return self._call("DELETE", f"/v1/cases/{case_id}", headers={"X-Case-Key": case_key})

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
        return self._call("POST", "/v1/match", json={"items": body})

    def feedback(self, match_id: str, outcome: str) -> dict[str, Any]:
        return self._call("POST", "/v1/feedback", json={"match_id": match_id, "outcome": outcome})

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._http.request(method, path, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 400:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise ServiceError(
                response.status_code,
                error.get("code", "http_error"),
                error.get("message", response.reason_phrase),
                error.get("details"),
            )
        return body if isinstance(body, dict) else {"data": body}


def _payload(hashes: Sequence[Hash], images: Sequence[int] | None) -> list[dict[str, Any]]:
    items = [{"algorithm": h.algorithm, "hash": h.hex, "quality": h.quality} for h in hashes]
    if images is not None:
        for item, image in zip(items, images, strict=True):
            item["image"] = image
    return items
