"""Distribution: notice, collection by the centre, handover with a signed receipt, CHSI check."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_certificates.domain import distribution
from gradops_certificates.errors import (
    CHSI_CHECK_OUTCOME_REQUIRED,
    CURSOR_INVALID,
    HQ_ONLY,
    NOT_VALID,
    RECEIPT_NOT_FOUND,
)
from gradops_certificates.models import Certificate, DistributionEvent, StoredFile
from gradops_certificates.repository import CertificateRepository
from gradops_certificates.service.clock import china_today
from gradops_certificates.service.issuance import certificate_by_number
from gradops_certificates.service.pages import Page, page_of
from gradops_certificates.service.scans import store_scan
from gradops_certificates.settings import CertificatesSettings
from gradops_shared.paging import key_cursor, read_int, read_key
from gradops_shared.principal import Principal

# The overdue list's position: "centre|number" of a page's last row (no centre sorts as "").
_OVERDUE_POSITION = re.compile(r"^[^|]{0,64}\|[0-9A-Za-z]{1,40}$")


# The certificate's column for each field of its distribution status (the same name but for the state).
_STATUS_COLUMNS = {
    field.name: "distribution_state" if field.name == "state" else field.name
    for field in fields(distribution.DistributionStatus)
}


def status_of(certificate: Certificate) -> distribution.DistributionStatus:
    return distribution.DistributionStatus(
        **{name: getattr(certificate, column) for name, column in _STATUS_COLUMNS.items()}
    )


def _step(
    session: AsyncSession,
    certificate: Certificate,
    change: distribution.DistributionChange,
    event: distribution.DistributionEventKind,
    on: date,
    explanation: str | None,
    detail: dict[str, object],
    principal: Principal,
) -> DistributionEvent:
    """Applies a step's new status to the certificate and records the step with who recorded it."""
    for name, column in _STATUS_COLUMNS.items():
        setattr(certificate, column, getattr(change.status, name))
    row = DistributionEvent(
        number=certificate.number,
        event=event,
        occurred_on=on,
        late=change.late,
        explanation=explanation,
        detail=detail,
        actor=principal.subject,
        recorded_at=datetime.now(UTC),
    )
    session.add(row)
    return row


@dataclass(frozen=True)
class DistributionInput:
    event: distribution.DistributionEventKind
    occurred_on: date
    explanation: str | None = None
    receipt: bytes | None = None
    matches_chsi: bool | None = None
    detail: str | None = None


async def record_event(
    session: AsyncSession,
    number: str,
    given: DistributionInput,
    principal: Principal,
    settings: CertificatesSettings,
) -> tuple[Certificate, DistributionEvent]:
    distribution.ensure_not_future(given.occurred_on, china_today())
    certificate = await certificate_by_number(session, number, principal, for_update=True)
    if certificate.status != "valid":
        raise NOT_VALID(
            f"Certificate {certificate.number} is {certificate.status}; it is no longer distributed.",
            message_zh="该证书已被替换或撤销，不能登记发放",
        )
    if given.event == "chsi_checked" and given.matches_chsi is None:
        raise CHSI_CHECK_OUTCOME_REQUIRED(
            "Say whether the certificate matches CHSI (`matches_chsi`).",
            message_zh="请填写证书信息是否与学信网一致",
        )
    change = distribution.apply_event(
        status_of(certificate),
        given.event,
        given.occurred_on,
        explanation=given.explanation,
        has_receipt=bool(given.receipt),
        collection_days=settings.collection_days,
        handover_days=settings.handover_days,
    )
    detail: dict[str, object] = {}
    if given.receipt:
        sha256 = await store_scan(session, given.receipt, "receipt")
        certificate.receipt_sha256 = sha256
        detail["receipt_sha256"] = sha256
    if given.event == "chsi_checked":
        certificate.chsi_confirmed_at = datetime.now(UTC)
        certificate.chsi_matches = given.matches_chsi
        certificate.chsi_detail = given.detail
        detail["matches_chsi"] = given.matches_chsi
    if given.detail:
        detail["note"] = given.detail
    event = _step(
        session, certificate, change, given.event, given.occurred_on, given.explanation, detail, principal
    )
    await session.flush()
    return certificate, event


def read_overdue_cursor(cursor: str) -> tuple[str, str]:
    """The (centre, number) an overdue page's cursor names, or 422 certificates.cursor_invalid."""
    centre, _, number = read_key(cursor, CURSOR_INVALID, pattern=_OVERDUE_POSITION).partition("|")
    return centre, number


@dataclass(frozen=True)
class Overdue:
    certificate: Certificate
    stage: str  # collection | handover
    due: date


async def overdue(
    session: AsyncSession,
    today: date,
    principal: Principal,
    centres: list[str] | None,
    *,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[Overdue]:
    """One page of overdue certificates by (centre, number); its cursor names the page's last row."""
    after = read_overdue_cursor(cursor) if cursor is not None else None
    rows = await CertificateRepository(session).overdue(
        today, principal.centre_filter(centres), after, None if limit is None else limit + 1
    )
    more = limit is not None and len(rows) > limit
    rows = rows[:limit] if limit is not None else rows
    found: list[Overdue] = []
    for certificate in rows:
        stage = distribution.overdue_stage(status_of(certificate), today)
        if stage is not None:
            found.append(Overdue(certificate, stage[0], stage[1]))
    last = rows[-1] if more and rows else None
    return Page(found, key_cursor(f"{last.learning_centre or ''}|{last.number}") if last else None)


async def history(
    session: AsyncSession, number: str, principal: Principal, cursor: str | None, limit: int
) -> Page[DistributionEvent]:
    """The certificate's distribution events, oldest first, one cursor page."""
    after = read_int(cursor, CURSOR_INVALID) if cursor is not None else None
    certificate = await certificate_by_number(session, number, principal)
    rows = await CertificateRepository(session).distribution_events(
        certificate.number, after=after, limit=limit + 1
    )
    return page_of(rows, limit, lambda e: key_cursor(e.id))


async def receipt(session: AsyncSession, number: str, principal: Principal) -> StoredFile:
    """The signed receipt scan as uploaded."""
    certificate = await certificate_by_number(session, number, principal)
    stored = (
        await CertificateRepository(session).file(certificate.receipt_sha256)
        if certificate.receipt_sha256
        else None
    )
    if stored is None:
        raise RECEIPT_NOT_FOUND(
            "No signed receipt was uploaded for this certificate.", message_zh="尚未上传签收单"
        )
    return stored


async def notify_batch(
    session: AsyncSession,
    batch_code: str,
    centres: list[str] | None,
    on: date,
    principal: Principal,
    settings: CertificatesSettings,
) -> list[Certificate]:
    """HQ's notice to the centres that a batch's certificates are ready: every valid certificate of
    the batch still at HQ and not yet notified starts its 15-day collection deadline."""
    if not principal.is_hq:
        raise HQ_ONLY("HQ sends the collection notice.")
    distribution.ensure_not_future(on, china_today())
    rows = await CertificateRepository(session).of_batch(batch_code, principal.centre_filter(centres))
    notified: list[Certificate] = []
    for certificate in rows:
        if (
            certificate.status != "valid"
            or certificate.distribution_state != "at_hq"
            or certificate.notified_on
        ):
            continue
        change = distribution.apply_event(
            status_of(certificate),
            "notified",
            on,
            explanation=None,
            has_receipt=False,
            collection_days=settings.collection_days,
            handover_days=settings.handover_days,
        )
        _step(session, certificate, change, "notified", on, None, {"batch_code": batch_code}, principal)
        notified.append(certificate)
    await session.flush()
    return notified
