from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gradops_shared.db import BigIntPK, BlobMixin, UtcDateTime, service_metadata
from gradops_shared.outbox import inbox_table, outbox_table

SCHEMA = "photo"


class Base(DeclarativeBase):
    metadata = service_metadata(SCHEMA)


outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)


class PhotoBlob(BlobMixin, Base):
    """Bytes are content-addressed by sha256 and never overwritten (the shared blob columns)."""

    __tablename__ = "blobs"


class PhotoSubmission(Base):
    __tablename__ = "submissions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    student_no: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(20), index=True)
    sha256: Mapped[str] = mapped_column(String(64))  # the uploaded file, as it came
    # Set when the upload was standardised on submission; the QC state then follows that photo's report.
    standardised_sha256: Mapped[str | None] = mapped_column(String(64))
    # Set when the upload was auto-rejected and larger than the keep limit: only this small upright
    # preview is stored, not the upload itself (whose digest stays in `sha256`).
    preview_sha256: Mapped[str | None] = mapped_column(String(64))
    # The student's centre when submitted (from the registry): tenancy for reads and downloads.
    learning_centre: Mapped[str | None] = mapped_column(String(32), index=True)
    qc_report: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Review SLA: when a pending review is due (working days); when a rejected student must resubmit.
    review_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    resubmit_by: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reviewer: Mapped[str | None] = mapped_column(String(100))
    review_reasons: Mapped[list[str] | None] = mapped_column(JSON)
    review_comment: Mapped[str | None] = mapped_column(Text)
    # 图像校对: None, confirm_requested (first "correct" click), confirmed, error_reported.
    proofread_state: Mapped[str | None] = mapped_column(String(20))
    proofread_detail: Mapped[str | None] = mapped_column(Text)
    proofread_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SubmissionTransition(Base):
    """Every change of state with who, when and why."""

    __tablename__ = "submission_transitions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(String(36), index=True)
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CaptureSession(Base):
    """A mini-program capture: the verified collection code, the fee, and a short-lived token (hash)."""

    __tablename__ = "capture_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    student_no: Mapped[str] = mapped_column(String(32), index=True)
    learning_centre: Mapped[str | None] = mapped_column(String(32))
    token_sha256: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    fee_paid: Mapped[bool] = mapped_column(Boolean)
    fee_amount_cents: Mapped[int | None] = mapped_column(Integer)
    fee_provider_reference: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_submission_id: Mapped[str | None] = mapped_column(String(36))


class CollectionCodeAttempts(Base):
    """Wrong last-4 digits per collection code (by hash): persisted so a restart does not unlock it."""

    __tablename__ = "collection_code_attempts"

    code_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PhotoImport(Base):
    """A bulk zip import run in the background. `heartbeat_at` moves while a process works on it: a job
    whose heartbeat stopped (the process died) is marked failed, never left running forever."""

    __tablename__ = "imports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # queued, running, done, failed
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The caller's centres (None = HQ): the job's reach and who may read it.
    centres: Mapped[list[str] | None] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(100))
    archive_sha256: Mapped[str] = mapped_column(String(64))  # the zip's digest; the zip is not kept
    archive_bytes: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    processed: Mapped[int] = mapped_column(Integer)
    counts: Mapped[dict[str, int]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PhotoImportFile(Base):
    __tablename__ = "import_files"
    __table_args__ = (UniqueConstraint("import_id", "position"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    import_id: Mapped[str] = mapped_column(String(36), index=True)
    position: Mapped[int] = mapped_column(Integer)  # order in the zip
    name: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))  # stored, accepted (dry run), skipped, rejected
    reason: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    student_no: Mapped[str | None] = mapped_column(String(32))
    submission_id: Mapped[str | None] = mapped_column(String(36))
    failed_checks: Mapped[list[str] | None] = mapped_column(JSON)
