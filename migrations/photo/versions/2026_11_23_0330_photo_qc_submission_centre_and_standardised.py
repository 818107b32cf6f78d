"""photo QC: a submission keeps its student's learning centre and its standardised photo

Revision ID: phot_qc01
Revises: phot0001
Create Date: 2026-11-23 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "phot_qc01"
down_revision: str | None = "phot0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _schema() -> str | None:
    # SQLite maps the schema to the main database when it compiles tables, but Alembic writes
    # ALTER TABLE's table name itself: address it unqualified there.
    return None if op.get_bind().dialect.name == "sqlite" else "photo"


def upgrade() -> None:
    schema = _schema()
    op.add_column(
        "submissions", sa.Column("learning_centre", sa.String(length=32), nullable=True), schema=schema
    )
    op.add_column(
        "submissions", sa.Column("standardised_sha256", sa.String(length=64), nullable=True), schema=schema
    )
    op.create_index(
        op.f("ix_submissions_learning_centre"),
        "submissions",
        ["learning_centre"],
        unique=False,
        schema=schema,
    )


def downgrade() -> None:
    schema = _schema()
    op.drop_index(op.f("ix_submissions_learning_centre"), table_name="submissions", schema=schema)
    with op.batch_alter_table("submissions", schema=schema) as batch:
        batch.drop_column("standardised_sha256")
        batch.drop_column("learning_centre")
