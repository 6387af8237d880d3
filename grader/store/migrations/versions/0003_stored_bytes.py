"""Count the bytes each student's submissions take, for the per-student storage quota.

``students.stored_bytes`` is the sum of the payload sizes of the student's
submissions, kept up to date in the transaction that stores each one (see
:mod:`grader.store.submissions`), so checking the quota never sums rows.
Existing rows are counted once here.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("students", sa.Column("stored_bytes", sa.BigInteger(), nullable=False, server_default=sa.text("0")))
    op.execute(
        "UPDATE students SET stored_bytes = COALESCE("
        "(SELECT SUM(LENGTH(payload)) FROM submissions WHERE submissions.student_id = students.id), 0)"
    )


def downgrade() -> None:
    with op.batch_alter_table("students") as batch:
        batch.drop_column("stored_bytes")
