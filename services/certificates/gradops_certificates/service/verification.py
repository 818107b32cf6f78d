"""Public verification by number and name, share codes, and the lookup log."""

from __future__ import annotations

import io
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import segno
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_certificates import domain
from gradops_certificates.domain.verification import VerificationResult, mask_name, names_match, result_of
from gradops_certificates.errors import (
    CURSOR_INVALID,
    HQ_ONLY,
    REVOKED,
    SHARE_CODE_EXPIRED,
    SHARE_CODE_INVALID,
    SHARE_CODE_REVOKED,
    SHARE_CODE_VALIDITY,
)
from gradops_certificates.models import Certificate, ShareCode, VerificationLookup, outbox
from gradops_certificates.repository import CertificateRepository
from gradops_certificates.service.clock import china_today
from gradops_certificates.service.issuance import certificate_by_number
from gradops_certificates.service.pages import Page, page_of
from gradops_certificates.settings import CertificatesSettings
from gradops_shared.contracts import VerificationPerformed
from gradops_shared.db import Database
from gradops_shared.outbox import add_event
from gradops_shared.paging import key_cursor, read_int
from gradops_shared.principal import Principal
from gradops_shared.problems import GradOpsError, InvalidInput, NotFound

# Crockford-like alphabet: no 0/O, 1/I/L to misread when a code is typed from paper.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_EVENT_RESULTS: dict[str, VerificationResult] = {
    r: r for r in ("valid", "superseded", "revoked", "unknown", "not_yet_valid")
}


@dataclass(frozen=True)
class Caller:
    client: str | None
    user_agent: str | None
    request_id: str | None


@dataclass(frozen=True)
class VerifiedCertificate:
    kind: str
    masked_name: str
    school_name: str
    level: str
    major: str
    graduation_date: date
    issue_date: date


@dataclass(frozen=True)
class Verification:
    result: VerificationResult
    number: str
    certificate: VerifiedCertificate | None


async def _log(
    session: AsyncSession,
    caller: Caller,
    *,
    number: str | None,
    code: str | None,
    result: str,
    name_matched: bool | None,
    certificate: Certificate | None = None,
) -> None:
    if certificate is not None:
        # The student's timeline shows the lookup (through the outbox, in this transaction); a
        # lookup of a number nobody holds belongs to no student and stays in the log only.
        await add_event(
            session,
            outbox,
            VerificationPerformed(
                student_no=certificate.student_no,
                number=certificate.number,
                via="share_code" if code else "number",
                result=_EVENT_RESULTS.get(result, "unknown"),
                name_matched=name_matched,
            ),
        )
    session.add(
        VerificationLookup(
            looked_up_at=datetime.now(UTC),
            # What the verifier typed, without control characters (PostgreSQL refuses NUL in text,
            # and the log is read by people): the refusal itself is still logged.
            number=_CONTROL.sub("", number or "")[:32] or None,
            share_code=code,
            result=result,
            name_matched=name_matched,
            client=(caller.client or "")[:100] or None,
            user_agent=(caller.user_agent or "")[:300] or None,
            request_id=caller.request_id,
        )
    )


async def _describe(
    session: AsyncSession, certificate: Certificate, settings: CertificatesSettings
) -> tuple[VerifiedCertificate, str] | None:
    student = await CertificateRepository(session).student(certificate.student_no)
    if student is None or not student.name:
        return None
    shown = VerifiedCertificate(
        kind=certificate.kind,
        masked_name=mask_name(student.name),
        school_name=settings.school_name,
        level=certificate.level,
        major=student.major,
        graduation_date=certificate.graduation_date,
        issue_date=certificate.issue_date,
    )
    return shown, student.name


async def _found(
    session: AsyncSession,
    caller: Caller,
    certificate: Certificate,
    shown: VerifiedCertificate,
    *,
    code: str | None,
    name_matched: bool | None,
) -> Verification:
    """A lookup that found the certificate: its result today, logged (with the student's event)."""
    result = result_of(certificate.status, certificate.issue_date, china_today())
    await _log(
        session,
        caller,
        number=certificate.number,
        code=code,
        result=result,
        name_matched=name_matched,
        certificate=certificate,
    )
    return Verification(result, certificate.number, shown)


async def verify_number(
    session: AsyncSession, raw_number: str, name: str, caller: Caller, settings: CertificatesSettings
) -> Verification | InvalidInput:
    """A malformed number is refused with its reason (422, returned so the caller raises it after
    the lookup is logged); a wrong name reads like an unknown number, so the endpoint cannot be
    used to learn whose certificate a number is."""
    try:
        parsed = domain.validate_number(raw_number, education_type_codes=(settings.education_type_code,))
    except InvalidInput as refused:
        await _log(session, caller, number=raw_number, code=None, result="malformed", name_matched=None)
        return refused
    certificate = await CertificateRepository(session).by_number(parsed.number)
    described = await _describe(session, certificate, settings) if certificate is not None else None
    if certificate is None or described is None:
        await _log(session, caller, number=parsed.number, code=None, result="unknown", name_matched=None)
        return Verification("unknown", parsed.number, None)
    shown, registered_name = described
    if not names_match(name, registered_name):
        await _log(
            session,
            caller,
            number=parsed.number,
            code=None,
            result="unknown",
            name_matched=False,
            certificate=certificate,
        )
        return Verification("unknown", parsed.number, None)
    return await _found(session, caller, certificate, shown, code=None, name_matched=True)


def _code_invalid() -> GradOpsError:
    return SHARE_CODE_INVALID(
        "No valid share code with this value (unknown, expired or revoked).",
        message_zh="验证码无效（不存在、已过期或已撤销）",
    )


async def verify_code(
    session: AsyncSession, code: str, caller: Caller, settings: CertificatesSettings
) -> Verification | GradOpsError:
    """An unknown, expired or revoked code gets one answer (404, returned to be raised after the
    lookup is logged)."""
    code = code.strip().upper()
    share = await CertificateRepository(session).share_code(code)
    now = datetime.now(UTC)
    if share is None or share.revoked_at is not None or share.expires_at <= now:
        await _log(session, caller, number=None, code=code[:16], result="invalid_code", name_matched=None)
        return _code_invalid()
    certificate = await CertificateRepository(session).by_number(share.number)
    described = await _describe(session, certificate, settings) if certificate is not None else None
    if certificate is None or described is None:
        await _log(session, caller, number=share.number, code=code, result="unknown", name_matched=None)
        return Verification("unknown", share.number, None)
    return await _found(session, caller, certificate, described[0], code=code, name_matched=None)


# The public lookups commit their own transaction, not the edge's: a refused lookup (a malformed
# number, an invalid share code) is answered with an error, and the error must not roll back the
# log entry that records it. So the log commits first, then the refusal is raised.


async def verify_number_logged(
    db: Database, raw_number: str, name: str, caller: Caller, settings: CertificatesSettings
) -> Verification:
    async with db.transaction() as session:
        found = await verify_number(session, raw_number, name, caller, settings)
    if isinstance(found, GradOpsError):
        raise found
    return found


async def verify_code_logged(
    db: Database, code: str, caller: Caller, settings: CertificatesSettings
) -> Verification:
    async with db.transaction() as session:
        found = await verify_code(session, code, caller, settings)
    if isinstance(found, GradOpsError):
        raise found
    return found


async def lookups(
    session: AsyncSession, principal: Principal, cursor: str | None, limit: int
) -> Page[VerificationLookup]:
    """The public verification log, newest first (HQ only: it holds the verifiers' addresses)."""
    if not principal.is_hq:
        raise HQ_ONLY("The verification log is HQ's (it holds the verifiers' addresses).")
    before = read_int(cursor, CURSOR_INVALID) if cursor is not None else None
    rows = await CertificateRepository(session).lookups(limit + 1, before)
    return page_of(rows, limit, lambda row: key_cursor(row.id))


def _new_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _bounded_days(days: int, settings: CertificatesSettings) -> int:
    if not 1 <= days <= settings.share_code_max_days:
        raise SHARE_CODE_VALIDITY(
            f"valid_days must be between 1 and {settings.share_code_max_days}.",
            message_zh=f"验证码有效期应为 1 至 {settings.share_code_max_days} 天",
        )
    return days


async def create_share_code(
    session: AsyncSession, number: str, valid_days: int, principal: Principal, settings: CertificatesSettings
) -> ShareCode:
    certificate = await certificate_by_number(session, number, principal)
    if certificate.status == "revoked":
        raise REVOKED("A revoked certificate cannot be shared.", message_zh="该证书已撤销")
    now = datetime.now(UTC)
    share = ShareCode(
        code=_new_code(),
        number=certificate.number,
        created_by=principal.subject,
        created_at=now,
        expires_at=now + timedelta(days=_bounded_days(valid_days, settings)),
    )
    session.add(share)
    await session.flush()
    return share


async def owned_share_code(session: AsyncSession, code: str, principal: Principal) -> ShareCode:
    share = await CertificateRepository(session).share_code(code.strip().upper(), for_update=True)
    if share is None:
        raise _code_invalid()
    # Tenancy follows the certificate: another centre's code reads exactly like an unknown one.
    try:
        await certificate_by_number(session, share.number, principal)
    except NotFound:
        raise _code_invalid() from None
    return share


async def extend_share_code(
    session: AsyncSession, code: str, valid_days: int, principal: Principal, settings: CertificatesSettings
) -> ShareCode:
    share = await owned_share_code(session, code, principal)
    now = datetime.now(UTC)
    if share.revoked_at is not None:
        raise SHARE_CODE_REVOKED("The share code was revoked.", message_zh="验证码已撤销")
    if share.expires_at <= now:
        raise SHARE_CODE_EXPIRED(
            "The share code has expired; create a new one.",
            message_zh="验证码已过期，请重新生成",
        )
    share.expires_at = min(
        share.expires_at + timedelta(days=_bounded_days(valid_days, settings)),
        now + timedelta(days=settings.share_code_max_days),
    )
    await session.flush()
    return share


async def revoke_share_code(session: AsyncSession, code: str, principal: Principal) -> ShareCode:
    share = await owned_share_code(session, code, principal)
    if share.revoked_at is None:
        share.revoked_at = datetime.now(UTC)
        await session.flush()
    return share


def verification_url(settings: CertificatesSettings, code: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/api/v1/verify/codes/{code}"


def qr_png(url: str) -> bytes:
    """The QR carries the verification URL and nothing else (no name, no number)."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=6, border=4)
    return buffer.getvalue()


async def share_code_qr(
    session: AsyncSession, code: str, principal: Principal, settings: CertificatesSettings
) -> bytes:
    """The QR image of a share code the caller may see."""
    share = await owned_share_code(session, code, principal)
    return qr_png(verification_url(settings, share.code))
