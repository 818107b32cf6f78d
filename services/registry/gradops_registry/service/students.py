"""The student record (学籍): create or update it, read it, search the roster."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_registry import domain
from gradops_registry.domain.search import StudentFilters
from gradops_registry.errors import VERSION_CONFLICT
from gradops_registry.models import StatusChange, Student, outbox
from gradops_registry.repository import StudentRepository
from gradops_registry.schemas import StudentIn
from gradops_registry.service.org import resolve_centre
from gradops_registry.service.pii import registry_cipher
from gradops_registry.service.record import (
    check_version,
    get_student,
    record_status_change,
    snapshot_data,
    student_not_found,
)
from gradops_registry.service.validation import validate_record
from gradops_registry.settings import RegistrySettings
from gradops_shared.contracts import StudentRegistered, StudentUpdated
from gradops_shared.outbox import add_event
from gradops_shared.principal import Principal

__all__ = ["StudentFilters", "StudentsPage", "get_student", "search_students", "upsert_student"]


@dataclass(frozen=True)
class StudentsPage:
    items: list[Student]
    next_after: str | None  # the last student number of this page, when there is a next one
    count: int


async def search_students(
    session: AsyncSession,
    settings: RegistrySettings,
    principal: Principal,
    asked: StudentFilters,
    *,
    centre: list[str] | None,
    id_number: str | None,
    after: str | None,
    limit: int,
) -> StudentsPage:
    """One page in student-number order, and how many match in all, within the caller's reach
    (`centre` narrowed to it). An ID number is matched by its keyed hash (never stored in clear)."""
    id_hash = registry_cipher(settings).lookup_hash(id_number.strip().upper()) if id_number else None
    term = asked.enrolment_term
    filters = replace(
        asked,
        centres=principal.centre_filter(centre),
        enrolment_term=domain.normalise_term(term) if term else None,
        id_number_hash=id_hash,
    )
    repo = StudentRepository(session)
    found = await repo.search(filters, after=after, limit=limit + 1)
    count = await repo.count(filters)
    page = found[:limit]
    return StudentsPage(page, page[-1].student_no if len(found) > limit else None, count)


async def upsert_student(
    session: AsyncSession,
    settings: RegistrySettings,
    principal: Principal,
    student_no: str,
    payload: StudentIn,
    *,
    expected_version: int | None = None,
) -> tuple[Student, bool]:
    """Creates or replaces the record. Returns (student, created). Status, major and centre
    changes made through PUT are recorded as the matching 学籍异动, under the same rules."""
    now = datetime.now(UTC)
    record = validate_record(payload, today=now.date())
    record.raise_if_invalid()
    expected = payload.version if payload.version is not None else expected_version
    repo = StudentRepository(session)
    student = await repo.get(student_no, for_update=True)
    if student is not None:
        if not principal.sees_centre(student.learning_centre):
            raise student_not_found(student_no)
        check_version(student, expected)
    fields = record.fields
    fields["learning_centre"], fields["branch"] = await resolve_centre(
        session, principal, payload.learning_centre
    )
    cipher = registry_cipher(settings)
    id_hash = cipher.lookup_hash(record.id_number)

    if student is None:
        status = payload.status or "enrolled"
        domain.check_status_via_record_update(None, status)
        student = Student(
            student_no=student_no,
            status=status,
            id_number_encrypted=cipher.encrypt(record.id_number),
            id_number_hash=id_hash,
            id_number_last4=record.id_number[-4:],
            prior_education_state="none",
            identity_in_doubt=False,
            version=1,
            created_at=now,
            updated_at=now,
            **fields,
        )
        repo.add(student)
        repo.add_status_change(
            StatusChange(
                student_no=student_no,
                change_type="registered",
                from_status=None,
                to_status=status,
                reason="registered",
                effective_date=now.date(),
                actor=principal.subject,
                created_at=now,
            )
        )
        try:
            await repo.flush()
        except IntegrityError:
            raise VERSION_CONFLICT(
                f"Student {student_no} was created by another request at the same time; read it and retry.",
                message_zh="该学生刚被另一请求创建，请重新读取后再提交",
            ) from None
        await add_event(session, outbox, snapshot_data(StudentRegistered, student))
        return student, True

    changes: list[tuple[str, dict[str, Any] | None]] = []
    if fields["major"] != student.major:
        domain.apply_change(student.status, "change_major")
        changes.append(("change_major", {"major": {"from": student.major, "to": fields["major"]}}))
    if fields["learning_centre"] != student.learning_centre:
        domain.apply_change(student.status, "transfer_centre")
        changes.append(
            (
                "transfer_centre",
                {"learning_centre": {"from": student.learning_centre, "to": fields["learning_centre"]}},
            )
        )
    # A status change goes last, so a major or centre change is logged under the status it was made in.
    if payload.status is not None and payload.status != student.status:
        changes.append((domain.change_for_status(student.status, payload.status), None))
    changed = {k: v for k, v in fields.items() if getattr(student, k) != v}
    if id_hash != student.id_number_hash:
        changed.update(
            id_number_encrypted=cipher.encrypt(record.id_number),
            id_number_hash=id_hash,
            id_number_last4=record.id_number[-4:],
        )
    if not changed and not changes:
        return student, False
    for key, value in changed.items():
        setattr(student, key, value)
    student.version += 1
    student.updated_at = now
    for change_type, details in changes:
        before = student.status
        student.status = domain.apply_change(before, change_type)
        await record_status_change(
            session,
            student,
            before,
            change_type=change_type,
            reason="record updated (PUT)",
            actor=principal.subject,
            details=details,
        )
    await add_event(session, outbox, snapshot_data(StudentUpdated, student))
    await repo.flush()
    return student, False
