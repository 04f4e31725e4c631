"""The second photo set's manifest (scripts/photos-2.json) agrees with its checksums."""

import importlib
import json
from collections import Counter

import pytest

from tests.conftest import REPO


def test_manifest_names_match_the_checksums(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    fetch_photos = importlib.import_module("fetch_photos")
    sources = json.loads(fetch_photos.MANIFEST.read_text())
    assert {s["registry"] for s in sources} <= set(fetch_photos.FETCHERS)
    names = [name for s in sources for name in fetch_photos.photo_names(s).values()]
    assert [n for n, count in Counter(names).items() if count > 1] == []
    listed = [line.split("  ")[1] for line in fetch_photos.CHECKSUMS.read_text().splitlines()]
    assert sorted(names) == sorted(listed)
    # A file inside a Qt bundle is named after the bundle too, so two activities' files never clash.
    source = {"prefix": "g", "members": ["r/a.rcc!x/y.webp", "r/b.rcc!x/y.webp", "z/c.jpg"]}
    assert list(fetch_photos.photo_names(source).values()) == [
        "g-a-y.webp",
        "g-b-y.webp",
        "g-c.jpg",
    ]
