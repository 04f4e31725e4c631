"""The case items (images and videos) that matched hashes belong to, with their frames.

A video match is judged per stored item, not per hash: the share of the
video's frames that the query matched, and where in it they are. Given the
signals an index search found, `items_holding` returns every active item of an
active case that holds one of them (a case's image or video: its links with
the same `case_signals.image` number; a link without a number is an item of its
own), with all of that item's active hashes, so the caller can count frames and
find the matched time ranges.
"""

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from service.store.models import Case, CaseSignal, Signal
from service.store.signals import ACTIVE


@dataclass(frozen=True, slots=True)
class ItemHash:
    signal_id: int
    algorithm: str
    timestamp: float | None  # a video frame's time; None for others
    variant: bool = False  # another form of the frame at `timestamp` (hashing.video_forms)


@dataclass(frozen=True)
class StoredItem:
    """One image or video of a case, as its active hashes (video frames in time order)."""

    case_id: int
    number: int | None
    hashes: tuple[ItemHash, ...]

    def frames(self, algorithm: str) -> list[ItemHash]:
        """The item's frame hashes of one (timed) signal type, variants left out, in
        time order."""
        return sorted(
            (h for h in self.hashes if h.algorithm == algorithm and not h.variant),
            key=lambda h: (h.timestamp or 0.0, h.signal_id),
        )


def items_holding(session: Session, signal_ids: Collection[int]) -> list[StoredItem]:
    """The active items of active cases that hold any of `signal_ids` (each once)."""
    if not signal_ids:
        return []
    active = and_(CaseSignal.state == ACTIVE, Signal.state == ACTIVE, Case.state == ACTIVE)
    holders = session.execute(
        select(CaseSignal.case_id, CaseSignal.image, CaseSignal.signal_id)
        .join(Signal, Signal.id == CaseSignal.signal_id)
        .join(Case, Case.id == CaseSignal.case_id)
        .where(CaseSignal.signal_id.in_(list(signal_ids)), active)
    ).all()
    numbered = {(case_id, image) for case_id, image, _ in holders if image is not None}
    single = {(case_id, signal_id) for case_id, image, signal_id in holders if image is None}
    found: dict[tuple[int, int | None], list[ItemHash]] = {}
    if numbered:
        rows = session.execute(
            select(
                CaseSignal.case_id,
                CaseSignal.image,
                Signal.id,
                Signal.algorithm,
                CaseSignal.timestamp,
                CaseSignal.variant,
            )
            .join(Signal, Signal.id == CaseSignal.signal_id)
            .join(Case, Case.id == CaseSignal.case_id)
            # The cases' links, kept below only for the items hit: one statement
            # however many items, and a case holds few.
            .where(CaseSignal.case_id.in_({c for c, _ in numbered}), active)
        ).all()
        for case_id, image, signal_id, algorithm, timestamp, variant in rows:
            if (case_id, image) in numbered:
                found.setdefault((case_id, image), []).append(
                    ItemHash(signal_id, algorithm, timestamp, variant)
                )
    items = [StoredItem(c, i, tuple(hashes)) for (c, i), hashes in sorted(found.items())]
    if single:
        algorithms = dict(
            session.execute(
                select(Signal.id, Signal.algorithm).where(Signal.id.in_([s for _, s in single]))
            ).all()
        )
        items.extend(
            StoredItem(c, None, (ItemHash(s, algorithms[s], None),)) for c, s in sorted(single)
        )
    return items
