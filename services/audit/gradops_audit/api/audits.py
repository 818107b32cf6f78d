"""A student's audits: the current one, the history, one run, a diff, and what-if runs."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from gradops_audit import schemas
from gradops_audit.api.deps import UUID_PATTERN, AuditId, Cursor, Limit, Reader, Registry, Settings, StudentNo
from gradops_audit.api.views import audit_out, diff_out
from gradops_audit.service import audits
from gradops_shared.edge import SessionDep, WriteSessionDep

router = APIRouter()


@router.get(
    "/students/{student_no}/audit",
    response_model=schemas.AuditOut,
    summary="The current graduation audit: every check, outcome, what is missing, how to fix it",
)
async def get_student_audit(
    student_no: StudentNo, principal: Reader, session: SessionDep
) -> schemas.AuditOut:
    return audit_out(await audits.current_audit(session, principal, student_no))


@router.get(
    "/students/{student_no}/audits",
    response_model=schemas.AuditPage,
    summary="The student's audit history, newest first (what-if runs with kind=what_if)",
)
async def list_student_audits(
    student_no: StudentNo,
    principal: Reader,
    session: SessionDep,
    kind: Literal["application", "what_if", "all"] = "application",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> schemas.AuditPage:
    what_if = None if kind == "all" else kind == "what_if"
    page = await audits.list_audits(
        session, principal, student_no, what_if=what_if, limit=limit, cursor=cursor
    )
    return schemas.AuditPage(
        items=[audit_out(a) for a in page.items], next_cursor=page.next_cursor, count=page.count
    )


@router.get("/audits/{audit_id}", response_model=schemas.AuditOut, summary="One stored audit run (immutable)")
async def get_audit(audit_id: AuditId, principal: Reader, session: SessionDep) -> schemas.AuditOut:
    return audit_out(await audits.visible_audit(session, principal, audit_id))


@router.get(
    "/audits/{audit_id}/diff",
    response_model=schemas.AuditDiffOut,
    summary="What changed between an earlier run (`against`) and this one",
)
async def diff_audits(
    audit_id: AuditId,
    against: Annotated[str, Query(pattern=UUID_PATTERN, description="The earlier audit's id")],
    principal: Reader,
    session: SessionDep,
) -> schemas.AuditDiffOut:
    return diff_out(*await audits.diff_audits(session, principal, audit_id, against))


@router.post(
    "/students/{student_no}/what-if-audits",
    response_model=schemas.AuditOut,
    status_code=201,
    summary="What-if audit (another major, future grades): stored with its inputs, emits nothing",
)
async def post_what_if(
    student_no: StudentNo,
    body: schemas.WhatIfIn,
    principal: Reader,
    session: WriteSessionDep,
    settings: Settings,
    registry: Registry,
) -> schemas.AuditOut:
    return audit_out(await audits.what_if(session, registry, principal, student_no, body, settings))
