"""Certificate use cases. Never commits: the consumer or request owns the transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_certificates import domain
from gradops_certificates.models import Certificate, outbox
from gradops_certificates.repository import CertificateRepository
from gradops_certificates.settings import CertificatesSettings
from gradops_shared.contracts import AuditPassed, CertificateIssued
from gradops_shared.errors import NotFound
from gradops_shared.outbox import add_event

log = structlog.get_logger(__name__)


async def issue_for_audit(
    session: AsyncSession, passed: AuditPassed, settings: CertificatesSettings
) -> Certificate:
    """One certificate per student and batch: a second AuditPassed for the same pair issues nothing."""
    repo = CertificateRepository(session)
    existing = await repo.for_student_batch(passed.student_no, passed.batch_code)
    if existing is not None:
        log.info("certificate_already_issued", student_no=passed.student_no, number=existing.number)
        return existing
    year = passed.graduation_date.year
    level_code = domain.level_code(passed.level)
    serial = await repo.next_serial(settings.school_code, settings.education_type_code, year, level_code)
    number = domain.make_number(
        school_code=settings.school_code,
        education_type_code=settings.education_type_code,
        year=year,
        level=passed.level,
        serial=serial,
    )
    # The issue date is the day the registration becomes queryable: the batch's graduation date.
    certificate = Certificate(
        number=str(number),
        student_no=passed.student_no,
        batch_code=passed.batch_code,
        level=passed.level,
        serial=serial,
        issue_date=passed.graduation_date,
        graduation_date=passed.graduation_date,
        status="valid",
        audit_id=str(passed.audit_id),
        created_at=datetime.now(UTC),
    )
    repo.add(certificate)
    await session.flush()
    await add_event(
        session,
        outbox,
        CertificateIssued(
            student_no=passed.student_no,
            number=certificate.number,
            batch_code=passed.batch_code,
            level=passed.level,
            issue_date=certificate.issue_date,
            graduation_date=certificate.graduation_date,
        ),
    )
    return certificate


def _not_found(what: str) -> NotFound:
    return NotFound(f"No certificate for {what}.", code="certificates.not_found", message_zh="未找到毕业证书")


async def certificate_of_student(session: AsyncSession, student_no: str) -> Certificate:
    certificate = await CertificateRepository(session).latest_for_student(student_no)
    if certificate is None:
        raise _not_found(f"student {student_no}")
    return certificate


async def certificate_by_number(session: AsyncSession, number: str) -> Certificate:
    domain.parse_number(number)
    certificate = await CertificateRepository(session).by_number(number)
    if certificate is None:
        raise _not_found(f"number {number}")
    return certificate
