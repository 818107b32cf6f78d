from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from gradops_registry import domain, service
from gradops_registry.models import Student
from gradops_registry.repository import StudentRepository
from gradops_registry.schemas import StatusChangeOut, StudentIn, StudentOut
from gradops_shared.errors import PROBLEM_RESPONSES
from gradops_shared.principal import Principal, requires
from gradops_shared.runtime import runtime_from

StudentNo = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$", description="学号")]


def _out(student: Student) -> StudentOut:
    return StudentOut(
        student_no=student.student_no,
        name=student.name,
        gender=student.gender,
        birth_date=student.birth_date,
        id_type=student.id_type,
        id_number_masked=domain.mask_id_number(student.id_number),
        learning_centre=student.learning_centre,
        level=student.level,
        category=student.category,
        major=student.major,
        enrolment_term=student.enrolment_term,
        study_form=student.study_form,
        status=student.status,
        status_label_zh=domain.STATUS_LABELS_ZH[student.status],
        version=student.version,
        created_at=student.created_at,
        updated_at=student.updated_at,
    )


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["registry"], responses=PROBLEM_RESPONSES)

    @api.put(
        "/students/{student_no}",
        response_model=StudentOut,
        status_code=200,
        responses={201: {"model": StudentOut, "description": "Created"}},
        summary="Create or update a student record (学籍)",
    )
    async def put_student(
        student_no: StudentNo,
        payload: StudentIn,
        request: Request,
        response: Response,
        principal: Annotated[Principal, requires("registry:write")],
    ) -> StudentOut:
        async with runtime_from(request).db.transaction() as session:
            student, created = await service.upsert_student(
                session, student_no, payload, actor=principal.subject
            )
            out = _out(student)
        response.status_code = 201 if created else 200
        return out

    @api.get("/students/{student_no}", response_model=StudentOut, summary="Read a student record")
    async def get_student(
        student_no: StudentNo, request: Request, principal: Annotated[Principal, requires("registry:read")]
    ) -> StudentOut:
        async with runtime_from(request).db.session() as session:
            return _out(await service.get_student(session, student_no))

    @api.get(
        "/students/{student_no}/status-changes",
        response_model=list[StatusChangeOut],
        summary="The student's status history (学籍异动)",
    )
    async def list_status_changes(
        student_no: StudentNo, request: Request, principal: Annotated[Principal, requires("registry:read")]
    ) -> list[StatusChangeOut]:
        async with runtime_from(request).db.session() as session:
            await service.get_student(session, student_no)
            history = await StudentRepository(session).status_history(student_no)
            return [
                StatusChangeOut(
                    from_status=c.from_status,
                    to_status=c.to_status,
                    reason=c.reason,
                    effective_date=c.effective_date,
                    actor=c.actor,
                    created_at=c.created_at,
                )
                for c in history
            ]

    return api
