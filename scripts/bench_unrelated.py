#!/usr/bin/env python3
"""How close do unrelated pictures come? PDQ and pHash over tens of millions of pairs.

`bench_accuracy.py` compares a few hundred photos: no unrelated pair came within
64 bits, so it cannot say how often a looser rule (a second stage accepting PDQ
up to 48 bits when pHash agrees) would fire on unrelated pictures. This script
makes many more unrelated pictures by cutting every photo into a grid of tiles
(each a real piece of a photograph, refused below PDQ quality 50 like any
submission) and compares every tile with every tile of *other* photos:

- the best PDQ distance over the 8 dihedral orientations of the query tile
  (what the service's query does), as a histogram up to 64 bits;
- for the pairs whose best PDQ distance is at most `--joint` (48), the pHash
  distance in that same orientation: how often the second stage's evidence
  (pHash <= 8) would agree with an unrelated candidate;
- the pHash distance over all pairs in the original orientation, on its own.

`--form eroded` hashes each tile's eroded value form instead (`hashing.forms`:
max(R, G, B), eroded), which is smoother than the picture: are unrelated
pictures closer in that form? `--form reduced` hashes each tile's reduced form
(its exact 64 x 64 area average), which holds less fine texture than PDQ's own
sampling. `--form clipped` hashes each tile's clipped value form (max(R, G, B)
clamped at its own 60th percentile), which has lost the detail of its
brightest 40%; like the policy, it keeps only tiles whose form has PDQ quality
of at least 70 there.

Tiles of one photo are never compared with each other (they share lighting,
texture and subject). Usage:

    .venv/bin/python scripts/bench_unrelated.py ../shared/datasets/bsds500 data/photos-2 --grid 4
"""

import argparse
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from hashing import PDQ_ALGORITHM, HashingError, load_image
from hashing.files import find_images
from hashing.forms import clipped_value, eroded_value, reduced
from hashing.imagehashes import PHASH
from hashing.pdq import DIHEDRAL_TRANSPOSES, PDQ
from hashing.policy import FORMS

WIDE = 64
ROWS_PER_STEP = 48  # query rows compared at once: 48 x 8 x N x 4 words in memory


Tile = tuple[bytes, list[bytes], list[bytes], str]


def _pdq(form: str) -> PDQ:
    """The policy's PDQ for this form (its row of `hashing.policy.FORMS`): its own floor."""
    name = {"eroded": "eroded value", "clipped": "clipped value"}.get(form, form)
    return next((row.pdq for row in FORMS if row.form == name), PDQ_ALGORITHM)


def tiles_of(args: tuple[Path, int, str]) -> list[Tile]:
    """Each hashable tile: (PDQ, its 8 dihedral PDQs, its pHash in those 8 orientations,
    its name: photo, row, column)."""
    path, grid, form = args
    try:
        image = load_image(path)
    except HashingError:
        return []
    w, h = image.size
    out = []
    for row in range(grid):
        for col in range(grid):
            tile = image.crop(
                (col * w // grid, row * h // grid, (col + 1) * w // grid, (row + 1) * h // grid)
            )
            if form == "eroded":
                tile = eroded_value(tile)
            elif form == "reduced":
                tile = reduced(tile)
            elif form == "clipped":
                tile = clipped_value(tile)
            try:
                dihedral = _pdq(form).compute_dihedral(tile)  # refused below its floor
            except HashingError:
                continue
            grey = tile.convert("L")
            phashes = [
                PHASH.compute(grey if op is None else grey.transpose(op)).value
                for op in DIHEDRAL_TRANSPOSES
            ]
            name = f"{path.name} tile ({row}, {col})"
            out.append((dihedral[0].value, [d.value for d in dihedral], phashes, name))
    return out


def words(values: list[bytes], size: int) -> np.ndarray:
    """Hashes as rows of big-endian 64-bit words (XOR and popcount per word)."""
    return np.frombuffer(b"".join(values), dtype=">u8").astype(np.uint64).reshape(-1, size // 8)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", type=Path)
    parser.add_argument("--grid", type=int, default=4, help="tiles per side of each photo")
    parser.add_argument("--joint", type=int, default=48, help="PDQ bound for the pHash check")
    parser.add_argument(
        "--form", choices=("plain", "eroded", "reduced", "clipped"), default="plain"
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    start = time.perf_counter()
    files = [f for d in args.dirs for f in find_images([d])]
    with ProcessPoolExecutor(args.jobs) as pool:
        per_photo = list(
            pool.map(tiles_of, [(f, args.grid, args.form) for f in files], chunksize=4)
        )
    owner = np.array([p for p, tiles in enumerate(per_photo) for _ in tiles])
    tiles = [t for photo in per_photo for t in photo]
    n = len(tiles)
    stored = words([t[0] for t in tiles], 32)  # (n, 4)
    query = np.stack([words([t[1][g] for t in tiles], 32) for g in range(8)])  # (8, n, 4)
    phash = np.stack([words([t[2][g] for t in tiles], 8)[:, 0] for g in range(8)])  # (8, n)
    hashed = time.perf_counter() - start

    histogram = np.zeros(WIDE + 2, dtype=np.int64)  # last bin: > WIDE
    phash_histogram = np.zeros(65, dtype=np.int64)
    joint: list[tuple[int, int, str]] = []  # (PDQ, pHash in that orientation, which pair)
    pairs = 0
    for first in range(0, n, ROWS_PER_STEP):
        rows = slice(first, min(n, first + ROWS_PER_STEP))
        # Each stored tile in `rows` against every later tile's 8 orientations.
        xor = stored[rows][None, :, None, :] ^ query[:, None, :, :]  # (8, r, n, 4)
        dist = np.bitwise_count(xor).sum(axis=3, dtype=np.int16)  # (8, r, n)
        best_g = dist.argmin(axis=0)  # (r, n)
        best = np.take_along_axis(dist, best_g[None], axis=0)[0]
        index = np.arange(rows.start, rows.stop)[:, None]
        later = np.arange(n)[None, :] > index
        unrelated = later & (owner[rows][:, None] != owner[None, :])
        pairs += int(unrelated.sum())
        counts = np.bincount(np.minimum(best[unrelated], WIDE + 1), minlength=WIDE + 2)
        histogram += counts
        ph = np.bitwise_count(phash[0][rows][:, None] ^ phash[0][None, :]).astype(np.int16)
        phash_histogram += np.bincount(ph[unrelated], minlength=65)
        for i, j in zip(*np.nonzero(unrelated & (best <= args.joint)), strict=True):
            g = best_g[i, j]
            other = int(np.bitwise_count(phash[0][rows.start + i] ^ phash[g][j]))
            pair = f"{tiles[rows.start + i][3]} ~ {tiles[j][3]}"
            joint.append((int(best[i, j]), other, pair))
    compared = time.perf_counter() - start - hashed

    cumulative = np.cumsum(histogram)
    photos = sum(1 for p in per_photo if p)
    floor = _pdq(args.form).min_quality
    print(
        f"# bench_unrelated: {' '.join(map(str, args.dirs))} --grid {args.grid} "
        f"--form {args.form} "
        f"({platform.machine()}, Python {platform.python_version()})\n"
        f"{len(files)} photos, {photos} with hashable tiles; {n:,} tiles of PDQ quality >= {floor}; "
        f"{pairs:,} unrelated tile pairs (tiles of different photos), each compared in "
        f"8 orientations ({8 * pairs:,} PDQ comparisons); hashing {hashed:.0f} s, "
        f"comparing {compared:.0f} s.\n"
    )
    print("Best PDQ distance over 8 orientations, unrelated pairs at or below:")
    for bound in (31, 40, 44, 48, 56, 64):
        print(f"  <= {bound}: {int(cumulative[bound]):,}")
    closest = int(np.flatnonzero(histogram)[0]) if histogram[: WIDE + 1].any() else None
    print(f"  closest: {closest if closest is not None else f'> {WIDE}'}")
    ph_cumulative = np.cumsum(phash_histogram)
    print("pHash distance (same orientation), unrelated pairs at or below:")
    for bound in (4, 6, 8, 10, 12):
        print(f"  <= {bound}: {int(ph_cumulative[bound]):,} ({ph_cumulative[bound] / pairs:.2e})")
    agree = [p for p in joint if p[1] <= 8]
    print(
        f"Pairs with best PDQ <= {args.joint}: {len(joint):,}; of them with pHash <= 8 in the "
        f"same orientation (a second stage's false match): {len(agree):,}"
    )
    for pdq, ph, pair in sorted(joint)[:20]:
        print(f"  PDQ {pdq}, pHash {ph}: {pair}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
