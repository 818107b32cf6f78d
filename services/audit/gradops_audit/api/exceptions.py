"""Exceptions (例外): waived checks and substituted courses, granted and revoked by HQ."""

from __future__ import annotations

from fastapi import APIRouter

from gradops_audit import schemas
from gradops_audit.api.deps import (
    AuditId,
    Cursor,
    Limit,
    Reader,
    Registry,
    Settings,
    StudentNo,
    Writer,
    ensure_hq,
)
from gradops_audit.api.views import exception_out
from gradops_audit.service import exceptions
from gradops_shared.edge import SessionDep, WriteSessionDep

router = APIRouter()


@router.post(
    "/students/{student_no}/exceptions",
    response_model=schemas.ExceptionOut,
    status_code=201,
    summary="Grant an exception (waive a check / substitute a course); re-audits",
)
async def post_exception(
    student_no: StudentNo,
    body: schemas.ExceptionIn,
    principal: Writer,
    session: WriteSessionDep,
    settings: Settings,
    registry: Registry,
) -> schemas.ExceptionOut:
    ensure_hq(principal)
    return exception_out(
        await exceptions.grant_exception(session, registry, principal, student_no, body, settings)
    )


@router.get(
    "/students/{student_no}/exceptions",
    response_model=schemas.ExceptionPage,
    summary="The student's exceptions, revoked ones included, oldest first (cursor pages)",
)
async def list_exceptions(
    student_no: StudentNo, principal: Reader, session: SessionDep, limit: Limit = 100, cursor: Cursor = None
) -> schemas.ExceptionPage:
    page = await exceptions.list_exceptions(session, principal, student_no, limit=limit, cursor=cursor)
    return schemas.ExceptionPage(
        items=[exception_out(e) for e in page.items], next_cursor=page.next_cursor, count=page.count
    )


@router.delete(
    "/students/{student_no}/exceptions/{exception_id}",
    response_model=schemas.ExceptionOut,
    summary="Revoke an exception (kept, marked revoked); re-audits",
)
async def revoke_exception(
    student_no: StudentNo,
    exception_id: AuditId,
    principal: Writer,
    session: WriteSessionDep,
    settings: Settings,
) -> schemas.ExceptionOut:
    ensure_hq(principal)
    row = await exceptions.revoke_exception(session, student_no, exception_id, principal.subject, settings)
    return exception_out(row)
