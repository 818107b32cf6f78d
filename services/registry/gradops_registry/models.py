from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gradops_shared.db import BigIntPK, BlobMixin, UtcDateTime, service_metadata
from gradops_shared.outbox import inbox_table, outbox_table

SCHEMA = "registry"


class Base(DeclarativeBase):
    metadata = service_metadata(SCHEMA)


outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)


class OrgUnit(Base):
    """The organisation tree: the university (school code), branches and learning centres."""

    __tablename__ = "org_units"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    parent: Mapped[str | None] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Student(Base):
    __tablename__ = "students"
    __table_args__ = (
        # "Students of these centres, in student-number order": tenancy filters and cursor pages.
        Index("ix_students_learning_centre_student_no", "learning_centre", "student_no"),
        # Overdue prior-education reviews.
        Index("ix_students_prior_education", "prior_education_state", "prior_education_deadline"),
    )

    student_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    former_name: Mapped[str | None] = mapped_column(String(100))
    gender: Mapped[str] = mapped_column(String(10))
    ethnicity: Mapped[str | None] = mapped_column(String(32))
    political_status: Mapped[str | None] = mapped_column(String(32))
    birth_date: Mapped[date | None] = mapped_column(Date)
    id_type: Mapped[str] = mapped_column(String(20))
    # Never in clear: AES-GCM ciphertext, a keyed hash for exact lookups, the last 4 for masking.
    id_number_encrypted: Mapped[str] = mapped_column(String(200))
    id_number_hash: Mapped[str] = mapped_column(String(64), index=True)
    id_number_last4: Mapped[str] = mapped_column(String(4))
    exam_no: Mapped[str | None] = mapped_column(String(32))
    learning_centre: Mapped[str] = mapped_column(String(32))
    branch: Mapped[str | None] = mapped_column(String(32))
    class_code: Mapped[str | None] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(64))
    major: Mapped[str] = mapped_column(String(100))
    enrolment_term: Mapped[str] = mapped_column(String(16))
    duration_years: Mapped[float | None] = mapped_column(Float)
    study_form: Mapped[str] = mapped_column(String(32))
    education_type: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    expected_graduation_date: Mapped[date | None] = mapped_column(Date)
    mobile: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(200))
    work_unit: Mapped[str | None] = mapped_column(String(200))
    certificate_number: Mapped[str | None] = mapped_column(String(32))
    registration_number: Mapped[str | None] = mapped_column(String(32))
    prior_education_state: Mapped[str] = mapped_column(String(16), default="none")
    prior_education_deadline: Mapped[date | None] = mapped_column(Date)
    identity_in_doubt: Mapped[bool] = mapped_column(Boolean, default=False)
    identity_doubt_kind: Mapped[str | None] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StatusChange(Base):
    """学籍异动: every change of status (and of major or centre) with who, why and when."""

    __tablename__ = "status_changes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    student_no: Mapped[str] = mapped_column(String(32), index=True)
    change_type: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    effective_date: Mapped[date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class EvidenceBlob(BlobMixin, Base):
    """Evidence bytes, content-addressed by sha256 and never overwritten."""

    __tablename__ = "evidence_blobs"


class PriorEducationReview(Base):
    """One step of the 前置学历复查: flagged, first review (HQ), second review (province)."""

    __tablename__ = "prior_education_reviews"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    student_no: Mapped[str] = mapped_column(String(32), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(30))
    state_after: Mapped[str] = mapped_column(String(16))
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    prior_graduation_year: Mapped[int | None] = mapped_column(Integer)
    abroad: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(Text)
    deadline: Mapped[date | None] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IdentityFlagChange(Base):
    """身份存疑 set from CHSI feedback, or cleared by a recorded review."""

    __tablename__ = "identity_flag_changes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    student_no: Mapped[str] = mapped_column(String(32), index=True)
    in_doubt: Mapped[bool] = mapped_column(Boolean)
    kind: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
