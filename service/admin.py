"""`hashbank-admin`: the operator's tool. Every action is written to the audit log.

Reads the same `HASHBANK_*` settings as the service, so it works on the same
database (SQLite under ./data by default).
"""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from index import IndexConfig
from service import hashlist
from service.admin_db import admin_database, open_for
from service.admin_disputes import dispute_app
from service.admin_schema import db_app
from service.db import Database
from service.errors import ApiError
from service.indexes import IndexSet
from service.repository import audit, hashlists
from service.repository.cases import CaseRepository
from service.repository.platforms import SCOPES, PlatformRepository
from service.repository.signals import ACTIVE, WITHDRAWN
from service.repository.stats import collect
from service.settings import Settings
from service.sync import ChangeFollower

app = typer.Typer(help="hashbank operator commands.", no_args_is_help=True, add_completion=False)
platform_app = typer.Typer(help="Partner platforms.", no_args_is_help=True)
key_app = typer.Typer(help="Platform API keys.", no_args_is_help=True)
app.add_typer(platform_app, name="platform")
app.add_typer(key_app, name="key")
app.add_typer(dispute_app, name="dispute")
app.add_typer(db_app, name="db")
app.callback()(open_for)  # one database per invocation, disposed when it ends
out = Console()
err = Console(stderr=True)


def _db() -> Database:
    return admin_database()


def _audit(action: str, **detail: object) -> None:
    with _db().transaction() as session:
        audit.record(session, "admin", action, "service", "-", **detail)


def _fail(exc: ApiError) -> None:
    err.print(f"error: {exc.message}")
    raise typer.Exit(1)


@platform_app.command("add")
def platform_add(name: str) -> None:
    """Register a partner platform."""
    try:
        info = PlatformRepository(_db()).add(name)
    except ApiError as exc:
        _fail(exc)
        return
    out.print(
        f"platform {info.name!r} added (id {info.id}). Next: hashbank-admin key issue {info.name!r}"
    )


@platform_app.command("list")
def platform_list() -> None:
    """List platforms with their state and number of live keys."""
    platforms = PlatformRepository(_db()).list_platforms()
    _audit("platform.list")
    table = Table("id", "name", "state", "live keys", "created (UTC)")
    for p in platforms:
        table.add_row(
            str(p.id),
            p.name,
            p.state,
            str(p.active_keys),
            p.created_at.isoformat(timespec="seconds"),
        )
    out.print(table)


@platform_app.command("disable")
def platform_disable(name: str) -> None:
    """Refuse every request from this platform (its keys stay, disabled)."""
    _set_state(name, "disabled")


@platform_app.command("enable")
def platform_enable(name: str) -> None:
    """Allow a disabled platform again."""
    _set_state(name, "active")


def _set_state(name: str, state: str) -> None:
    try:
        PlatformRepository(_db()).set_state(name, state)
    except ApiError as exc:
        _fail(exc)
    out.print(f"platform {name!r} is now {state}")


@key_app.command("issue")
def key_issue(
    platform: str,
    scope: Annotated[
        list[str], typer.Option("--scope", "-s", help=f"Repeatable: {', '.join(SCOPES)}")
    ] = [  # noqa: B006
        "match",
        "feedback",
    ],
) -> None:
    """Issue an API key. It is printed once and stored only as a hash."""
    try:
        issued = PlatformRepository(_db()).issue_key(platform, scope)
    except ApiError as exc:
        _fail(exc)
        return
    err.print(
        f"API key for {issued.platform!r}, scopes {', '.join(issued.scopes)}, id {issued.key_id}."
    )
    err.print(
        "It is shown only this once; hashbank keeps only a hash of it. "
        "Give it to the platform securely:"
    )
    print(issued.key)  # stdout, alone, so it can be piped into a secret store


@key_app.command("revoke")
def key_revoke(key_id: str) -> None:
    """Revoke a key by its id (k_...); it stops working at once."""
    try:
        PlatformRepository(_db()).revoke_key(key_id)
    except ApiError as exc:
        _fail(exc)
    out.print(f"key {key_id} revoked")


@key_app.command("list")
def key_list(platform: str) -> None:
    """List a platform's key ids, scopes and revocation times (never the keys)."""
    try:
        keys = PlatformRepository(_db()).keys(platform)
    except ApiError as exc:
        _fail(exc)
        return
    _audit("key.list", platform=platform)
    table = Table("key id", "scopes", "created (UTC)", "revoked (UTC)")
    for key_id, scopes, created, revoked in keys:
        table.add_row(
            key_id,
            scopes,
            created.isoformat(timespec="seconds"),
            revoked.isoformat(timespec="seconds") if revoked else "",
        )
    out.print(table)


@app.command("rebuild-index")
def rebuild_index() -> None:
    """Rebuild the index from the database and write a fresh snapshot for workers to load."""
    settings = Settings()
    db = _db()
    follower = ChangeFollower(
        db, IndexSet(IndexConfig(kind=settings.index_kind)), settings.snapshot_dir, 0, 0
    )
    follower.rebuild()
    follower.catch_up()
    if not follower.snapshot():
        err.print("error: another process is writing a snapshot; try again")
        raise typer.Exit(1)
    _audit("index.rebuild", hashes=len(follower.indexes), change_seq=follower.seq)
    out.print(
        f"index rebuilt: {len(follower.indexes)} hashes at change {follower.seq}, "
        f"snapshot in {settings.snapshot_dir}"
    )


@app.command("stats")
def stats(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Cases, hashes, matches, removals and the median time to a first removal."""
    s = collect(_db())
    _audit("stats.read")
    if as_json:
        print(json.dumps(s.__dict__))
        return
    median = (
        "n/a"
        if s.median_hours_to_first_removal is None
        else f"{s.median_hours_to_first_removal:.1f} h"
    )
    table = Table("measure", "value")
    for label, value in [
        ("cases active", s.cases_active),
        ("cases withdrawn", s.cases_withdrawn),
        *((f"hashes {k}", v) for k, v in sorted(s.hashes_by_state.items())),
        ("matches", s.matches),
        ("matches removed", s.removals),
        ("matches not violating", s.not_violating),
        ("median case creation → first removal", median),
    ]:
        table.add_row(label, str(value))
    out.print(table)


@app.command("audit")
def audit_tail(limit: Annotated[int, typer.Option("-n", help="How many events")] = 50) -> None:
    """The newest audit events, oldest first."""
    db = _db()
    with db.transaction(read_only=True) as session:
        events = [
            (e.at, e.actor, e.action, e.subject_type, e.subject_id, e.detail)
            for e in audit.tail(session, limit)
        ]
    _audit("audit.read", limit=limit)
    for at, actor, action, subject_type, subject_id, detail in events:
        out.print(
            f"{at.isoformat(timespec='seconds')}  {actor:<12} {action:<22} "
            f"{subject_type}:{subject_id}  {json.dumps(detail) if detail else ''}",
            highlight=False,
        )


@app.command("export")
def export_hashes(
    file: Annotated[Path, typer.Argument(help="Where to write the list; - for standard output")],
) -> None:
    """Write every active PDQ hash in python-threatexchange's file format (`pdq <hex>` lines).

    Withdrawn, disputed and retired hashes are never exported. The file is replaced
    atomically and is readable only by you (0600): hash lists are sensitive.
    """
    db = _db()
    try:
        with db.transaction(read_only=True) as session:
            active = hashlists.active_by_algorithm(session)
            rows = hashlists.exportable(session, hashlist.EXPORTABLE)
            written = hashlist.write(file, (hashlist.format_line(a, v) for a, v in rows))
    except OSError as exc:
        err.print(f"error: cannot write {file}: {exc.strerror or exc}", markup=False)
        raise typer.Exit(1) from None
    skipped = sum(n for algorithm, n in active.items() if algorithm not in hashlist.EXPORTABLE)
    _audit("export", hashes=written, skipped=skipped, file=str(file))
    (err if str(file) == "-" else out).print(
        f"{written} active PDQ hashes written to "
        f"{'standard output' if str(file) == '-' else file}; {skipped} active hashes of other "
        "algorithms skipped (python-threatexchange has no signal type for them)",
        markup=False,
        highlight=False,
    )


@app.command("import")
def import_hashes(
    file: Annotated[
        Path, typer.Argument(help="A list in python-threatexchange's format; - for standard input")
    ],
    signal_type: Annotated[
        str | None,
        typer.Option("--signal-type", help="The type of lines that hold a bare hash: pdq"),
    ] = None,
    chunk: Annotated[
        int,
        typer.Option(min=1, help="Hashes written per transaction (survivors' writes go between)"),
    ] = 2000,
) -> None:
    """Create one case from a hash list (`pdq <hex>` lines) and print its id and key once.

    Every line is checked first: one bad line imports nothing. Duplicates are folded,
    withdrawn hashes come back, hashes already active are linked. The list is written
    `--chunk` hashes per transaction; if writing fails part-way, the case is withdrawn
    again, so nothing of it matches. Withdraw the whole list later as any case, with
    its id and key.
    """
    try:
        parsed = hashlist.read(file, signal_type)
    except (hashlist.HashListError, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        err.print(f"error: nothing imported from {file}:\n{reason}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    if not parsed.inputs:
        err.print(f"error: no hashes in {file}; nothing imported", markup=False)
        raise typer.Exit(1)
    db = _db()
    with db.transaction(read_only=True) as session:
        before = hashlists.prior_states(session, parsed.inputs)
    created = CaseRepository(db).create_in_chunks(
        parsed.inputs, chunk, actor="admin", origin="import"
    )
    distinct = len(created.status.hashes)
    counts = {
        "lines": parsed.lines,
        "hashes": distinct,
        "new": before[hashlists.NEW],
        "already_active": before[ACTIVE],
        "reactivated": before[WITHDRAWN],
    }
    counts["not_matching"] = distinct - counts["new"] - counts["already_active"]
    counts["not_matching"] -= counts["reactivated"]  # disputed or retired: they stay so
    _audit("import", case=created.case_id, **counts)
    err.print(
        f"imported {distinct} hashes from {parsed.lines} lines "
        f"({parsed.lines - distinct} duplicates folded): {counts['new']} new, "
        f"{counts['already_active']} already active, {counts['reactivated']} reactivated"
        + (
            f", {counts['not_matching']} disputed or retired (they stay out of matching)"
            if counts["not_matching"]
            else ""
        ),
        markup=False,
        highlight=False,
    )
    print(f"case id:  {created.case_id}\ncase key: {created.case_key}")
    err.print(
        "The case key is shown only now and cannot be recovered (hashbank keeps only a hash "
        "of it). Keep it safe: with the case id it withdraws the imported list, like any case "
        "(DELETE /v1/cases/CASE_ID with X-Case-Key, or hashbank withdraw CASE_ID)."
    )


def main() -> None:
    app()
