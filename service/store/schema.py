"""The database schema: brought to the newest migration, once, however many start together.

Schema changes happen only through the Alembic migrations in `service/store/migrations`.
`upgrade` runs them in one transaction that first takes the database's own lock
(SQLite: `BEGIN IMMEDIATE`, the write lock on the file; PostgreSQL: a transaction
advisory lock), so N replicas starting at once on an empty database take turns:
the first migrates, the others find the schema current and go on. A database
that hashbank 0.1 created with `create_all`, before migrations existed, is
recognised by its tables and stamped at the baseline revision, keeping its data.
"""

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from service.store.db import Database

BASELINE = "0001"  # the schema of hashbank 0.1
# pg_advisory_xact_lock key: any constant no other application on the database uses.
_LOCK_KEY = 0x68617368_62616E6B  # "hashbank"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "service.store:migrations")
    config.attributes["connection"] = connection
    return config


def head() -> str:
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


def current(db: Database) -> str | None:
    """The revision the database is at (None: no hashbank schema, or a 0.1 one)."""
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> None:
    """Migrate to `revision` (the newest by default); a no-op when already there."""
    with db.engine.begin() as connection:  # SQLite: BEGIN IMMEDIATE (service.store.db)
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        config = _config(connection)
        at = MigrationContext.configure(connection).get_current_revision()
        if at is None and inspect(connection).has_table("signals"):
            command.stamp(config, BASELINE)  # made by 0.1's create_all: its tables are 0001
        command.upgrade(config, revision)
