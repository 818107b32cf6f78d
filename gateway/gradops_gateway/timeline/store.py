"""Timeline entries in the gateway's database: written by the event worker, read by the endpoint."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_gateway.models import student_centres, timeline_entries
from gradops_gateway.timeline.summaries import summarise, visible_data
from gradops_shared.contracts import EVENT_TYPES, EventEnvelope
from gradops_shared.errors import InvalidInput, NotFound
from gradops_shared.principal import Principal
from gradops_shared.text import InvalidCursor, is_clean_identifier
from gradops_shared.text import decode_cursor as shared_decode_cursor
from gradops_shared.text import encode_cursor as shared_encode_cursor

entries = timeline_entries


async def record(session: AsyncSession, envelope: EventEnvelope) -> None:
    """One entry per event. The caller's inbox already skips a redelivered event; the unique
    event id is the second guard (a replay by another path inserts nothing)."""
    exists = (
        await session.execute(select(entries.c.id).where(entries.c.event_id == str(envelope.event_id)))
    ).first()
    if exists is not None:
        return
    summary_zh, summary_en = summarise(envelope.type, envelope.data)
    await session.execute(
        entries.insert().values(
            event_id=str(envelope.event_id),
            student_no=envelope.student_no,
            occurred_at=envelope.occurred_at,
            event_type=envelope.type,
            producer=envelope.producer,
            summary_zh=summary_zh,
            summary_en=summary_en,
            data=visible_data(envelope.data),
            request_id=envelope.request_id,
            recorded_at=datetime.now(UTC),
        )
    )


def encode_cursor(occurred_at: datetime, entry_id: int) -> str:
    return shared_encode_cursor(f"{occurred_at.isoformat()}|{entry_id}")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        at, entry_id = shared_decode_cursor(cursor).split("|")
        occurred_at = datetime.fromisoformat(at)
        if occurred_at.tzinfo is None:
            raise ValueError("naive")
        position = int(entry_id)
        if not 0 < position < 2**63:
            raise ValueError("out of range")
        return occurred_at, position
    except (InvalidCursor, ValueError) as exc:
        raise InvalidInput(
            "The cursor is not one this endpoint gave out; pass `next_cursor` of the previous page.",
            code="timeline.cursor_invalid",
            message_zh="分页游标无效",
        ) from exc


def check_event_types(event_types: list[str] | None) -> None:
    unknown = [
        t.encode("unicode_escape").decode()[:100] for t in sorted(set(event_types or ()) - set(EVENT_TYPES))
    ]
    if unknown:
        raise InvalidInput(
            f"Unknown event type(s): {', '.join(unknown)}; choose from {', '.join(sorted(EVENT_TYPES))}.",
            code="timeline.event_type_unknown",
            message_zh="事件类型无效",
            extra={"known_event_types": sorted(EVENT_TYPES)},
        )


def student_not_found(student_no: str) -> NotFound:
    return NotFound(
        f"No timeline for student {student_no}: unknown, outside your learning centres, or no event "
        "of theirs has arrived yet.",
        code="timeline.student_not_found",
        message_zh="学生不存在或不在您的学习中心范围内",
    )


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
    if len(student_no) > 64 or not is_clean_identifier(student_no):
        raise student_not_found(student_no.encode("unicode_escape").decode()[:80])  # no such number
    centre = (
        await session.execute(
            select(student_centres.c.learning_centre).where(student_centres.c.student_no == student_no)
        )
    ).scalar_one_or_none()
    not_found = student_not_found(student_no)
    principal.ensure_sees(centre, not_found)
    query = (
        select(entries)
        .where(entries.c.student_no == student_no)
        .order_by(entries.c.occurred_at, entries.c.id)
        .limit(limit)
    )
    if event_types:
        query = query.where(entries.c.event_type.in_(event_types))
    if cursor:
        after_at, after_id = decode_cursor(cursor)
        query = query.where(
            or_(
                entries.c.occurred_at > after_at,
                and_(entries.c.occurred_at == after_at, entries.c.id > after_id),
            )
        )
    rows = [r._mapping for r in (await session.execute(query)).all()]
    if not rows and cursor is None and centre is None:
        # Nothing known of this student at all (no event, no centre): the same answer as for a
        # student outside the caller's reach.
        known = (
            await session.execute(select(entries.c.id).where(entries.c.student_no == student_no).limit(1))
        ).first()
        if known is None:
            raise not_found
    items = [
        {
            "event_id": row["event_id"],
            "occurred_at": row["occurred_at"],
            "type": row["event_type"],
            "producer": row["producer"],
            "summary_zh": row["summary_zh"],
            "summary_en": row["summary_en"],
            "data": row["data"],
            "request_id": row["request_id"],
        }
        for row in rows
    ]
    next_cursor = encode_cursor(rows[-1]["occurred_at"], rows[-1]["id"]) if len(rows) == limit else None
    return {"student_no": student_no, "learning_centre": centre, "items": items, "next_cursor": next_cursor}
