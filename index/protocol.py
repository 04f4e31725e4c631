"""The interface of an exact radius index over fixed-width binary codes."""

from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

Ids = npt.NDArray[np.int64]
Codes = npt.NDArray[np.uint8]  # shape (n, bits // 8), big-endian bit order
Distances = npt.NDArray[np.int32]


class RadiusIndex(Protocol):
    """Which stored codes lie within Hamming distance `radius` (inclusive) of a query?

    Ids are the caller's int64 ids (the database's). Exact: every stored code
    within the radius is returned with its distance, nothing beyond it.
    """

    @property
    def bits(self) -> int: ...

    def __len__(self) -> int: ...

    def add(self, ids: Ids, codes: Codes) -> None: ...

    def remove(self, ids: Ids) -> int:
        """Remove ids (unknown ones are ignored); returns how many were removed."""
        ...

    def search(self, code: Codes, radius: int) -> tuple[Ids, Distances]: ...

    def search_batch(self, codes: Codes, radius: int) -> list[tuple[Ids, Distances]]: ...

    def ids(self) -> Ids: ...

    def save(self, path: Path, seq: int) -> None:
        """Write a snapshot recording that it contains every change up to `seq`."""
        ...
