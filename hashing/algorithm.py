"""What hashbank knows about one hash algorithm (a *signal type*), and the value it produces.

One small descriptor per signal type, as in python-threatexchange: everything
the project needs to know about an algorithm sits in one object, so a new
algorithm is one module plus one line in `hashing.registry`. A descriptor says

* its `name` (lowercase, unique: the `algorithm` field of every API) and its
  size in `bits`; values are written as lowercase hex (`parse`, `format`);
* `distance` between two values and the match `threshold`: two values match
  when their distance is at most the threshold (inclusive); 0 means exact;
* `min_quality`: values whose quality is below it are refused (None: the
  algorithm has no quality);
* `index`: which kind of index finds its matches: `RADIUS` (a binary Hamming
  radius index, for perceptual hashes) or `EXACT` (a set of values, for
  cryptographic hashes);
* `content_types`: the kinds of content it hashes (`hashing.content`);
* its names in the exchanges: `stopncii` (StopNCII's `signalType`) and
  `threatexchange` (python-threatexchange's signal type name), None where the
  exchange has no such type;
* `timed`: its values are the frames of a video, each with a time (vPDQ): a
  video is a group of them, submitted and matched together;
* `searched_by`: the other signal types whose queries also search its index,
  because their values are comparable (a photo's PDQ and a video frame's vPDQ
  are both PDQ hashes: a screenshot of a video matches its frames).

How a value is computed depends on the content (an image's pixels, a file's
bytes): each module's own `compute` does it.
"""

import re
from dataclasses import dataclass
from typing import Literal, Protocol

from PIL import Image

from hashing.errors import InvalidHash, LowQualityImage

_HEX = re.compile(r"[0-9a-f]*")

IndexKind = Literal["radius", "exact"]
RADIUS: IndexKind = "radius"
EXACT: IndexKind = "exact"


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


class SignalType(Protocol):
    """A hash algorithm as the whole project sees it (see the module docstring)."""

    @property
    def name(self) -> str: ...
    @property
    def bits(self) -> int: ...
    @property
    def threshold(self) -> int:
        """Largest distance (inclusive) that counts as a match; 0: only equal values."""
        ...

    @property
    def min_quality(self) -> int | None: ...
    @property
    def index(self) -> IndexKind: ...
    @property
    def content_types(self) -> tuple[str, ...]: ...
    @property
    def stopncii(self) -> str | None: ...
    @property
    def threatexchange(self) -> str | None: ...
    @property
    def description(self) -> str:
        """One line for people: what it is and when it matches."""
        ...

    @property
    def timed(self) -> bool: ...
    @property
    def searched_by(self) -> tuple[str, ...]: ...

    def parse(self, text: str) -> bytes: ...
    def format(self, value: bytes) -> str: ...
    def distance(self, a: bytes, b: bytes) -> int: ...
    def check_quality(self, quality: int | None) -> None:
        """Raise `LowQualityImage` when a known quality is below `min_quality`."""
        ...


class ImageSignalType(SignalType, Protocol):
    """A signal type computed from a canonical image (`hashing.load_image`): the photo kinds."""

    def compute(self, image: Image.Image) -> Hash: ...


# The first version's name: an algorithm that hashes canonical images.
HashAlgorithm = ImageSignalType


class BinaryCodec:
    """Hex parsing, formatting, Hamming distance and the quality floor for fixed-size values."""

    name: str
    bits: int
    min_quality: int | None = None
    timed: bool = False
    searched_by: tuple[str, ...] = ()

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

    def check_quality(self, quality: int | None) -> None:
        if quality is not None and self.min_quality is not None and quality < self.min_quality:
            raise LowQualityImage(self.name, quality, self.min_quality)
