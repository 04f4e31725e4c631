"""Videos in cases: each vPDQ frame hash linked to a case keeps its time in the video.

A video is one numbered item of a case (`case_signals.image`, shared with images)
whose links are its vPDQ frame hashes and its MD5; `timestamp` is the frame's
time in seconds from the start of the video (None for images and for MD5). The
match routes report matched time ranges from it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_signals") as batch:
        batch.add_column(sa.Column("timestamp", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_signals") as batch:
        batch.drop_column("timestamp")
