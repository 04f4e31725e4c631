"""The signal types and content types hashbank knows, by name: small open registries.

A registry holds descriptors by their unique `name` and, for signal types,
checks that no two share a name in an exchange (StopNCII, python-threatexchange).
Adding a signal type is one module with its descriptor (`hashing.algorithm`)
and one line in `SIGNAL_TYPES` below; everything else (parsing, indexes, the
match routes, the delta feed, the StopNCII API, exports, the contract tests in
`tests/hashing/test_signal_types.py`) reads the registry.
"""

from collections.abc import Iterable, Iterator
from typing import Generic, Protocol, TypeVar, cast

from hashing.algorithm import Hash, ImageSignalType, SignalType
from hashing.content import PHOTO, VIDEO, ContentType
from hashing.errors import UnknownAlgorithm
from hashing.imagehashes import DHASH, PHASH
from hashing.md5 import MD5_ALGORITHM
from hashing.pdq import PDQ
from hashing.vpdq import VPDQ_ALGORITHM


class _Named(Protocol):
    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=_Named)


class Registry(Generic[N]):
    """Descriptors by unique name, in registration order."""

    def __init__(self, kind: str, items: Iterable[N] = ()) -> None:
        self.kind = kind
        self._items: dict[str, N] = {}
        for item in items:
            self.register(item)

    def register(self, item: N) -> N:
        """Add a descriptor; `ValueError` when its name is taken or not a lowercase word."""
        self._check(item)
        self._items[item.name] = item
        return item

    def _check(self, item: N) -> None:
        if item.name in self._items:
            raise ValueError(f"{self.kind} {item.name!r} is registered twice")
        if item.name != item.name.strip().lower() or not item.name:
            raise ValueError(f"{self.kind} names are lowercase words, got {item.name!r}")

    def get(self, name: str) -> N | None:
        return self._items.get(name)

    def names(self) -> list[str]:
        return list(self._items)

    def __iter__(self) -> Iterator[N]:
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items


class SignalTypes(Registry[SignalType]):
    """Signal types, also found by their names in each exchange."""

    def _check(self, item: SignalType) -> None:
        super()._check(item)
        for exchange in ("stopncii", "threatexchange"):
            theirs = getattr(item, exchange)
            if theirs is not None and self.by_exchange_name(exchange, theirs) is not None:
                raise ValueError(f"{exchange} name {theirs!r} is used by two signal types")

    def by_exchange_name(self, exchange: str, name: str) -> SignalType | None:
        """The signal type an exchange calls `name` (`exchange`: stopncii, threatexchange)."""
        return next((s for s in self if getattr(s, exchange) == name), None)

    def in_exchange(self, exchange: str) -> list[SignalType]:
        """The signal types an exchange has a name for."""
        return [s for s in self if getattr(s, exchange) is not None]


PDQ_ALGORITHM = PDQ()
SIGNAL_TYPES = SignalTypes(
    "signal type",
    [
        PDQ_ALGORITHM,
        PHASH,
        DHASH,
        MD5_ALGORITHM,
        VPDQ_ALGORITHM,
    ],
)
CONTENT_TYPES = Registry[ContentType]("content type", [PHOTO, VIDEO])

# The first version's names for the same registry.
ALGORITHMS = SIGNAL_TYPES


def get_algorithm(name: str) -> SignalType:
    """Look a signal type up by its lowercase name; raises `UnknownAlgorithm`."""
    found = SIGNAL_TYPES.get(name.strip().lower()) if isinstance(name, str) else None
    if found is None:
        raise UnknownAlgorithm(str(name), sorted(SIGNAL_TYPES.names()))
    return found


def parse_hash(algorithm: str, text: str, quality: int | None = None) -> Hash:
    """A submitted hash as a typed value: the signal type's own parsing and quality floor.

    Raises `UnknownAlgorithm`, `InvalidHash` or `LowQualityImage` (all `HashingError`).
    """
    signal_type = get_algorithm(algorithm)
    value = signal_type.parse(text)
    signal_type.check_quality(quality)
    return Hash(signal_type.name, value, quality)


def signal_types_for(content_type: str) -> list[SignalType]:
    """The signal types that apply to a content type, in registration order."""
    return [s for s in SIGNAL_TYPES if content_type in s.content_types]


def image_algorithm(name: str) -> ImageSignalType:
    """A signal type that hashes photos (`hashbank hash --algorithm`); raises `UnknownAlgorithm`."""
    photo = [s.name for s in signal_types_for(PHOTO.name)]
    found = SIGNAL_TYPES.get(name.strip().lower()) if isinstance(name, str) else None
    if found is None or found.name not in photo:
        raise UnknownAlgorithm(str(name), sorted(photo), "image hash algorithm")
    return cast(ImageSignalType, found)
