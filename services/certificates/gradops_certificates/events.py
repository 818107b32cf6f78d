"""Events the certificates service consumes: AuditPassed issues a certificate."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_certificates import service
from gradops_certificates.settings import CertificatesSettings
from gradops_shared.consumer import Handler
from gradops_shared.contracts import TOPICS, AuditPassed, EventData, EventEnvelope

CONSUMES = (TOPICS["audit"],)


def handlers(settings: CertificatesSettings) -> Mapping[str, Handler]:
    async def on_audit_passed(session: AsyncSession, _envelope: EventEnvelope, data: EventData) -> None:
        assert isinstance(data, AuditPassed)
        await service.issue_for_audit(session, data, settings)

    return {AuditPassed.event_type: on_audit_passed}
