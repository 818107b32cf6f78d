"""Building blocks every use case on the student record shares: load it within the caller's reach,
lock it and check the version read, log a status change (学籍异动) with its event, and the snapshot
the record's events carry."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_registry.domain import prior_education as review_rules
from gradops_registry.errors import STUDENT_NOT_FOUND, VERSION_CONFLICT
from gradops_registry.models import StatusChange, Student, outbox
from gradops_registry.repository import StudentRepository
from gradops_shared.contracts import StudentSnapshot, StudentStatusChanged
from gradops_shared.errors import GradOpsError
from gradops_shared.outbox import add_event
from gradops_shared.principal import Principal

# What the record's events carry: the contract's fields, but for those computed below.
_SNAPSHOT_FIELDS = tuple(
    name for name in StudentSnapshot.model_fields if name not in ("student_no", "course_selection_allowed")
)


def course_selection_allowed(student: Student) -> bool:
    return review_rules.course_selection_allowed(student.prior_education_state, student.status)


def snapshot_data(cls: type[StudentSnapshot], student: Student) -> StudentSnapshot:
    return cls(
        student_no=student.student_no,
        course_selection_allowed=course_selection_allowed(student),
        **{f: getattr(student, f) for f in _SNAPSHOT_FIELDS},
    )


def snapshot_from_row(cls: type[StudentSnapshot], row: dict[str, Any]) -> StudentSnapshot:
    """The same snapshot from a row about to be bulk-inserted (no ORM object per row)."""
    return cls(
        student_no=row["student_no"],
        course_selection_allowed=review_rules.course_selection_allowed(
            row["prior_education_state"], row["status"]
        ),
        **{f: row.get(f) for f in _SNAPSHOT_FIELDS},
    )


def student_not_found(student_no: str) -> GradOpsError:
    return STUDENT_NOT_FOUND(
        f"No student with number {student_no}.", message_zh=f"学号 {student_no} 的学生不存在"
    )


def check_version(student: Student, expected: int | None) -> None:
    if expected is not None and expected != student.version:
        raise VERSION_CONFLICT(
            f"The record changed since you read it (your version {expected}, now {student.version}).",
            message_zh="学籍记录已被他人修改，请重新读取后再提交",
            extra={"current_version": student.version},
        )


async def get_student(session: AsyncSession, student_no: str, principal: Principal | None = None) -> Student:
    """The record, if it exists and is within the caller's reach (else 404: existence does not leak)."""
    student = await StudentRepository(session).get(student_no)
    if student is None or (principal is not None and not principal.sees_centre(student.learning_centre)):
        raise student_not_found(student_no)
    return student


async def locked_student(
    session: AsyncSession, student_no: str, principal: Principal, expected_version: int | None
) -> Student:
    student = await StudentRepository(session).get(student_no, for_update=True)
    if student is None or not principal.sees_centre(student.learning_centre):
        raise student_not_found(student_no)
    check_version(student, expected_version)
    return student


async def record_status_change(
    session: AsyncSession,
    student: Student,
    previous: str,
    *,
    change_type: str,
    reason: str,
    actor: str,
    on: date | None = None,
    details: dict[str, Any] | None = None,
) -> StatusChange:
    now = datetime.now(UTC)
    effective = on or now.date()
    change = StatusChange(
        student_no=student.student_no,
        change_type=change_type,
        from_status=previous,
        to_status=student.status,
        reason=reason,
        details=details,
        effective_date=effective,
        actor=actor,
        created_at=now,
    )
    StudentRepository(session).add_status_change(change)
    await add_event(
        session,
        outbox,
        StudentStatusChanged(
            student_no=student.student_no,
            from_status=previous,
            to_status=student.status,
            reason=f"{change_type}: {reason}",
            effective_date=effective,
        ),
    )
    return change
