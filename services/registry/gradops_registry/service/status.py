"""学籍异动: typed status changes, the certificates flow's 毕业, and the record's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_registry import domain
from gradops_registry.errors import STATUS_CHANGE_FIELD_MISSING
from gradops_registry.models import IdentityFlagChange, PriorEducationReview, StatusChange, Student, outbox
from gradops_registry.repository import StudentRepository
from gradops_registry.schemas import StatusChangeIn
from gradops_registry.service.org import resolve_centre
from gradops_registry.service.record import get_student, locked_student, record_status_change, snapshot_data
from gradops_shared.contracts import StudentUpdated
from gradops_shared.errors import GradOpsError
from gradops_shared.outbox import add_event
from gradops_shared.principal import Principal


@dataclass(frozen=True)
class StatusChangesPage:
    items: list[StatusChange]
    next_after: int | None  # the id of the last change of this page, when there is a next one


@dataclass(frozen=True)
class History:
    status_changes: list[StatusChange]
    prior_education_reviews: list[PriorEducationReview]
    identity_flags: list[IdentityFlagChange]


async def status_changes(
    session: AsyncSession, principal: Principal, student_no: str, *, after: int | None, limit: int
) -> StatusChangesPage:
    """The student's status history, oldest first, one page."""
    await get_student(session, student_no, principal)
    found = await StudentRepository(session).status_history(student_no, after=after, limit=limit + 1)
    page = found[:limit]
    return StatusChangesPage(page, page[-1].id if len(found) > limit else None)


async def history(session: AsyncSession, principal: Principal, student_no: str) -> History:
    """Everything that happened to the record: status changes, reviews, identity flags."""
    await get_student(session, student_no, principal)
    repo = StudentRepository(session)
    return History(
        status_changes=await repo.status_history(student_no),
        prior_education_reviews=await repo.review_steps(student_no),
        identity_flags=await repo.identity_flags(student_no),
    )


async def change_status(
    session: AsyncSession,
    principal: Principal,
    student_no: str,
    body: StatusChangeIn,
    expected_version: int | None,
) -> tuple[Student, StatusChange]:
    student = await locked_student(
        session, student_no, principal, body.version if body.version is not None else expected_version
    )
    previous = student.status
    to_status = domain.apply_change(previous, body.change_type)
    details: dict[str, Any] | None = None
    if body.change_type == "change_major":
        if not body.major or body.major == student.major:
            raise _change_needs("major", "a new major", "新的专业")
        details = {"major": {"from": student.major, "to": body.major}}
        student.major = body.major
    elif body.change_type == "transfer_centre":
        if not body.learning_centre or body.learning_centre == student.learning_centre:
            raise _change_needs("learning_centre", "a new learning centre", "新的学习中心")
        code, branch = await resolve_centre(session, principal, body.learning_centre)
        details = {"learning_centre": {"from": student.learning_centre, "to": code}}
        student.learning_centre, student.branch = code, branch
    student.status = to_status
    student.version += 1
    student.updated_at = datetime.now(UTC)
    change = await record_status_change(
        session,
        student,
        previous,
        change_type=body.change_type,
        reason=body.reason,
        actor=principal.subject,
        on=body.effective_date,
        details=details,
    )
    await add_event(session, outbox, snapshot_data(StudentUpdated, student))
    await session.flush()
    return student, change


def _change_needs(field: str, what_en: str, what_zh: str) -> GradOpsError:
    return STATUS_CHANGE_FIELD_MISSING(
        f"This change needs {what_en} ({field}), different from the current one.",
        message_zh=f"该异动需要填写{what_zh}（且与当前不同）",
        extra={
            "errors": [{"field": field, "in": "body", "type": "missing", "message": f"{what_en} required"}]
        },
    )


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
    student.certificate_number = certificate_number
    student.version += 1
    student.updated_at = datetime.now(UTC)
    await record_status_change(
        session,
        student,
        previous,
        change_type="graduate",
        reason=f"certificate {certificate_number} issued",
        actor="certificates",
        on=on,
    )
