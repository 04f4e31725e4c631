"""How an index chooses its search structure."""

from dataclasses import dataclass
from typing import Literal

Kind = Literal["auto", "flat", "mih"]


@dataclass(frozen=True)
class IndexConfig:
    """`auto` uses FAISS Flat below `mih_min_size` codes and multi-index hashing above.

    Both answer exactly the same; the choice is only about speed and memory.
    `delta_max` bounds the unsorted buffer of recent additions that the
    multi-index structure scans linearly before merging them in.
    """

    kind: Kind = "auto"
    mih_min_size: int = 50_000
    delta_max: int = 4096
