"""学籍异动: record a status change, list the student's status history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from gradops_registry.api.deps import (
    Cursor,
    IfMatch,
    Reader,
    StudentNo,
    Writer,
    change_after,
    expected_version,
)
from gradops_registry.api.views import change_out
from gradops_registry.schemas import StatusChangeIn, StatusChangeOut, StatusChangePage
from gradops_registry.service import status
from gradops_shared.edge import SessionDep, WriteSessionDep
from gradops_shared.paging import key_cursor

router = APIRouter()


@router.post(
    "/students/{student_no}/status-changes",
    response_model=StatusChangeOut,
    status_code=201,
    summary="Record a status change (学籍异动): suspend, resume, change_major, transfer_centre, ...",
)
async def post_status_change(
    student_no: StudentNo,
    body: StatusChangeIn,
    session: WriteSessionDep,
    principal: Writer,
    if_match: IfMatch = None,
) -> StatusChangeOut:
    _student, change = await status.change_status(
        session, principal, student_no, body, expected_version(if_match)
    )
    return change_out(change)


@router.get(
    "/students/{student_no}/status-changes",
    response_model=StatusChangePage,
    summary="The student's status history (学籍异动), oldest first, in cursor pages",
)
async def list_status_changes(
    student_no: StudentNo,
    session: SessionDep,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Cursor = None,
) -> StatusChangePage:
    page = await status.status_changes(
        session, principal, student_no, after=change_after(cursor), limit=limit
    )
    return StatusChangePage(
        items=[change_out(c) for c in page.items],
        next_cursor=key_cursor(page.next_after) if page.next_after is not None else None,
    )
