"""`hashbank-admin`: the operator's tool. Every action is written to the audit log.

Reads the same `HASHBANK_*` settings as the service, so it works on the same
database (SQLite under ./data by default).
"""

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from index import IndexConfig
from service.admin.db import admin_database, open_for
from service.admin.disputes import dispute_app
from service.admin.hashlists import export_hashes, import_hashes
from service.admin.schema import db_app
from service.failures import Failure
from service.live.follower import ChangeFollower
from service.live.indexes import IndexSet
from service.settings import Settings
from service.store import audit
from service.store.db import Database
from service.store.platforms import SCOPES, PlatformRepository
from service.store.stats import collect

app = typer.Typer(help="hashbank operator commands.", no_args_is_help=True, add_completion=False)
platform_app = typer.Typer(help="Partner platforms.", no_args_is_help=True)
key_app = typer.Typer(help="Platform API keys.", no_args_is_help=True)
app.add_typer(platform_app, name="platform")
app.add_typer(key_app, name="key")
app.add_typer(dispute_app, name="dispute")
app.add_typer(db_app, name="db")
app.command("export")(export_hashes)
app.command("import")(import_hashes)
app.callback()(open_for)  # one database per invocation, disposed when it ends
out = Console()
err = Console(stderr=True)


def _db() -> Database:
    return admin_database()


def _audit(action: str, **detail: object) -> None:
    with _db().transaction() as session:
        audit.record(session, "admin", action, "service", "-", **detail)


def _fail(exc: Failure) -> None:
    err.print(f"error: {exc.message}")
    raise typer.Exit(1)


@platform_app.command("add")
def platform_add(name: str) -> None:
    """Register a partner platform."""
    try:
        info = PlatformRepository(_db()).add(name)
    except Failure as exc:
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
    except Failure as exc:
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
    except Failure as exc:
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
    except Failure as exc:
        _fail(exc)
    out.print(f"key {key_id} revoked")


@key_app.command("list")
def key_list(platform: str) -> None:
    """List a platform's key ids, scopes and revocation times (never the keys)."""
    try:
        keys = PlatformRepository(_db()).keys(platform)
    except Failure as exc:
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


def main() -> None:
    app()
