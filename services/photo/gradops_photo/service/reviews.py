"""Reviewing photos: the review queue, approve (one or a page), reject, re-open, CHSI states (one or a
CSV of them, all or nothing), and the sweep that expires rejections nobody answered. Never commits:
the edge owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_photo import domain
from gradops_photo.domain.chsi import chsi_rows
from gradops_photo.errors import (
    CHSI_REASON_INVALID,
    CHSI_ROWS_INVALID,
    CHSI_STATE_INVALID,
    CURSOR_INVALID,
    NO_APPROVED_PHOTO,
    UNKNOWN_REASON,
)
from gradops_photo.models import PhotoSubmission, outbox
from gradops_photo.repository import NO_DUE_TIME, PhotoRepository
from gradops_photo.schemas import BulkRefusal, ChsiRowResult, ChsiStateIn
from gradops_photo.service.history import Deadlines, about, get_submission, move
from gradops_photo.service.submissions import current_photo
from gradops_shared.contracts import PhotoApproved, PhotoChsiStatusChanged, PhotoRejected, PhotoReopened
from gradops_shared.errors import GradOpsError
from gradops_shared.outbox import add_event
from gradops_shared.paging import position_cursor, read_position
from gradops_shared.principal import Principal


@dataclass(frozen=True)
class ReviewQueuePage:
    items: list[PhotoSubmission]
    next_cursor: str | None
    count: int
    # student_no -> "<admission submission id>/file[?variant=preview]" (the photo to compare with)
    admission_of: dict[str, str]


async def review_queue(
    session: AsyncSession,
    principal: Principal,
    *,
    overdue: bool,
    centre: list[str] | None,
    kind: str | None,
    limit: int,
    cursor: str | None,
    offset: int,
) -> ReviewQueuePage:
    """Pending reviews by due time within the caller's reach, with each student's admission photo."""
    centres = principal.centre_filter(centre)
    after = read_position(cursor, CURSOR_INVALID) if cursor else None
    repo = PhotoRepository(session)
    found, count = await repo.review_queue(
        centres=centres,
        overdue_at=datetime.now(UTC) if overdue else None,
        kind=kind,
        limit=limit + 1,
        offset=offset,
        after=after,
    )
    page = found[:limit]
    admission_of: dict[str, str] = {}
    for admission in await repo.submissions_of_many([s.student_no for s in page], "admission"):
        # oldest first: the last approved (else latest) wins
        if admission.state in domain.LOCKED_STATES or admission.student_no not in admission_of:
            variant = "" if admission.preview_sha256 is None else "?variant=preview"
            admission_of[admission.student_no] = f"{admission.id}/file{variant}"
    last = page[-1] if page else None
    next_cursor = (
        position_cursor(last.review_due_at or NO_DUE_TIME, last.id)
        if last is not None and len(found) > limit
        else None
    )
    return ReviewQueuePage(page, next_cursor, count, admission_of)


async def approve(
    session: AsyncSession,
    submission_id: str,
    principal: Principal,
    *,
    comment: str | None,
) -> PhotoSubmission:
    repo = PhotoRepository(session)
    submission = await get_submission(session, submission_id, principal, for_update=True)
    move(repo, submission, "approved", principal.subject, comment)
    submission.reviewer, submission.review_comment, submission.review_reasons = (
        principal.subject,
        comment,
        None,
    )
    await add_event(
        session,
        outbox,
        PhotoApproved(
            **about(submission),
            sha256=submission.sha256,
            reviewer=principal.subject,
            deliverable_sha256=submission.standardised_sha256 or submission.sha256,
        ),
    )
    return submission


async def approve_many(
    session: AsyncSession, submission_ids: list[str], principal: Principal, *, comment: str | None
) -> tuple[list[str], list[BulkRefusal]]:
    """Approves each (once, in order); a refusal is reported and the rest are still approved."""
    approved: list[str] = []
    refused: list[BulkRefusal] = []
    for submission_id in dict.fromkeys(submission_ids):
        try:
            async with session.begin_nested():
                await approve(session, submission_id, principal, comment=comment)
            approved.append(submission_id)
        except GradOpsError as exc:
            refused.append(BulkRefusal(id=submission_id, code=exc.code, message_zh=exc.message_zh))
    return approved, refused


def check_review_reasons(reasons: list[str]) -> None:
    unknown = domain.unknown_review_reasons(reasons)
    if unknown:
        raise UNKNOWN_REASON(
            f"Unknown reason codes: {', '.join(unknown)}.",
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
    repo = PhotoRepository(session)
    submission = await get_submission(session, submission_id, principal, for_update=True)
    reason = "; ".join(reasons) + (f" — {comment}" if comment else "")
    move(repo, submission, "rejected", principal.subject, reason)
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
            **about(submission),
            reasons=reasons,
            reviewer=principal.subject,
        ),
    )
    return submission


async def reopen(
    session: AsyncSession, submission_id: str, principal: Principal, *, reason: str
) -> PhotoSubmission:
    """补拍/重拍: an operator unlocks an approved photo so the student may upload a new one for free."""
    repo = PhotoRepository(session)
    submission = await get_submission(session, submission_id, principal, for_update=True)
    move(repo, submission, "reopened", principal.subject, reason)
    await add_event(
        session,
        outbox,
        PhotoReopened(
            **about(submission),
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
    move(PhotoRepository(session), submission, chsi_state, actor, reason)
    await add_event(
        session,
        outbox,
        PhotoChsiStatusChanged(
            **about(submission),
            chsi_state="on_chsi" if chsi_state == "on_chsi" else "chsi_rejected",
            reason=reason,
        ),
    )
    return submission


async def record_chsi_state_of(
    session: AsyncSession, submission_id: str, principal: Principal, chsi_state: str, *, reason: str | None
) -> PhotoSubmission:
    submission = await get_submission(session, submission_id, principal, for_update=True)
    return await record_chsi_state(session, submission, chsi_state, actor=principal.subject, reason=reason)


async def _chsi_row(
    session: AsyncSession, principal: Principal, number: int, row: dict[str, str]
) -> ChsiRowResult:
    student_no = (row.get("student_no") or "").strip()
    result = ChsiRowResult(row=number, student_no=student_no or None)
    try:
        target = ChsiStateIn.model_validate(
            {"chsi_state": (row.get("chsi_state") or "").strip(), "reason": row.get("reason") or None}
        )
    except ValidationError as exc:
        fields = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
        problem = CHSI_STATE_INVALID if "chsi_state" in fields else CHSI_REASON_INVALID
        result.code, result.message_zh = problem.code, problem.title_zh
        return result
    kind = (row.get("kind") or "graduation").strip()
    current = await current_photo(session, student_no, kind, for_update=True) if student_no else None
    if current is None or not principal.sees_centre(current.learning_centre):
        result.code, result.message_zh = NO_APPROVED_PHOTO.code, NO_APPROVED_PHOTO.title_zh
        return result
    try:
        await record_chsi_state(
            session, current, target.chsi_state, actor=principal.subject, reason=target.reason
        )
        result.submission_id, result.state = current.id, current.state
    except GradOpsError as exc:
        result.code, result.message_zh = exc.code, exc.message_zh
    return result


async def import_chsi_states(session: AsyncSession, principal: Principal, data: bytes) -> list[ChsiRowResult]:
    """Every row of the CSV applied, or none: a refused row raises (the edge rolls back) and the
    registrar fixes the file and sends it again."""
    results = [await _chsi_row(session, principal, number, row) for number, row in chsi_rows(data)]
    refused = [r for r in results if r.code]
    if refused:
        raise CHSI_ROWS_INVALID(
            f"{len(refused)} row(s) cannot be applied; nothing was changed.",
            message_zh=f"{len(refused)} 行无法处理，未做任何更改",
            extra={"rows": [r.model_dump() for r in refused]},
        )
    return results


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
        move(repo, submission, "expired", "system", "no new photo within the resubmit window")
        expired += 1
    return expired
