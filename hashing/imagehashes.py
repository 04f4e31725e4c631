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

from hashing.algorithm import BinaryCodec, Hash


@dataclass(frozen=True)
class ImageHash64(BinaryCodec):
    name: str
    function: Callable[[Image.Image], imagehash.ImageHash] = field(repr=False)
    bits: int = 64
    threshold: int = 10

    def compute(self, image: Image.Image) -> Hash:
        result = self.function(image)
        value = np.packbits(np.asarray(result.hash, dtype=np.uint8).flatten()).tobytes()
        return Hash(self.name, value)


PHASH = ImageHash64("phash", imagehash.phash)
DHASH = ImageHash64("dhash", imagehash.dhash)
