"""Deliveries from events to partners: one pending delivery per subscription that wants an event,
claimed by the dispatcher when due, and the record of each attempt with what follows it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_notifications.domain.webhooks import attempt_outcome, new_id, wants
from gradops_notifications.repository import NotificationsRepository
from gradops_shared.contracts import EventEnvelope


async def remember_centre(session: AsyncSession, student_no: str, centre: str) -> None:
    """The student -> centre projection (registry snapshots) that decides who hears of whom."""
    await NotificationsRepository(session).remember_centre(student_no, centre, datetime.now(UTC))


async def create_deliveries(
    session: AsyncSession, envelope: EventEnvelope, payload: bytes, retry_window: timedelta
) -> int:
    """One pending delivery per active subscription that wants this event and may see its student."""
    repo = NotificationsRepository(session)
    centre = await repo.centre_of(envelope.student_no)
    now = datetime.now(UTC)
    created = 0
    for sub in await repo.active_subscriptions():
        if not wants(sub, envelope.type, centre):
            continue
        await repo.add_delivery(
            {
                "id": new_id("dl"),
                "subscription_id": sub["id"],
                "event_id": str(envelope.event_id),
                "event_type": envelope.type,
                "student_no": envelope.student_no,
                "payload": payload,
                "request_id": envelope.request_id,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "give_up_at": now + retry_window,
                "created_at": now,
            }
        )
        created += 1
    await repo.flush()
    return created


async def claim_due(
    session: AsyncSession, *, limit: int, busy_subscriptions: Iterable[str], lease: timedelta
) -> list[dict[str, Any]]:
    """Due deliveries of active subscriptions that have a free slot, leased so that another worker
    (or this one after a crash) takes them only when the lease runs out."""
    repo = NotificationsRepository(session)
    now = datetime.now(UTC)
    rows = await repo.due(now=now, limit=limit, busy_subscriptions=busy_subscriptions)
    await repo.lease([r["id"] for r in rows], now + lease)
    await repo.flush()
    return rows


async def give_back(session: AsyncSession, delivery_id: str) -> None:
    """A claimed delivery over its subscription's share in this batch: due again now."""
    repo = NotificationsRepository(session)
    await repo.reschedule(delivery_id, next_attempt_at=datetime.now(UTC))
    await repo.flush()


async def record_attempt(
    session: AsyncSession,
    delivery: dict[str, Any],
    *,
    status_code: int | None,
    error: str | None,
    duration_ms: int,
    retry_in: timedelta | None,
) -> str:
    """Logs the attempt and what follows it (see `attempt_outcome`); the retry it scheduled is
    recorded on the attempt, so the backoff schedule can be read back. Returns the new status."""
    repo = NotificationsRepository(session)
    now = datetime.now(UTC)
    attempt = await repo.last_attempt_number(delivery["id"]) + 1
    outcome = attempt_outcome(status_code, retry_in, now, delivery["give_up_at"])
    await repo.add_attempt(
        {
            "delivery_id": delivery["id"],
            "attempt": attempt,
            "attempted_at": now,
            "status_code": status_code,
            "error": error,
            "duration_ms": duration_ms,
            "next_attempt_at": outcome.scheduled_retry,
        }
    )
    await repo.reschedule(
        delivery["id"],
        status=outcome.status,
        attempts=attempt,
        next_attempt_at=outcome.due_at,
        last_status_code=status_code,
        last_error=error,
        delivered_at=now if outcome.status == "delivered" else None,
    )
    await repo.flush()
    return outcome.status
