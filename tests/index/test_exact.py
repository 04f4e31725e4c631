"""ExactIndex against brute force: every structure, radius edges, removals, 64-bit codes."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index import ExactIndex, IndexConfig, InvalidCodes, search_dihedral
from tests.conftest import PDQ_REFERENCE

CONFIGS = {
    "flat": IndexConfig(kind="flat"),
    "mih": IndexConfig(kind="mih", delta_max=64),
    "auto": IndexConfig(kind="auto", mih_min_size=300, delta_max=50),
}


def brute(codes: np.ndarray, ids: np.ndarray, query: np.ndarray, radius: int) -> dict[int, int]:
    if len(codes) == 0:
        return {}
    distances = np.unpackbits(codes ^ query, axis=1).sum(axis=1)
    hit = distances <= radius
    return dict(zip(ids[hit].tolist(), distances[hit].tolist(), strict=True))


def as_dict(result: tuple[np.ndarray, np.ndarray]) -> dict[int, int]:
    ids, distances = result
    assert len(set(ids.tolist())) == len(ids), "an id was returned twice"
    return dict(zip(ids.tolist(), distances.tolist(), strict=True))


def flip(code: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    bits = np.unpackbits(code)
    bits[rng.choice(len(bits), count, replace=False)] ^= 1
    return np.packbits(bits)


class Model:
    """The index and a brute-force mirror of what it should contain."""

    def __init__(self, bits: int, config: IndexConfig) -> None:
        self.index = ExactIndex(bits, config, "test")
        self.bits = bits
        self.content: dict[int, np.ndarray] = {}

    def add(self, ids: list[int], codes: np.ndarray) -> None:
        self.index.add(np.array(ids, np.int64), codes)
        self.content.update(zip(ids, codes, strict=True))

    def remove(self, ids: list[int]) -> None:
        self.index.remove(np.array(ids, np.int64))
        for i in ids:
            self.content.pop(i, None)

    def check(self, queries: np.ndarray, radius: int) -> None:
        ids = np.array(list(self.content), np.int64)
        codes = np.array(list(self.content.values()), np.uint8).reshape(-1, self.bits // 8)
        results = self.index.search_batch(queries, radius)
        for query, result in zip(queries, results, strict=True):
            assert as_dict(result) == brute(codes, ids, query, radius)
        assert len(self.index) == len(self.content)
        assert sorted(self.index.ids().tolist()) == sorted(self.content)


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("bits", [256, 64])
def test_known_distances_and_radius_edges(name: str, bits: int) -> None:
    rng = np.random.default_rng(bits)
    radius = 31 if bits == 256 else 10
    base = rng.integers(0, 256, bits // 8, dtype=np.uint8)
    distances = [*list(range(radius + 3)), bits // 2]
    codes = np.array([flip(base, d, rng) for d in distances])
    noise = rng.integers(0, 256, (500, bits // 8), dtype=np.uint8)
    model = Model(bits, CONFIGS[name])
    model.add(list(range(len(codes))), codes)
    model.add(list(range(1000, 1500)), noise)
    found = as_dict(model.index.search(base, radius))
    assert {i: found[i] for i in range(len(codes)) if i in found} == {
        i: d for i, d in enumerate(distances) if d <= radius
    }  # d = r is in, d = r + 1 is out
    model.check(np.vstack([base, codes[:5], noise[:5]]), radius)


@pytest.mark.parametrize("name", CONFIGS)
def test_empty_and_single(name: str) -> None:
    model = Model(256, CONFIGS[name])
    query = np.zeros((1, 32), np.uint8)
    assert model.index.search_batch(query, 31) == [model.index.search(query[0], 31)]
    model.check(query, 31)
    model.add([42], np.ones((1, 32), np.uint8))
    model.check(np.vstack([query, np.ones((1, 32), np.uint8)]), 31)
    model.remove([42])
    model.check(np.ones((1, 32), np.uint8), 31)
    assert model.index.search_batch(np.empty((0, 32), np.uint8), 31) == []


@pytest.mark.parametrize("name", CONFIGS)
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_interleaved_adds_and_removals(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    model = Model(256, CONFIGS[name])
    pool = rng.integers(0, 256, (40, 32), dtype=np.uint8)  # few distinct values: duplicates
    next_id = 0
    for _ in range(12):
        n = int(rng.integers(1, 80))
        picks = pool[rng.integers(0, len(pool), n)]
        near = np.array([flip(c, int(rng.integers(0, 40)), rng) for c in picks])
        model.add(list(range(next_id, next_id + n)), near)
        next_id += n
        if model.content and rng.random() < 0.7:
            victims = rng.choice(
                list(model.content),
                min(len(model.content), int(rng.integers(1, 60))),
                replace=False,
            )
            model.remove([int(v) for v in victims] + [10**9])  # an unknown id is ignored
        if model.content and rng.random() < 0.3:
            again = [int(i) for i in list(model.content)[:5]]  # re-adding replaces
            model.add(again, pool[: len(again)])
        model.check(pool[rng.integers(0, len(pool), 10)], 31)


def test_same_value_under_different_ids() -> None:
    for config in CONFIGS.values():
        index = ExactIndex(256, config)
        code = np.full((3, 32), 7, np.uint8)
        index.add(np.array([1, 2, 3]), code)
        assert sorted(index.search(code[0], 0)[0].tolist()) == [1, 2, 3]
        index.remove(np.array([2]))
        assert sorted(index.search(code[0], 0)[0].tolist()) == [1, 3]


def test_bad_input_is_refused() -> None:
    index = ExactIndex(256)
    with pytest.raises(InvalidCodes):
        index.add(np.array([1]), np.zeros((1, 8), np.uint8))
    with pytest.raises(InvalidCodes):
        index.add(np.array([1, 1]), np.zeros((2, 32), np.uint8))
    with pytest.raises(InvalidCodes):
        index.add(np.array([1, 2]), np.zeros((1, 32), np.uint8))
    with pytest.raises(InvalidCodes):
        index.search(np.zeros(32, np.uint8), -1)
    with pytest.raises(InvalidCodes):
        ExactIndex(100)


def test_compaction_reclaims_space_and_keeps_answers() -> None:
    rng = np.random.default_rng(5)
    model = Model(256, IndexConfig(kind="mih", delta_max=64))
    codes = rng.integers(0, 256, (50_000, 32), dtype=np.uint8)
    model.add(list(range(50_000)), codes)
    before = model.index.memory_bytes()
    model.remove([i for i in range(50_000) if i % 5])
    assert len(model.index) == 10_000
    assert model.index.memory_bytes() < before / 2
    model.check(codes[::2500], 31)


@pytest.mark.parametrize("name", CONFIGS)
def test_reference_haystack_and_needles(name: str) -> None:
    folder = PDQ_REFERENCE / "reg-test-input"

    def read(path: Path) -> np.ndarray:
        lines = [line.split()[0] for line in path.read_text().splitlines() if line.strip()]
        return np.array([np.frombuffer(bytes.fromhex(h), np.uint8) for h in lines])

    haystack, needles = read(folder / "haystack.txt"), read(folder / "needles.txt")
    assert len(haystack) == 1350
    assert len(needles) == 100
    model = Model(256, CONFIGS[name])
    model.add(list(range(len(haystack))), haystack)
    model.check(needles, 31)
    total = sum(len(r[0]) for r in model.index.search_batch(needles, 31))
    assert total > 0  # the needles do find something in the haystack


def test_dihedral_helper_returns_the_best_distance_per_id() -> None:
    rng = np.random.default_rng(9)
    stored = rng.integers(0, 256, (2, 32), dtype=np.uint8)
    index = ExactIndex(256)
    index.add(np.array([10, 20]), stored)
    variants = np.array(
        [flip(stored[0], 20, rng), flip(stored[0], 3, rng), flip(stored[1], 30, rng)]
        + [rng.integers(0, 256, 32, dtype=np.uint8) for _ in range(5)]
    )
    assert search_dihedral(index, variants, 31) == {10: 3, 20: 30}
