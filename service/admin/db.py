"""The one database connection of a `hashbank-admin` run: opened on first use, closed at exit.

Every command of one invocation shares it (one engine, one pool), and it is
disposed when the command ends, so no connection outlives the tool. The tool
says on standard error which database it opened, and it never makes one: a
command started in the wrong folder (or with the wrong `HASHBANK_DATABASE_URL`)
finds no hashbank database there and stops with an error instead of working on
a new empty one. Only `hashbank-admin db upgrade` creates a schema; every
other command brings an existing one to the newest migration first
(`service.store.schema`), as the service does at start.
"""

from contextvars import ContextVar
from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from service.settings import Settings
from service.store import schema
from service.store.db import Database


class NoDatabase(Exception):
    """There is no hashbank database where the settings point."""


_current: ContextVar["AdminDatabase | None"] = ContextVar("hashbank_admin_db", default=None)


class AdminDatabase:
    def __init__(self) -> None:
        self._db: Database | None = None

    def get(self, *, create: bool = False) -> Database:
        if self._db is None:
            url = Settings().resolved_database_url
            db = _open(url, create)
            try:
                if not create and not _has_schema(db):
                    raise NoDatabase(describe(db))
                schema.upgrade(db)
            except BaseException:
                db.dispose()
                raise
            Console(stderr=True).print(f"database: {describe(db)}", style="dim")
            self._db = db
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None


def open_for(ctx: typer.Context) -> None:
    """The admin app's callback: one `AdminDatabase` for this invocation, closed with it."""
    holder = AdminDatabase()
    token = _current.set(holder)

    def close() -> None:
        holder.close()
        _current.reset(token)

    ctx.call_on_close(close)


def admin_database(*, create: bool = False) -> Database:
    """The invocation's database (inside a running `hashbank-admin` command); with
    `create`, made and migrated if it does not exist yet, else exit 1 with a message."""
    holder = _current.get()
    if holder is None:
        raise RuntimeError("admin_database() outside a hashbank-admin command")
    try:
        return holder.get(create=create)
    except NoDatabase as exc:
        Console(stderr=True).print(
            f"error: no hashbank database at {exc}. Run hashbank-admin where the service "
            "runs (its data folder, HASHBANK_DATA_DIR), or set HASHBANK_DATABASE_URL; "
            "`hashbank-admin db upgrade` creates a new one.",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(1) from None


def _open(url: str, create: bool) -> Database:
    """The database at `url`; a SQLite file that is not there is not made (unless `create`)."""
    parsed = make_url(url)
    sqlite_file = parsed.get_backend_name() == "sqlite" and parsed.database not in (
        None,
        "",
        ":memory:",
    )
    if not create and sqlite_file and not Path(str(parsed.database)).exists():
        raise NoDatabase(parsed.render_as_string(hide_password=True))
    return Database(url)


def _has_schema(db: Database) -> bool:
    with db.engine.connect() as connection:
        return inspect(connection).has_table("signals")


def describe(db: Database) -> str:
    """Which database this is, for the operator (never the password)."""
    return db.url.render_as_string(hide_password=True)
