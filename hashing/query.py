"""A platform's query as a typed value: one item's hashes, parsed once.

A `Query` is what the service searches for one item of a match request: the
hashes of one signal type that stand for one piece of content (an image's
hash and its variants, `hashing.policy.query_hashes`). It is parsed from text
once, at the edge (`parse_query`), and then travels as bytes; its signal type
decides the index it is searched in and the distance that counts as a match.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from hashing.algorithm import Hash, SignalType
from hashing.registry import get_algorithm


@dataclass(frozen=True, slots=True)
class Query:
    signal_type: SignalType
    values: tuple[bytes, ...]

    def __repr__(self) -> str:  # hash values stay out of reprs and tracebacks
        return f"Query(signal_type={self.signal_type.name!r}, hashes={len(self.values)})"

    @classmethod
    def of(cls, hashes: Sequence[Hash]) -> "Query":
        """The query for hashes computed here (all of one signal type, at least one)."""
        signal_type = get_algorithm(hashes[0].algorithm)
        if any(h.algorithm != signal_type.name for h in hashes):
            raise ValueError("a query's hashes are all of one signal type")
        return cls(signal_type, tuple(h.value for h in hashes))


def parse_query(algorithm: str, texts: Sequence[str]) -> Query:
    """Parse one item's hashes (its hash, then its variants) with its signal type's rules.

    Raises `UnknownAlgorithm` or `InvalidHash` (`HashingError`) for the first bad one.
    """
    signal_type = get_algorithm(algorithm)
    return Query(signal_type, tuple(signal_type.parse(text) for text in texts))
