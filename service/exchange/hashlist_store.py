"""The database side of hash-list export and import (`hashbank-admin export` / `import`).

Only active signals are ever exported: withdrawn, disputed, retired or any other
state never leaves the service this way. An import creates an ordinary case
through `CaseRepository.create`; `prior_states` only tells the operator
beforehand what that will find.
"""

from collections import Counter
from collections.abc import Collection, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.store.models import Signal
from service.store.signals import ACTIVE, SignalInput, fold_duplicates

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
