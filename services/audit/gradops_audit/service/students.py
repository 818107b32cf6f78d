"""The audit's projection of the student record (kept from the registry's events) and who may see
whom. A student the audit has not heard of yet is asked of the registry. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_audit.errors import student_not_found
from gradops_audit.models import KnownStudent
from gradops_audit.repository import AuditRepository
from gradops_shared.contracts import StudentSnapshot
from gradops_shared.peers import RegistryClient
from gradops_shared.principal import Principal


async def upsert_student(session: AsyncSession, data: StudentSnapshot | dict[str, Any]) -> KnownStudent:
    snapshot = data if isinstance(data, dict) else data.model_dump()
    repo = AuditRepository(session)
    student = await repo.student(snapshot["student_no"])
    if student is None:
        # The API (asking the registry) and the consumer (StudentRegistered) may both meet a new
        # student at once: insert-if-absent, then lock and update the one row, never a duplicate key.
        student = await repo.student_for_update(snapshot)
    student.status = snapshot["status"]
    student.level = snapshot["level"]
    student.learning_centre = snapshot["learning_centre"]
    student.category = snapshot.get("category") or ""
    student.major = snapshot.get("major") or ""
    student.enrolment_term = snapshot.get("enrolment_term") or ""
    for flag in ("formal_status", "identity_in_doubt"):
        if snapshot.get(flag) is not None:
            setattr(student, flag, bool(snapshot[flag]))
    student.updated_at = datetime.now(UTC)
    return student


async def ensure_visible(session: AsyncSession, principal: Principal, student_no: str) -> None:
    """404 for a student outside the caller's centres; an unknown student is HQ's to read (its lists
    are empty), a centre's 404."""
    student = await AuditRepository(session).student(student_no)
    if student is None:
        if principal.is_hq:
            return
        raise student_not_found(student_no)
    principal.ensure_sees(student.learning_centre, student_not_found(student_no))


async def known_student(
    session: AsyncSession, registry: RegistryClient, principal: Principal, student_no: str
) -> KnownStudent:
    """The student, learnt from the registry if the audit has not heard of them yet; 404 for one
    unknown to both or outside the caller's centres."""
    student = await AuditRepository(session).student(student_no)
    if student is None:
        snapshot = await registry.student(principal, student_no)
        if snapshot is not None:
            student = await upsert_student(session, snapshot)
            await session.flush()
    if student is None:
        raise student_not_found(student_no)
    principal.ensure_sees(student.learning_centre, student_not_found(student_no))
    return student


async def learn_students(
    session: AsyncSession, registry: RegistryClient, principal: Principal, numbers: Sequence[str]
) -> None:
    """Students whose StudentRegistered has not arrived yet are asked of the registry."""
    known = await AuditRepository(session).students_by_no(numbers)
    for number in dict.fromkeys(numbers):
        if number not in known:
            await known_student(session, registry, principal, number)


async def ensure_all_visible(session: AsyncSession, principal: Principal, numbers: Sequence[str]) -> None:
    """404 naming the first student the caller may not write for (unknown ones are HQ's alone)."""
    students = await AuditRepository(session).students_by_no(numbers)
    for number in numbers:
        student = students.get(number)
        if (student is None and not principal.is_hq) or (
            student is not None and not principal.sees_centre(student.learning_centre)
        ):
            raise student_not_found(number)
