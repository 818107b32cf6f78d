"""Events the certificates service consumes (AuditPassed issues certificates; registry and photo
events keep the projection the printouts are filled from) and the ones it emits through its outbox."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_certificates import service
from gradops_certificates.settings import CertificatesSettings
from gradops_shared.consumer import BatchHandler, Handler
from gradops_shared.contracts import (
    TOPICS,
    AuditPassed,
    CertificateIssued,
    CertificateReplaced,
    CertificateRevoked,
    EventData,
    EventEnvelope,
    PhotoApproved,
    PhotoReopened,
    StudentRegistered,
    StudentSnapshot,
    StudentUpdated,
    VerificationPerformed,
)

CONSUMES = (TOPICS["audit"], TOPICS["registry"], TOPICS["photo"])
# Emitted by the use cases, in the transaction of the change: issuance, replacement, revocation,
# and every public verification of a certificate someone holds.
EMITS = (CertificateIssued, CertificateReplaced, CertificateRevoked, VerificationPerformed)


def handlers(settings: CertificatesSettings) -> Mapping[str, Handler]:
    async def on_audit_passed(session: AsyncSession, _envelope: EventEnvelope, data: EventData) -> None:
        assert isinstance(data, AuditPassed)
        await service.issue_for_audit(session, data, settings)

    async def on_student(session: AsyncSession, _envelope: EventEnvelope, data: EventData) -> None:
        assert isinstance(data, StudentSnapshot)
        await service.record_student(session, data)

    async def on_photo_approved(session: AsyncSession, _envelope: EventEnvelope, data: EventData) -> None:
        assert isinstance(data, PhotoApproved)
        await service.record_graduation_photo(session, data)

    async def on_photo_reopened(session: AsyncSession, _envelope: EventEnvelope, data: EventData) -> None:
        assert isinstance(data, PhotoReopened)
        await service.record_photo_reopened(session, data)

    return {
        AuditPassed.event_type: on_audit_passed,
        StudentRegistered.event_type: on_student,
        StudentUpdated.event_type: on_student,
        PhotoApproved.event_type: on_photo_approved,
        PhotoReopened.event_type: on_photo_reopened,
    }


def batch_handlers(settings: CertificatesSettings) -> Mapping[str, BatchHandler]:
    """AuditPassed in runs: one transaction and one serial reservation per series for a whole
    fetch, so several consumers issue thousands of certificates a second without a gap."""

    async def on_audit_passed_batch(
        session: AsyncSession, events: Sequence[tuple[EventEnvelope, EventData]]
    ) -> None:
        passed = [data for _, data in events if isinstance(data, AuditPassed)]
        await service.issue_many(session, passed, settings)

    return {AuditPassed.event_type: on_audit_passed_batch}
