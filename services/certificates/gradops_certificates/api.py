from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from gradops_certificates import service
from gradops_certificates.models import Certificate
from gradops_certificates.schemas import CertificateOut
from gradops_shared.errors import PROBLEM_RESPONSES
from gradops_shared.principal import Principal, requires
from gradops_shared.runtime import runtime_from

StudentNo = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$", description="学号")]


def _out(certificate: Certificate) -> CertificateOut:
    return CertificateOut(
        number=certificate.number,
        student_no=certificate.student_no,
        batch_code=certificate.batch_code,
        level=certificate.level,
        issue_date=certificate.issue_date,
        graduation_date=certificate.graduation_date,
        status=certificate.status,
        created_at=certificate.created_at,
    )


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["certificates"], responses=PROBLEM_RESPONSES)

    @api.get(
        "/students/{student_no}/certificate",
        response_model=CertificateOut,
        summary="The student's certificate",
    )
    async def get_student_certificate(
        student_no: StudentNo,
        request: Request,
        principal: Annotated[Principal, requires("certificates:read")],
    ) -> CertificateOut:
        async with runtime_from(request).db.session() as session:
            return _out(await service.certificate_of_student(session, student_no))

    @api.get("/certificates/{number}", response_model=CertificateOut, summary="A certificate by its number")
    async def get_certificate(
        number: str, request: Request, principal: Annotated[Principal, requires("certificates:read")]
    ) -> CertificateOut:
        async with runtime_from(request).db.session() as session:
            return _out(await service.certificate_by_number(session, number))

    return api
