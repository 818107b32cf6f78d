from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, Index, Integer, String, UniqueConstraint, false, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gradops_shared.db import BigIntPK, UtcDateTime, service_metadata
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
    learning_centre: Mapped[str] = mapped_column(String(32), index=True)
    category: Mapped[str] = mapped_column(String(64), server_default="")
    major: Mapped[str] = mapped_column(String(100), server_default="")
    enrolment_term: Mapped[str] = mapped_column(String(16), server_default="", index=True)
    # 正式学籍: no prior-education review pending (PriorEducationReviewed).
    formal_status: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # 身份存疑 from CHSI (IdentityFlagChanged).
    identity_in_doubt: Mapped[bool] = mapped_column(Boolean, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PhotoFact(Base):
    """Per student and kind, the photo the audit relies on, kept current from photo events."""

    __tablename__ = "photos"

    student_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    submission_id: Mapped[str] = mapped_column(String(36))
    approved: Mapped[bool] = mapped_column(Boolean)
    sha256: Mapped[str | None] = mapped_column(String(64))
    # on_chsi | chsi_rejected (照片存疑) | None (not reported yet)
    chsi_state: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Transcript(Base):
    """The LMS's transcript of one student: replaced as a whole by each PUT."""

    __tablename__ = "transcripts"

    student_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    courses: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    thesis_score: Mapped[float | None] = mapped_column(Float)
    thesis_similarity: Mapped[float | None] = mapped_column(Float)
    english_exam: Mapped[str | None] = mapped_column(String(40))
    english_score: Mapped[float | None] = mapped_column(Float)
    english_passed: Mapped[bool | None] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(100))
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Batch(Base):
    """A graduation batch (毕业批次), e.g. 202307."""

    __tablename__ = "batches"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    cohort_cutoff_term: Mapped[str] = mapped_column(String(16))
    rounds: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    issue_date: Mapped[date] = mapped_column(Date)
    graduation_date_rule: Mapped[str] = mapped_column(String(16))  # quarterly | fixed
    fixed_graduation_date: Mapped[date | None] = mapped_column(Date)
    updated_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RuleSetVersion(Base):
    """A graduation rule set version stored by a university (the shipped ones live in code)."""

    __tablename__ = "rule_sets"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Application(Base):
    """A student's application in a batch. `seq` is the submission order HQ works in."""

    __tablename__ = "applications"
    __table_args__ = (UniqueConstraint("batch_code", "student_no"),)

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    batch_code: Mapped[str] = mapped_column(String(6))
    student_no: Mapped[str] = mapped_column(String(32), index=True)
    learning_centre: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(24))  # graduate | graduate_with_degree | defer
    state: Mapped[str] = mapped_column(String(16))  # open | signed_off | deferred
    round_no: Mapped[int] = mapped_column(Integer)
    secondary_vocational_proof: Mapped[str | None] = mapped_column(String(200))
    submitted_by: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_audit_id: Mapped[str | None] = mapped_column(String(36))
    passed: Mapped[bool | None] = mapped_column(Boolean)
    failed_checks: Mapped[list[str] | None] = mapped_column(JSON)
    signed_off_by: Mapped[str | None] = mapped_column(String(200))
    signed_off_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Audit(Base):
    """One audit run. Immutable: a new run is a new row. What-if runs are kept with their scenario."""

    __tablename__ = "audits"
    __table_args__ = (Index("ix_audits_student_no_created_at", "student_no", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    student_no: Mapped[str] = mapped_column(String(32), index=True)
    batch_code: Mapped[str] = mapped_column(String(6))
    application_id: Mapped[str | None] = mapped_column(String(36), index=True)
    application_type: Mapped[str | None] = mapped_column(String(24))
    what_if: Mapped[bool] = mapped_column(Boolean, server_default=false())
    scenario: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    passed: Mapped[bool] = mapped_column(Boolean)
    degree_eligible: Mapped[bool | None] = mapped_column(Boolean)
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    exceptions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, server_default="[]")
    rule_set_code: Mapped[str | None] = mapped_column(String(64))
    rule_set_version: Mapped[int | None] = mapped_column(Integer)
    degree_rule_set: Mapped[str | None] = mapped_column(String(80))
    inputs_digest: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(100))
    actor: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class AuditException(Base):
    """An exception (例外) to the rules for one student: waive a check, or substitute a course."""

    __tablename__ = "exceptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    student_no: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # waive_check | substitute_course
    check_code: Mapped[str | None] = mapped_column(String(64))
    course_code: Mapped[str | None] = mapped_column(String(64))
    substitute_code: Mapped[str | None] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(16))  # student | batch
    batch_code: Mapped[str | None] = mapped_column(String(6))
    approver: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(500))
    granted_under: Mapped[dict[str, Any]] = mapped_column(JSON)  # major and rule set at grant time
    granted_by: Mapped[str] = mapped_column(String(200))
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
