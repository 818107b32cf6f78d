"""Issuance from AuditPassed, the student projection, and reading certificates."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_certificates import domain
from gradops_certificates.domain.numbers import BACHELOR_DEGREE_CODE, DEGREE_SERIES
from gradops_certificates.errors import CURSOR_INVALID, NOT_FOUND
from gradops_certificates.models import Certificate, StudentProjection, outbox
from gradops_certificates.repository import CertificateRepository
from gradops_certificates.service.pages import Page, page_of
from gradops_certificates.settings import CertificatesSettings
from gradops_shared.contracts import (
    AuditPassed,
    CertificateIssued,
    PhotoApproved,
    PhotoReopened,
    StudentSnapshot,
)
from gradops_shared.metrics import count_after_commit
from gradops_shared.outbox import add_events
from gradops_shared.paging import position_cursor, read_position
from gradops_shared.principal import Principal
from gradops_shared.problems import GradOpsError

log = structlog.get_logger(__name__)
ANY_TYPE_CODE = tuple("0123456789")
BACHELOR_LEVELS = ("bachelor", "bachelor_from_junior_college")


async def issue_for_audit(
    session: AsyncSession, passed: AuditPassed, settings: CertificatesSettings
) -> Certificate:
    """One diploma per student and batch (a redelivered AuditPassed issues nothing new), and a
    degree certificate when the degree was applied for and granted (本科 only). Returns the diploma."""
    issued = await issue_many(session, [passed], settings)
    diploma = next((c for c in issued if c.kind == "diploma"), None)
    if diploma is None:
        diploma = await CertificateRepository(session).for_student_batch(
            passed.student_no, passed.batch_code, "diploma"
        )
        assert diploma is not None
        log.info("certificate_already_issued", student_no=passed.student_no, number=diploma.number)
    return diploma


@dataclass(frozen=True)
class _Planned:
    passed: AuditPassed
    kind: str
    centre: str | None


def _kinds(passed: AuditPassed) -> list[str]:
    kinds = ["diploma"]
    if passed.application_type == "graduate_with_degree" and passed.degree_granted:
        if passed.level in BACHELOR_LEVELS:
            kinds.append("degree")
        else:
            log.warning("degree_not_issued_for_level", student_no=passed.student_no, level=passed.level)
    return kinds


def _series(kind: str, passed: AuditPassed, settings: CertificatesSettings) -> tuple[str, str, int, str]:
    # The year is the graduation year; one counter per year covers its spring and autumn batches,
    # so their numbers never collide.
    year = passed.graduation_date.year
    if kind == "degree":
        return settings.school_code, DEGREE_SERIES, year, "0" + BACHELOR_DEGREE_CODE
    return settings.school_code, settings.education_type_code, year, domain.level_code(passed.level)


def _number(kind: str, passed: AuditPassed, serial: int, settings: CertificatesSettings) -> str:
    year = passed.graduation_date.year
    if kind == "degree":
        return str(
            domain.make_degree_number(
                school_code=settings.school_code,
                year=year,
                serial=serial,
                prefix=settings.degree_number_prefix,
            )
        )
    return str(
        domain.make_number(
            school_code=settings.school_code,
            education_type_code=settings.education_type_code,
            year=year,
            level=passed.level,
            serial=serial,
        )
    )


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


async def issue_many(
    session: AsyncSession, events: Sequence[AuditPassed], settings: CertificatesSettings
) -> list[Certificate]:
    """Issues what these AuditPassed events call for and was not issued before, in event order.
    The serials of each series are reserved in one step, as late as possible: the counter rows
    stay locked until commit, so everything that can be done before is done before."""
    repo = CertificateRepository(session)
    already = await repo.issued_kinds([(p.student_no, p.batch_code) for p in events])
    without_centre = [p.student_no for p in events if not p.learning_centre]
    projections = await repo.students(without_centre) if without_centre else {}
    by_series: dict[tuple[str, str, int, str], list[_Planned]] = defaultdict(list)
    for passed in events:
        for kind in _kinds(passed):
            key = (passed.student_no, passed.batch_code, kind)
            if key in already:
                continue
            already.add(key)
            projection = projections.get(passed.student_no)
            centre = passed.learning_centre or (projection.learning_centre if projection else None) or None
            by_series[_series(kind, passed, settings)].append(_Planned(passed, kind, centre))
    certificates: list[Certificate] = []
    for series in sorted(by_series):  # one lock order for every issuer: no deadlock
        planned = by_series[series]
        first = await repo.reserve_serials(*series, len(planned))
        for offset, item in enumerate(planned):
            serial = first + offset
            number = _number(item.kind, item.passed, serial, settings)
            certificates.append(_certificate(item.passed, number, serial, item.kind, item.centre))
    if not certificates:
        return []
    session.add_all(certificates)
    await session.flush()
    await add_events(
        session,
        outbox,
        # The event carries the certificate's columns of the same names.
        [CertificateIssued.model_validate(c, from_attributes=True) for c in certificates],
    )
    for level in {c.level for c in certificates}:
        count_after_commit(
            session, "certificates_issued", sum(c.level == level for c in certificates), level=level
        )
    return certificates


# What the documents need of a student's record: the snapshot's fields the projection keeps.
_PROJECTED = tuple(
    name
    for name in StudentSnapshot.model_fields
    if name != "student_no" and name in StudentProjection.__table__.columns
)


async def record_student(session: AsyncSession, snapshot: StudentSnapshot) -> None:
    """Keeps what the documents need; the photo reference survives record updates."""
    repo = CertificateRepository(session)
    row = await repo.student(snapshot.student_no)
    if row is None:
        row = StudentProjection(student_no=snapshot.student_no)
        repo.add(row)
    for name in _PROJECTED:
        setattr(row, name, getattr(snapshot, name))
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
    # The deliverable (what passed QC: the standardised photo when there is one), not the upload;
    # an event from a producer that predates the field names the upload, the only hash it has.
    row.photo_sha256 = approved.deliverable_sha256 or approved.sha256
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


def not_found(what: str) -> GradOpsError:
    return NOT_FOUND(f"No certificate for {what}.", message_zh="未找到毕业证书")


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
    # Any type digit: the university configures its own (open education's is not published).
    domain.validate_number(number, education_type_codes=ANY_TYPE_CODE)
    certificate = await CertificateRepository(session).by_number(
        number.strip().upper(), for_update=for_update
    )
    if certificate is None:
        raise not_found(f"number {number}")
    principal.ensure_sees(certificate.learning_centre, not_found(f"number {number}"))
    return certificate


async def student_certificates(
    session: AsyncSession, student_no: str, principal: Principal, cursor: str | None, limit: int
) -> Page[Certificate]:
    """Every certificate of a student the caller may see, oldest first, one cursor page."""
    after = read_position(cursor, CURSOR_INVALID) if cursor is not None else None
    rows = await CertificateRepository(session).page_of_student(
        student_no, principal.centre_filter(), after, limit + 1
    )
    return page_of(rows, limit, lambda c: position_cursor(c.created_at, c.number))


def new_id() -> str:
    return str(uuid.uuid4())
