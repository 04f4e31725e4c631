"""The delta feed groups a video's hashes: change rows that say a hash joined or left a video.

A partner regroups a video's frames from the feed (issue 17, point 6). Each such
change row names the case whose video it is about (`changes.case_id`, never shown
to partners: the feed shows an opaque reference of the video instead) and whether
the hash joined that video or left it (`changes.item_op`: add, remove). Such a row
has `op` `item` when the hash's own state did not change (the index follower skips
it). The video is the case's item `case_signals.image` of that case and hash, and
the frame's time is `case_signals.timestamp`.

Videos already stored are announced once, as joined (in sequence order after
everything else), when their case is active and no dispute suspends them, so a
partner reading the feed from the start sees every video grouped.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("changes") as batch:
        batch.add_column(sa.Column("case_id", BigId, nullable=True))
        batch.add_column(sa.Column("item_op", sa.String(8), nullable=True))
        batch.create_foreign_key("fk_changes_case_id", "cases", ["case_id"], ["id"])
        batch.create_index("ix_changes_case_id", ["case_id"])
    _announce_stored_videos()


def downgrade() -> None:
    op.execute("DELETE FROM changes WHERE op = 'item'")
    with op.batch_alter_table("changes") as batch:
        batch.drop_index("ix_changes_case_id")
        batch.drop_constraint("fk_changes_case_id", type_="foreignkey")
        batch.drop_column("item_op")
        batch.drop_column("case_id")


def _announce_stored_videos() -> None:
    """One `item` row per hash of every video in force (see the module docstring)."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            """
            SELECT cs.case_id, cs.image, cs.signal_id, s.state, cs.timestamp
            FROM case_signals cs
            JOIN cases c ON c.id = cs.case_id
            JOIN signals s ON s.id = cs.signal_id
            WHERE c.state = 'active' AND cs.state = 'active' AND cs.image IS NOT NULL
              AND EXISTS (SELECT 1 FROM case_signals f WHERE f.case_id = cs.case_id
                          AND f.image = cs.image AND f.timestamp IS NOT NULL)
              AND NOT EXISTS (SELECT 1 FROM case_signals m JOIN disputes d
                              ON d.signal_id = m.signal_id AND d.state IN ('open', 'retired')
                              WHERE m.case_id = cs.case_id AND m.image = cs.image)
            ORDER BY cs.case_id, cs.image, cs.timestamp IS NOT NULL, cs.timestamp, cs.signal_id
            """
        )
    ).all()
    if not rows:
        return
    last = bind.execute(
        sa.text("UPDATE counters SET value = value + :n WHERE name = 'changes' RETURNING value"),
        {"n": len(rows)},
    ).scalar_one()
    now = datetime.now(UTC)
    bind.execute(
        sa.text(
            "INSERT INTO changes (seq, signal_id, op, state, created_at, case_id, item_op) "
            "VALUES (:seq, :signal_id, 'item', :state, :now, :case_id, 'add')"
        ),
        [
            {
                "seq": seq,
                "signal_id": r.signal_id,
                "state": r.state,
                "now": now,
                "case_id": r.case_id,
            }
            for seq, r in zip(range(int(last) - len(rows) + 1, int(last) + 1), rows, strict=True)
        ],
    )
