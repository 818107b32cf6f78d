"""photo bad input (issue 13): a rejected oversize upload keeps a preview, import zips are not kept

Revision ID: phot_bi01
Revises: phot_lc01
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "phot_bi01"
down_revision: str | None = "phot_lc01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _schema() -> str | None:
    # SQLite maps the schema to the main database when it compiles tables, but Alembic writes
    # ALTER TABLE's table name itself: address it unqualified there.
    return None if op.get_bind().dialect.name == "sqlite" else "photo"


def _table(name: str) -> str:
    return name if op.get_bind().dialect.name == "sqlite" else f"photo.{name}"


def upgrade() -> None:
    op.add_column(
        "submissions", sa.Column("preview_sha256", sa.String(length=64), nullable=True), schema=_schema()
    )
    # Zips of earlier imports were stored whole (dry runs too): only their report is needed. A blob
    # that a submission also names (the same bytes uploaded as a photo) stays.
    op.execute(
        f"DELETE FROM {_table('blobs')} WHERE sha256 IN (SELECT archive_sha256 FROM {_table('imports')}) "
        f"AND sha256 NOT IN (SELECT sha256 FROM {_table('submissions')}) "
        f"AND sha256 NOT IN (SELECT standardised_sha256 FROM {_table('submissions')} "
        "WHERE standardised_sha256 IS NOT NULL)"
    )


def downgrade() -> None:
    op.drop_column("submissions", "preview_sha256", schema=_schema())
