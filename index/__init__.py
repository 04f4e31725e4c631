"""hashbank index: exact radius search over binary hashes (and exact-value search for MD5).

from index import ExactIndex, IndexConfig
idx = ExactIndex(256, IndexConfig(), algorithm="pdq")
idx.add(ids, codes)                      # int64 ids, uint8 codes (n, 32)
ids, distances = idx.search(code, 31)    # every stored code within 31 bits, inclusive
"""

from index.config import IndexConfig
from index.errors import InvalidCodes, SnapshotError
from index.exact import ExactIndex
from index.factory import create_index, load_snapshot
from index.groups import best_per_id, search_dihedral
from index.protocol import RadiusIndex
from index.snapshot import read_snapshot, write_snapshot
from index.values import ValueIndex

__all__ = [
    "ExactIndex",
    "IndexConfig",
    "InvalidCodes",
    "RadiusIndex",
    "SnapshotError",
    "ValueIndex",
    "best_per_id",
    "create_index",
    "load_snapshot",
    "read_snapshot",
    "search_dihedral",
    "write_snapshot",
]
