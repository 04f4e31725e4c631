"""Disputes of their own, shared wrong-key counts, and the deployment's secrets (issue 14).

- `disputes`: the hashes platforms' reports suspended directly. In 0.1 every
  suspended hash was `disputed` (or `retired`) itself, siblings included; each one
  gets a dispute row in that state, so nothing that was suspended starts matching
  until an operator decides.
- `key_failures`: wrong case keys per scope, shared by every worker and replica.
- `service_secrets`: random per-deployment secrets; `partner_refs` is made here.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    disputes = op.create_table(
        "disputes",
        sa.Column("signal_id", BigId, sa.ForeignKey("signals.id"), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("opened_at", When, nullable=False),
        sa.Column("resolved_at", When),
    )
    op.create_index("ix_disputes_state", "disputes", ["state"])
    op.create_table(
        "key_failures",
        sa.Column("scope", sa.String(64), primary_key=True),
        sa.Column("window_start", When, nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
    )
    op.create_index("ix_key_failures_window_start", "key_failures", ["window_start"])
    service_secrets = op.create_table(
        "service_secrets",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.LargeBinary(64), nullable=False),
    )
    op.bulk_insert(service_secrets, [{"name": "partner_refs", "value": secrets.token_bytes(32)}])
    signals = sa.table(
        "signals", sa.column("id", BigId), sa.column("state"), sa.column("updated_at", When)
    )
    for state, dispute in (("disputed", "open"), ("retired", "retired")):
        op.execute(
            disputes.insert().from_select(
                ["signal_id", "state", "opened_at"],
                sa.select(signals.c.id, sa.literal(dispute), signals.c.updated_at).where(
                    signals.c.state == state
                ),
            )
        )


def downgrade() -> None:
    op.drop_table("service_secrets")
    op.drop_index("ix_key_failures_window_start", "key_failures")
    op.drop_table("key_failures")
    op.drop_index("ix_disputes_state", "disputes")
    op.drop_table("disputes")
