"""Photo use cases. Never commits: the edge owns the transaction."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_photo import domain
from gradops_photo.models import PhotoBlob, PhotoSubmission, SubmissionTransition, outbox
from gradops_photo.qc import QcReport
from gradops_photo.repository import PhotoRepository
from gradops_shared.contracts import (
    PhotoApproved,
    PhotoChsiStatusChanged,
    PhotoRejected,
    PhotoReopened,
    PhotoSubmitted,
)
from gradops_shared.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from gradops_shared.logging import current_request_id
from gradops_shared.outbox import add_event
from gradops_shared.principal import PRINCIPAL_HEADER, Principal, sign_principal
from gradops_shared.workdays import WorkCalendar

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


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Deadlines:
    """The working-day rules of review and resubmission (from settings)."""

    calendar: WorkCalendar
    review_sla_workdays: int = 2
    resubmit_workdays: int = 2


def _not_found(submission_id: str) -> NotFound:
    return NotFound(
        f"No photo submission {submission_id}.",
        code="photo.submission_not_found",
        message_zh="照片提交记录不存在",
    )


def _log(
    repo: PhotoRepository,
    submission: PhotoSubmission,
    previous: str | None,
    target: str,
    actor: str,
    reason: str | None,
    at: datetime,
) -> None:
    repo.add_transition(
        SubmissionTransition(
            submission_id=submission.id,
            from_state=previous,
            to_state=target,
            actor=actor,
            reason=reason,
            created_at=at,
        )
    )


def _move(
    repo: PhotoRepository, submission: PhotoSubmission, target: str, actor: str, reason: str | None
) -> str:
    """One legal step of the state machine, logged with who, when and why."""
    previous = submission.state
    submission.state = domain.transition(previous, target)
    submission.updated_at = datetime.now(UTC)
    _log(repo, submission, previous, target, actor, reason, submission.updated_at)
    return previous


async def ensure_not_locked(session: AsyncSession, student_no: str, kind: str) -> None:
    """An approved photo (or one on CHSI) stays the student's photo until an operator re-opens it."""
    for existing in await PhotoRepository(session).submissions_of(student_no, kind=kind):
        if existing.state in domain.LOCKED_STATES:
            raise Conflict(
                f"Student {student_no} already has an approved {kind} photo; it must be re-opened first.",
                code="photo.locked",
                message_zh="该学生的照片已审核通过并锁定，需由管理员重新开放采集后才能重新上传",
                extra={"submission_id": existing.id, "state": existing.state},
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
    deadlines: Deadlines,
    standardised: bytes | None = None,
    submission_id: str | None = None,
    first_of_student: bool = False,
    preview: bytes | None = None,
) -> PhotoSubmission:
    """Stores the upload (and its standardised photo) with the report; `judged` is the report that
    decides the state: the standardised photo's when there is one, else the upload's. A photo still
    waiting for review is superseded by the new one; an approved photo refuses it (photo.locked).
    An auto-rejected upload that came with a `preview` (it was over the keep limit) is not stored:
    the preview is, and the upload's digest stays on the submission."""
    if not first_of_student:  # the bulk import knows a student without any photo: no queries needed
        await ensure_not_locked(session, student_no, kind)
    now = datetime.now(UTC)
    sha256 = hashlib.sha256(data).hexdigest()
    repo = PhotoRepository(session)
    state = domain.state_after_qc(judged)
    preview_sha256 = None
    if state == "auto_rejected" and preview is not None:
        preview_sha256 = hashlib.sha256(preview).hexdigest()
        await repo.store_blob(
            PhotoBlob(sha256=preview_sha256, content=preview, size_bytes=len(preview), created_at=now)
        )
    else:
        await repo.store_blob(PhotoBlob(sha256=sha256, content=data, size_bytes=len(data), created_at=now))
    standardised_sha256 = None
    if standardised is not None:
        standardised_sha256 = hashlib.sha256(standardised).hexdigest()
        await repo.store_blob(
            PhotoBlob(
                sha256=standardised_sha256, content=standardised, size_bytes=len(standardised), created_at=now
            )
        )
    submission = PhotoSubmission(
        id=submission_id or str(uuid.uuid4()),
        student_no=student_no,
        kind=kind,
        source=source,
        state=state,
        sha256=sha256,
        standardised_sha256=standardised_sha256,
        preview_sha256=preview_sha256,
        learning_centre=learning_centre,
        qc_report=qc_report,
        created_at=now,
        updated_at=now,
        review_due_at=deadlines.calendar.deadline(now, deadlines.review_sla_workdays)
        if state == "pending_review"
        else None,
    )
    older_ones = [] if first_of_student else await repo.submissions_of(student_no, kind=kind, for_update=True)
    for older in older_ones:
        if older.state == "pending_review":
            _move(repo, older, "superseded", actor, f"replaced by submission {submission.id}")
    repo.add_submission(submission)
    _log(repo, submission, None, "submitted", actor, f"uploaded via {source}", now)
    _log(
        repo,
        submission,
        "submitted",
        state,
        "qc",
        "QC failed: " + ", ".join(judged.failed_codes("error")) if state == "auto_rejected" else None,
        now,
    )
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
    session: AsyncSession,
    submission_id: str,
    principal: Principal | None = None,
    *,
    for_update: bool = False,
) -> PhotoSubmission:
    """A submission of a centre outside the caller's reach does not exist for the caller (404)."""
    submission = await PhotoRepository(session).get_submission(submission_id, for_update=for_update)
    if submission is None:
        raise _not_found(submission_id)
    if principal is not None:
        principal.ensure_sees(submission.learning_centre, _not_found(submission_id))
    return submission


async def submission_file(
    session: AsyncSession, submission_id: str, variant: str, principal: Principal
) -> bytes:
    """The stored photo of a submission: the upload as it came, its standardised version, or the
    preview kept instead of a rejected oversize upload."""
    submission = await get_submission(session, submission_id, principal)
    if variant == "original" and submission.preview_sha256 is not None:
        raise NotFound(
            f"Submission {submission_id} was rejected by QC and its upload was not kept "
            "(only a preview: variant=preview).",
            code="photo.original_not_kept",
            message_zh="该照片未通过检测且文件过大，原文件未保存（可查看预览：variant=preview）",
        )
    sha256 = {
        "original": submission.sha256,
        "standardised": submission.standardised_sha256,
        "preview": submission.preview_sha256,
    }.get(variant)
    blob = await PhotoRepository(session).get_blob(sha256) if sha256 else None
    if blob is None:
        raise NotFound(
            f"Submission {submission_id} has no {variant} photo.",
            code="photo.file_not_found",
            message_zh={
                "standardised": "该提交没有此版本的照片（未做标准化）",
                "preview": "该提交没有预览（原文件已保存）",
            }.get(variant, "照片文件不存在"),
        )
    return blob.content


async def approve(
    session: AsyncSession,
    submission_id: str,
    principal: Principal,
    *,
    comment: str | None,
) -> PhotoSubmission:
    submission = await get_submission(session, submission_id, principal, for_update=True)
    _move(PhotoRepository(session), submission, "approved", principal.subject, comment)
    submission.reviewer, submission.review_comment, submission.review_reasons = (
        principal.subject,
        comment,
        None,
    )
    await add_event(
        session,
        outbox,
        PhotoApproved(
            student_no=submission.student_no,
            submission_id=uuid.UUID(submission.id),
            kind=submission.kind,
            sha256=submission.sha256,
            reviewer=principal.subject,
            deliverable_sha256=submission.standardised_sha256 or submission.sha256,
        ),
    )
    return submission


def check_review_reasons(reasons: list[str]) -> None:
    unknown = domain.unknown_review_reasons(reasons)
    if unknown:
        raise InvalidInput(
            f"Unknown reason codes: {', '.join(unknown)}.",
            code="photo.unknown_reason",
            message_zh=f"未知的驳回原因代码：{'、'.join(unknown)}",
            extra={"unknown": unknown, "known": sorted(domain.REVIEW_REASONS)},
        )


async def reject(
    session: AsyncSession,
    submission_id: str,
    principal: Principal,
    *,
    reasons: list[str],
    comment: str | None,
    deadlines: Deadlines,
) -> PhotoSubmission:
    check_review_reasons(reasons)
    submission = await get_submission(session, submission_id, principal, for_update=True)
    reason = "; ".join(reasons) + (f" — {comment}" if comment else "")
    _move(PhotoRepository(session), submission, "rejected", principal.subject, reason)
    submission.reviewer, submission.review_reasons, submission.review_comment = (
        principal.subject,
        reasons,
        comment,
    )
    submission.resubmit_by = deadlines.calendar.deadline(submission.updated_at, deadlines.resubmit_workdays)
    await add_event(
        session,
        outbox,
        PhotoRejected(
            student_no=submission.student_no,
            submission_id=uuid.UUID(submission.id),
            kind=submission.kind,
            reasons=reasons,
            reviewer=principal.subject,
        ),
    )
    return submission


async def reopen(
    session: AsyncSession, submission_id: str, principal: Principal, *, reason: str
) -> PhotoSubmission:
    """补拍/重拍: an operator unlocks an approved photo so the student may upload a new one for free."""
    submission = await get_submission(session, submission_id, principal, for_update=True)
    _move(PhotoRepository(session), submission, "reopened", principal.subject, reason)
    await add_event(
        session,
        outbox,
        PhotoReopened(
            student_no=submission.student_no,
            submission_id=uuid.UUID(submission.id),
            kind=submission.kind,
            reason=reason,
            actor=principal.subject,
        ),
    )
    return submission


async def record_chsi_state(
    session: AsyncSession,
    submission: PhotoSubmission,
    chsi_state: str,
    *,
    actor: str,
    reason: str | None,
) -> PhotoSubmission:
    """What CHSI holds: on_chsi, or chsi_rejected (face comparison failed: the student needs a new
    photo, so the lock is lifted like a re-open)."""
    _move(PhotoRepository(session), submission, chsi_state, actor, reason)
    await add_event(
        session,
        outbox,
        PhotoChsiStatusChanged(
            student_no=submission.student_no,
            submission_id=uuid.UUID(submission.id),
            kind=submission.kind,
            chsi_state="on_chsi" if chsi_state == "on_chsi" else "chsi_rejected",
            reason=reason,
        ),
    )
    return submission


async def current_photo(
    session: AsyncSession, student_no: str, kind: str, *, for_update: bool = False
) -> PhotoSubmission | None:
    """The student's approved (or on-CHSI) photo of that kind, if any."""
    for submission in reversed(
        await PhotoRepository(session).submissions_of(student_no, kind=kind, for_update=for_update)
    ):
        if submission.state in domain.LOCKED_STATES:
            return submission
    return None


async def expire_overdue(session: AsyncSession, now: datetime | None = None) -> int:
    """Rejected submissions whose resubmit window closed without a newer upload become `expired`
    (counts as not taken). A student who uploaded again in time keeps the rejection as history."""
    moment = now or datetime.now(UTC)
    repo = PhotoRepository(session)
    expired = 0
    for submission in await repo.rejected_due(moment):
        newer = [
            s
            for s in await repo.submissions_of(submission.student_no, kind=submission.kind)
            if s.created_at > submission.created_at
        ]
        if newer:
            continue
        _move(repo, submission, "expired", "system", "no new photo within the resubmit window")
        expired += 1
    return expired
