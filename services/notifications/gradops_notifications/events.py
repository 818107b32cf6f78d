"""What notifications consumes: every event of the four services' topics (one inbox, one
transaction per event), turned into webhook deliveries and a timeline entry. It emits nothing
(its outbox is there for the day it does)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_notifications.service import delivery, timeline
from gradops_notifications.settings import NotificationsSettings
from gradops_shared.consumer import Handler
from gradops_shared.contracts import EVENT_TYPES, TOPICS, EventData, EventEnvelope, StudentSnapshot

CONSUMES = tuple(TOPICS.values())
EMITS: tuple[str, ...] = ()


def handlers(settings: NotificationsSettings) -> Mapping[str, Handler]:
    window = timedelta(hours=settings.webhook_retry_hours)

    async def on_event(session: AsyncSession, envelope: EventEnvelope, data: EventData) -> None:
        if isinstance(data, StudentSnapshot):
            await delivery.remember_centre(session, data.student_no, data.learning_centre)
        await delivery.create_deliveries(session, envelope, envelope.model_dump_json().encode(), window)
        # The student timeline is fed by the same consumer: one inbox, one transaction per event.
        await timeline.record(session, envelope)

    return {event_type: on_event for event_type in EVENT_TYPES}
