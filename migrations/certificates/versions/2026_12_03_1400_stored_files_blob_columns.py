"""stored files take the shared blob columns (sha256, media_type, size_bytes, content, created_at)

Revision ID: cert0004
Revises: cert0003
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cert0004"
down_revision: str | None = "cert0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (old name, new name, old type, new type): the same columns every service's blob table has.
RENAMES = (
    ("content_type", "media_type", sa.String(length=40), sa.String(length=64)),
    ("size", "size_bytes", sa.Integer(), sa.Integer()),
    ("data", "content", sa.LargeBinary(), sa.LargeBinary()),
    ("uploaded_at", "created_at", sa.DateTime(timezone=True), sa.DateTime(timezone=True)),
)


def _schema() -> str | None:
    # On SQLite the service's schema is the main database (see gradops_shared.db).
    return None if op.get_bind().dialect.name == "sqlite" else "certificates"


def upgrade() -> None:
    # Batch mode: SQLite renames and retypes columns only by copying the table.
    with op.batch_alter_table("stored_files", schema=_schema()) as batch:
        for old, new, old_type, new_type in RENAMES:
            batch.alter_column(
                old, new_column_name=new, existing_type=old_type, type_=new_type, existing_nullable=False
            )


def downgrade() -> None:
    # Fails if a stored media type is longer than 40 characters, as it must (none of ours are).
    with op.batch_alter_table("stored_files", schema=_schema()) as batch:
        for old, new, old_type, new_type in RENAMES:
            batch.alter_column(
                new, new_column_name=old, existing_type=new_type, type_=old_type, existing_nullable=False
            )
