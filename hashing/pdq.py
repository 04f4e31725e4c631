"""PDQ: Meta's 256-bit perceptual hash, hashbank's primary algorithm.

Match at Hamming distance <= 31; refuse images whose PDQ quality is below 50
(flat or nearly blank images, whose hashes collide with unrelated images).
"""

from dataclasses import dataclass

import numpy as np
import pdqhash
from PIL import Image

from hashing.algorithm import RADIUS, BinaryCodec, Hash, IndexKind

MIN_QUALITY = 50  # below it PDQ hashes of unrelated flat images collide

# Order of pdqhash.compute_dihedral's results (and of the reference "dih" images).
DIHEDRAL_NAMES = (
    "original",
    "rotate-90",
    "rotate-180",
    "rotate-270",
    "flip-x",
    "flip-y",
    "flip-plus-1",
    "flip-minus-1",
)
# The PIL transpose giving each of those orientations from the pixels (None: as is), for
# hashing other algorithms in the orientation of a PDQ match.
DIHEDRAL_TRANSPOSES: tuple[Image.Transpose | None, ...] = (
    None,
    Image.Transpose.ROTATE_90,
    Image.Transpose.ROTATE_180,
    Image.Transpose.ROTATE_270,
    Image.Transpose.FLIP_TOP_BOTTOM,
    Image.Transpose.FLIP_LEFT_RIGHT,
    Image.Transpose.TRANSPOSE,
    Image.Transpose.TRANSVERSE,
)


def _to_bytes(bits: np.ndarray) -> bytes:
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes()


def pdq_of_pixels(pixels: np.ndarray) -> tuple[bytes, int]:
    """PDQ of 8-bit RGB pixels (height x width x 3), quality not checked: (value, quality)."""
    bits, quality = pdqhash.compute(np.ascontiguousarray(pixels, dtype=np.uint8))
    return _to_bytes(bits), int(quality)


@dataclass(frozen=True)
class PDQ(BinaryCodec):
    name: str = "pdq"
    bits: int = 256
    threshold: int = 31
    min_quality: int | None = MIN_QUALITY
    index: IndexKind = RADIUS
    content_types: tuple[str, ...] = ("photo",)
    stopncii: str | None = "ImagePDQ"
    threatexchange: str | None = "pdq"
    description: str = (
        "Meta's 256-bit perceptual image hash; matches within Hamming distance 31; "
        "quality below 50 is refused"
    )
    searched_by: tuple[str, ...] = ("vpdq",)  # a video's frames can hold a stored photo

    def compute(self, image: Image.Image) -> Hash:
        """Hash a canonical RGB image; raises `LowQualityImage` below `min_quality`."""
        bits, quality = pdqhash.compute(_pixels(image))
        self.check_quality(int(quality))
        return Hash(self.name, _to_bytes(bits), int(quality))

    def compute_dihedral(self, image: Image.Image) -> list[Hash]:
        """The 8 hashes of the image's rotations and flips, in `DIHEDRAL_NAMES` order.

        A platform sends all 8 so that a rotated or mirrored re-upload still matches.
        """
        vectors, quality = pdqhash.compute_dihedral(_pixels(image))
        self.check_quality(int(quality))
        return [Hash(self.name, _to_bytes(v), int(quality)) for v in vectors]


def _pixels(image: Image.Image) -> np.ndarray:
    if image.mode != "RGB":
        raise ValueError("PDQ expects a canonical RGB image from hashing.load_image")
    return np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
