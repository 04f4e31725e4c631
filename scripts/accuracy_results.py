"""What the accuracy benchmark records (`scripts/bench_accuracy.py`): per query, per
image, per transform row and per policy row.
"""

from dataclasses import dataclass, field
from pathlib import Path

from accuracy_transforms import TRANSFORMS

WIDE = 64  # radius of the extra search that measures margins (closest unrelated distance)


@dataclass
class Query:
    """One image as a platform hashes it: codes per policy row (None: not hashable).

    For the second stage: the default policy's hashes by form, and the 64-bit hashes of
    the trimmed image in each dihedral orientation (`DIHEDRAL_TRANSPOSES`), with their time.
    """

    codes: dict[str, list[bytes] | None]
    hash_seconds: dict[str, float]
    forms: list[list[bytes]] = field(default_factory=list)
    second: dict[str, list[bytes]] = field(default_factory=dict)


@dataclass
class ImageResult:
    path: Path
    submitted: dict[str, list[bytes]] = field(default_factory=dict)  # empty: not hashable
    second: dict[str, bytes] = field(default_factory=dict)  # 64-bit hashes of the trimmed image
    original: Query | None = None
    copies: dict[str, Query] = field(default_factory=dict)
    decode_seconds: float = 0.0
    error: str | None = None


@dataclass
class Row:
    found: int = 0
    total: int = 0
    unhashable: int = 0
    near_misses: int = 0  # missed, but own original within WIDE


@dataclass
class PolicyStats:
    rows: dict[str, Row] = field(default_factory=lambda: {t: Row() for t in TRANSFORMS})
    stored: int = 0
    original_pairs: set[tuple[int, int]] = field(default_factory=set)
    cross_false: int = 0  # (copy, other original) pairs that matched
    cross_false_queries: int = 0  # copies that matched at least one other original
    closest_unrelated: int = WIDE + 1
    query_hashes: int = 0
    queries: int = 0
    hash_seconds: float = 0.0
    search_seconds: float = 0.0
    examples: list[str] = field(default_factory=list)
    # Copies missed: (transform, image, distance to their own original; None: unhashable).
    misses: list[tuple[str, str, int | None]] = field(default_factory=list)
