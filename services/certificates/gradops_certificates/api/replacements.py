from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, Request, Response, UploadFile

from gradops_certificates.api.common import (
    PAGE_HEADERS,
    UPLOAD_RESPONSES,
    Cursor,
    Number,
    cursor_time,
    offer_next,
    read_scan,
    settings_of,
    today,
)
from gradops_certificates.domain.replacement import ReplacementReason, ReplacementState
from gradops_certificates.models import Replacement
from gradops_certificates.repository import CertificateRepository
from gradops_certificates.schemas import DecisionIn, ReplacementOut, ReplacementPage
from gradops_certificates.service import replacement as use_case
from gradops_certificates.settings import CertificatesSettings
from gradops_shared.principal import Principal, requires
from gradops_shared.runtime import runtime_from
from gradops_shared.text import MultilineText

# A UUID: anything else cannot name an application (and a NUL byte would reach PostgreSQL's text).
ReplacementId = Annotated[
    str,
    Path(min_length=36, max_length=36, pattern=r"^[0-9A-Fa-f-]{36}$", description="Application id (UUID)"),
]


def replacement_out(row: Replacement, settings: CertificatesSettings) -> ReplacementOut:
    days_left: int | None = None
    if row.decision_due is not None and row.state == "centre_verified":
        days_left = use_case.calendar_of(settings).workdays_between(today(), row.decision_due)
    return ReplacementOut(
        id=row.id,
        original_number=row.original_number,
        student_no=row.student_no,
        learning_centre=row.learning_centre,
        reason=row.reason,
        note=row.note,
        form_sha256=row.form_sha256,
        state=row.state,
        applied_at=row.applied_at,
        applied_by=row.applied_by,
        verified_at=row.verified_at,
        decision_due=row.decision_due,
        working_days_left=days_left,
        overdue=days_left is not None and days_left < 0,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        decision_note=row.decision_note,
        replacement_number=row.replacement_number,
    )


def router() -> APIRouter:
    api = APIRouter()

    @api.post(
        "/certificates/{number}/replacements",
        response_model=ReplacementOut,
        status_code=201,
        summary="Apply for a 毕业证明书 (lost or damaged certificate) with the signed form; once only "
        "(a rejected application does not count)",
        responses=UPLOAD_RESPONSES,
    )
    async def apply_for_replacement(
        number: Number,
        request: Request,
        principal: Annotated[Principal, requires("certificates:write")],
        reason: Annotated[ReplacementReason, Form(description="lost (遗失) | damaged (损坏)")],
        form: Annotated[
            UploadFile, File(description="The student's signed application form: PDF, JPEG or PNG")
        ],
        note: Annotated[MultilineText | None, Form(max_length=4000)] = None,
    ) -> ReplacementOut:
        data = await read_scan(form)
        async with runtime_from(request).db.transaction() as session:
            row = await use_case.apply(
                session, number, reason=reason, form=data, note=note, principal=principal
            )
            return replacement_out(row, settings_of(request))

    @api.get(
        "/certificate-replacements",
        response_model=ReplacementPage,
        summary="Replacement applications, oldest first (HQ handles them in order); cursor pages",
        responses=PAGE_HEADERS,
    )
    async def list_replacements(
        request: Request,
        response: Response,
        principal: Annotated[Principal, requires("certificates:read")],
        state: ReplacementState | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        cursor: Cursor = None,
    ) -> ReplacementPage:
        after = cursor_time(cursor)
        async with runtime_from(request).db.session() as session:
            rows = await CertificateRepository(session).replacements(
                state, principal.centre_filter(), limit + 1, after
            )
        page = rows[:limit]
        last = page[-1] if len(rows) > limit else None
        token = offer_next(request, response, f"{last.applied_at.isoformat()}|{last.id}" if last else None)
        return ReplacementPage(
            items=[replacement_out(r, settings_of(request)) for r in page], next_cursor=token
        )

    @api.get(
        "/certificate-replacements/{replacement_id}", response_model=ReplacementOut, summary="An application"
    )
    async def get_replacement(
        replacement_id: ReplacementId,
        request: Request,
        principal: Annotated[Principal, requires("certificates:read")],
    ) -> ReplacementOut:
        async with runtime_from(request).db.session() as session:
            return replacement_out(
                await use_case.get(session, replacement_id, principal), settings_of(request)
            )

    @api.get(
        "/certificate-replacements/{replacement_id}/form",
        summary="The signed application form as uploaded",
        responses={200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}}},
    )
    async def get_replacement_form(
        replacement_id: ReplacementId,
        request: Request,
        principal: Annotated[Principal, requires("certificates:read")],
    ) -> Response:
        async with runtime_from(request).db.session() as session:
            row = await use_case.get(session, replacement_id, principal)
            stored = await CertificateRepository(session).file(row.form_sha256)
        assert stored is not None
        return Response(
            stored.data, media_type=stored.content_type, headers={"x-content-sha256": stored.sha256}
        )

    @api.post(
        "/certificate-replacements/{replacement_id}/centre-verification",
        response_model=ReplacementOut,
        summary="The centre verified and stamped the application; HQ's 15-working-day SLA starts",
    )
    async def verify_replacement(
        replacement_id: ReplacementId,
        request: Request,
        principal: Annotated[Principal, requires("certificates:write")],
    ) -> ReplacementOut:
        settings = settings_of(request)
        async with runtime_from(request).db.transaction() as session:
            row = await use_case.verify_by_centre(session, replacement_id, principal, settings, today())
            return replacement_out(row, settings)

    @api.post(
        "/certificate-replacements/{replacement_id}/decision",
        response_model=ReplacementOut,
        summary="HQ approves (issues the 毕业证明书 with its 补证号, supersedes the original, emits "
        "CertificateReplaced) or rejects (final)",
    )
    async def decide_replacement(
        replacement_id: ReplacementId,
        body: DecisionIn,
        request: Request,
        principal: Annotated[Principal, requires("certificates:write")],
    ) -> ReplacementOut:
        settings = settings_of(request)
        async with runtime_from(request).db.transaction() as session:
            row, _ = await use_case.decide(
                session,
                replacement_id,
                approve=body.approve,
                note=body.note,
                principal=principal,
                settings=settings,
                today=today(),
            )
            return replacement_out(row, settings)

    return api
