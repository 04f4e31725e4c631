"""The interface every hash algorithm implements, and the value it produces.

One small Protocol per concept, as in python-threatexchange: an algorithm has
a name, a size in bits, a match threshold (inclusive Hamming distance), can
parse and format its values as lowercase hex, measure distance, and compute a
hash from a canonical image (`hashing.loading.load_image`).
"""

import re
from dataclasses import dataclass
from typing import Protocol

from PIL import Image

from hashing.errors import InvalidHash

_HEX = re.compile(r"[0-9a-f]*")


@dataclass(frozen=True, slots=True)
class Hash:
    """One hash value: algorithm name, raw bytes (big-endian bit order) and optional quality."""

    algorithm: str
    value: bytes
    quality: int | None = None

    @property
    def hex(self) -> str:
        return self.value.hex()

    def __repr__(self) -> str:
        # Hash values are sensitive (partly invertible): keep them out of reprs,
        # tracebacks and log lines by default.
        bits = len(self.value) * 8
        return f"Hash(algorithm={self.algorithm!r}, bits={bits}, quality={self.quality})"


class HashAlgorithm(Protocol):
    """A perceptual hash algorithm over canonical RGB images."""

    @property
    def name(self) -> str: ...
    @property
    def bits(self) -> int: ...
    @property
    def threshold(self) -> int:
        """Largest Hamming distance (inclusive) that counts as a match."""
        ...

    def parse(self, text: str) -> bytes: ...
    def format(self, value: bytes) -> str: ...
    def distance(self, a: bytes, b: bytes) -> int: ...
    def compute(self, image: Image.Image) -> Hash: ...


class BinaryCodec:
    """Hex parsing, formatting and Hamming distance for fixed-size binary hashes."""

    name: str
    bits: int

    def parse(self, text: str) -> bytes:
        """Validate and decode lowercase-or-uppercase hex of exactly `bits` bits."""
        if not isinstance(text, str):
            raise InvalidHash(f"{self.name} hash must be a hex string")
        expected = self.bits // 4
        if len(text) == expected and text.isascii() and text.isalnum():
            try:  # fast path for the well-formed case (matching parses thousands per second)
                return bytes.fromhex(text)
            except ValueError:
                pass
        digits = text.strip().lower()
        if len(digits) != expected:
            raise InvalidHash(
                f"{self.name} hash must be {expected} hex digits ({self.bits} bits), "
                f"got {len(digits)}"
            )
        if not _HEX.fullmatch(digits):
            raise InvalidHash(f"{self.name} hash may contain only hex digits 0-9 and a-f")
        return bytes.fromhex(digits)

    def format(self, value: bytes) -> str:
        if len(value) * 8 != self.bits:
            raise InvalidHash(f"{self.name} hash must be {self.bits} bits, got {len(value) * 8}")
        return value.hex()

    def distance(self, a: bytes, b: bytes) -> int:
        if len(a) != len(b):
            raise InvalidHash("cannot compare hashes of different lengths")
        return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()
