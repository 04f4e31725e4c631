"""`hashbank-admin dispute ...`: review hashes that platforms reported as not violating.

A disputed hash has stopped matching and left partners' feeds; the operator
decides: `reinstate` (platforms were wrong; it matches again and the reports so
far stop counting) or `retire` (not an intimate image; it never comes back, even
if resubmitted). Both are audited.
"""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from service.db import Database
from service.errors import ApiError
from service.repository import audit
from service.repository.disputes import DisputeRepository
from service.settings import Settings

dispute_app = typer.Typer(help="Disputed hashes (suspended after reports).", no_args_is_help=True)
out = Console()
err = Console(stderr=True)

SignalId = Annotated[int, typer.Argument(help="The hash's id, from `dispute list`")]


def _repository() -> DisputeRepository:
    db = Database(Settings().resolved_database_url)
    db.create_schema()
    return DisputeRepository(db)


@dispute_app.command("list")
def dispute_list(
    show_hash: Annotated[bool, typer.Option("--show-hash", help="Print hash values")] = False,
) -> None:
    """Hashes suspended by disputes, oldest first, with the platforms that reported them."""
    repository = _repository()
    disputed = repository.list()
    with repository.db.transaction() as session:
        audit.record(session, "admin", "dispute.list", "service", "-", count=len(disputed))
    table = Table("id", "algorithm", "hash", "since (UTC)", "not violating per", "cases")
    for d in disputed:
        table.add_row(
            str(d.signal_id),
            d.algorithm,
            d.hash if show_hash else d.hash[:8] + "…",
            d.since.isoformat(timespec="seconds"),
            ", ".join(d.not_violating),
            str(d.cases),
        )
    out.print(table if disputed else "no disputed hashes")


@dispute_app.command("reinstate")
def dispute_reinstate(signal_id: SignalId) -> None:
    """Make a disputed (or retired) hash match again, with the other hashes of its image."""
    try:
        state = _repository().reinstate(signal_id)
    except ApiError as exc:
        err.print(f"error: {exc.message}")
        raise typer.Exit(1) from None
    out.print(f"hash {signal_id} and the other hashes of its image reinstated: now {state}")


@dispute_app.command("retire")
def dispute_retire(signal_id: SignalId) -> None:
    """Remove a disputed hash for good, with the other disputed hashes of its image: they
    never match or reach partners again."""
    try:
        _repository().retire(signal_id)
    except ApiError as exc:
        err.print(f"error: {exc.message}")
        raise typer.Exit(1) from None
    out.print(f"hash {signal_id} and the other disputed hashes of its image retired")
