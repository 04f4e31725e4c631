"""64-bit hashes from the imagehash library (pHash, dHash): secondary algorithms.

At 64 bits a threshold of 10 gives roughly 1e-6 false matches per pair, about
one false hit per query against a million hashes, so the service never acts on
one of these alone at scale; they serve as a second, independent opinion.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import imagehash
import numpy as np
from PIL import Image

from hashing.algorithm import RADIUS, BinaryCodec, Hash, IndexKind


@dataclass(frozen=True)
class ImageHash64(BinaryCodec):
    name: str
    function: Callable[[Image.Image], imagehash.ImageHash] = field(repr=False)
    bits: int = 64
    threshold: int = 10
    min_quality: int | None = None
    index: IndexKind = RADIUS
    content_types: tuple[str, ...] = ("photo",)
    # Neither exchange has these types: they never leave hashbank.
    stopncii: str | None = None
    threatexchange: str | None = None
    description: str = ""

    def compute(self, image: Image.Image) -> Hash:
        result = self.function(image)
        value = np.packbits(np.asarray(result.hash, dtype=np.uint8).flatten()).tobytes()
        return Hash(self.name, value)


PHASH = ImageHash64(
    "phash", imagehash.phash, description="imagehash's 64-bit DCT hash; matches within 10 bits"
)
DHASH = ImageHash64(
    "dhash",
    imagehash.dhash,
    description="imagehash's 64-bit difference hash; matches within 10 bits",
)
