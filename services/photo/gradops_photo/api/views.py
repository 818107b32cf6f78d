"""Shaping stored rows into the answers of the photo API."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from gradops_photo.models import (
    CaptureSession,
    PhotoImport,
    PhotoImportFile,
    PhotoSubmission,
    SubmissionTransition,
)
from gradops_photo.schemas import (
    CaptureSessionOut,
    DecisionOut,
    FeeOut,
    ImportFileOut,
    ImportOut,
    QcReportOut,
    ReviewItemOut,
    SubmissionOut,
    TransitionOut,
)


def transition_out(transition: SubmissionTransition) -> TransitionOut:
    return TransitionOut(
        from_state=transition.from_state,
        to_state=transition.to_state,
        actor=transition.actor,
        reason=transition.reason,
        at=transition.created_at,
    )


def submission_out(
    submission: PhotoSubmission, history: list[SubmissionTransition] | None = None
) -> SubmissionOut:
    return SubmissionOut(
        id=submission.id,
        student_no=submission.student_no,
        kind=submission.kind,
        source=submission.source,
        state=submission.state,
        sha256=submission.sha256,
        original_kept=submission.preview_sha256 is None,
        learning_centre=submission.learning_centre,
        qc=QcReportOut.model_validate(submission.qc_report),
        created_at=submission.created_at,
        updated_at=submission.updated_at,
        review_due_at=submission.review_due_at,
        overdue=submission.state == "pending_review"
        and submission.review_due_at is not None
        and submission.review_due_at < datetime.now(UTC),
        resubmit_by=submission.resubmit_by if submission.state == "rejected" else None,
        reviewer=submission.reviewer,
        review_reasons=submission.review_reasons,
        review_comment=submission.review_comment,
        proofread_state=submission.proofread_state,
        proofread_detail=submission.proofread_detail,
        history=[transition_out(t) for t in history or []],
    )


def review_item_out(submission: PhotoSubmission, admission_of: dict[str, str]) -> ReviewItemOut:
    admission = admission_of.get(submission.student_no)
    return ReviewItemOut(
        **submission_out(submission).model_dump(),
        photo_href=f"/api/v1/photo-submissions/{submission.id}/file",
        admission_photo_href=f"/api/v1/photo-submissions/{admission}" if admission is not None else None,
    )


def decision_out(submission: PhotoSubmission) -> DecisionOut:
    return DecisionOut(
        id=submission.id, state=submission.state, student_no=submission.student_no, kind=submission.kind
    )


def import_out(job: PhotoImport, files: list[PhotoImportFile] | None = None) -> ImportOut:
    return ImportOut(
        id=job.id,
        status=job.status,
        options=job.options,
        total=job.total,
        processed=job.processed,
        counts=job.counts,
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        href=f"/api/v1/photo-imports/{job.id}",
        files=[ImportFileOut.model_validate(f, from_attributes=True) for f in files or []],
    )


def capture_session_out(row: CaptureSession, token: str) -> CaptureSessionOut:
    return CaptureSessionOut(
        id=row.id,
        student_no=row.student_no,
        token=token,
        expires_at=row.expires_at,
        upload_href=f"/api/v1/capture-sessions/{row.id}/photo",
        fee=FeeOut(
            paid=row.fee_paid,
            amount=None if row.fee_amount_cents is None else Decimal(row.fee_amount_cents) / 100,
            provider_reference=row.fee_provider_reference,
        ),
    )
