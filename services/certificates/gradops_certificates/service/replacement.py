"""Replacement (毕业证明书, once only) and revocation (学历撤销, final)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_certificates import domain
from gradops_certificates.domain.numbers import REPLACEMENT_SERIES
from gradops_certificates.domain.replacement import (
    ReplacementReason,
    already_applied,
    already_replaced,
    ensure_replaceable,
    ensure_transition,
)
from gradops_certificates.errors import (
    ALREADY_REVOKED,
    CURSOR_INVALID,
    HQ_ONLY,
    NOT_VALID,
    REPLACEMENT_NOT_FOUND,
)
from gradops_certificates.models import Certificate, Replacement, StoredFile, outbox
from gradops_certificates.repository import CertificateRepository
from gradops_certificates.service.issuance import certificate_by_number, new_id
from gradops_certificates.service.pages import Page, page_of
from gradops_certificates.service.scans import store_scan
from gradops_certificates.settings import CertificatesSettings
from gradops_shared.contracts import CertificateReplaced, CertificateRevoked
from gradops_shared.outbox import add_event
from gradops_shared.paging import position_cursor, read_position
from gradops_shared.principal import Principal
from gradops_shared.problems import GradOpsError
from gradops_shared.workdays import WorkCalendar


def calendar_of(settings: CertificatesSettings) -> WorkCalendar:
    return WorkCalendar.of(settings.holidays, settings.makeup_working_days)


def _replacement_not_found(replacement_id: str) -> GradOpsError:
    return REPLACEMENT_NOT_FOUND(
        f"No replacement application {replacement_id}.",
        message_zh="未找到该补办申请",
    )


async def apply(
    session: AsyncSession,
    number: str,
    *,
    reason: ReplacementReason,
    form: bytes,
    note: str | None,
    principal: Principal,
) -> Replacement:
    """The student's application, filed by the centre with the signed form. Once only counts what
    was issued or may still be: a certificate already replaced, an application still standing
    (applied, verified, approved) or a certificate that is itself a replacement answers 409. A
    rejected application does not use the once up: the student may apply again."""
    certificate = await certificate_by_number(session, number, principal, for_update=True)
    ensure_replaceable(certificate.kind, certificate.status)
    repo = CertificateRepository(session)
    if certificate.status == "superseded" or certificate.superseded_by:
        raise already_replaced()
    if await repo.standing_replacement_of(certificate.number) is not None:
        raise already_applied()
    form_sha256 = await store_scan(session, form, "form")
    replacement = Replacement(
        id=new_id(),
        original_number=certificate.number,
        student_no=certificate.student_no,
        learning_centre=certificate.learning_centre,
        reason=reason,
        note=note,
        form_sha256=form_sha256,
        state="applied",
        applied_at=datetime.now(UTC),
        applied_by=principal.subject,
    )
    session.add(replacement)
    try:
        # The partial unique index on standing applications settles a race the row lock did not
        # (SQLite).
        await session.flush()
    except IntegrityError:
        raise already_applied() from None
    return replacement


async def get(
    session: AsyncSession, replacement_id: str, principal: Principal, *, for_update: bool = False
) -> Replacement:
    replacement = await CertificateRepository(session).replacement(replacement_id, for_update=for_update)
    if replacement is None:
        raise _replacement_not_found(replacement_id)
    principal.ensure_sees(replacement.learning_centre, _replacement_not_found(replacement_id))
    return replacement


async def applications(
    session: AsyncSession, principal: Principal, state: str | None, cursor: str | None, limit: int
) -> Page[Replacement]:
    """Applications the caller may see, oldest first (HQ handles them in order), one cursor page."""
    after = read_position(cursor, CURSOR_INVALID) if cursor is not None else None
    rows = await CertificateRepository(session).replacements(
        state, principal.centre_filter(), limit + 1, after
    )
    return page_of(rows, limit, lambda r: position_cursor(r.applied_at, r.id))


async def form(session: AsyncSession, replacement_id: str, principal: Principal) -> StoredFile:
    """The signed application form as uploaded (stored with the application, so always there)."""
    row = await get(session, replacement_id, principal)
    stored = await CertificateRepository(session).file(row.form_sha256)
    assert stored is not None
    return stored


async def verify_by_centre(
    session: AsyncSession,
    replacement_id: str,
    principal: Principal,
    settings: CertificatesSettings,
    today: date,
) -> Replacement:
    """The centre checked and stamped the form: the application reaches HQ and the SLA starts."""
    replacement = await get(session, replacement_id, principal, for_update=True)
    ensure_transition(replacement.state, "centre_verified")
    replacement.state = "centre_verified"
    replacement.verified_at = datetime.now(UTC)
    replacement.verified_by = principal.subject
    replacement.decision_due = calendar_of(settings).add_workdays(
        today, settings.replacement_sla_working_days
    )
    await session.flush()
    return replacement


async def decide(
    session: AsyncSession,
    replacement_id: str,
    *,
    approve: bool,
    note: str | None,
    principal: Principal,
    settings: CertificatesSettings,
    today: date,
) -> tuple[Replacement, Certificate | None]:
    if not principal.is_hq:
        raise HQ_ONLY("Only HQ (a key not bound to learning centres) decides replacements.")
    replacement = await get(session, replacement_id, principal, for_update=True)
    ensure_transition(replacement.state, "approved" if approve else "rejected")
    replacement.decided_at = datetime.now(UTC)
    replacement.decided_by = principal.subject
    replacement.decision_note = note
    if not approve:
        replacement.state = "rejected"
        await session.flush()
        return replacement, None
    repo = CertificateRepository(session)
    original = await repo.by_number(replacement.original_number, for_update=True)
    assert original is not None
    if original.status != "valid":
        raise NOT_VALID(
            f"Certificate {original.number} is {original.status}.",
            message_zh="原证书已被替换或撤销",
        )
    level_code = domain.level_code(original.level)
    serial = await repo.next_serial(settings.school_code, REPLACEMENT_SERIES, today.year, level_code)
    number = domain.make_replacement_number(
        school_code=settings.school_code, year=today.year, level=original.level, serial=serial
    )
    proof = Certificate(
        number=str(number),
        student_no=original.student_no,
        batch_code=original.batch_code,
        level=original.level,
        serial=serial,
        issue_date=today,
        graduation_date=original.graduation_date,
        status="valid",
        audit_id=original.audit_id,
        created_at=datetime.now(UTC),
        kind="replacement",
        learning_centre=original.learning_centre,
        application_type=original.application_type,
        original_number=original.number,
        distribution_state="at_hq",
    )
    session.add(proof)
    original.status = "superseded"
    original.superseded_by = proof.number
    replacement.state = "approved"
    replacement.replacement_number = proof.number
    await session.flush()
    await add_event(
        session,
        outbox,
        CertificateReplaced(
            student_no=original.student_no,
            original_number=original.number,
            number=proof.number,
            reason=replacement.reason,
        ),
    )
    return replacement, proof


async def revoke(session: AsyncSession, number: str, reason: str, principal: Principal) -> list[Certificate]:
    """学历撤销 is final. It covers the certificate and the other half of its replacement pair (the
    学历 is revoked, not one paper); a degree certificate is revoked on its own."""
    if not principal.is_hq:
        raise HQ_ONLY("Only HQ (a key not bound to learning centres) revokes certificates.")
    certificate = await certificate_by_number(session, number, principal, for_update=True)
    if certificate.status == "revoked":
        raise ALREADY_REVOKED(
            f"Certificate {certificate.number} is already revoked; revocation is final.",
            message_zh="该证书已撤销，撤销不可逆",
        )
    repo = CertificateRepository(session)
    affected = [certificate]
    for related in (certificate.superseded_by, certificate.original_number):
        if related:
            other = await repo.by_number(related, for_update=True)
            if other is not None and other.status != "revoked":
                affected.append(other)
    now = datetime.now(UTC)
    for item in affected:
        item.status = "revoked"
        item.revoked_at = now
        item.revoked_reason = reason
        item.revoked_by = principal.subject
        await add_event(
            session, outbox, CertificateRevoked(student_no=item.student_no, number=item.number, reason=reason)
        )
    await session.flush()
    return affected
