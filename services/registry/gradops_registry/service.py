"""Registry use cases: load, apply the rules, write the record and its events. Never commits."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_registry import domain
from gradops_registry.models import StatusChange, Student, outbox
from gradops_registry.repository import StudentRepository
from gradops_registry.schemas import StudentIn
from gradops_shared.contracts import StudentRegistered, StudentSnapshot, StudentStatusChanged, StudentUpdated
from gradops_shared.errors import NotFound
from gradops_shared.outbox import add_event

_SNAPSHOT_FIELDS = (
    "name",
    "gender",
    "learning_centre",
    "level",
    "category",
    "major",
    "enrolment_term",
    "study_form",
    "status",
)


def _snapshot(cls: type[StudentSnapshot], student: Student) -> StudentSnapshot:
    return cls(student_no=student.student_no, **{f: getattr(student, f) for f in _SNAPSHOT_FIELDS})


def _validated_fields(payload: StudentIn, today: date) -> dict[str, object]:
    fields = payload.model_dump()
    fields["enrolment_term"] = domain.normalise_term(payload.enrolment_term)
    if payload.id_type == "resident_id":
        resident_id = domain.parse_resident_id(payload.id_number, today=today)
        domain.check_identity_consistency(resident_id, birth_date=payload.birth_date, gender=payload.gender)
        fields["id_number"] = resident_id.number
        fields["birth_date"] = payload.birth_date or resident_id.birth_date
    return fields


async def upsert_student(
    session: AsyncSession, student_no: str, payload: StudentIn, *, actor: str
) -> tuple[Student, bool]:
    """Creates or replaces the record. Returns (student, created)."""
    now = datetime.now(UTC)
    fields = _validated_fields(payload, now.date())
    repo = StudentRepository(session)
    student = await repo.get(student_no, for_update=True)
    domain.check_status_via_record_update(student.status if student else None, payload.status)

    if student is None:
        student = Student(student_no=student_no, version=1, created_at=now, updated_at=now, **fields)
        repo.add(student)
        repo.add_status_change(
            StatusChange(
                student_no=student_no,
                from_status=None,
                to_status=student.status,
                reason="registered",
                effective_date=now.date(),
                actor=actor,
                created_at=now,
            )
        )
        await session.flush()
        await add_event(session, outbox, _snapshot(StudentRegistered, student))
        return student, True

    changed = {k: v for k, v in fields.items() if getattr(student, k) != v}
    if not changed:
        return student, False
    previous_status = student.status
    for key, value in changed.items():
        setattr(student, key, value)
    student.version += 1
    student.updated_at = now
    await add_event(session, outbox, _snapshot(StudentUpdated, student))
    if "status" in changed:
        await _record_status_change(session, student, previous_status, reason="record updated", actor=actor)
    await session.flush()
    return student, False


async def get_student(session: AsyncSession, student_no: str) -> Student:
    student = await StudentRepository(session).get(student_no)
    if student is None:
        raise NotFound(
            f"No student with number {student_no}.",
            code="registry.student_not_found",
            message_zh=f"学号 {student_no} 的学生不存在",
        )
    return student


async def mark_graduated(
    session: AsyncSession, student_no: str, *, certificate_number: str, on: date
) -> None:
    """Applies CertificateIssued: the certificates flow is the only way to 毕业."""
    repo = StudentRepository(session)
    student = await repo.get(student_no, for_update=True)
    if student is None or student.status == "graduated":
        return
    previous = student.status
    student.status = "graduated"
    student.version += 1
    student.updated_at = datetime.now(UTC)
    await _record_status_change(
        session,
        student,
        previous,
        reason=f"certificate {certificate_number} issued",
        actor="certificates",
        on=on,
    )


async def _record_status_change(
    session: AsyncSession, student: Student, previous: str, *, reason: str, actor: str, on: date | None = None
) -> None:
    now = datetime.now(UTC)
    effective = on or now.date()
    StudentRepository(session).add_status_change(
        StatusChange(
            student_no=student.student_no,
            from_status=previous,
            to_status=student.status,
            reason=reason,
            effective_date=effective,
            actor=actor,
            created_at=now,
        )
    )
    await add_event(
        session,
        outbox,
        StudentStatusChanged(
            student_no=student.student_no,
            from_status=previous,
            to_status=student.status,
            reason=reason,
            effective_date=effective,
        ),
    )
