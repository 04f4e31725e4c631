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

from service.admin.db import admin_database
from service.failures import Failure
from service.store import audit
from service.store.disputes import DisputeRepository

dispute_app = typer.Typer(help="Disputed hashes (suspended after reports).", no_args_is_help=True)
out = Console()
err = Console(stderr=True)

SignalId = Annotated[int, typer.Argument(help="The hash's id, from `dispute list`")]


def _repository() -> DisputeRepository:
    return DisputeRepository(admin_database())


@dispute_app.command("list")
def dispute_list(
    show_hash: Annotated[bool, typer.Option("--show-hash", help="Print hash values")] = False,
) -> None:
    """Hashes suspended by disputes, oldest first: each platform's latest report on the
    hash, and for a hash suspended as a sibling, the disputed hash that carried it (via)."""
    repository = _repository()
    disputed = repository.list()
    with repository.db.transaction() as session:
        audit.record(session, "admin", "dispute.list", "service", "-", count=len(disputed))
    table = Table("id", "algorithm", "hash", "since (UTC)", "reports", "via", "cases")
    for d in disputed:
        table.add_row(
            str(d.signal_id),
            d.algorithm,
            d.hash if show_hash else d.hash[:8] + "…",
            d.since.isoformat(timespec="seconds"),
            ", ".join(f"{p}: {o}" for p, o in sorted(d.reports.items())) or "-",
            ", ".join(map(str, d.via)) or "-",
            str(d.cases),
        )
    out.print(table if disputed else "no disputed hashes")
    if any(d.via for d in disputed):
        out.print(
            "A hash with a via is suspended only because a case submitted it with that "
            "disputed hash for the same image; decide on the disputed hash."
        )


@dispute_app.command("reinstate")
def dispute_reinstate(signal_id: SignalId) -> None:
    """Make a disputed (or retired) hash match again, with the hashes suspended with it."""
    try:
        state = _repository().reinstate(signal_id)
    except Failure as exc:
        err.print(f"error: {exc.message}")
        raise typer.Exit(1) from None
    out.print(f"hash {signal_id} reinstated, with the hashes suspended with it: now {state}")


@dispute_app.command("retire")
def dispute_retire(signal_id: SignalId) -> None:
    """Remove a disputed hash for good: it never matches or reaches partners again. Its
    siblings stay suspended in the cases that submitted them with it, and match
    wherever another case holds them."""
    try:
        _repository().retire(signal_id)
    except Failure as exc:
        err.print(f"error: {exc.message}")
        raise typer.Exit(1) from None
    out.print(f"hash {signal_id} retired")
