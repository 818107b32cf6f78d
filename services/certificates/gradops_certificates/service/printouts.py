"""The printouts: the CHSI registration export per batch (CSV/XLSX), the 毕业生登记表 and the 毕业证明书
(PDF)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Literal

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_certificates import rendering
from gradops_certificates.domain.printout_text import StudentFacts, chsi_row, proof_paragraphs
from gradops_certificates.domain.replacement import REASON_ZH
from gradops_certificates.errors import NOT_A_REPLACEMENT, PRINCIPAL_NAME_MISSING, STUDENT_RECORD_MISSING
from gradops_certificates.models import Certificate, StudentProjection
from gradops_certificates.repository import CertificateRepository
from gradops_certificates.service.issuance import certificate_by_number
from gradops_certificates.settings import CertificatesSettings
from gradops_shared.db import Database
from gradops_shared.logging import current_request_id
from gradops_shared.principal import PRINCIPAL_HEADER, Principal, on_behalf_of, sign_principal

log = structlog.get_logger(__name__)


def facts_of(student: StudentProjection | None, student_no: str) -> StudentFacts | None:
    if student is None or not student.name:
        return None
    return StudentFacts(
        student_no=student_no,
        name=student.name,
        gender=student.gender,
        birth_date=student.birth_date,
        major=student.major,
        level=student.level,
        study_form=student.study_form,
        enrolment_term=student.enrolment_term,
        duration_years=student.duration_years,
        exam_no=student.exam_no,
        learning_centre=student.learning_centre,
        photo_submission_id=student.photo_submission_id,
        photo_sha256=student.photo_sha256,
    )


def _principal_name(settings: CertificatesSettings) -> str:
    if not settings.principal_name.strip():
        raise PRINCIPAL_NAME_MISSING(
            "Set GRADOPS_CERTIFICATES_PRINCIPAL_NAME: the principal's name is a required field of the "
            "registration and is printed on the 毕业证明书.",
            message_zh="尚未配置校长姓名（学历注册必填项）",
        )
    return settings.principal_name


async def chsi_export_rows(
    session: AsyncSession,
    batch_code: str,
    principal: Principal,
    centres: list[str] | None,
    settings: CertificatesSettings,
) -> list[dict[str, str]]:
    principal_name = _principal_name(settings)
    repo = CertificateRepository(session)
    certificates = [
        c
        for c in await repo.of_batch(batch_code, principal.centre_filter(centres))
        if c.kind == "diploma" and c.status != "revoked"
    ]
    students = await repo.students([c.student_no for c in certificates])
    return [
        chsi_row(
            facts_of(students.get(c.student_no), c.student_no),
            student_no=c.student_no,
            certificate_number=c.number,
            level=c.level,
            graduation_date=c.graduation_date,
            school_name=settings.school_name,
            principal_name=principal_name,
        )
        for c in certificates
    ]


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ChsiExport:
    content: bytes
    media_type: str
    rows: int
    incomplete: int  # rows missing a field the registration requires


async def chsi_export(
    session: AsyncSession,
    batch_code: str,
    principal: Principal,
    centres: list[str] | None,
    settings: CertificatesSettings,
    format: Literal["csv", "xlsx"],
) -> ChsiExport:
    """The batch's registration export for CHSI (学历电子注册)."""
    rows = await chsi_export_rows(session, batch_code, principal, centres, settings)
    incomplete = sum(1 for row in rows if row["missing"])
    if format == "csv":
        return ChsiExport(rendering.chsi_csv(rows), "text/csv; charset=utf-8", len(rows), incomplete)
    return ChsiExport(rendering.chsi_xlsx(rows, batch_code), XLSX, len(rows), incomplete)


@dataclass(frozen=True)
class DocumentSubject:
    certificate: Certificate
    facts: StudentFacts


async def document_subject(session: AsyncSession, number: str, principal: Principal) -> DocumentSubject:
    certificate = await certificate_by_number(session, number, principal)
    facts = facts_of(
        await CertificateRepository(session).student(certificate.student_no), certificate.student_no
    )
    if facts is None:
        raise STUDENT_RECORD_MISSING(
            f"The record of student {certificate.student_no} has not reached the certificates service yet.",
            message_zh="尚未收到该学生的学籍信息，暂时无法生成文书",
        )
    return DocumentSubject(certificate, facts)


# The approved deliverable: the standardised photo when the upload was standardised (it is then
# the one QC judged and the reviewer approved), else the upload itself (centre uploads without
# standardisation, zip imports, capture sessions).
_PHOTO_VARIANTS = ("standardised", "original")


async def fetch_photo(
    photo: httpx.AsyncClient,
    submission_id: str | None,
    principal: Principal,
    secret: str,
    expected_sha256: str | None = None,
) -> tuple[bytes | None, str | None]:
    """The student's approved deliverable photo from the photo service, or None and the reason. A
    missing photo never fails the form: it is printed with an empty, labelled box."""
    if not submission_id:
        return None, "no approved graduation photo recorded"
    headers = {
        "x-request-id": current_request_id() or uuid.uuid4().hex,
        PRINCIPAL_HEADER: sign_principal(principal, secret),
    }
    path = f"/api/v1/photo-submissions/{submission_id}/file"
    reason = "photo service answered 404"
    for variant in _PHOTO_VARIANTS:
        try:
            response = await photo.get(path, params={"variant": variant}, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("certificate_photo_unavailable", submission_id=submission_id, error=repr(exc))
            return None, "photo service unreachable"
        content_type = response.headers.get("content-type", "")
        if response.status_code == 404:
            continue  # no standardised version: the upload itself is the deliverable
        if response.status_code != 200 or not content_type.startswith("image/"):
            log.warning(
                "certificate_photo_unavailable", submission_id=submission_id, status=response.status_code
            )
            return None, f"photo service answered {response.status_code}"
        if (
            expected_sha256
            and variant == "original"
            and hashlib.sha256(response.content).hexdigest() != (expected_sha256)
        ):
            # The approved deliverable is a version the photo service no longer serves.
            log.warning("certificate_photo_mismatch", submission_id=submission_id, variant=variant)
            return None, "photo does not match the approved one"
        return response.content, None
    log.warning("certificate_photo_unavailable", submission_id=submission_id, status=404)
    return None, reason


def registration_form(
    subject: DocumentSubject, photo: bytes | None, reason: str | None, settings: CertificatesSettings
) -> tuple[bytes, str]:
    """The PDF and what became of the photo: "included", or "missing; <reason>"."""
    certificate = subject.certificate

    def render(with_photo: bytes | None) -> bytes:
        return rendering.registration_form_pdf(
            subject.facts,
            certificate_number=certificate.number,
            school_name=settings.school_name,
            issue_date=certificate.issue_date,
            graduation_date=certificate.graduation_date,
            level=certificate.level,
            photo=with_photo,
        )

    if photo is None:
        return render(None), f"missing; {reason or 'unknown reason'}"
    try:
        return render(photo), "included"
    except OSError:
        # The bytes are not an image reportlab can read: the form goes out without it.
        log.warning("certificate_photo_unreadable", student_no=certificate.student_no)
        return render(None), "missing; photo unreadable"


async def proof(session: AsyncSession, subject: DocumentSubject, settings: CertificatesSettings) -> bytes:
    certificate = subject.certificate
    if certificate.kind != "replacement" or certificate.original_number is None:
        raise NOT_A_REPLACEMENT(
            f"{certificate.number} is not a 毕业证明书; only an approved replacement has one.",
            message_zh="该编号不是毕业证明书（补证号）",
        )
    replacement = await CertificateRepository(session).replacement_issuing(certificate.number)
    reason = REASON_ZH.get(replacement.reason, replacement.reason) if replacement else "遗失或损坏"
    paragraphs = proof_paragraphs(
        subject.facts,
        original_number=certificate.original_number,
        reason=reason,
        graduation_date=certificate.graduation_date,
        level=certificate.level,
        school_name=settings.school_name,
        principal_name=_principal_name(settings),
        number=certificate.number,
        issued_on=certificate.issue_date,
    )
    return rendering.proof_pdf(paragraphs)


async def proof_for(
    session: AsyncSession, number: str, principal: Principal, settings: CertificatesSettings
) -> tuple[str, bytes]:
    """The 毕业证明书 of an approved replacement: its 补证号 and the PDF."""
    subject = await document_subject(session, number, principal)
    return subject.certificate.number, await proof(session, subject, settings)


@dataclass(frozen=True)
class RegistrationForm:
    number: str
    pdf: bytes
    photo: str  # "included", or "missing; <reason>"


async def registration_form_for(
    db: Database,
    photo_service: httpx.AsyncClient,
    number: str,
    principal: Principal,
    settings: CertificatesSettings,
) -> RegistrationForm:
    """毕业生登记表 with the approved graduation photo. Takes the database, not a session: the photo
    is fetched from the photo service after the short read, never while a transaction is open (on
    SQLite every transaction holds the write lock)."""
    async with db.session() as session:
        subject = await document_subject(session, number, principal)
    photo, reason = await fetch_photo(
        photo_service,
        subject.facts.photo_submission_id,
        on_behalf_of(principal, "certificates", ["photos:read"]),
        settings.principal_secret.get_secret_value(),
        subject.facts.photo_sha256,
    )
    pdf, photo_header = registration_form(subject, photo, reason, settings)
    if photo_header != "included":
        log.warning("registration_form_without_photo", number=subject.certificate.number, photo=photo_header)
    return RegistrationForm(subject.certificate.number, pdf, photo_header)
