"""The schema as hashbank 0.1 created it with `create_all`, before migrations existed.

A database made by 0.1 already has exactly these tables: `service.store.schema` stamps it
at this revision (keeping its data) and upgrades it from here.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# BIGINT on PostgreSQL, and still SQLite's rowid alias (what the models use).
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("at", When, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject_type", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_subject", "audit_events", ["subject_type", "subject_id"])
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_table(
        "cases",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("public_id", sa.String(32), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("withdrawn_at", When),
    )
    counters = op.create_table(
        "counters",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    # The change counter exists before the first change, so two first writers never
    # race to create it (0.1 made this row at start-up).
    op.bulk_insert(counters, [{"name": "changes", "value": 0}])
    op.create_table(
        "platforms",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", When, nullable=False),
    )
    op.create_table(
        "signals",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("algorithm", sa.String(16), nullable=False),
        sa.Column("value", sa.LargeBinary(64), nullable=False),
        sa.Column("quality", sa.Integer()),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("updated_at", When, nullable=False),
        sa.Column("disputes_cleared_at", When),
        sa.UniqueConstraint("algorithm", "value"),
    )
    op.create_index("ix_signals_state", "signals", ["state"])
    op.create_table(
        "api_keys",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("platform_id", BigId, sa.ForeignKey("platforms.id"), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", sa.String(64), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("revoked_at", When),
    )
    op.create_index("ix_api_keys_platform_id", "api_keys", ["platform_id"])
    op.create_table(
        "case_signals",
        sa.Column("case_id", BigId, sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("signal_id", BigId, sa.ForeignKey("signals.id"), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("added_at", When, nullable=False),
        sa.Column("withdrawn_at", When),
        sa.Column("image", sa.Integer()),
    )
    op.create_index("ix_case_signals_signal_id", "case_signals", ["signal_id"])
    op.create_table(
        "changes",
        sa.Column("seq", BigId, primary_key=True, autoincrement=False),
        sa.Column("signal_id", BigId, sa.ForeignKey("signals.id"), nullable=False),
        sa.Column("op", sa.String(8), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", When, nullable=False),
    )
    op.create_index("ix_changes_signal_id", "changes", ["signal_id"])
    op.create_table(
        "matches",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("public_id", sa.String(32), nullable=False, unique=True),
        sa.Column("platform_id", BigId, sa.ForeignKey("platforms.id"), nullable=False),
        sa.Column("signal_id", BigId, sa.ForeignKey("signals.id"), nullable=False),
        sa.Column("algorithm", sa.String(16), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=False),
        sa.Column("created_at", When, nullable=False),
    )
    op.create_index("ix_matches_platform_id", "matches", ["platform_id"])
    op.create_index("ix_matches_signal_id", "matches", ["signal_id"])
    op.create_table(
        "feedback",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("match_id", BigId, sa.ForeignKey("matches.id"), nullable=False),
        sa.Column("platform_id", BigId, sa.ForeignKey("platforms.id"), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("created_at", When, nullable=False),
    )
    op.create_index("ix_feedback_match_id", "feedback", ["match_id"])


def downgrade() -> None:
    for table in (
        "feedback",
        "matches",
        "changes",
        "case_signals",
        "api_keys",
        "signals",
        "platforms",
        "counters",
        "cases",
        "audit_events",
    ):
        op.drop_table(table)
