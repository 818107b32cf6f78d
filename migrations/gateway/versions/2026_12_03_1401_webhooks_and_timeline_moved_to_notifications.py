"""webhooks and the student timeline moved to the notifications service: drop them here

The notifications history's first revision copies these rows into the `notifications` schema on
PostgreSQL (subscriptions with their secrets, deliveries, attempts, the centre projection, the
timeline, the inbox records), so run it first (`gradops migrate` does). If the notifications schema
is not there yet, this revision refuses to drop rows it would lose. The embedded default keeps the
gateway's tables in their own SQLite file, so nothing is copied there: its partners re-subscribe
(and the timeline is rebuilt from the event log). The downgrade recreates empty tables.

Revision ID: gate0004
Revises: gate0003
Create Date: 2026-12-03 14:01:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gate0004"
down_revision: str | None = "gate0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOVED = (
    "timeline_entries",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_subscriptions",
    "student_centres",
    "processed_events",
)


def _schema() -> str | None:
    # SQLite (the embedded default) has no schemas: the tables live in main.
    return None if op.get_bind().dialect.name == "sqlite" else "gateway"


def _refuse_to_lose_rows() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or sa.inspect(bind).has_table(
        "webhook_subscriptions", "notifications"
    ):
        return
    count = bind.execute(sa.text("SELECT count(*) FROM gateway.webhook_subscriptions")).scalar_one()
    if count:
        raise RuntimeError(
            f"gateway.webhook_subscriptions holds {count} subscription(s) and the notifications schema "
            "does not exist yet: run `alembic -c migrations/alembic.ini -n notifications upgrade head` "
            "first (it copies them), then this migration."
        )


def upgrade() -> None:
    _refuse_to_lose_rows()
    schema = _schema()
    for table in MOVED:
        op.drop_table(table, schema=schema)


def downgrade() -> None:
    schema = _schema()
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_processed_events")),
        schema=schema,
    )
    op.create_table(
        "student_centres",
        sa.Column("student_no", sa.String(length=64), nullable=False),
        sa.Column("learning_centre", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("student_no", name=op.f("pk_student_centres")),
        schema=schema,
    )
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("owner_key_id", sa.String(length=40), nullable=False),
        sa.Column("centres", sa.JSON(), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
        schema=schema,
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("subscription_id", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("student_no", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("give_up_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            [f"{schema + '.' if schema else ''}webhook_subscriptions.id"],
            name=op.f("fk_webhook_deliveries_subscription_id_webhook_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "subscription_id", "event_id", name=op.f("uq_webhook_deliveries_subscription_id_event_id")
        ),
        schema=schema,
    )
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"], schema=schema
    )
    op.create_table(
        "webhook_attempts",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("delivery_id", sa.String(length=40), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            [f"{schema + '.' if schema else ''}webhook_deliveries.id"],
            name=op.f("fk_webhook_attempts_delivery_id_webhook_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
        schema=schema,
    )
    op.create_index(
        op.f("ix_webhook_attempts_delivery_id"), "webhook_attempts", ["delivery_id"], schema=schema
    )
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
        schema=schema,
    )
    op.create_index(
        "ix_timeline_entries_student", "timeline_entries", ["student_no", "occurred_at", "id"], schema=schema
    )
