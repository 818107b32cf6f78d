from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from gradops_certificates.api.deps import PAGE_HEADERS, Cursor, Number, Reader, StudentNo, Writer, offer_next
from gradops_certificates.api.views import certificate_out
from gradops_certificates.schemas import CertificateOut, CertificatePage, RevocationIn, RevocationOut
from gradops_certificates.service import issuance, replacement
from gradops_shared.edge import SessionDep, WriteSessionDep

router = APIRouter()


@router.get(
    "/students/{student_no}/certificate",
    response_model=CertificateOut,
    summary="The student's certificate (毕业证书, or the 毕业证明书 that replaced it)",
)
async def get_student_certificate(
    student_no: StudentNo, session: SessionDep, principal: Reader
) -> CertificateOut:
    return certificate_out(await issuance.certificate_of_student(session, student_no, principal))


@router.get(
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
    session: SessionDep,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Cursor = None,
) -> CertificatePage:
    page = await issuance.student_certificates(session, student_no, principal, cursor, limit)
    return CertificatePage(
        items=[certificate_out(c) for c in page.items],
        next_cursor=offer_next(request, response, page.next_cursor),
    )


@router.get("/certificates/{number}", response_model=CertificateOut, summary="A certificate by its number")
async def get_certificate(number: Number, session: SessionDep, principal: Reader) -> CertificateOut:
    return certificate_out(await issuance.certificate_by_number(session, number, principal))


@router.post(
    "/certificates/{number}/revocation",
    response_model=RevocationOut,
    summary="Revoke (学历撤销), final; HQ only. Emits CertificateRevoked per certificate",
)
async def revoke_certificate(
    number: Number, body: RevocationIn, session: WriteSessionDep, principal: Writer
) -> RevocationOut:
    revoked = await replacement.revoke(session, number, body.reason.strip(), principal)
    return RevocationOut(revoked=[certificate_out(c) for c in revoked])
