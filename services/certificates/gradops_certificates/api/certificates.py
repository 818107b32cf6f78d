from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from gradops_certificates import service
from gradops_certificates.api.common import (
    PAGE_HEADERS,
    Cursor,
    Number,
    StudentNo,
    certificate_out,
    cursor_time,
    offer_next,
)
from gradops_certificates.repository import CertificateRepository
from gradops_certificates.schemas import CertificateOut, CertificatePage, RevocationIn, RevocationOut
from gradops_certificates.service import replacement
from gradops_shared.principal import Principal, requires
from gradops_shared.runtime import runtime_from


def router() -> APIRouter:
    api = APIRouter()

    @api.get(
        "/students/{student_no}/certificate",
        response_model=CertificateOut,
        summary="The student's certificate (毕业证书, or the 毕业证明书 that replaced it)",
    )
    async def get_student_certificate(
        student_no: StudentNo,
        request: Request,
        principal: Annotated[Principal, requires("certificates:read")],
    ) -> CertificateOut:
        async with runtime_from(request).db.session() as session:
            return certificate_out(await service.certificate_of_student(session, student_no, principal))

    @api.get(
        "/students/{student_no}/certificates",
        response_model=CertificatePage,
        summary="Every certificate of a student (diplomas, degree certificates, replacements), oldest "
        "first; cursor pages",
        responses=PAGE_HEADERS,
    )
    async def list_student_certificates(
        student_no: StudentNo,
        request: Request,
        response: Response,
        principal: Annotated[Principal, requires("certificates:read")],
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        cursor: Cursor = None,
    ) -> CertificatePage:
        after = cursor_time(cursor)
        async with runtime_from(request).db.session() as session:
            rows = await CertificateRepository(session).page_of_student(
                student_no, principal.centre_filter(), after, limit + 1
            )
        page = rows[:limit]
        last = page[-1] if len(rows) > limit else None
        token = offer_next(
            request, response, f"{last.created_at.isoformat()}|{last.number}" if last else None
        )
        return CertificatePage(items=[certificate_out(c) for c in page], next_cursor=token)

    @api.get("/certificates/{number}", response_model=CertificateOut, summary="A certificate by its number")
    async def get_certificate(
        number: Number, request: Request, principal: Annotated[Principal, requires("certificates:read")]
    ) -> CertificateOut:
        async with runtime_from(request).db.session() as session:
            return certificate_out(await service.certificate_by_number(session, number, principal))

    @api.post(
        "/certificates/{number}/revocation",
        response_model=RevocationOut,
        summary="Revoke (学历撤销), final; HQ only. Emits CertificateRevoked per certificate",
    )
    async def revoke_certificate(
        number: Number,
        body: RevocationIn,
        request: Request,
        principal: Annotated[Principal, requires("certificates:write")],
    ) -> RevocationOut:
        async with runtime_from(request).db.transaction() as session:
            revoked = await replacement.revoke(session, number, body.reason.strip(), principal)
            return RevocationOut(revoked=[certificate_out(c) for c in revoked])

    return api
