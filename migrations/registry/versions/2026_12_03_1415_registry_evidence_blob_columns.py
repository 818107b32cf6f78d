"""registry: evidence blobs take the shared blob columns (BlobMixin): `size` becomes `size_bytes`
and `media_type` holds up to 64 characters, as in every service that keeps files

Revision ID: regi0003
Revises: regi0002
Create Date: 2026-12-03 14:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "regi0003"
down_revision: str | None = "regi0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _schema() -> str | None:
    return None if op.get_bind().dialect.name == "sqlite" else "registry"


def upgrade() -> None:
    with op.batch_alter_table("evidence_blobs", schema=_schema()) as batch:
        batch.alter_column(
            "size", new_column_name="size_bytes", existing_type=sa.Integer(), existing_nullable=False
        )
        batch.alter_column(
            "media_type",
            type_=sa.String(length=64),
            existing_type=sa.String(length=40),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("evidence_blobs", schema=_schema()) as batch:
        batch.alter_column(
            "size_bytes", new_column_name="size", existing_type=sa.Integer(), existing_nullable=False
        )
        batch.alter_column(
            "media_type",
            type_=sa.String(length=40),
            existing_type=sa.String(length=64),
            existing_nullable=False,
        )
