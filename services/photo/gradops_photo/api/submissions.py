"""A student's photo submissions: submit, download, list, read with history, approve, reject."""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Response, UploadFile

from gradops_photo.api.deps import (
    QcPoolDep,
    Reader,
    RegistryDep,
    Reviewer,
    SettingsDep,
    StudentNo,
    SubmissionId,
    Writer,
)
from gradops_photo.api.uploads import read_upload
from gradops_photo.api.views import decision_out, submission_out
from gradops_photo.schemas import ApproveIn, DecisionOut, PhotoKind, RejectIn, SubmissionOut, SubmissionPage
from gradops_photo.service import reviews, submissions
from gradops_photo.service.history import deadlines_of
from gradops_shared.edge import SessionDep, WriteSessionDep
from gradops_shared.paging import CURSOR_DESCRIPTION

router = APIRouter()


@router.post(
    "/students/{student_no}/photos",
    response_model=SubmissionOut,
    status_code=201,
    summary="Submit a student's photo: checked (optionally standardised), stored with its report",
)
async def submit_student_photo(
    student_no: StudentNo,
    file: Annotated[UploadFile, File(description="The photo (JPEG)")],
    principal: Writer,
    session: WriteSessionDep,
    settings: SettingsDep,
    pool: QcPoolDep,
    registry: RegistryDep,
    kind: Annotated[PhotoKind, Form()] = "graduation",
    standardise: Annotated[
        bool,
        Form(description="Standardise the upload; the standardised photo is then judged and reviewed"),
    ] = False,
) -> SubmissionOut:
    data = await read_upload(file, settings.max_upload_bytes)
    submission = await submissions.submit_centre_photo(
        session,
        pool,
        registry,
        settings,
        principal,
        student_no=student_no,
        kind=kind,
        data=data,
        standardise=standardise,
    )
    return submission_out(submission)


@router.get(
    "/photo-submissions/{submission_id}/file",
    response_class=Response,
    responses={
        200: {
            "content": {"image/jpeg": {}},
            "description": "The photo (JPEG bytes), as an attachment with nosniff: what was uploaded "
            "is handed back as a file, never rendered as whatever else its bytes may also be",
        }
    },
    summary="Download a submission's photo: the upload as it came, its standardised version, or the "
    "preview kept instead of a rejected oversize upload",
)
async def get_photo_submission_file(
    submission_id: SubmissionId,
    principal: Reader,
    session: SessionDep,
    variant: Annotated[Literal["original", "standardised", "preview"], Query()] = "original",
) -> Response:
    content = await submissions.submission_file(session, submission_id, variant, principal)
    return Response(
        content,
        media_type="image/jpeg",
        headers={
            # A polyglot (a JPEG that is also HTML or a zip) must never be sniffed into another type.
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'attachment; filename="{submission_id}-{variant}.jpg"',
            "Cache-Control": "private, no-store",  # a student's face is personal data
            "ETag": f'"{hashlib.sha256(content).hexdigest()}"',
        },
    )


@router.get(
    "/students/{student_no}/photos",
    response_model=SubmissionPage,
    summary="Every photo submission of a student, oldest first, a page at a time "
    "({items, next_cursor, count}, like every list of the suite)",
)
async def list_student_photos(
    student_no: StudentNo,
    principal: Reader,
    session: SessionDep,
    registry: RegistryDep,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size")] = 50,
    cursor: Annotated[str | None, Query(max_length=512, description=CURSOR_DESCRIPTION)] = None,
) -> SubmissionPage:
    page, next_cursor, count = await submissions.student_submissions(
        session, registry, principal, student_no, limit=limit, cursor=cursor
    )
    return SubmissionPage(items=[submission_out(s) for s in page], next_cursor=next_cursor, count=count)


@router.get(
    "/photo-submissions/{submission_id}",
    response_model=SubmissionOut,
    summary="A submission and its history",
)
async def get_photo_submission(
    submission_id: SubmissionId, principal: Reader, session: SessionDep
) -> SubmissionOut:
    submission, history = await submissions.submission_with_history(session, submission_id, principal)
    return submission_out(submission, history)


@router.post(
    "/photo-submissions/{submission_id}/approve", response_model=DecisionOut, summary="Approve a photo"
)
async def approve_photo_submission(
    submission_id: SubmissionId,
    principal: Reviewer,
    session: WriteSessionDep,
    payload: ApproveIn | None = None,
) -> DecisionOut:
    comment = payload.comment if payload else None
    return decision_out(await reviews.approve(session, submission_id, principal, comment=comment))


@router.post(
    "/photo-submissions/{submission_id}/reject", response_model=DecisionOut, summary="Reject a photo"
)
async def reject_photo_submission(
    submission_id: SubmissionId,
    payload: RejectIn,
    principal: Reviewer,
    session: WriteSessionDep,
    settings: SettingsDep,
) -> DecisionOut:
    submission = await reviews.reject(
        session,
        submission_id,
        principal,
        reasons=payload.reasons,
        comment=payload.comment,
        deadlines=deadlines_of(settings),
    )
    return decision_out(submission)
