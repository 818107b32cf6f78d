"""The gateway's own tables, in its own schema `gateway`: API keys and idempotency records. (Webhooks
and the student timeline moved to the notifications service.)"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
)

from gradops_shared.db import UtcDateTime, service_metadata

SCHEMA = "gateway"
metadata = service_metadata(SCHEMA)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    # sha256 hex of the key; the key itself is never stored (see auth.key_digest for why sha256).
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("key_prefix", String(16), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("centres", JSON, nullable=True),  # null = the whole university (HQ)
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("last_used_at", UtcDateTime, nullable=True),
)

idempotency_records = Table(
    "idempotency_records",
    metadata,
    Column("key_id", String(40), primary_key=True),
    Column("idempotency_key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # in_flight | done
    Column("locked_until", UtcDateTime, nullable=True),
    Column("status_code", Integer, nullable=True),
    Column("headers", JSON, nullable=True),
    Column("body", LargeBinary, nullable=True),
    Column("body_stored", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index("ix_idempotency_records_expires_at", "expires_at"),
)
