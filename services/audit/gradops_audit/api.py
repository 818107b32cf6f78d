from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from gradops_audit import service
from gradops_audit.schemas import AuditCheckOut, AuditOut
from gradops_shared.errors import PROBLEM_RESPONSES
from gradops_shared.principal import Principal, requires
from gradops_shared.runtime import runtime_from

StudentNo = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$", description="学号")]


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["audit"], responses=PROBLEM_RESPONSES)

    @api.get(
        "/students/{student_no}/audit",
        response_model=AuditOut,
        summary="The student's latest graduation audit",
    )
    async def get_student_audit(
        student_no: StudentNo, request: Request, principal: Annotated[Principal, requires("audit:read")]
    ) -> AuditOut:
        async with runtime_from(request).db.session() as session:
            audit = await service.latest_audit(session, student_no)
            return AuditOut(
                id=audit.id,
                student_no=audit.student_no,
                batch_code=audit.batch_code,
                result="passed" if audit.passed else "failed",
                passed=audit.passed,
                checks=[AuditCheckOut.model_validate(c) for c in audit.checks],
                inputs_digest=audit.inputs_digest,
                trigger=audit.trigger,
                created_at=audit.created_at,
            )

    return api
