"""Events the audit consumes; each re-audits the affected student at once."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_audit import service
from gradops_audit.settings import AuditSettings
from gradops_shared.consumer import Handler
from gradops_shared.contracts import (
    TOPICS,
    EventData,
    EventEnvelope,
    PhotoApproved,
    StudentRegistered,
    StudentSnapshot,
    StudentStatusChanged,
    StudentUpdated,
)

CONSUMES = (TOPICS["registry"], TOPICS["photo"])


def handlers(settings: AuditSettings) -> Mapping[str, Handler]:
    async def on_student(session: AsyncSession, _envelope: EventEnvelope, data: EventData) -> None:
        assert isinstance(data, StudentSnapshot)
        await service.apply_student_snapshot(session, data, settings)

    async def on_status_changed(session: AsyncSession, _envelope: EventEnvelope, data: EventData) -> None:
        assert isinstance(data, StudentStatusChanged)
        await service.apply_status_change(session, data, settings)

    async def on_photo_approved(session: AsyncSession, _envelope: EventEnvelope, data: EventData) -> None:
        assert isinstance(data, PhotoApproved)
        await service.apply_photo_approved(session, data, settings)

    return {
        StudentRegistered.event_type: on_student,
        StudentUpdated.event_type: on_student,
        StudentStatusChanged.event_type: on_status_changed,
        PhotoApproved.event_type: on_photo_approved,
    }
