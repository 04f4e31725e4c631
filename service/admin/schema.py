"""`hashbank-admin db`: create or migrate the database, and say which revision it is at."""

import typer

from service.admin.db import admin_database, describe
from service.store import schema

db_app = typer.Typer(help="The database's schema (Alembic migrations).", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade() -> None:
    """Create the database's schema, or bring it to the newest migration (run once per
    release; replicas starting together also do it, taking turns under a lock)."""
    db = admin_database(create=True)  # migrates as it opens, under the database's lock
    print(f"{describe(db)} is at revision {schema.current(db)} (newest)")


@db_app.command("current")
def current() -> None:
    """The revision the database is at, and the newest this version knows."""
    db = admin_database()
    print(f"revision {schema.current(db)}; newest {schema.head()}")
