"""Search groups of codes that stand for one image (e.g. its 8 dihedral PDQ hashes)."""

from collections.abc import Sequence

import numpy as np

from index.protocol import Codes, RadiusIndex


def best_per_id(index: RadiusIndex, groups: Sequence[Codes], radius: int) -> list[dict[int, int]]:
    """For each group, every stored id within `radius` of any member, with its best distance.

    One batch search covers all groups, so 100 images x 8 rotations cost one call.
    """
    results: list[dict[int, int]] = [{} for _ in groups]
    sizes = [len(g) for g in groups]
    if not sum(sizes):
        return results
    found = index.search_batch(
        np.concatenate([np.asarray(g, np.uint8) for g in groups if len(g)]), radius
    )
    owners = np.repeat(np.arange(len(groups)), sizes)
    for owner, (ids, distances) in zip(owners.tolist(), found, strict=True):
        best = results[owner]
        for i, d in zip(ids.tolist(), distances.tolist(), strict=True):
            if d < best.get(i, radius + 1):
                best[i] = d
    return results


def search_dihedral(index: RadiusIndex, variants: Codes, radius: int) -> dict[int, int]:
    """The 8 hashes of one image: per stored id, the best distance over all of them."""
    return best_per_id(index, [variants], radius)[0]
