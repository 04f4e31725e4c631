"""The database side of hash-list export and import (`hashbank-admin export` / `import`).

Only active signals are ever exported: withdrawn, disputed, retired or any other
state never leaves the service this way. Videos are exported whole (`videos`):
those partners' feeds show (service/store/video_feed.py: an active case's video
that no dispute suspends), each with its frames' times and its MD5. An import
creates an ordinary case through `CaseRepository.create`; `prior_states` only
tells the operator beforehand what that will find.
"""

from collections import Counter
from collections.abc import Collection, Iterator
from itertools import groupby

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased

from hashing import MD5_ALGORITHM, VPDQ_ALGORITHM, VideoFrameHash
from service.exchange.hashlist import Video
from service.store.models import Case, CaseSignal, Dispute, Signal
from service.store.signals import ACTIVE, OPEN, RETIRED, SignalInput, fold_duplicates

NEW = "new"
_CHUNK = 500


def exportable(session: Session, algorithms: Collection[str]) -> Iterator[tuple[str, bytes]]:
    """(algorithm, value) of every active signal of these algorithms, streamed in sorted order.

    Values of one algorithm have one length, so byte order is the order of their hex.
    """
    rows = session.execute(
        select(Signal.algorithm, Signal.value)
        .where(Signal.state == ACTIVE, Signal.algorithm.in_(sorted(algorithms)))
        .order_by(Signal.algorithm, Signal.value)
        .execution_options(yield_per=5000)
    )
    yield from rows


def videos(session: Session) -> Iterator[Video]:
    """Every video in force, in the order of its case and item: its MD5 (if it has one)
    and its frames in time order, each with its stored quality."""
    frame, member = aliased(CaseSignal), aliased(CaseSignal)
    same_item = (frame.case_id == CaseSignal.case_id) & (frame.image == CaseSignal.image)
    suspended = (
        select(member.signal_id)
        .join(Dispute, Dispute.signal_id == member.signal_id)
        .where(
            member.case_id == CaseSignal.case_id,
            member.image == CaseSignal.image,
            Dispute.state.in_((OPEN, RETIRED)),
        )
        .exists()
    )
    rows = session.execute(
        select(
            CaseSignal.case_id,
            CaseSignal.image,
            CaseSignal.timestamp,
            Signal.algorithm,
            Signal.value,
            Signal.quality,
        )
        .join(Signal, Signal.id == CaseSignal.signal_id)
        .join(Case, Case.id == CaseSignal.case_id)
        .where(
            Case.state == ACTIVE,
            CaseSignal.state == ACTIVE,
            Signal.state == ACTIVE,
            CaseSignal.image.is_not(None),
            # A frame's variants are not frames in Meta's and pytx's formats.
            CaseSignal.variant.is_(False),
            exists().where(same_item, frame.timestamp.is_not(None)),
            ~suspended,
        )
        .order_by(CaseSignal.case_id, CaseSignal.image, CaseSignal.timestamp, Signal.id)
        .execution_options(yield_per=5000)
    )
    for _, item in groupby(rows, key=lambda r: (r.case_id, r.image)):
        video = Video(None)
        for row in item:
            if row.algorithm == MD5_ALGORITHM.name:
                video = Video(row.value, video.frames)
            elif row.algorithm == VPDQ_ALGORITHM.name:
                quality = 100 if row.quality is None else row.quality
                video.frames.append(VideoFrameHash(0, row.timestamp, quality, row.value))
        if video.frames:
            yield video


def active_by_algorithm(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Signal.algorithm, func.count())
        .where(Signal.state == ACTIVE)
        .group_by(Signal.algorithm)
    ).all()
    return {algorithm: int(count) for algorithm, count in rows}


def prior_states(session: Session, inputs: list[SignalInput]) -> Counter[str]:
    """How many distinct inputs are unknown (`new`) or already held, by the signal's state."""
    by_algorithm: dict[str, list[bytes]] = {}
    for item in fold_duplicates(inputs):
        by_algorithm.setdefault(item.algorithm, []).append(item.value)
    states: Counter[str] = Counter()
    found = 0
    for algorithm, values in by_algorithm.items():
        for start in range(0, len(values), _CHUNK):
            for state in session.scalars(
                select(Signal.state).where(
                    Signal.algorithm == algorithm, Signal.value.in_(values[start : start + _CHUNK])
                )
            ):
                states[state] += 1
                found += 1
    states[NEW] = sum(len(v) for v in by_algorithm.values()) - found
    return states
