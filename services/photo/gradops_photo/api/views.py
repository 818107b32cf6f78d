"""Shaping stored rows into the answers of the photo API."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel

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

Out = TypeVar("Out", bound=BaseModel)


def _shaped(schema: type[Out], row: object, **computed: Any) -> Out:
    """The schema filled from the row's attributes of the same names; `computed` gives the rest."""
    names = [name for name in schema.model_fields if name not in computed and hasattr(row, name)]
    return schema(**{name: getattr(row, name) for name in names}, **computed)


def transition_out(transition: SubmissionTransition) -> TransitionOut:
    return _shaped(TransitionOut, transition, at=transition.created_at)


def submission_out(
    submission: PhotoSubmission, history: list[SubmissionTransition] | None = None
) -> SubmissionOut:
    return _shaped(
        SubmissionOut,
        submission,
        original_kept=submission.preview_sha256 is None,
        qc=QcReportOut.model_validate(submission.qc_report),
        overdue=submission.state == "pending_review"
        and submission.review_due_at is not None
        and submission.review_due_at < datetime.now(UTC),
        resubmit_by=submission.resubmit_by if submission.state == "rejected" else None,
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
    return _shaped(DecisionOut, submission)


def import_out(job: PhotoImport, files: list[PhotoImportFile] | None = None) -> ImportOut:
    return _shaped(
        ImportOut,
        job,
        href=f"/api/v1/photo-imports/{job.id}",
        files=[ImportFileOut.model_validate(f, from_attributes=True) for f in files or []],
    )


def capture_session_out(row: CaptureSession, token: str) -> CaptureSessionOut:
    return _shaped(
        CaptureSessionOut,
        row,
        token=token,
        upload_href=f"/api/v1/capture-sessions/{row.id}/photo",
        fee=FeeOut(
            paid=row.fee_paid,
            amount=None if row.fee_amount_cents is None else Decimal(row.fee_amount_cents) / 100,
            provider_reference=row.fee_provider_reference,
        ),
    )
