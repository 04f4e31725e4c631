"""Index snapshots: a data file and a manifest, written atomically, checked on load.

`<path>.data` holds the live ids (int64, little-endian) followed by their
codes; `<path>.json` records the format, algorithm, width, count, the last
change-log sequence the snapshot contains, and the data file's SHA-256. Each
file is written to a temporary name, fsynced and renamed into place
(`hashing.atomic`), data first, so a crash leaves either the old snapshot or
the new one. Loading
refuses anything that does not check out, so the caller rebuilds instead.
"""

import hashlib
import json
from pathlib import Path

import numpy as np

from hashing.atomic import write_atomically
from index.errors import SnapshotError
from index.protocol import Codes, Ids

FORMAT = "hashbank-index-snapshot/1"


def _paths(path: Path) -> tuple[Path, Path]:
    return path.with_name(path.name + ".data"), path.with_name(path.name + ".json")


def write_snapshot(path: Path, algorithm: str, bits: int, seq: int, ids: Ids, codes: Codes) -> None:
    data_path, manifest_path = _paths(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = np.asarray(ids, "<i8").tobytes() + np.ascontiguousarray(codes, np.uint8).tobytes()
    manifest = {
        "format": FORMAT,
        "algorithm": algorithm,
        "bits": bits,
        "count": len(ids),
        "seq": int(seq),
        "bytes": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
    }
    write_atomically(data_path, payload)
    write_atomically(manifest_path, json.dumps(manifest, indent=1).encode())


def read_snapshot(path: Path, algorithm: str, bits: int) -> tuple[Ids, Codes, int]:
    """The ids and codes saved at `path` and the change sequence they contain.

    Raises `SnapshotError` when the snapshot is missing or unusable.
    """
    data_path, manifest_path = _paths(path)
    try:
        manifest = json.loads(manifest_path.read_bytes())
        payload = data_path.read_bytes()
    except FileNotFoundError:
        raise SnapshotError(f"no snapshot at {path}") from None
    except (OSError, ValueError) as exc:
        raise SnapshotError(f"snapshot manifest unreadable: {type(exc).__name__}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SnapshotError("not a hashbank index snapshot, or an unknown format version")
    if manifest.get("algorithm") != algorithm or manifest.get("bits") != bits:
        raise SnapshotError(
            f"snapshot is for {manifest.get('algorithm')}/{manifest.get('bits')} bits, "
            f"expected {algorithm}/{bits}"
        )
    count, row = manifest.get("count"), 8 + bits // 8
    if (
        not isinstance(count, int)
        or len(payload) != manifest.get("bytes")
        or len(payload) != count * row
    ):
        raise SnapshotError("snapshot data is truncated or has the wrong size")
    if hashlib.sha256(payload).hexdigest() != manifest.get("sha256"):
        raise SnapshotError("snapshot data does not match its checksum (corrupt)")
    seq = manifest.get("seq")
    if not isinstance(seq, int) or seq < 0:
        raise SnapshotError("snapshot manifest has no valid change sequence")
    ids = np.frombuffer(payload, "<i8", count).astype(np.int64)
    codes = np.frombuffer(payload, np.uint8, offset=8 * count).reshape(count, bits // 8)
    return ids, codes, seq
