"""The course's rules and regrades: hand-ins, extensions (with their history), previous results, regrade jobs.

``handins`` says which exercises of an assignment with rules each submission
hands in and when it counts as handed in (attempts and late days are counted
from it); ``extensions`` and ``extension_changes`` hold each student's extra
days and who changed them when; ``previous_results`` keeps the results a
regrade replaced; ``regrades`` the regrade jobs and their reports.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handins",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.String(32), nullable=False),
        sa.Column("student_id", sa.String(128), nullable=False),
        sa.Column("assignment", sa.String(64), nullable=False),
        sa.Column("exercise", sa.String(64), nullable=False),
        sa.Column("handed_in_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name="fk_handins_submission_id_submissions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_handins"),
    )
    op.create_index("ix_handins_submission_id", "handins", ["submission_id"])
    op.create_index("ix_handins_student_exercise", "handins", ["student_id", "exercise"])
    op.create_table(
        "extensions",
        sa.Column("student_id", sa.String(128), nullable=False),
        sa.Column("assignment", sa.String(64), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("set_by", sa.String(128), nullable=False),
        sa.Column("set_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name="fk_extensions_student_id_students",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("student_id", "assignment", name="pk_extensions"),
    )
    op.create_table(
        "extension_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("student_id", sa.String(128), nullable=False),
        sa.Column("assignment", sa.String(64), nullable=False),
        sa.Column("days", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("changed_by", sa.String(128), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name="fk_extension_changes_student_id_students",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_extension_changes"),
    )
    op.create_index("ix_extension_changes_student_id", "extension_changes", ["student_id"])
    op.create_table(
        "previous_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.String(32), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("max_score", sa.Float(), nullable=True),
        sa.Column("graded_at", sa.DateTime(), nullable=True),
        sa.Column("replaced_at", sa.DateTime(), nullable=False),
        sa.Column("regrade_id", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name="fk_previous_results_submission_id_submissions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_previous_results"),
    )
    op.create_index("ix_previous_results_submission_id", "previous_results", ["submission_id"])
    op.create_table(
        "regrades",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="ck_regrades_status"),
        sa.PrimaryKeyConstraint("id", name="pk_regrades"),
    )


def downgrade() -> None:
    op.drop_table("regrades")
    op.drop_table("previous_results")
    op.drop_table("extension_changes")
    op.drop_table("extensions")
    op.drop_table("handins")
