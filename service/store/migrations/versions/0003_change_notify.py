"""PostgreSQL: every commit that adds to the change log sends NOTIFY `hashbank_changes`.

Replicas LISTEN on that channel (`service.live.follower`) and catch up at once instead of
at their next poll. A statement-level trigger, so a bulk import notifies once
per statement, and PostgreSQL folds identical notifications of one transaction
into one, delivered at commit. The payload is empty: the change log itself says
what changed. SQLite needs nothing (all its workers are on one machine and poll).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "hashbank_changes"  # service.live.follower listens on it


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION hashbank_notify_changes() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '');
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER changes_notify AFTER INSERT ON changes "
        "FOR EACH STATEMENT EXECUTE FUNCTION hashbank_notify_changes()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER changes_notify ON changes")
    op.execute("DROP FUNCTION hashbank_notify_changes()")
