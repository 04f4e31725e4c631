"""The contract every registered signal type meets, run for each one (like pytx's auto tests).

A signal type that plugs into `hashing.registry.SIGNAL_TYPES` gets these tests
without writing any: parse and format round-trip; distance is a metric on its
values; values at the threshold match and one step beyond do not; its index
(`index.create_index` of its kind) answers like brute force; its names in the
exchanges are unique and, for python-threatexchange, are pytx's own signal
types, which agree with it on validity and on what matches. The service side of
the contract (routes, feeds, exports) is `tests/service/test_signal_type_contract.py`.
"""

import random
from dataclasses import replace

import numpy as np
import pytest
from threatexchange.cli.main import _DEFAULT_SIGNAL_TYPES
from threatexchange.signal_type.signal_base import MatchesStr
from threatexchange.signal_type.signal_base import SignalType as PytxSignalType

from hashing import (
    CONTENT_TYPES,
    EXACT,
    MD5_ALGORITHM,
    PDQ_ALGORITHM,
    RADIUS,
    SIGNAL_TYPES,
    HashingError,
    InvalidHash,
    LowQualityImage,
    SignalType,
    get_algorithm,
    load_image,
    parse_hash,
    signal_types_for,
)
from hashing.registry import Registry, SignalTypes, image_algorithm
from index import create_index
from tests.conftest import PDQ_REFERENCE, VPDQ_REFERENCE

BRIDGE = PDQ_REFERENCE / "bridge-mods"
OTHER = PDQ_REFERENCE / "reg-test-input" / "labelme-subset" / "q0122.jpg"

TYPES = list(SIGNAL_TYPES)
ids = [s.name for s in TYPES]


def random_value(signal_type: SignalType, rng: random.Random) -> bytes:
    return rng.getrandbits(signal_type.bits).to_bytes(signal_type.bits // 8, "big")


def flipped(value: bytes, bits: int, rng: random.Random) -> bytes:
    """`value` with exactly `bits` distinct bits flipped."""
    number = int.from_bytes(value, "big")
    for bit in rng.sample(range(len(value) * 8), bits):
        number ^= 1 << bit
    return number.to_bytes(len(value), "big")


@pytest.mark.parametrize("signal_type", TYPES, ids=ids)
def test_descriptor_is_complete(signal_type: SignalType) -> None:
    assert signal_type.name == signal_type.name.strip().lower()
    assert signal_type.name
    assert signal_type.bits > 0
    assert signal_type.bits % 8 == 0
    assert 0 <= signal_type.threshold < signal_type.bits
    assert signal_type.index in (RADIUS, EXACT)
    assert signal_type.index == RADIUS or signal_type.threshold == 0  # a set finds equals only
    assert signal_type.content_types, "a signal type hashes at least one kind of content"
    assert signal_type.description
    assert get_algorithm(signal_type.name.upper()) is signal_type


@pytest.mark.parametrize("signal_type", TYPES, ids=ids)
def test_parse_format_round_trip(signal_type: SignalType) -> None:
    rng = random.Random(signal_type.name)
    for _ in range(50):
        value = random_value(signal_type, rng)
        text = signal_type.format(value)
        assert text == value.hex()
        assert len(text) == signal_type.bits // 4
        assert signal_type.parse(text) == value
        assert signal_type.parse(text.upper()) == value
        assert signal_type.parse(f" {text} ") == value


@pytest.mark.parametrize("signal_type", TYPES, ids=ids)
def test_malformed_values_are_refused(signal_type: SignalType) -> None:
    good = signal_type.format(random_value(signal_type, random.Random(1)))
    for bad in ("", good[:-1], good + "0", "g" + good[1:], good[:-1] + "é", 17):
        with pytest.raises(InvalidHash):
            signal_type.parse(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidHash):
        signal_type.format(b"\x00" * (signal_type.bits // 8 + 1))


@pytest.mark.parametrize("signal_type", TYPES, ids=ids)
def test_distance_is_a_metric(signal_type: SignalType) -> None:
    rng = random.Random(signal_type.name)
    for _ in range(30):
        a, b, c = (random_value(signal_type, rng) for _ in range(3))
        assert signal_type.distance(a, a) == 0
        assert signal_type.distance(a, b) == signal_type.distance(b, a) > 0
        assert signal_type.distance(a, c) <= signal_type.distance(a, b) + signal_type.distance(b, c)
        assert signal_type.distance(a, b) <= signal_type.bits


@pytest.mark.parametrize("signal_type", TYPES, ids=ids)
def test_threshold_is_inclusive(signal_type: SignalType) -> None:
    """A value at the threshold matches; one bit further does not."""
    rng = random.Random(signal_type.name)
    value = random_value(signal_type, rng)
    near = flipped(value, signal_type.threshold, rng)
    far = flipped(value, signal_type.threshold + 1, rng)
    assert signal_type.distance(value, near) == signal_type.threshold
    assert signal_type.distance(value, far) == signal_type.threshold + 1


@pytest.mark.parametrize("signal_type", TYPES, ids=ids)
def test_quality_floor(signal_type: SignalType) -> None:
    text = signal_type.format(random_value(signal_type, random.Random(2)))
    assert parse_hash(signal_type.name, text).quality is None
    if signal_type.min_quality is None:
        assert parse_hash(signal_type.name, text, 0).quality == 0
        return
    assert parse_hash(signal_type.name, text, signal_type.min_quality).value == bytes.fromhex(text)
    with pytest.raises(LowQualityImage):
        parse_hash(signal_type.name, text, signal_type.min_quality - 1)


@pytest.mark.parametrize("signal_type", TYPES, ids=ids)
def test_its_index_answers_like_brute_force(signal_type: SignalType) -> None:
    rng = random.Random(signal_type.name)
    stored = [random_value(signal_type, rng) for _ in range(400)]
    # Near neighbours at, inside and just beyond the threshold, and exact duplicates.
    for base in stored[:60]:
        for bits in {
            0,
            signal_type.threshold // 2,
            signal_type.threshold,
            signal_type.threshold + 1,
        }:
            stored.append(flipped(base, bits, rng))
    index = create_index(signal_type.name, signal_type.bits, kind=signal_type.index)
    width = signal_type.bits // 8
    codes = np.frombuffer(b"".join(stored), np.uint8).reshape(-1, width)
    index.add(np.arange(len(stored), dtype=np.int64) * 7 + 3, codes)
    removed = np.arange(0, len(stored), 11, dtype=np.int64) * 7 + 3
    index.remove(removed)
    alive = {i * 7 + 3: v for i, v in enumerate(stored) if (i * 7 + 3) not in set(removed.tolist())}
    queries = [*stored[:80], *(random_value(signal_type, rng) for _ in range(20))]
    found = index.search_batch(
        np.frombuffer(b"".join(queries), np.uint8).reshape(-1, width), signal_type.threshold
    )
    for query, (got_ids, got_distances) in zip(queries, found, strict=True):
        expected = {
            i: signal_type.distance(query, v)
            for i, v in alive.items()
            if signal_type.distance(query, v) <= signal_type.threshold
        }
        assert dict(zip(got_ids.tolist(), got_distances.tolist(), strict=True)) == expected
    assert len(index) == len(alive)


@pytest.mark.parametrize("signal_type", TYPES, ids=ids)
def test_real_examples_match_and_do_not(signal_type: SignalType) -> None:
    """Computed from content: a copy matches, something else does not."""
    original = (BRIDGE / "aaa-orig.jpg").read_bytes()
    if "photo" in signal_type.content_types:
        photo = image_algorithm(signal_type.name)
        value = photo.compute(load_image(original)).value
        copy = photo.compute(load_image(BRIDGE / "shrink-a-lot.jpg")).value
        other = photo.compute(load_image(OTHER)).value
    elif signal_type.timed:  # frames of Meta's reference videos: colour and grey, another scene
        value, copy, other = (
            signal_type.parse(_reference_frame(name, 10))
            for name in ("chair-orig-22-sd-bar", "chair-22-sd-grey-bar", "doorknob-hd-no-bar")
        )
    else:
        assert signal_type.name == "md5", "a new kind of signal type needs its examples here"
        value = MD5_ALGORITHM.compute(original).value
        copy = MD5_ALGORITHM.compute(bytes(original)).value  # the same bytes, another copy
        other = MD5_ALGORITHM.compute(original[:-1] + bytes([original[-1] ^ 1])).value
    assert signal_type.distance(value, copy) <= signal_type.threshold
    assert signal_type.distance(value, other) > signal_type.threshold


def _reference_frame(video: str, frame: int) -> str:
    """Meta's expected vPDQ hash of one frame of a reference video."""
    lines = (VPDQ_REFERENCE / "hashes" / f"{video}.txt").read_text().splitlines()
    return lines[frame].split(",")[2]


def test_names_are_unique_in_the_registry_and_in_each_exchange() -> None:
    assert len(set(ids)) == len(ids)
    for exchange in ("stopncii", "threatexchange"):
        names = [getattr(s, exchange) for s in SIGNAL_TYPES.in_exchange(exchange)]
        assert len(set(names)) == len(names)
    fresh = SignalTypes("signal type", [TYPES[0]])
    with pytest.raises(ValueError, match="registered twice"):
        fresh.register(TYPES[0])
    with pytest.raises(ValueError, match="lowercase"):
        Registry[SignalType]("signal type").register(replace(PDQ_ALGORITHM, name="PDQ2"))
    with pytest.raises(ValueError, match="used by two signal types"):
        fresh.register(replace(PDQ_ALGORITHM, name="pdq2"))  # a new name, pdq's exchange names


def test_content_types_name_their_signal_types() -> None:
    photo = CONTENT_TYPES.get("photo")
    assert photo is not None
    assert {s.name for s in signal_types_for("photo")} == {"pdq", "phash", "dhash"}
    assert [s.name for s in signal_types_for("video")] == ["md5", "vpdq"]


PYTX = {cls.get_name(): cls for cls in _DEFAULT_SIGNAL_TYPES}
IN_PYTX = SIGNAL_TYPES.in_exchange("threatexchange")


@pytest.mark.parametrize("signal_type", IN_PYTX, ids=[s.name for s in IN_PYTX])
def test_pytx_agrees_on_validity_and_matching(signal_type: SignalType) -> None:
    assert signal_type.threatexchange in PYTX, "its pytx name is one of pytx's signal types"
    assert signal_type.threatexchange is not None
    theirs: type[PytxSignalType] = PYTX[signal_type.threatexchange]
    for example in theirs.get_examples():
        assert signal_type.format(signal_type.parse(example)) == theirs.validate_signal_str(example)
    rng = random.Random(signal_type.name)
    value = random_value(signal_type, rng)
    text = signal_type.format(value)
    assert theirs.validate_signal_str(text) == text
    assert issubclass(theirs, MatchesStr) or hasattr(theirs, "compare_hash")
    for bits, matches in ((signal_type.threshold, True), (signal_type.threshold + 1, False)):
        other = signal_type.format(flipped(value, bits, rng))
        assert theirs.compare_hash(text, other).match is matches


def test_unknown_names_are_refused_with_the_known_ones() -> None:
    with pytest.raises(HashingError, match="known: dhash, md5, pdq, phash"):
        parse_hash("sha1", "00")
