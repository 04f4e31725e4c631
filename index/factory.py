"""Make the index a signal type needs, empty or from its snapshot.

Two kinds: `radius`, the exact Hamming radius index (`index.exact.ExactIndex`)
for perceptual hashes, and `exact`, the exact-value index
(`index.values.ValueIndex`) for cryptographic hashes. Both answer the
`RadiusIndex` interface and save the same snapshot format (`index.snapshot`).
"""

from pathlib import Path
from typing import Literal

from index.config import IndexConfig
from index.errors import InvalidCodes
from index.exact import ExactIndex
from index.protocol import RadiusIndex
from index.snapshot import read_snapshot
from index.values import ValueIndex

Kind = Literal["radius", "exact"]


def create_index(
    algorithm: str, bits: int, config: IndexConfig | None = None, kind: Kind = "radius"
) -> RadiusIndex:
    if kind == "radius":
        return ExactIndex(bits, config, algorithm)
    if kind == "exact":
        return ValueIndex(bits, algorithm)
    raise InvalidCodes(f"unknown index kind {kind!r}")


def load_snapshot(
    path: Path,
    algorithm: str,
    bits: int,
    config: IndexConfig | None = None,
    kind: Kind = "radius",
) -> tuple[RadiusIndex, int]:
    """The index saved at `path` and the change sequence it contains.

    Raises `SnapshotError` when the snapshot is missing or unusable.
    """
    ids, codes, seq = read_snapshot(path, algorithm, bits)
    index = create_index(algorithm, bits, config, kind)
    if len(ids):
        index.add(ids, codes)
    return index, seq
