"""Snapshots round-trip; damaged or mismatched ones are refused with SnapshotError."""

import json
from pathlib import Path

import numpy as np
import pytest

from index import ExactIndex, IndexConfig, SnapshotError, load_snapshot


def saved(tmp_path: Path, n: int = 300) -> tuple[Path, ExactIndex, np.ndarray]:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    index = ExactIndex(256, IndexConfig(kind="flat"), "pdq")
    index.add(np.arange(n, dtype=np.int64) * 2, codes)
    index.remove(np.array([0, 2, 4]))
    path = tmp_path / "snap" / "pdq"
    index.save(path, seq=1234)
    return path, index, codes


def test_round_trip(tmp_path: Path) -> None:
    path, index, codes = saved(tmp_path)
    loaded, seq = load_snapshot(path, "pdq", 256, IndexConfig(kind="mih"))
    assert seq == 1234
    assert len(loaded) == len(index) == 297
    assert sorted(loaded.ids().tolist()) == sorted(index.ids().tolist())
    for query in codes[::37]:
        a, b = index.search(query, 31), loaded.search(query, 31)
        assert dict(zip(a[0].tolist(), a[1].tolist(), strict=True)) == dict(
            zip(b[0].tolist(), b[1].tolist(), strict=True)
        )
    assert not list(path.parent.glob(".*.tmp"))  # no temporary files left behind


def test_empty_round_trip(tmp_path: Path) -> None:
    ExactIndex(64, algorithm="phash").save(tmp_path / "phash", seq=0)
    loaded, seq = load_snapshot(tmp_path / "phash", "phash", 64)
    assert (len(loaded), seq) == (0, 0)


def test_flipped_byte_is_refused(tmp_path: Path) -> None:
    path, _, _ = saved(tmp_path)
    data = path.with_name("pdq.data")
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    data.write_bytes(bytes(raw))
    with pytest.raises(SnapshotError, match="checksum"):
        load_snapshot(path, "pdq", 256)


def test_truncated_file_is_refused(tmp_path: Path) -> None:
    path, _, _ = saved(tmp_path)
    data = path.with_name("pdq.data")
    data.write_bytes(data.read_bytes()[:-100])
    with pytest.raises(SnapshotError, match="truncated"):
        load_snapshot(path, "pdq", 256)


def test_wrong_algorithm_or_width_is_refused(tmp_path: Path) -> None:
    path, _, _ = saved(tmp_path)
    with pytest.raises(SnapshotError, match="expected phash/256"):
        load_snapshot(path, "phash", 256)
    with pytest.raises(SnapshotError, match="expected pdq/64"):
        load_snapshot(path, "pdq", 64)


def test_missing_or_garbled_manifest_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="no snapshot"):
        load_snapshot(tmp_path / "absent", "pdq", 256)
    path, _, _ = saved(tmp_path)
    manifest = path.with_name("pdq.json")
    manifest.write_text("{not json")
    with pytest.raises(SnapshotError, match="unreadable"):
        load_snapshot(path, "pdq", 256)
    manifest.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(SnapshotError, match="format"):
        load_snapshot(path, "pdq", 256)
