"""The algorithms hashbank knows, by name."""

from hashing.algorithm import HashAlgorithm
from hashing.errors import UnknownAlgorithm
from hashing.imagehashes import DHASH, PHASH
from hashing.pdq import PDQ

PDQ_ALGORITHM = PDQ()
ALGORITHMS: dict[str, HashAlgorithm] = {a.name: a for a in (PDQ_ALGORITHM, PHASH, DHASH)}


def get_algorithm(name: str) -> HashAlgorithm:
    """Look an algorithm up by its lowercase name; raises `UnknownAlgorithm`."""
    try:
        return ALGORITHMS[name.strip().lower()]
    except (KeyError, AttributeError):
        raise UnknownAlgorithm(str(name), sorted(ALGORITHMS)) from None
