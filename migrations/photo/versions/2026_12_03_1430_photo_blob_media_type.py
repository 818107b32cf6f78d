"""photo blobs take the shared blob columns (issue 14): every stored file says its media type

Revision ID: phot_bm01
Revises: phot_bi01
Create Date: 2026-12-03 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "phot_bm01"
down_revision: str | None = "phot_bi01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _schema() -> str | None:
    # SQLite maps the schema to the main database; batch mode addresses the table unqualified there.
    return None if op.get_bind().dialect.name == "sqlite" else "photo"


def upgrade() -> None:
    # Every photo blob stored so far is a JPEG (uploads that are not are refused before storing;
    # standardised photos and previews are JPEGs): the default only fills the existing rows.
    with op.batch_alter_table("blobs", schema=_schema()) as batch:
        batch.add_column(
            sa.Column("media_type", sa.String(length=64), nullable=False, server_default="image/jpeg")
        )
    with op.batch_alter_table("blobs", schema=_schema()) as batch:
        batch.alter_column("media_type", existing_type=sa.String(length=64), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("blobs", schema=_schema()) as batch:
        batch.drop_column("media_type")
