"""Second-stage rules, measured by the accuracy benchmark only (not in the service).

A second stage accepts a stored image whose best PDQ distance is above the policy's
threshold, up to T2, only on independent evidence (`Stage2`). `SecondStage` scores
every query against every image on the default policy's index, and
`stage2_report` writes the grid of rules with their margins. Why none is adopted:
`docs/accuracy.md`.
"""

import time
from dataclasses import dataclass, field

import numpy as np
from accuracy_results import WIDE, ImageResult, PolicyStats, Query, Row
from accuracy_transforms import TARGETS, TRANSFORMS

from hashing import Query as HQuery
from hashing import get_algorithm
from hashing.imagehashes import DHASH, PHASH
from hashing.policy import DEFAULT_POLICY
from service.live.indexes import IndexSet


@dataclass(frozen=True)
class Stage2:
    """A second stage (benchmark only): accept best distances in (threshold, t2] on evidence.

    evidence "forms": at least two of the query's forms (as uploaded, trimmed, centre crop;
    each as its 8 dihedral hashes) each come within t2 of a stored hash of the same image.
    evidence "phash" / "dhash": that 64-bit hash of the query's trimmed image, in the
    orientation of the best PDQ hash, is within `tight` of the one stored for the image
    (the survivor submits it too: +1 hash per image). None: t2 alone, no evidence (reference).
    """

    t2: int
    evidence: str | None
    tight: int = 0

    @property
    def name(self) -> str:
        rule = {None: "no evidence", "forms": "two forms agree"}.get(
            self.evidence, f"{self.evidence} ≤ {self.tight}"
        )
        return f"≤ {self.t2}, {rule}"


STAGE2_GRID = [
    Stage2(t2, evidence, tight)
    for t2 in (40, 44, 48)
    for evidence, tight in (
        (None, 0),
        ("forms", 0),
        ("phash", 8),
        ("phash", 10),
        ("dhash", 8),
        ("dhash", 10),
    )
]
STAGE2 = Stage2(48, "phash", 8)  # the `+stage2` column
SECOND_HASHES = {"phash": PHASH, "dhash": DHASH}


@dataclass
class Stage2Stats:
    """One second-stage rule's recall and false matches (on the default policy's index)."""

    rows: dict[str, Row] = field(default_factory=lambda: {t: Row() for t in TRANSFORMS})
    original_pairs: set[tuple[int, int]] = field(default_factory=set)
    cross_false: int = 0


@dataclass
class Stage2Margins:
    """Over all unrelated (query, original) pairs: how close each kind of evidence came."""

    pdq: int = WIDE + 1  # best PDQ distance
    second_form: int = WIDE + 1  # the second-best form's distance ("two forms agree" needs <= t2)
    evidence: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SECOND_HASHES, 64))
    evidence_pdq: dict[tuple[str, int], int] = field(default_factory=dict)  # pdq where ev <= tight
    evidence_pairs: dict[tuple[str, int], int] = field(
        default_factory=dict
    )  # pairs with ev <= tight
    pairs: int = 0
    check_seconds: float = 0.0
    checks: int = 0


def _bits(codes: list[bytes], size: int) -> np.ndarray:
    return np.unpackbits(np.frombuffer(b"".join(codes), np.uint8).reshape(-1, size), axis=1)


class SecondStage:
    """The second stage over the default policy's index: per query, what each image scores."""

    def __init__(self, index: IndexSet, owner: list[int], ok: list[ImageResult]):
        self.index, self.n = index, len(ok)
        self.owner = np.asarray(owner)  # stored hash -> image
        self.starts = np.searchsorted(self.owner, np.arange(self.n))
        stored = [c for r in ok for c in r.submitted[DEFAULT_POLICY.name]]
        bits = _bits(stored, 32).astype(np.float32)
        self.stored, self.stored_neg = bits.T.copy(), (1 - bits).T.copy()
        self.second = {k: _bits([r.second[k] for r in ok], 8) for k in SECOND_HASHES}
        self.stats = {rule: Stage2Stats() for rule in STAGE2_GRID}
        self.margins = Stage2Margins()

    def _scores(self, query: Query) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Per image: best PDQ distance, second-best form's distance, 64-bit hash distances."""
        start = time.perf_counter()
        signal_type = get_algorithm(DEFAULT_POLICY.algorithm)
        per_form = self.index.search([HQuery(signal_type, tuple(f)) for f in query.forms], WIDE)
        form_d = np.full((max(2, len(per_form)), self.n), WIDE + 1)
        for g, found in enumerate(per_form):
            for i, d in found.items():
                o = self.owner[i]
                form_d[g, o] = min(form_d[g, o], d)
        form_d.sort(axis=0)
        # Orientation of the best PDQ hash per image (query rows are forms x 8 dihedral).
        q = _bits([c for form in query.forms for c in form], 32).astype(np.float32)
        distances = q @ self.stored_neg + (1 - q) @ self.stored
        rows, mins = distances.argmin(axis=0), distances.min(axis=0)
        order = np.lexsort((mins, self.owner))
        orient = rows[order[self.starts]] % 8
        evidence = {}
        for key, stored in self.second.items():
            mine = _bits(query.second[key], 8)[orient]
            evidence[key] = (mine != stored).sum(axis=1)
        self.margins.check_seconds += time.perf_counter() - start
        self.margins.checks += 1
        return form_d[0], form_d[1], evidence

    def _accepted(
        self, rule: Stage2, best: np.ndarray, second: np.ndarray, evidence: dict[str, np.ndarray]
    ) -> np.ndarray:
        if rule.evidence is None:
            agree = np.ones(self.n, dtype=bool)
        elif rule.evidence == "forms":
            agree = second <= rule.t2
        else:
            agree = evidence[rule.evidence] <= rule.tight
        return (best <= DEFAULT_POLICY.threshold) | ((best <= rule.t2) & agree)

    def add(self, query: Query, me: int, transform: str | None) -> None:
        """One query (an original when transform is None, else a copy of image `me`)."""
        best, second, evidence = self._scores(query)
        other = np.arange(self.n) != me
        m = self.margins
        m.pairs += self.n - 1
        m.pdq = min(m.pdq, int(best[other].min()))
        m.second_form = min(m.second_form, int(second[other].min()))
        for key, ev in evidence.items():
            m.evidence[key] = min(m.evidence[key], int(ev[other].min()))
            for tight in sorted({r.tight for r in STAGE2_GRID if r.evidence == key}):
                close = other & (ev <= tight)
                m.evidence_pairs[key, tight] = m.evidence_pairs.get((key, tight), 0) + int(
                    close.sum()
                )
                nearest = int(best[close].min()) if close.any() else WIDE + 1
                m.evidence_pdq[key, tight] = min(
                    m.evidence_pdq.get((key, tight), WIDE + 1), nearest
                )
        for rule, st in self.stats.items():
            accepted = self._accepted(rule, best, second, evidence)
            false = np.flatnonzero(accepted & other).tolist()
            if transform is None:
                st.original_pairs.update((min(me, o), max(me, o)) for o in false)
            else:
                st.rows[transform].found += bool(accepted[me])
                st.cross_false += len(false)


def stage2_report(
    stage2: SecondStage, stats: dict[str, PolicyStats], ok: list[ImageResult], copies: int
) -> list[str]:
    m = stage2.margins
    default = stats[DEFAULT_POLICY.name]
    base = sum(row.found for row in default.rows.values())
    targets = [t for t in TRANSFORMS if t in TARGETS and default.rows[t].total]
    lines = [
        f"Second stage (benchmark only; `+stage2` above is `{STAGE2.name}`): a stored image whose "
        f"best distance is in ({DEFAULT_POLICY.threshold}, T2] is accepted only with the evidence "
        f"named. Copies found over `{DEFAULT_POLICY.name}` ({base:,} of {copies:,}):",
        "",
        "| rule | copies gained | targets met | false pairs of originals "
        "| false (copy, other original) pairs |",
        "|---|---|---|---|---|",
    ]
    for rule, st in stage2.stats.items():
        gained = sum(row.found for row in st.rows.values()) - base
        met = sum(st.rows[t].found >= TARGETS[t] * st.rows[t].total for t in targets)
        lines.append(
            f"| {rule.name} | +{gained} | {met} of {len(targets)} | {len(st.original_pairs)} "
            f"| {st.cross_false} |"
        )
    evidence = "; ".join(
        f"{key} ≤ {tight}: {count:,} pairs, closest PDQ among them "
        + (str(m.evidence_pdq[key, tight]) if m.evidence_pdq[key, tight] <= WIDE else f"> {WIDE}")
        for (key, tight), count in m.evidence_pairs.items()
    )
    per_query = dict.fromkeys(SECOND_HASHES, 0.0)
    for r in ok:
        for q in r.copies.values():
            for k in per_query:
                per_query[k] += q.hash_seconds.get(k, 0.0)
    lines += [
        "",
        f"Margins over all {m.pairs:,} unrelated (query, original) pairs: closest best PDQ "
        + (str(m.pdq) if m.pdq <= WIDE else f"> {WIDE}")
        + ", closest second-best form "
        + (str(m.second_form) if m.second_form <= WIDE else f"> {WIDE}")
        + "; closest 64-bit hash in the best PDQ orientation: "
        + ", ".join(f"{k} {d}" for k, d in m.evidence.items())
        + f" ({evidence}).",
        "",
        "Cost: `two forms agree` needs nothing more from clients (the query's forms are sent "
        "already) but the service must group an image's stored hashes; pHash/dHash add 1 stored "
        "64-bit hash per image and 8 query hashes (one per orientation), hashing them took "
        + ", ".join(f"{k} {1000 * v / max(1, copies):.2f} ms" for k, v in per_query.items())
        + " per query; the benchmark's per-form search and evidence check took "
        f"{1e6 * m.check_seconds / max(1, m.checks):.0f} µs per query.",
    ]
    return lines
