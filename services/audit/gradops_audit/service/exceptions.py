"""Exceptions (例外): a waived check or a substituted course, granted and revoked by HQ; each
re-audits the student. Never commits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_audit import schemas
from gradops_audit.domain.checks import CATALOGUE
from gradops_audit.errors import (
    CURSOR_INVALID,
    EXCEPTION_BATCH_MISSING,
    EXCEPTION_NOT_FOUND,
    EXCEPTION_NOT_WAIVABLE,
    EXCEPTION_SUBSTITUTION_INCOMPLETE,
)
from gradops_audit.models import AuditException
from gradops_audit.repository import AuditRepository
from gradops_audit.service import Page
from gradops_audit.service.auditing import reaudit_student
from gradops_audit.service.evaluation import load_rule_book
from gradops_audit.service.students import ensure_visible, known_student
from gradops_audit.settings import AuditSettings
from gradops_shared.paging import position_cursor, read_position
from gradops_shared.peers import RegistryClient
from gradops_shared.principal import Principal


async def grant_exception(
    session: AsyncSession,
    registry: RegistryClient,
    principal: Principal,
    student_no: str,
    data: schemas.ExceptionIn,
    settings: AuditSettings,
) -> AuditException:
    """Grants an exception to a student (learnt from the registry if new) and re-audits them."""
    await known_student(session, registry, principal, student_no)
    actor = principal.subject
    if data.kind == "waive_check":
        text = CATALOGUE.get(data.check_code or "")
        if text is None or not text.waivable:
            waivable = sorted(code for code, t in CATALOGUE.items() if t.waivable)
            raise EXCEPTION_NOT_WAIVABLE(
                f"{data.check_code!r} cannot be waived; waivable checks: {', '.join(waivable)}.",
                message_zh="该检查项不可豁免（学籍、身份、照片等资格检查不得豁免）",
                extra={"waivable": waivable},
            )
    elif not data.course_code or not data.substitute_code or data.course_code == data.substitute_code:
        raise EXCEPTION_SUBSTITUTION_INCOMPLETE(
            "A course substitution names the required course and a different course that counts for it.",
            message_zh="课程替代须同时给出被替代的必修课程和替代课程（两者不同）",
        )
    if data.scope == "batch" and not data.batch_code:
        raise EXCEPTION_BATCH_MISSING(
            "An exception scoped to a batch names the batch.",
            message_zh="限定批次的例外须给出批次代码",
        )
    repo = AuditRepository(session)
    student = await repo.student(student_no)
    book = await load_rule_book(repo, settings.degree_rule_set)
    rules = (
        book.graduation_rules_for(
            level=student.level,
            category=student.category,
            major=student.major,
            enrolment_term=student.enrolment_term,
        )
        if student
        else None
    )
    row = AuditException(
        id=str(uuid.uuid4()),
        student_no=student_no,
        kind=data.kind,
        check_code=data.check_code if data.kind == "waive_check" else None,
        course_code=data.course_code if data.kind == "substitute_course" else None,
        substitute_code=data.substitute_code if data.kind == "substitute_course" else None,
        scope=data.scope,
        batch_code=data.batch_code if data.scope == "batch" else None,
        approver=data.approver,
        reason=data.reason,
        granted_under={
            "major": student.major if student else None,
            "rule_set": f"{rules.code}@{rules.version}" if rules else None,
        },
        granted_by=actor,
        granted_at=datetime.now(UTC),
    )
    repo.add(row)
    await reaudit_student(session, student_no, "ExceptionGranted", settings)
    return row


async def revoke_exception(
    session: AsyncSession, student_no: str, exception_id: str, actor: str, settings: AuditSettings
) -> AuditException:
    repo = AuditRepository(session)
    row = await repo.exception(exception_id)
    if row is None or row.student_no != student_no:
        raise EXCEPTION_NOT_FOUND("No such exception.", message_zh="该例外不存在")
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by = datetime.now(UTC), actor
        await reaudit_student(session, student_no, "ExceptionRevoked", settings)
    return row


async def list_exceptions(
    session: AsyncSession, principal: Principal, student_no: str, *, limit: int, cursor: str | None
) -> Page[AuditException]:
    """The student's exceptions, revoked ones included, oldest first."""
    after = read_position(cursor, CURSOR_INVALID) if cursor is not None else None
    await ensure_visible(session, principal, student_no)
    repo = AuditRepository(session)
    rows = await repo.exceptions_page(student_no, after=after, limit=limit + 1)
    page = rows[:limit]
    return Page(
        page,
        position_cursor(page[-1].granted_at, page[-1].id) if len(rows) > limit else None,
        await repo.count_exceptions_of(student_no),
    )
