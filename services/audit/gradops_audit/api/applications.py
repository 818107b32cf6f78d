"""Applications (毕业申请) in a batch, batch audit runs, HQ sign-off and the batch's audit list."""

from __future__ import annotations

import time
from typing import Literal

from fastapi import APIRouter

from gradops_audit import schemas
from gradops_audit.api.deps import (
    BatchCode,
    CentreCodes,
    Cursor,
    Limit,
    Reader,
    Registry,
    Settings,
    Writer,
    ensure_hq,
)
from gradops_audit.api.views import application_out, batch_audit_item
from gradops_audit.service import applications, auditing, sign_offs
from gradops_shared.edge import RuntimeDep, SessionDep, WriteSessionDep

router = APIRouter()


@router.post(
    "/graduation-batches/{code}/applications",
    response_model=schemas.ApplicationsOut,
    status_code=201,
    summary="Apply (graduate | graduate_with_degree | defer) for students or a selection",
)
async def post_applications(
    code: BatchCode,
    body: schemas.ApplicationsIn,
    principal: Writer,
    session: WriteSessionDep,
    settings: Settings,
    registry: Registry,
) -> schemas.ApplicationsOut:
    submitted = await applications.apply(session, registry, code, body, principal, settings)
    return schemas.ApplicationsOut(
        batch_code=code,
        count=len(submitted.applications),
        items=[application_out(a) for a in submitted.applications],
        skipped=submitted.skipped,
    )


@router.post(
    "/graduation-batches/{code}/audit-runs",
    response_model=schemas.AuditRunOut,
    summary="Re-audit every open application of the batch in submission order (e.g. after a rule change)",
)
async def post_audit_run(
    code: BatchCode, principal: Writer, session: WriteSessionDep, settings: Settings
) -> schemas.AuditRunOut:
    ensure_hq(principal)
    began = time.perf_counter()
    stats = await auditing.run_batch(session, code, principal.subject, settings)
    return schemas.AuditRunOut(
        batch_code=code, seconds=round(time.perf_counter() - began, 3), **stats.figures()
    )


@router.post(
    "/graduation-batches/{code}/sign-offs",
    response_model=schemas.SignOffOut,
    summary="HQ sign-off: passing applications become AuditPassed (per student or every passing one)",
)
async def post_sign_offs(
    code: BatchCode,
    body: schemas.SignOffIn,
    principal: Writer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    settings: Settings,
) -> schemas.SignOffOut:
    ensure_hq(principal)
    # The wait for a pending re-audit reads in sessions of its own (runtime.db) before `session` is used.
    signed, skipped = await sign_offs.sign_off_batch(
        session, runtime.db, code, body, principal.subject, settings
    )
    return schemas.SignOffOut(batch_code=code, count=len(signed), signed_off=signed, skipped=skipped)


@router.get(
    "/graduation-batches/{code}/audits",
    response_model=schemas.BatchAuditPage,
    summary="The current audit of every application in the batch, in submission order",
)
async def list_batch_audits(
    code: BatchCode,
    principal: Reader,
    session: SessionDep,
    result: Literal["passed", "failed", "deferred"] | None = None,
    learning_centre: CentreCodes = None,
    application_type: Literal["graduate", "graduate_with_degree", "defer"] | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> schemas.BatchAuditPage:
    page = await applications.list_batch_audits(
        session,
        code,
        principal,
        result=result,
        learning_centres=learning_centre,
        application_type=application_type,
        limit=limit,
        cursor=cursor,
    )
    return schemas.BatchAuditPage(
        items=[batch_audit_item(app, audit) for app, audit in page.items],
        next_cursor=page.next_cursor,
        count=page.count,
    )
