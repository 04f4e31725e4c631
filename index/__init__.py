"""hashbank index: exact radius search over binary hashes, backed by FAISS.

from index import ExactIndex, IndexConfig
idx = ExactIndex(256, IndexConfig(), algorithm="pdq")
idx.add(ids, codes)                      # int64 ids, uint8 codes (n, 32)
ids, distances = idx.search(code, 31)    # every stored code within 31 bits, inclusive
"""

from index.config import IndexConfig
from index.errors import InvalidCodes, SnapshotError
from index.exact import ExactIndex
from index.groups import best_per_id, search_dihedral
from index.protocol import RadiusIndex
from index.snapshot import load_snapshot, write_snapshot


def create_index(algorithm: str, bits: int, config: IndexConfig | None = None) -> ExactIndex:
    return ExactIndex(bits, config, algorithm)


__all__ = [
    "ExactIndex",
    "IndexConfig",
    "InvalidCodes",
    "RadiusIndex",
    "SnapshotError",
    "best_per_id",
    "create_index",
    "load_snapshot",
    "search_dihedral",
    "write_snapshot",
]
