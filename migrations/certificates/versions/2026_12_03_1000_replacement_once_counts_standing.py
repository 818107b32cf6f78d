"""replacement once only counts standing applications (a rejected one frees the certificate)

Revision ID: cert0003
Revises: cert0002
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cert0003"
down_revision: str | None = "cert0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STANDING = sa.text("state <> 'rejected'")


def _schema() -> str | None:
    # On SQLite the service's schema is the main database (see gradops_shared.db).
    return None if op.get_bind().dialect.name == "sqlite" else "certificates"


def upgrade() -> None:
    # SQLite drops a unique constraint only by copying the table (batch mode).
    with op.batch_alter_table("replacements", schema=_schema()) as batch:
        batch.drop_constraint(op.f("uq_replacements_original_number"), type_="unique")
        batch.create_index(op.f("ix_replacements_original_number"), ["original_number"], unique=False)
    op.create_index(
        "uq_replacements_standing_original",
        "replacements",
        ["original_number"],
        unique=True,
        schema="certificates",
        postgresql_where=STANDING,
        sqlite_where=STANDING,
    )


def downgrade() -> None:
    # Fails while a certificate has a rejected application beside a standing one, as it must.
    op.drop_index("uq_replacements_standing_original", table_name="replacements", schema="certificates")
    with op.batch_alter_table("replacements", schema=_schema()) as batch:
        batch.drop_index(op.f("ix_replacements_original_number"))
        batch.create_unique_constraint(op.f("uq_replacements_original_number"), ["original_number"])
