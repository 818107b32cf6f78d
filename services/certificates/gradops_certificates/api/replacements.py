from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile

from gradops_certificates.api.deps import (
    PAGE_HEADERS,
    SCAN_CONTENT,
    UPLOAD_RESPONSES,
    Cursor,
    Number,
    Reader,
    ReplacementId,
    SettingsDep,
    Writer,
    offer_next,
    read_scan,
    today,
)
from gradops_certificates.api.views import replacement_out
from gradops_certificates.domain.replacement import ReplacementReason, ReplacementState
from gradops_certificates.schemas import DecisionIn, ReplacementOut, ReplacementPage
from gradops_certificates.service import replacement
from gradops_shared.edge import SessionDep, WriteSessionDep
from gradops_shared.text import MultilineText

router = APIRouter()


@router.post(
    "/certificates/{number}/replacements",
    response_model=ReplacementOut,
    status_code=201,
    summary="Apply for a 毕业证明书 (lost or damaged certificate) with the signed form; once only "
    "(a rejected application does not count)",
    responses=UPLOAD_RESPONSES,
)
async def apply_for_replacement(
    number: Number,
    session: WriteSessionDep,
    principal: Writer,
    settings: SettingsDep,
    reason: Annotated[ReplacementReason, Form(description="lost (遗失) | damaged (损坏)")],
    form: Annotated[UploadFile, File(description="The student's signed application form: PDF, JPEG or PNG")],
    note: Annotated[MultilineText | None, Form(max_length=4000)] = None,
) -> ReplacementOut:
    data = await read_scan(form, "form")
    row = await replacement.apply(session, number, reason=reason, form=data, note=note, principal=principal)
    return replacement_out(row, settings)


@router.get(
    "/certificate-replacements",
    response_model=ReplacementPage,
    summary="Replacement applications, oldest first (HQ handles them in order); cursor pages",
    responses=PAGE_HEADERS,
)
async def list_replacements(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    settings: SettingsDep,
    state: ReplacementState | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Cursor = None,
) -> ReplacementPage:
    page = await replacement.applications(session, principal, state, cursor, limit)
    return ReplacementPage(
        items=[replacement_out(r, settings) for r in page.items],
        next_cursor=offer_next(request, response, page.next_cursor),
    )


@router.get(
    "/certificate-replacements/{replacement_id}", response_model=ReplacementOut, summary="An application"
)
async def get_replacement(
    replacement_id: ReplacementId, session: SessionDep, principal: Reader, settings: SettingsDep
) -> ReplacementOut:
    return replacement_out(await replacement.get(session, replacement_id, principal), settings)


@router.get(
    "/certificate-replacements/{replacement_id}/form",
    summary="The signed application form as uploaded",
    responses=SCAN_CONTENT,
)
async def get_replacement_form(
    replacement_id: ReplacementId, session: SessionDep, principal: Reader
) -> Response:
    stored = await replacement.form(session, replacement_id, principal)
    return Response(stored.content, media_type=stored.media_type, headers={"x-content-sha256": stored.sha256})


@router.post(
    "/certificate-replacements/{replacement_id}/centre-verification",
    response_model=ReplacementOut,
    summary="The centre verified and stamped the application; HQ's 15-working-day SLA starts",
)
async def verify_replacement(
    replacement_id: ReplacementId, session: WriteSessionDep, principal: Writer, settings: SettingsDep
) -> ReplacementOut:
    row = await replacement.verify_by_centre(session, replacement_id, principal, settings, today())
    return replacement_out(row, settings)


@router.post(
    "/certificate-replacements/{replacement_id}/decision",
    response_model=ReplacementOut,
    summary="HQ approves (issues the 毕业证明书 with its 补证号, supersedes the original, emits "
    "CertificateReplaced) or rejects (final)",
)
async def decide_replacement(
    replacement_id: ReplacementId,
    body: DecisionIn,
    session: WriteSessionDep,
    principal: Writer,
    settings: SettingsDep,
) -> ReplacementOut:
    row, _ = await replacement.decide(
        session,
        replacement_id,
        approve=body.approve,
        note=body.note,
        principal=principal,
        settings=settings,
        today=today(),
    )
    return replacement_out(row, settings)
