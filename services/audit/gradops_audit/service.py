"""Audit use cases: keep the facts current from events and re-audit at once. Never commits."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_audit import domain
from gradops_audit.models import ApprovedPhoto, Audit, AuditOutcome, KnownStudent, outbox
from gradops_audit.repository import AuditRepository
from gradops_audit.settings import AuditSettings
from gradops_shared.contracts import (
    AuditFailed,
    AuditPassed,
    PhotoApproved,
    StudentSnapshot,
    StudentStatusChanged,
)
from gradops_shared.errors import NotFound
from gradops_shared.outbox import add_event


async def apply_student_snapshot(
    session: AsyncSession, data: StudentSnapshot, settings: AuditSettings
) -> None:
    repo = AuditRepository(session)
    now = datetime.now(UTC)
    student = await repo.student(data.student_no)
    if student is None:
        repo.add(
            KnownStudent(
                student_no=data.student_no,
                status=data.status,
                level=data.level,
                learning_centre=data.learning_centre,
                updated_at=now,
            )
        )
    else:
        student.status, student.level, student.learning_centre = data.status, data.level, data.learning_centre
        student.updated_at = now
    await _reaudit_if_audited(session, data.student_no, type(data).event_type, settings)


async def apply_status_change(
    session: AsyncSession, data: StudentStatusChanged, settings: AuditSettings
) -> None:
    student = await AuditRepository(session).student(data.student_no)
    if student is not None:
        student.status = data.to_status
        student.updated_at = datetime.now(UTC)
    await _reaudit_if_audited(session, data.student_no, data.event_type, settings)


async def apply_photo_approved(session: AsyncSession, data: PhotoApproved, settings: AuditSettings) -> None:
    repo = AuditRepository(session)
    now = datetime.now(UTC)
    photo = await repo.approved_photo(data.student_no, data.kind)
    if photo is None:
        repo.add(
            ApprovedPhoto(
                student_no=data.student_no,
                kind=data.kind,
                submission_id=str(data.submission_id),
                sha256=data.sha256,
                approved_at=now,
            )
        )
    else:
        photo.submission_id, photo.sha256, photo.approved_at = str(data.submission_id), data.sha256, now
    await session.flush()
    if data.kind == "graduation":
        await run_audit(session, data.student_no, trigger=data.event_type, settings=settings)


async def _reaudit_if_audited(
    session: AsyncSession, student_no: str, trigger: str, settings: AuditSettings
) -> None:
    # Only students already in the audit are re-audited: a new enrolment is not an application,
    # and a graduate's audit is closed (graduation is not undone by a later re-audit).
    await session.flush()
    repo = AuditRepository(session)
    student = await repo.student(student_no)
    if student is not None and student.status == "graduated":
        return
    if await repo.outcome(student_no) is not None:
        await run_audit(session, student_no, trigger=trigger, settings=settings)


async def gather_facts(session: AsyncSession, student_no: str) -> domain.StudentFacts:
    repo = AuditRepository(session)
    student = await repo.student(student_no)
    photo = await repo.approved_photo(student_no, "graduation")
    return domain.StudentFacts(
        student_no=student_no,
        known=student is not None,
        status=student.status if student else None,
        level=student.level if student else None,
        graduation_photo_sha256=photo.sha256 if photo else None,
    )


async def run_audit(
    session: AsyncSession, student_no: str, *, trigger: str, settings: AuditSettings
) -> Audit:
    """Audits, stores the run, and emits AuditPassed/AuditFailed when the outcome changes."""
    repo = AuditRepository(session)
    now = datetime.now(UTC)
    facts = await gather_facts(session, student_no)
    checks = domain.audit(facts)
    passed = domain.passed(checks)
    failed = domain.failed_codes(checks)
    batch_code = domain.default_batch_code(now.date())
    audit = Audit(
        id=str(uuid.uuid4()),
        student_no=student_no,
        batch_code=batch_code,
        passed=passed,
        checks=[asdict(c) for c in checks],
        inputs_digest=domain.inputs_digest(facts),
        trigger=trigger,
        created_at=now,
    )
    repo.add(audit)

    outcome = await repo.outcome(student_no)
    changed = outcome is None or outcome.passed != passed or outcome.failed_checks != failed
    if outcome is None:
        repo.add(
            AuditOutcome(
                student_no=student_no,
                last_audit_id=audit.id,
                passed=passed,
                failed_checks=failed,
                updated_at=now,
            )
        )
    else:
        outcome.last_audit_id, outcome.passed, outcome.failed_checks, outcome.updated_at = (
            audit.id,
            passed,
            failed,
            now,
        )
    await session.flush()

    if changed and passed:
        assert facts.level is not None
        await add_event(
            session,
            outbox,
            AuditPassed(
                student_no=student_no,
                audit_id=uuid.UUID(audit.id),
                batch_code=batch_code,
                application_type=settings.default_application_type,
                level=facts.level,
                graduation_date=domain.graduation_date(batch_code),
            ),
        )
    elif changed:
        await add_event(
            session,
            outbox,
            AuditFailed(
                student_no=student_no,
                audit_id=uuid.UUID(audit.id),
                batch_code=batch_code,
                failed_checks=failed,
            ),
        )
    return audit


async def latest_audit(session: AsyncSession, student_no: str) -> Audit:
    audit = await AuditRepository(session).latest_audit(student_no)
    if audit is None:
        raise NotFound(
            f"Student {student_no} has not been audited yet.",
            code="audit.not_found",
            message_zh="该学生尚无毕业审核记录",
        )
    return audit
