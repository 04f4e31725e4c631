"""The one database connection of a `hashbank-admin` run: opened on first use, closed at exit.

Every command of one invocation shares it (one engine, one pool), and it is
disposed when the command ends, so no connection outlives the tool. The schema
is brought to the newest migration first (`service.schema`), as at service start,
and the tool says on standard error which database it opened, so an operator who
started it in the wrong folder sees so.
"""

from contextvars import ContextVar

import typer
from rich.console import Console

from service import schema
from service.db import Database
from service.settings import Settings

_current: ContextVar["AdminDatabase | None"] = ContextVar("hashbank_admin_db", default=None)


class AdminDatabase:
    def __init__(self) -> None:
        self._db: Database | None = None

    def get(self) -> Database:
        if self._db is None:
            db = Database(Settings().resolved_database_url)
            try:
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


def admin_database() -> Database:
    """The invocation's database (inside a running `hashbank-admin` command)."""
    holder = _current.get()
    if holder is None:
        raise RuntimeError("admin_database() outside a hashbank-admin command")
    return holder.get()


def describe(db: Database) -> str:
    """Which database this is, for the operator (never the password)."""
    return db.url.render_as_string(hide_password=True)
