"""The hash-algorithm interface: parsing, formatting, distance, registry, secondary hashes."""

import random

import pytest
from PIL import Image

from hashing import (
    ALGORITHMS,
    DHASH,
    PDQ_ALGORITHM,
    PHASH,
    Hash,
    HashAlgorithm,
    InvalidHash,
    SignalType,
    UnknownAlgorithm,
    get_algorithm,
    load_image,
)
from tests.conftest import PDQ_REFERENCE

ALL: list[SignalType] = list(ALGORITHMS)


def test_registry_names_and_sizes() -> None:
    assert {(a.name, a.bits, a.threshold) for a in ALL} == {
        ("pdq", 256, 31),
        ("vpdq", 256, 31),  # a video's PDQ frame hashes (issue 17)
        ("phash", 64, 10),
        ("dhash", 64, 10),
        ("md5", 128, 0),
        ("vpdq", 256, 31),
    }
    assert get_algorithm(" PDQ ") is PDQ_ALGORITHM


def test_unknown_algorithm_names_the_known_ones() -> None:
    with pytest.raises(UnknownAlgorithm, match=r"'sha1'.*dhash, md5, pdq, phash"):
        get_algorithm("sha1")


@pytest.mark.parametrize("algorithm", ALL, ids=lambda a: a.name)
def test_parse_format_round_trip(algorithm: SignalType) -> None:
    rng = random.Random(algorithm.bits)
    for _ in range(50):
        value = rng.randbytes(algorithm.bits // 8)
        text = algorithm.format(value)
        assert text == text.lower()
        assert len(text) == algorithm.bits // 4
        assert algorithm.parse(text) == value
        assert algorithm.parse(text.upper()) == value


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "got 0"),
        ("ab", "got 2"),
        ("g" * 64, "only hex"),
        ("0x" + "0" * 62, "only hex"),
        ("a" * 63, "got 63"),
        ("a" * 65, "got 65"),
        ("é" * 64, "only hex"),
        (" " * 64, "got 0"),
    ],
)
def test_parse_rejects_malformed_pdq(text: str, reason: str) -> None:
    with pytest.raises(InvalidHash, match=reason):
        PDQ_ALGORITHM.parse(text)


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(InvalidHash):
        PDQ_ALGORITHM.parse(123)  # type: ignore[arg-type]


def test_format_rejects_wrong_length() -> None:
    with pytest.raises(InvalidHash):
        PHASH.format(bytes(32))


@pytest.mark.parametrize("algorithm", ALL, ids=lambda a: a.name)
def test_distance_is_hamming(algorithm: HashAlgorithm) -> None:
    rng = random.Random(7)
    size = algorithm.bits // 8
    for _ in range(50):
        a, b = rng.randbytes(size), rng.randbytes(size)
        expected = sum(bin(x ^ y).count("1") for x, y in zip(a, b, strict=True))
        assert algorithm.distance(a, b) == expected == algorithm.distance(b, a)
        assert algorithm.distance(a, a) == 0
    with pytest.raises(InvalidHash):
        algorithm.distance(bytes(size), bytes(size + 1))


def test_hash_repr_never_shows_the_value() -> None:
    value = bytes.fromhex("ab" * 32)
    text = repr(Hash("pdq", value, 100))
    assert "ab" * 4 not in text
    assert "pdq" in text
    assert "256" in text


@pytest.mark.parametrize("algorithm", [PHASH, DHASH], ids=lambda a: a.name)
def test_secondary_hashes_tolerate_resize_and_separate_images(algorithm: HashAlgorithm) -> None:
    bridge = load_image(PDQ_REFERENCE / "bridge-mods" / "aaa-orig.jpg")
    shrunk = load_image(PDQ_REFERENCE / "bridge-mods" / "shrink-a-lot.jpg")
    other = load_image(PDQ_REFERENCE / "reg-test-input" / "labelme-subset" / "q0122.jpg")
    h = algorithm.compute(bridge)
    assert len(h.value) == 8
    assert h.algorithm == algorithm.name
    assert h.quality is None
    assert algorithm.distance(h.value, algorithm.compute(shrunk).value) <= algorithm.threshold
    assert algorithm.distance(h.value, algorithm.compute(other).value) > algorithm.threshold


def test_phash_agrees_with_imagehash_hex() -> None:
    import imagehash

    image = load_image(PDQ_REFERENCE / "misc-images" / "b.jpg")
    assert PHASH.compute(image).hex == str(imagehash.phash(image))


def test_pdq_refuses_non_canonical_input() -> None:
    with pytest.raises(ValueError, match="canonical RGB"):
        PDQ_ALGORITHM.compute(Image.new("L", (64, 64)))
