"""Issuance from AuditPassed, the student projection, and reading certificates."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_certificates import domain
from gradops_certificates.domain.numbers import DEGREE_SERIES
from gradops_certificates.models import Certificate, StudentProjection, outbox
from gradops_certificates.repository import CertificateRepository
from gradops_certificates.settings import CertificatesSettings
from gradops_shared.contracts import (
    AuditPassed,
    CertificateIssued,
    PhotoApproved,
    PhotoReopened,
    StudentSnapshot,
)
from gradops_shared.errors import NotFound
from gradops_shared.outbox import add_event
from gradops_shared.principal import Principal

log = structlog.get_logger(__name__)
BACHELOR_LEVELS = ("bachelor", "bachelor_from_junior_college")


async def issue_for_audit(
    session: AsyncSession, passed: AuditPassed, settings: CertificatesSettings
) -> Certificate:
    """One diploma per student and batch (a redelivered AuditPassed issues nothing new), and a
    degree certificate when the degree was applied for and granted (本科 only)."""
    repo = CertificateRepository(session)
    projection = await repo.student(passed.student_no)
    centre = passed.learning_centre or (projection.learning_centre if projection else None)
    diploma = await repo.for_student_batch(passed.student_no, passed.batch_code, "diploma")
    if diploma is None:
        diploma = await _issue_diploma(session, repo, passed, centre, settings)
    else:
        log.info("certificate_already_issued", student_no=passed.student_no, number=diploma.number)
    wants_degree = passed.application_type == "graduate_with_degree" and passed.degree_granted
    if wants_degree and passed.level in BACHELOR_LEVELS:
        if await repo.for_student_batch(passed.student_no, passed.batch_code, "degree") is None:
            await _issue_degree(session, repo, passed, centre, settings)
    elif wants_degree:
        log.warning("degree_not_issued_for_level", student_no=passed.student_no, level=passed.level)
    return diploma


def _certificate(passed: AuditPassed, number: str, serial: int, kind: str, centre: str | None) -> Certificate:
    return Certificate(
        number=number,
        student_no=passed.student_no,
        batch_code=passed.batch_code,
        level=passed.level,
        serial=serial,
        # The issue date is the day the registration becomes queryable (rule of 2014 art. 18): the
        # batch's issue date when it sets one, else its graduation date.
        issue_date=passed.issue_date or passed.graduation_date,
        graduation_date=passed.graduation_date,
        status="valid",
        audit_id=str(passed.audit_id),
        created_at=datetime.now(UTC),
        kind=kind,
        learning_centre=centre,
        application_type=passed.application_type,
        distribution_state="at_hq",
    )


async def _issued(session: AsyncSession, certificate: Certificate) -> None:
    session.add(certificate)
    await session.flush()
    await add_event(
        session,
        outbox,
        CertificateIssued(
            student_no=certificate.student_no,
            number=certificate.number,
            batch_code=certificate.batch_code,
            level=certificate.level,
            issue_date=certificate.issue_date,
            graduation_date=certificate.graduation_date,
            kind=certificate.kind,
            learning_centre=certificate.learning_centre,
        ),
    )


async def _issue_diploma(
    session: AsyncSession,
    repo: CertificateRepository,
    passed: AuditPassed,
    centre: str | None,
    settings: CertificatesSettings,
) -> Certificate:
    # The year is the graduation year; one counter per year covers its spring and autumn batches,
    # so their numbers never collide.
    year = passed.graduation_date.year
    level_code = domain.level_code(passed.level)
    # Everything else is done before the counter is taken: its row lock is held until commit.
    serial = await repo.next_serial(settings.school_code, settings.education_type_code, year, level_code)
    number = domain.make_number(
        school_code=settings.school_code,
        education_type_code=settings.education_type_code,
        year=year,
        level=passed.level,
        serial=serial,
    )
    certificate = _certificate(passed, str(number), serial, "diploma", centre)
    await _issued(session, certificate)
    return certificate


async def _issue_degree(
    session: AsyncSession,
    repo: CertificateRepository,
    passed: AuditPassed,
    centre: str | None,
    settings: CertificatesSettings,
) -> Certificate:
    year = passed.graduation_date.year
    serial = await repo.next_serial(
        settings.school_code, DEGREE_SERIES, year, "0" + domain.numbers.BACHELOR_DEGREE_CODE
    )
    number = domain.make_degree_number(
        school_code=settings.school_code, year=year, serial=serial, prefix=settings.degree_number_prefix
    )
    certificate = _certificate(passed, str(number), serial, "degree", centre)
    await _issued(session, certificate)
    return certificate


async def record_student(session: AsyncSession, snapshot: StudentSnapshot) -> None:
    """Keeps what the documents need; the photo reference survives record updates."""
    repo = CertificateRepository(session)
    row = await repo.student(snapshot.student_no)
    if row is None:
        row = StudentProjection(student_no=snapshot.student_no)
        repo.add(row)
    row.name = snapshot.name
    row.gender = snapshot.gender
    row.birth_date = snapshot.birth_date
    row.learning_centre = snapshot.learning_centre
    row.level = snapshot.level
    row.category = snapshot.category
    row.major = snapshot.major
    row.enrolment_term = snapshot.enrolment_term
    row.study_form = snapshot.study_form
    row.duration_years = snapshot.duration_years
    row.exam_no = snapshot.exam_no
    row.education_type = snapshot.education_type
    row.updated_at = datetime.now(UTC)
    # A certificate issued before the record reached us (another topic) gets its centre now.
    await repo.assign_missing_centre(snapshot.student_no, snapshot.learning_centre)


async def _projection_for_photo(session: AsyncSession, student_no: str) -> StudentProjection | None:
    row = await CertificateRepository(session).student(student_no)
    if row is None:
        # The photo can arrive before the student's record reached us (other topic): keep it anyway,
        # the record fills the rest when it comes.
        row = StudentProjection(
            student_no=student_no,
            name="",
            gender="",
            learning_centre="",
            level="",
            category="",
            major="",
            enrolment_term="",
            study_form="",
            updated_at=datetime.now(UTC),
        )
        session.add(row)
    return row


async def record_graduation_photo(session: AsyncSession, approved: PhotoApproved) -> None:
    if approved.kind != "graduation":
        return
    row = await _projection_for_photo(session, approved.student_no)
    assert row is not None
    row.photo_submission_id = str(approved.submission_id)
    row.photo_sha256 = approved.sha256
    row.updated_at = datetime.now(UTC)


async def record_photo_reopened(session: AsyncSession, reopened: PhotoReopened) -> None:
    row = await CertificateRepository(session).student(reopened.student_no)
    if (
        row is not None
        and reopened.kind == "graduation"
        and row.photo_submission_id == str(reopened.submission_id)
    ):
        row.photo_submission_id = None
        row.photo_sha256 = None
        row.updated_at = datetime.now(UTC)


def not_found(what: str) -> NotFound:
    return NotFound(f"No certificate for {what}.", code="certificates.not_found", message_zh="未找到毕业证书")


async def certificate_of_student(session: AsyncSession, student_no: str, principal: Principal) -> Certificate:
    """The student's diploma (or the 毕业证明书 that replaced it)."""
    certificate = await CertificateRepository(session).latest_for_student(
        student_no, ("diploma", "replacement")
    )
    if certificate is None:
        raise not_found(f"student {student_no}")
    principal.ensure_sees(certificate.learning_centre, not_found(f"student {student_no}"))
    return certificate


async def certificate_by_number(
    session: AsyncSession, number: str, principal: Principal, *, for_update: bool = False
) -> Certificate:
    domain.validate_number(number)
    certificate = await CertificateRepository(session).by_number(
        number.strip().upper(), for_update=for_update
    )
    if certificate is None:
        raise not_found(f"number {number}")
    principal.ensure_sees(certificate.learning_centre, not_found(f"number {number}"))
    return certificate


def new_id() -> str:
    return str(uuid.uuid4())
