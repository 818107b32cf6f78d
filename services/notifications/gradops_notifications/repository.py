"""Every query of the notifications service: subscriptions, deliveries and attempts, the student ->
centre projection and the timeline."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, true, update

from gradops_notifications.models import (
    student_centres,
    timeline_entries,
    webhook_attempts,
    webhook_deliveries,
    webhook_subscriptions,
)
from gradops_shared.db import Repository
from gradops_shared.principal import Principal

subs = webhook_subscriptions
deliveries = webhook_deliveries
entries = timeline_entries


def _visible(principal: Principal) -> Any:
    """Admin keys see every subscription; others only those their own key created."""
    return true() if principal.has("admin") else subs.c.owner_key_id == (principal.key_id or "")


class NotificationsRepository(Repository):
    # ------------------------------------------------------------------ student -> centre

    async def centre_of(self, student_no: str) -> str | None:
        query = select(student_centres.c.learning_centre).where(student_centres.c.student_no == student_no)
        centre: str | None = (await self.session.execute(query)).scalar_one_or_none()
        return centre

    async def remember_centre(self, student_no: str, centre: str, now: datetime) -> None:
        updated = await self.session.execute(
            update(student_centres)
            .where(student_centres.c.student_no == student_no)
            .values(learning_centre=centre, updated_at=now)
        )
        if not getattr(updated, "rowcount", 0):
            await self.session.execute(
                student_centres.insert().values(student_no=student_no, learning_centre=centre, updated_at=now)
            )

    # ------------------------------------------------------------------ subscriptions

    async def add_subscription(self, record: dict[str, Any]) -> None:
        await self.session.execute(subs.insert().values(**record))

    async def subscriptions(
        self, principal: Principal, *, limit: int, after: str | None
    ) -> list[dict[str, Any]]:
        query = (
            select(subs).where(_visible(principal), subs.c.active.is_(True)).order_by(subs.c.id).limit(limit)
        )
        if after:
            query = query.where(subs.c.id > after)
        return [dict(r._mapping) for r in (await self.session.execute(query)).all()]

    async def subscription(self, principal: Principal, subscription_id: str) -> dict[str, Any] | None:
        query = select(subs).where(subs.c.id == subscription_id, _visible(principal))
        row = (await self.session.execute(query)).first()
        return None if row is None else dict(row._mapping)

    async def deactivate(self, subscription_id: str) -> None:
        await self.session.execute(update(subs).where(subs.c.id == subscription_id).values(active=False))

    async def active_subscriptions(self) -> list[dict[str, Any]]:
        query = select(subs).where(subs.c.active.is_(True))
        return [dict(r._mapping) for r in (await self.session.execute(query)).all()]

    # ------------------------------------------------------------------ deliveries

    async def add_delivery(self, record: dict[str, Any]) -> None:
        await self.session.execute(deliveries.insert().values(**record))

    async def deliveries(
        self, subscription_id: str, *, status: str | None, limit: int, after: str | None
    ) -> list[dict[str, Any]]:
        query = (
            select(deliveries)
            .where(deliveries.c.subscription_id == subscription_id)
            .order_by(deliveries.c.id)
            .limit(limit)
        )
        if status:
            query = query.where(deliveries.c.status == status)
        if after:
            query = query.where(deliveries.c.id > after)
        return [dict(r._mapping) for r in (await self.session.execute(query)).all()]

    async def delivery(self, subscription_id: str, delivery_id: str) -> dict[str, Any] | None:
        query = select(deliveries).where(
            deliveries.c.id == delivery_id, deliveries.c.subscription_id == subscription_id
        )
        row = (await self.session.execute(query)).first()
        return None if row is None else dict(row._mapping)

    async def attempts(self, delivery_id: str) -> list[dict[str, Any]]:
        query = (
            select(webhook_attempts)
            .where(webhook_attempts.c.delivery_id == delivery_id)
            .order_by(webhook_attempts.c.attempt)
        )
        return [dict(a._mapping) for a in (await self.session.execute(query)).all()]

    async def reschedule(self, delivery_id: str, **values: Any) -> None:
        await self.session.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(**values))

    async def due(
        self, *, now: datetime, limit: int, busy_subscriptions: Iterable[str]
    ) -> list[dict[str, Any]]:
        """Due deliveries of active subscriptions, locked (skipping rows another worker holds)."""
        query = (
            select(deliveries, subs.c.url, subs.c.secret)
            .join(subs, subs.c.id == deliveries.c.subscription_id)
            .where(
                deliveries.c.status == "pending",
                deliveries.c.next_attempt_at <= now,
                subs.c.active.is_(True),
            )
            .order_by(deliveries.c.next_attempt_at)
            .limit(limit)
            .with_for_update(of=deliveries, skip_locked=True)
        )
        busy = list(busy_subscriptions)
        if busy:
            query = query.where(deliveries.c.subscription_id.not_in(busy))
        return [dict(r._mapping) for r in (await self.session.execute(query)).all()]

    async def lease(self, delivery_ids: list[str], until: datetime) -> None:
        if delivery_ids:
            await self.session.execute(
                update(deliveries).where(deliveries.c.id.in_(delivery_ids)).values(next_attempt_at=until)
            )

    async def last_attempt_number(self, delivery_id: str) -> int:
        query = select(func.coalesce(func.max(webhook_attempts.c.attempt), 0)).where(
            webhook_attempts.c.delivery_id == delivery_id
        )
        return int((await self.session.execute(query)).scalar_one())

    async def add_attempt(self, record: dict[str, Any]) -> None:
        await self.session.execute(webhook_attempts.insert().values(**record))

    # ------------------------------------------------------------------ timeline

    async def has_timeline_entry(self, event_id: str) -> bool:
        query = select(entries.c.id).where(entries.c.event_id == event_id)
        return (await self.session.execute(query)).first() is not None

    async def add_timeline_entry(self, record: dict[str, Any]) -> None:
        await self.session.execute(entries.insert().values(**record))

    async def timeline(
        self,
        student_no: str,
        *,
        limit: int,
        event_types: list[str] | None,
        after: tuple[datetime, int] | None,
    ) -> list[dict[str, Any]]:
        """In the order things happened (occurred_at, then arrival), after the cursor's position."""
        query = (
            select(entries)
            .where(entries.c.student_no == student_no)
            .order_by(entries.c.occurred_at, entries.c.id)
            .limit(limit)
        )
        if event_types:
            query = query.where(entries.c.event_type.in_(event_types))
        if after is not None:
            after_at, after_id = after
            query = query.where(
                or_(
                    entries.c.occurred_at > after_at,
                    and_(entries.c.occurred_at == after_at, entries.c.id > after_id),
                )
            )
        return [dict(r._mapping) for r in (await self.session.execute(query)).all()]

    async def has_timeline(self, student_no: str) -> bool:
        query = select(entries.c.id).where(entries.c.student_no == student_no).limit(1)
        return (await self.session.execute(query)).first() is not None
