"""The notifications service's tables, in its own schema `notifications`: webhook subscriptions,
deliveries and their attempts, the student -> centre projection, the student timeline, the inbox
(and an outbox, empty until the service emits an event of its own)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from gradops_shared.db import BigIntPK, UtcDateTime, service_metadata
from gradops_shared.outbox import inbox_table, outbox_table

SCHEMA = "notifications"
metadata = service_metadata(SCHEMA)

webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("event_types", JSON, nullable=False),
    # Needed in clear to sign deliveries; shown to the partner once, at creation.
    Column("secret", String(100), nullable=False),
    Column("owner_key_id", String(40), nullable=False),
    Column("centres", JSON, nullable=True),  # the owner key's reach when it was created
    Column("description", String(500), nullable=True),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(40), primary_key=True),
    Column(
        "subscription_id",
        String(40),
        ForeignKey(f"{SCHEMA}.webhook_subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("student_no", String(64), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("request_id", String(128), nullable=True),
    Column("status", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("give_up_at", UtcDateTime, nullable=False),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime, nullable=True),
    UniqueConstraint("subscription_id", "event_id"),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column(
        "delivery_id",
        String(40),
        ForeignKey(f"{SCHEMA}.webhook_deliveries.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("attempt", Integer, nullable=False),
    Column("attempted_at", UtcDateTime, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("duration_ms", Integer, nullable=False),
    # When the worker scheduled the next attempt (null: delivered, or given up): the backoff
    # schedule as computed, readable in the delivery log.
    Column("next_attempt_at", UtcDateTime, nullable=True),
)

# Which learning centre each student belongs to, from registry events: a centre-bound
# subscription only receives its own students' events, and a centre-bound key only reads its own
# students' timelines.
student_centres = Table(
    "student_centres",
    metadata,
    Column("student_no", String(64), primary_key=True),
    Column("learning_centre", String(64), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# One student's history across services, from the events (the student timeline). The consumer
# writes it in the same transaction as its inbox record, so each event lands once.
timeline_entries = Table(
    "timeline_entries",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("student_no", String(64), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("producer", String(40), nullable=False),
    Column("summary_zh", Text, nullable=False),
    Column("summary_en", Text, nullable=False),
    Column("data", JSON, nullable=False),  # the event's data minus anything sensitive
    Column("request_id", String(128), nullable=True),
    Column("recorded_at", UtcDateTime, nullable=False),
    Index("ix_timeline_entries_student", "student_no", "occurred_at", "id"),
)

inbox = inbox_table(metadata)
outbox = outbox_table(metadata)
