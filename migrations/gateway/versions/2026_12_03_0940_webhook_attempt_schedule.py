"""webhook attempts record the next attempt they scheduled; delivery logs lose target bodies

Revision ID: gate0003
Revises: gate0002
Create Date: 2026-12-03 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gate0003"
down_revision: str | None = "gate0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _schema() -> str | None:
    # SQLite (the embedded default) has no schemas: the tables live in main.
    return None if op.get_bind().dialect.name == "sqlite" else "gateway"


def upgrade() -> None:
    schema = _schema()
    with op.batch_alter_table("webhook_attempts", schema=schema) as batch:
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
    # Errors used to be "HTTP 500: <first bytes of the target's answer>": keep only the status, so
    # the log no longer shows a subscriber what an (internal) target answered.
    for name, column in (("webhook_attempts", "error"), ("webhook_deliveries", "last_error")):
        table = sa.table(name, sa.column(column, sa.Text()), schema=schema)
        text = table.c[column]
        op.execute(
            table.update().where(text.like("HTTP ___: %")).values({column: sa.func.substr(text, 1, 8)})
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_attempts", schema=_schema()) as batch:
        batch.drop_column("next_attempt_at")
