from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gradops_shared.db import BigIntPK, BlobMixin, UtcDateTime, service_metadata
from gradops_shared.outbox import inbox_table, outbox_table

SCHEMA = "certificates"


class Base(DeclarativeBase):
    metadata = service_metadata(SCHEMA)


outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)


class Certificate(Base):
    """A diploma (毕业证书), a degree certificate (学位证书) or a replacement (毕业证明书).

    `status` is valid | superseded | revoked; `distribution_state` is at_hq | collected_by_centre |
    handed_to_student. The deadlines are stored so overdue lists are one indexed query."""

    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("student_no", "batch_code", "kind"),)

    number: Mapped[str] = mapped_column(String(18), primary_key=True)
    student_no: Mapped[str] = mapped_column(String(32), index=True)
    batch_code: Mapped[str] = mapped_column(String(6), index=True)
    level: Mapped[str] = mapped_column(String(40))
    serial: Mapped[int] = mapped_column(Integer)
    issue_date: Mapped[date] = mapped_column(Date)
    graduation_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    audit_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(16), default="diploma", server_default="diploma")
    learning_centre: Mapped[str | None] = mapped_column(String(32), index=True)
    application_type: Mapped[str | None] = mapped_column(String(32))
    # A replacement names the certificate it replaces; the original names what superseded it.
    original_number: Mapped[str | None] = mapped_column(String(18))
    superseded_by: Mapped[str | None] = mapped_column(String(18))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    distribution_state: Mapped[str] = mapped_column(String(24), default="at_hq", server_default="at_hq")
    notified_on: Mapped[date | None] = mapped_column(Date)
    collection_due: Mapped[date | None] = mapped_column(Date, index=True)
    collected_on: Mapped[date | None] = mapped_column(Date)
    handover_due: Mapped[date | None] = mapped_column(Date, index=True)
    handed_on: Mapped[date | None] = mapped_column(Date)
    receipt_sha256: Mapped[str | None] = mapped_column(String(64))
    chsi_confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    chsi_matches: Mapped[bool | None] = mapped_column(Boolean)
    chsi_detail: Mapped[str | None] = mapped_column(Text)


class SerialCounter(Base):
    """Last serial used per (school, type, year, level). Taken under a row lock in the same
    transaction as the certificate, so serials are unique and gapless. Replacements (type "B") and
    degree certificates (type "D", level = degree code) count in series of their own."""

    __tablename__ = "serial_counters"

    school_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    education_type_code: Mapped[str] = mapped_column(String(1), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    level_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    last_serial: Mapped[int] = mapped_column(Integer)


class StudentProjection(Base):
    """What the documents need of a student, from registry events (never the ID number), and the
    approved graduation photo from photo events."""

    __tablename__ = "students"

    student_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    gender: Mapped[str] = mapped_column(String(8))
    birth_date: Mapped[date | None] = mapped_column(Date)
    learning_centre: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(60))
    major: Mapped[str] = mapped_column(String(200))
    enrolment_term: Mapped[str] = mapped_column(String(20))
    study_form: Mapped[str] = mapped_column(String(40))
    duration_years: Mapped[float | None] = mapped_column(Float)
    exam_no: Mapped[str | None] = mapped_column(String(40))
    education_type: Mapped[str | None] = mapped_column(String(40))
    photo_submission_id: Mapped[str | None] = mapped_column(String(36))
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DistributionEvent(Base):
    """Every step of a certificate's way to the student, with who recorded it."""

    __tablename__ = "distribution_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(18), index=True)
    event: Mapped[str] = mapped_column(String(32))
    occurred_on: Mapped[date] = mapped_column(Date)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    explanation: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    actor: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StoredFile(BlobMixin, Base):
    """Signed receipts and replacement forms as uploaded (PDF/JPEG/PNG), addressed by SHA-256: the
    shared blob columns (sha256, media_type, size_bytes, content, created_at)."""

    __tablename__ = "stored_files"


# "Once only" counts replacements, not refusals: a rejected application leaves the certificate
# replaceable, so only the applications still standing (applied, centre_verified, approved) are unique.
_STANDING = text("state <> 'rejected'")


class Replacement(Base):
    """An application for a 毕业证明书. At most one standing application per original certificate:
    the partial unique index is what makes "once only" hold when two applications race; rejected
    ones stay on record beside it."""

    __tablename__ = "replacements"
    __table_args__ = (
        Index(
            "uq_replacements_standing_original",
            "original_number",
            unique=True,
            postgresql_where=_STANDING,
            sqlite_where=_STANDING,
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    original_number: Mapped[str] = mapped_column(String(18), index=True)
    student_no: Mapped[str] = mapped_column(String(32), index=True)
    learning_centre: Mapped[str | None] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    form_sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(24), index=True)
    applied_at: Mapped[datetime] = mapped_column(UtcDateTime)
    applied_by: Mapped[str] = mapped_column(String(200))
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    verified_by: Mapped[str | None] = mapped_column(String(200))
    decision_due: Mapped[date | None] = mapped_column(Date)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decision_note: Mapped[str | None] = mapped_column(Text)
    replacement_number: Mapped[str | None] = mapped_column(String(18))


class ShareCode(Base):
    """A holder's verification code (CHSI's 在线验证码 model): valid until it expires or is revoked."""

    __tablename__ = "share_codes"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    number: Mapped[str] = mapped_column(String(18), index=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class VerificationLookup(Base):
    """Every public lookup, answered or not. The name asked is not kept, only whether it matched."""

    __tablename__ = "verification_lookups"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    looked_up_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    number: Mapped[str | None] = mapped_column(String(32))
    share_code: Mapped[str | None] = mapped_column(String(16))
    result: Mapped[str] = mapped_column(String(16))
    name_matched: Mapped[bool | None] = mapped_column(Boolean)
    client: Mapped[str | None] = mapped_column(String(100))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    request_id: Mapped[str | None] = mapped_column(String(64))
