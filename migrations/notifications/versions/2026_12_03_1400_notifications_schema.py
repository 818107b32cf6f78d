"""notifications schema: webhooks and the student timeline, moved out of the gateway's schema

On PostgreSQL, when the gateway's schema still holds them (an existing deployment), their rows are
copied here: subscriptions (with their secrets), deliveries, attempts, the student -> centre
projection, the timeline, and the gateway's inbox records under this service's consumer name, so
the new consumer group (which starts from the earliest offsets) skips every event the gateway had
already turned into deliveries. Run this history before the gateway's (`gradops migrate` and
`make migrate` do), whose next revision drops the old tables. The embedded default keeps each
schema in its own SQLite file: nothing is copied there; its consumer rebuilds the timeline from the
event log, and a partner re-subscribes.

Revision ID: notif0001
Revises:
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "notif0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "notifications"
CONSUMER = "notifications"
OLD_CONSUMER = "gateway-webhooks"
# table -> columns, in an order the foreign keys accept
COPIED = {
    "webhook_subscriptions": "id, url, event_types, secret, owner_key_id, centres, description, active, "
    "created_at, created_by",
    "webhook_deliveries": "id, subscription_id, event_id, event_type, student_no, payload, request_id, "
    "status, attempts, next_attempt_at, give_up_at, last_status_code, last_error, created_at, delivered_at",
    "webhook_attempts": "id, delivery_id, attempt, attempted_at, status_code, error, duration_ms, "
    "next_attempt_at",
    "student_centres": "student_no, learning_centre, updated_at",
    "timeline_entries": "id, event_id, student_no, occurred_at, event_type, producer, summary_zh, "
    "summary_en, data, request_id, recorded_at",
}


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_outbox_unsent",
        "outbox",
        ["seq"],
        unique=False,
        schema=SCHEMA,
        postgresql_where=sa.text("sent_at IS NULL"),
    )
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_processed_events")),
        schema=SCHEMA,
    )
    op.create_table(
        "student_centres",
        sa.Column("student_no", sa.String(length=64), nullable=False),
        sa.Column("learning_centre", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("student_no", name=op.f("pk_student_centres")),
        schema=SCHEMA,
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
        schema=SCHEMA,
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
            ["notifications.webhook_subscriptions.id"],
            name=op.f("fk_webhook_deliveries_subscription_id_webhook_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "subscription_id", "event_id", name=op.f("uq_webhook_deliveries_subscription_id_event_id")
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["status", "next_attempt_at"],
        unique=False,
        schema=SCHEMA,
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
            ["notifications.webhook_deliveries.id"],
            name=op.f("fk_webhook_attempts_delivery_id_webhook_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_webhook_attempts_delivery_id"),
        "webhook_attempts",
        ["delivery_id"],
        unique=False,
        schema=SCHEMA,
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
        schema=SCHEMA,
    )
    op.create_index(
        "ix_timeline_entries_student",
        "timeline_entries",
        ["student_no", "occurred_at", "id"],
        unique=False,
        schema=SCHEMA,
    )
    _copy_from_gateway()


def _copy_from_gateway() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if not sa.inspect(bind).has_table("webhook_subscriptions", schema="gateway"):
        return  # a new deployment: nothing to move
    for table, columns in COPIED.items():
        op.execute(f"INSERT INTO {SCHEMA}.{table} ({columns}) SELECT {columns} FROM gateway.{table}")
    for table in ("webhook_attempts", "timeline_entries"):
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{SCHEMA}.{table}', 'id'), "
            f"COALESCE((SELECT max(id) FROM {SCHEMA}.{table}), 0) + 1, false)"
        )
    op.execute(
        f"INSERT INTO {SCHEMA}.processed_events (consumer, event_id, event_type, processed_at) "
        f"SELECT '{CONSUMER}', event_id, event_type, processed_at FROM gateway.processed_events "
        f"WHERE consumer = '{OLD_CONSUMER}'"
    )


def downgrade() -> None:
    for table in ("timeline_entries", "webhook_attempts", "webhook_deliveries", "webhook_subscriptions"):
        op.drop_table(table, schema=SCHEMA)
    for table in ("student_centres", "processed_events"):
        op.drop_table(table, schema=SCHEMA)
    op.drop_index(
        "ix_outbox_unsent", table_name="outbox", schema=SCHEMA, postgresql_where=sa.text("sent_at IS NULL")
    )
    op.drop_table("outbox", schema=SCHEMA)
