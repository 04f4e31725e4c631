"""hashbank hashing: canonical image loading, hash algorithms and the survivor's client.

The small public API::

    from hashing import load_image, PDQ_ALGORITHM, get_algorithm
    image = load_image("photo.jpg")          # canonical RGB, or a HashingError
    h = PDQ_ALGORITHM.compute(image)         # Hash(algorithm="pdq", value=..., quality=...)
    h.hex, PDQ_ALGORITHM.distance(h.value, other)

This package must stay installable alone: no web framework, database or FAISS.
"""

from hashing.algorithm import Hash, HashAlgorithm
from hashing.errors import (
    HashingError,
    ImageTooLarge,
    InvalidHash,
    LowQualityImage,
    UnknownAlgorithm,
    UnreadableImage,
)
from hashing.imagehashes import DHASH, PHASH
from hashing.loading import DEFAULT_MAX_PIXELS, MIN_SIDE, load_image, reduction_factor
from hashing.pdq import DIHEDRAL_NAMES, PDQ
from hashing.registry import ALGORITHMS, PDQ_ALGORITHM, get_algorithm

__all__ = [
    "ALGORITHMS",
    "DEFAULT_MAX_PIXELS",
    "DHASH",
    "DIHEDRAL_NAMES",
    "MIN_SIDE",
    "PDQ",
    "PDQ_ALGORITHM",
    "PHASH",
    "Hash",
    "HashAlgorithm",
    "HashingError",
    "ImageTooLarge",
    "InvalidHash",
    "LowQualityImage",
    "UnknownAlgorithm",
    "UnreadableImage",
    "get_algorithm",
    "load_image",
    "reduction_factor",
]
