"""student timeline

Revision ID: gate0002
Revises: gate0001
Create Date: 2026-11-23 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gate0002"
down_revision: str | None = "gate0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "timeline_entries",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("student_no", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("producer", sa.String(length=40), nullable=False),
        sa.Column("summary_zh", sa.Text(), nullable=False),
        sa.Column("summary_en", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeline_entries")),
        sa.UniqueConstraint("event_id", name=op.f("uq_timeline_entries_event_id")),
        schema="gateway",
    )
    op.create_index(
        "ix_timeline_entries_student",
        "timeline_entries",
        ["student_no", "occurred_at", "id"],
        unique=False,
        schema="gateway",
    )


def downgrade() -> None:
    op.drop_index("ix_timeline_entries_student", table_name="timeline_entries", schema="gateway")
    op.drop_table("timeline_entries", schema="gateway")
