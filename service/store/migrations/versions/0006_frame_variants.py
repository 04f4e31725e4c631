"""Video frame variants: a frame's other forms (cropped, trimmed) linked beside its hash.

A survivor's client also hashes other forms of each kept video frame
(`hashing.video_forms`: its plain borders trimmed, centre crops), so that a
cropped or letterboxed re-post still matches. Such a link shares its frame's
video (`image`) and time (`timestamp`) and has `variant` true: it counts as
that frame when matching, and it is not one of the video's frames in Meta's
sense, so exports in Meta's and python-threatexchange's vPDQ formats leave it
out. Existing links are not variants.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_signals") as batch:
        batch.add_column(
            sa.Column("variant", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("case_signals") as batch:
        batch.drop_column("variant")
