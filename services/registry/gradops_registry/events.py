"""The registry's events. Consumed: CertificateIssued (a diploma sets the student to 毕业).
Emitted (through the outbox, by the use cases in `service/`): the record's snapshot when it is
registered or updated, its status changes, prior-education review steps and identity flags."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_registry.service.status import mark_graduated
from gradops_shared.consumer import Handler
from gradops_shared.contracts import (
    TOPICS,
    CertificateIssued,
    EventData,
    EventEnvelope,
    IdentityFlagChanged,
    PriorEducationReviewed,
    StudentRegistered,
    StudentStatusChanged,
    StudentUpdated,
)

CONSUMES = (TOPICS["certificates"],)
EMITS: tuple[type[EventData], ...] = (
    StudentRegistered,
    StudentUpdated,
    StudentStatusChanged,
    PriorEducationReviewed,
    IdentityFlagChanged,
)


async def on_certificate_issued(session: AsyncSession, _envelope: EventEnvelope, data: EventData) -> None:
    """Runs in the consumer's unit of work (the inbox row and the effect commit together)."""
    assert isinstance(data, CertificateIssued)
    if data.kind != "diploma":  # a degree certificate (学位证书) does not change the 学籍 status
        return
    await mark_graduated(session, data.student_no, certificate_number=data.number, on=data.graduation_date)


def handlers(_settings: object) -> Mapping[str, Handler]:
    return {CertificateIssued.event_type: on_certificate_issued}
