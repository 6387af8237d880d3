"""Index only the unfinished submissions (queued or running), not every status.

A submission graded at once is stored ``done`` and never looked up by status,
so indexing it only costs a page write per commit; the jobs look for the few
``queued`` and ``running`` ones (re-queueing after a restart), and a partial
index holds exactly those.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UNFINISHED = sa.text("status IN ('queued', 'running')")


def upgrade() -> None:
    op.drop_index("ix_submissions_status", table_name="submissions")
    op.create_index(
        "ix_submissions_unfinished",
        "submissions",
        ["status"],
        sqlite_where=UNFINISHED,
        postgresql_where=UNFINISHED,
    )


def downgrade() -> None:
    op.drop_index("ix_submissions_unfinished", table_name="submissions")
    op.create_index("ix_submissions_status", "submissions", ["status"])
