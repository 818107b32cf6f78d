from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gradops_shared.db import UtcDateTime, service_metadata
from gradops_shared.outbox import inbox_table, outbox_table

SCHEMA = "audit"


class Base(DeclarativeBase):
    metadata = service_metadata(SCHEMA)


outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)


class KnownStudent(Base):
    """What the audit knows of a student, kept current from registry events."""

    __tablename__ = "students"

    student_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(40))
    learning_centre: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApprovedPhoto(Base):
    """The student's approved photo per kind, kept current from photo events."""

    __tablename__ = "approved_photos"

    student_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    submission_id: Mapped[str] = mapped_column(String(36))
    sha256: Mapped[str] = mapped_column(String(64))
    approved_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Audit(Base):
    """One audit run. Immutable: a new run is a new row."""

    __tablename__ = "audits"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    student_no: Mapped[str] = mapped_column(String(32), index=True)
    batch_code: Mapped[str] = mapped_column(String(6))
    passed: Mapped[bool] = mapped_column(Boolean)
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    inputs_digest: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class AuditOutcome(Base):
    """The student's current outcome; an event goes out only when it changes."""

    __tablename__ = "outcomes"

    student_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_audit_id: Mapped[str] = mapped_column(String(36))
    passed: Mapped[bool] = mapped_column(Boolean)
    failed_checks: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
