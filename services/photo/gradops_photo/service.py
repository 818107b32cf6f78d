"""Photo use cases. Never commits: the edge owns the transaction."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_photo import domain
from gradops_photo.models import PhotoBlob, PhotoSubmission, SubmissionTransition, outbox
from gradops_photo.qc import QcReport
from gradops_photo.repository import PhotoRepository
from gradops_shared.contracts import PhotoApproved, PhotoRejected, PhotoSubmitted
from gradops_shared.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from gradops_shared.logging import current_request_id
from gradops_shared.outbox import add_event
from gradops_shared.principal import PRINCIPAL_HEADER, Principal, sign_principal

# Students in these states may no longer hand in photos.
_INACTIVE_STATUSES = {"withdrawn", "cancelled"}


async def lookup_student(
    registry: httpx.AsyncClient, student_no: str, principal: Principal, principal_secret: str
) -> dict[str, Any]:
    """Asks the registry, the owner of the record, so a student created a moment ago is known. The
    call carries the caller's reach, so a centre's key cannot submit for another centre's student."""
    headers = {
        "x-request-id": current_request_id() or uuid.uuid4().hex,
        PRINCIPAL_HEADER: sign_principal(principal, principal_secret),
    }
    try:
        response = await registry.get(f"/api/v1/students/{student_no}", headers=headers)
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(
            "The registry could not be reached to check the student.",
            code="photo.registry_unavailable",
            message_zh="暂时无法核对学籍信息，请稍后重试",
        ) from exc
    if response.status_code == 404:
        raise NotFound(
            f"No student with number {student_no}.",
            code="photo.student_not_found",
            message_zh=f"学号 {student_no} 的学生不存在",
        )
    if response.status_code != 200:
        raise ServiceUnavailable(
            f"The registry answered {response.status_code}.",
            code="photo.registry_unavailable",
            message_zh="暂时无法核对学籍信息，请稍后重试",
        )
    student: dict[str, Any] = response.json()
    if student.get("status") in _INACTIVE_STATUSES:
        raise Conflict(
            f"Student {student_no} is {student['status']} and cannot submit photos.",
            code="photo.student_not_active",
            message_zh="该学生学籍状态不允许提交照片",
        )
    return student


def check_upload(report: QcReport) -> None:
    """A file that is not a decodable JPEG is refused outright and nothing is stored (unless it was
    standardised into one: then the judged photo is the standardised JPEG)."""
    if not report.decodable_jpeg:
        raise InvalidInput(
            "The upload is not a complete JPEG image.",
            code="photo.format",
            message_zh="上传的文件不是完整的 JPEG 图片",
            extra={"qc": report.as_dict()},
        )


async def submit_photo(
    session: AsyncSession,
    *,
    student_no: str,
    kind: str,
    source: str,
    data: bytes,
    judged: QcReport,
    qc_report: dict[str, Any],
    actor: str,
    learning_centre: str | None,
    standardised: bytes | None = None,
    submission_id: str | None = None,
) -> PhotoSubmission:
    """Stores the upload (and its standardised photo) with the report; `judged` is the report that
    decides the state: the standardised photo's when there is one, else the upload's."""
    now = datetime.now(UTC)
    sha256 = hashlib.sha256(data).hexdigest()
    repo = PhotoRepository(session)
    await repo.store_blob(PhotoBlob(sha256=sha256, content=data, size_bytes=len(data), created_at=now))
    standardised_sha256 = None
    if standardised is not None:
        standardised_sha256 = hashlib.sha256(standardised).hexdigest()
        await repo.store_blob(
            PhotoBlob(
                sha256=standardised_sha256, content=standardised, size_bytes=len(standardised), created_at=now
            )
        )
    state = domain.state_after_qc(judged)
    submission = PhotoSubmission(
        id=submission_id or str(uuid.uuid4()),
        student_no=student_no,
        kind=kind,
        source=source,
        state=state,
        sha256=sha256,
        standardised_sha256=standardised_sha256,
        learning_centre=learning_centre,
        qc_report=qc_report,
        created_at=now,
        updated_at=now,
    )
    repo.add_submission(submission)
    repo.add_transition(
        SubmissionTransition(
            submission_id=submission.id,
            from_state=None,
            to_state="submitted",
            actor=actor,
            reason=f"uploaded via {source}",
            created_at=now,
        )
    )
    repo.add_transition(
        SubmissionTransition(
            submission_id=submission.id,
            from_state="submitted",
            to_state=state,
            actor="qc",
            reason="QC failed: " + ", ".join(judged.failed_codes("error"))
            if state == "auto_rejected"
            else None,
            created_at=now,
        )
    )
    await session.flush()
    await add_event(
        session,
        outbox,
        PhotoSubmitted(
            student_no=student_no,
            submission_id=uuid.UUID(submission.id),
            kind=kind,
            state=state,
            sha256=sha256,
        ),
    )
    return submission


async def get_submission(
    session: AsyncSession, submission_id: str, *, for_update: bool = False
) -> PhotoSubmission:
    submission = await PhotoRepository(session).get_submission(submission_id, for_update=for_update)
    if submission is None:
        raise NotFound(
            f"No photo submission {submission_id}.",
            code="photo.submission_not_found",
            message_zh="照片提交记录不存在",
        )
    return submission


async def submission_file(
    session: AsyncSession, submission_id: str, variant: str, principal: Principal
) -> bytes:
    """The stored photo of a submission: the upload as it came, or its standardised version. A
    submission of a centre outside the caller's reach does not exist for the caller (404)."""
    not_found = NotFound(
        f"No photo submission {submission_id}.",
        code="photo.submission_not_found",
        message_zh="照片提交记录不存在",
    )
    submission = await PhotoRepository(session).get_submission(submission_id)
    if submission is None:
        raise not_found
    principal.ensure_sees(submission.learning_centre, not_found)
    sha256 = submission.sha256 if variant == "original" else submission.standardised_sha256
    blob = await PhotoRepository(session).get_blob(sha256) if sha256 else None
    if blob is None:
        raise NotFound(
            f"Submission {submission_id} has no {variant} photo.",
            code="photo.file_not_found",
            message_zh="该提交没有此版本的照片（未做标准化）"
            if variant == "standardised"
            else "照片文件不存在",
        )
    return blob.content


async def _decide(
    session: AsyncSession, submission_id: str, target: str, *, actor: str, reason: str | None
) -> PhotoSubmission:
    submission = await get_submission(session, submission_id, for_update=True)
    previous = submission.state
    submission.state = domain.transition(previous, target)
    submission.updated_at = datetime.now(UTC)
    PhotoRepository(session).add_transition(
        SubmissionTransition(
            submission_id=submission.id,
            from_state=previous,
            to_state=target,
            actor=actor,
            reason=reason,
            created_at=submission.updated_at,
        )
    )
    return submission


async def approve(
    session: AsyncSession, submission_id: str, *, actor: str, comment: str | None
) -> PhotoSubmission:
    submission = await _decide(session, submission_id, "approved", actor=actor, reason=comment)
    await add_event(
        session,
        outbox,
        PhotoApproved(
            student_no=submission.student_no,
            submission_id=uuid.UUID(submission.id),
            kind=submission.kind,
            sha256=submission.sha256,
            reviewer=actor,
        ),
    )
    return submission


async def reject(
    session: AsyncSession, submission_id: str, *, actor: str, reasons: list[str], comment: str | None
) -> PhotoSubmission:
    reason = "; ".join(reasons) + (f" — {comment}" if comment else "")
    submission = await _decide(session, submission_id, "rejected", actor=actor, reason=reason)
    await add_event(
        session,
        outbox,
        PhotoRejected(
            student_no=submission.student_no,
            submission_id=uuid.UUID(submission.id),
            kind=submission.kind,
            reasons=reasons,
            reviewer=actor,
        ),
    )
    return submission
