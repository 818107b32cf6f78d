"""The student timeline: one entry per event (written by the consumer), read a page at a time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_notifications.domain.summaries import summarise, visible_data
from gradops_notifications.domain.timeline import (
    check_event_types,
    entry_out,
    names_a_student,
    student_not_found,
)
from gradops_notifications.domain.webhooks import escaped
from gradops_notifications.errors import TIMELINE_CURSOR_INVALID
from gradops_notifications.repository import NotificationsRepository
from gradops_shared.contracts import EventEnvelope
from gradops_shared.paging import position_cursor, read_position
from gradops_shared.principal import Principal


async def record(session: AsyncSession, envelope: EventEnvelope) -> None:
    """One entry per event. The consumer's inbox already skips a redelivered event; the unique
    event id is the second guard (a replay by another path inserts nothing)."""
    repo = NotificationsRepository(session)
    if await repo.has_timeline_entry(str(envelope.event_id)):
        return
    summary_zh, summary_en = summarise(envelope.type, envelope.data)
    await repo.add_timeline_entry(
        {
            "event_id": str(envelope.event_id),
            "student_no": envelope.student_no,
            "occurred_at": envelope.occurred_at,
            "event_type": envelope.type,
            "producer": envelope.producer,
            "summary_zh": summary_zh,
            "summary_en": summary_en,
            "data": visible_data(envelope.data),
            "request_id": envelope.request_id,
            "recorded_at": datetime.now(UTC),
        }
    )
    await repo.flush()


def _position(cursor: str) -> tuple[datetime, int]:
    """The (occurred_at, entry id) a `next_cursor` names, or 422 `timeline.cursor_invalid`."""
    at, entry_id = read_position(cursor, TIMELINE_CURSOR_INVALID)
    if not entry_id.isdigit() or not 0 < int(entry_id) < 2**63:
        raise TIMELINE_CURSOR_INVALID(
            "The cursor is not one this endpoint gave out; pass `next_cursor` of the previous page.",
            message_zh="分页游标无效",
        )
    return at, int(entry_id)


async def page(
    session: AsyncSession,
    principal: Principal,
    student_no: str,
    *,
    limit: int,
    cursor: str | None,
    event_types: list[str] | None = None,
) -> dict[str, Any]:
    """One page in the order things happened (occurred_at, then arrival). A centre-bound key gets
    404 for a student of another centre or whose centre is not known yet."""
    check_event_types(event_types)
    if not names_a_student(student_no):
        raise student_not_found(escaped(student_no, 80))  # no such number
    repo = NotificationsRepository(session)
    centre = await repo.centre_of(student_no)
    not_found = student_not_found(student_no)
    principal.ensure_sees(centre, not_found)
    after = _position(cursor) if cursor else None
    rows = await repo.timeline(student_no, limit=limit, event_types=event_types, after=after)
    if not rows and cursor is None and centre is None and not await repo.has_timeline(student_no):
        # Nothing known of this student at all (no event, no centre): the same answer as for a
        # student outside the caller's reach.
        raise not_found
    last = rows[-1] if len(rows) == limit else None
    return {
        "student_no": student_no,
        "learning_centre": centre,
        "items": [entry_out(row) for row in rows],
        "next_cursor": position_cursor(last["occurred_at"], str(last["id"])) if last else None,
    }
