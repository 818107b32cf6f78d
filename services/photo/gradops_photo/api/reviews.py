"""The review desk: the queue by due time, approvals in bulk, re-opening an approved photo, and
what CHSI holds (one submission, or a CSV of them)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, UploadFile

from gradops_photo.api.deps import Reviewer, SettingsDep, SubmissionId
from gradops_photo.api.uploads import read_upload
from gradops_photo.api.views import decision_out, review_item_out
from gradops_photo.schemas import (
    BulkApproveIn,
    BulkApproveOut,
    ChsiImportOut,
    ChsiStateIn,
    DecisionOut,
    PhotoKind,
    ReopenIn,
    ReviewPage,
)
from gradops_photo.service import reviews
from gradops_shared.edge import SessionDep, WriteSessionDep
from gradops_shared.paging import CURSOR_DESCRIPTION

router = APIRouter()

_CHSI_CSV_LIMIT = 5 * 1024 * 1024


@router.get(
    "/photo-reviews",
    response_model=ReviewPage,
    summary="The review queue by due time (SLA in working days), with the QC report and admission photo",
)
async def list_photo_reviews(
    principal: Reviewer,
    session: SessionDep,
    settings: SettingsDep,
    status: Annotated[Literal["pending", "overdue"], Query()] = "pending",
    centre: Annotated[list[str] | None, Query(description="Learning centre code(s)")] = None,
    kind: PhotoKind | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512, description=CURSOR_DESCRIPTION)] = None,
    offset: Annotated[
        int, Query(ge=0, le=100_000, description="Deprecated: pass cursor=next_cursor instead")
    ] = 0,
) -> ReviewPage:
    page = await reviews.review_queue(
        session,
        principal,
        overdue=status == "overdue",
        centre=centre,
        kind=kind,
        limit=limit,
        cursor=cursor,
        offset=offset,
    )
    return ReviewPage(
        items=[review_item_out(s, page.admission_of) for s in page.items],
        next_cursor=page.next_cursor,
        count=page.count,
        sla_workdays=settings.review_sla_workdays,
    )


@router.post(
    "/photo-reviews/approvals",
    response_model=BulkApproveOut,
    summary="Approve a page of reviews at once; each refusal is reported, the rest are approved",
)
async def bulk_approve_photos(
    payload: BulkApproveIn, principal: Reviewer, session: WriteSessionDep
) -> BulkApproveOut:
    approved, refused = await reviews.approve_many(
        session, payload.submission_ids, principal, comment=payload.comment
    )
    return BulkApproveOut(approved=approved, refused=refused)


@router.post(
    "/photo-submissions/{submission_id}/reopen",
    response_model=DecisionOut,
    summary="Re-open an approved photo for a free re-take (补拍/重拍), with a reason",
)
async def reopen_photo_submission(
    submission_id: SubmissionId, payload: ReopenIn, principal: Reviewer, session: WriteSessionDep
) -> DecisionOut:
    return decision_out(await reviews.reopen(session, submission_id, principal, reason=payload.reason))


@router.post(
    "/photo-submissions/{submission_id}/chsi-status",
    response_model=DecisionOut,
    summary="Record what CHSI holds: on_chsi, or chsi_rejected (face comparison failed: re-take)",
)
async def record_photo_chsi_status(
    submission_id: SubmissionId, payload: ChsiStateIn, principal: Reviewer, session: WriteSessionDep
) -> DecisionOut:
    submission = await reviews.record_chsi_state_of(
        session, submission_id, principal, payload.chsi_state, reason=payload.reason
    )
    return decision_out(submission)


@router.post(
    "/photo-chsi-statuses",
    response_model=ChsiImportOut,
    summary="CHSI states in bulk (CSV: student_no,chsi_state[,kind][,reason]); all rows or none",
)
async def import_photo_chsi_statuses(
    file: Annotated[UploadFile, File(description="UTF-8 CSV with a header row")],
    principal: Reviewer,
    session: WriteSessionDep,
) -> ChsiImportOut:
    results = await reviews.import_chsi_states(session, principal, await read_upload(file, _CHSI_CSV_LIMIT))
    return ChsiImportOut(applied=len(results), refused=0, rows=results)
