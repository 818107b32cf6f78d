"""Partners' subscriptions and their delivery logs: create, list, read, delete, replay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_notifications.domain.signing import new_secret
from gradops_notifications.domain.webhooks import clean_id, escaped, new_id, validate_event_types
from gradops_notifications.errors import WEBHOOK_CURSOR_INVALID, WEBHOOK_NOT_FOUND
from gradops_notifications.repository import NotificationsRepository
from gradops_shared.errors import GradOpsError
from gradops_shared.principal import Principal


def _after(cursor: str | None) -> str | None:
    """The position a `next_cursor` of these lists names (the last id of the previous page)."""
    if cursor is None:
        return None
    if not clean_id(cursor):
        raise WEBHOOK_CURSOR_INVALID(
            "The cursor is not one this endpoint gave out; pass `next_cursor` of the previous page.",
            message_zh="分页游标无效",
        )
    return cursor


def _not_found(what: str) -> GradOpsError:
    return WEBHOOK_NOT_FOUND(f"No webhook {what}.", message_zh="事件推送订阅不存在")


def _delivery_out(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    if out["status"] != "pending":
        out["next_attempt_at"] = None
    return out


async def create_subscription(
    session: AsyncSession, principal: Principal, *, url: str, event_types: list[str], description: str | None
) -> dict[str, Any]:
    record = {
        "id": new_id("wh"),
        "url": url,
        "event_types": validate_event_types(event_types),
        "secret": new_secret(),
        "owner_key_id": principal.key_id or principal.subject,
        "centres": None if principal.centres is None else sorted(principal.centres),
        "description": description,
        "active": True,
        "created_at": datetime.now(UTC),
        "created_by": principal.subject,
    }
    repo = NotificationsRepository(session)
    await repo.add_subscription(record)
    await repo.flush()
    return record


async def list_subscriptions(
    session: AsyncSession, principal: Principal, *, limit: int, after: str | None
) -> list[dict[str, Any]]:
    return await NotificationsRepository(session).subscriptions(principal, limit=limit, after=_after(after))


async def get_subscription(
    session: AsyncSession, principal: Principal, subscription_id: str, *, deleted_too: bool = False
) -> dict[str, Any]:
    """A deleted subscription is gone (404) except for its delivery log (`deleted_too`)."""
    if not clean_id(subscription_id):
        raise _not_found(escaped(subscription_id, 80))
    row = await NotificationsRepository(session).subscription(principal, subscription_id)
    if row is None or not (deleted_too or row["active"]):
        raise _not_found(subscription_id)
    return row


async def deactivate_subscription(session: AsyncSession, principal: Principal, subscription_id: str) -> None:
    """Idempotent: deleting a deleted subscription again is a 204 too (a retried DELETE)."""
    await get_subscription(session, principal, subscription_id, deleted_too=True)
    repo = NotificationsRepository(session)
    await repo.deactivate(subscription_id)
    await repo.flush()


async def list_deliveries(
    session: AsyncSession,
    principal: Principal,
    subscription_id: str,
    *,
    status: str | None,
    limit: int,
    after: str | None,
) -> list[dict[str, Any]]:
    await get_subscription(session, principal, subscription_id, deleted_too=True)
    rows = await NotificationsRepository(session).deliveries(
        subscription_id, status=status, limit=limit, after=_after(after)
    )
    return [_delivery_out(r) for r in rows]


async def get_delivery(
    session: AsyncSession, principal: Principal, subscription_id: str, delivery_id: str
) -> dict[str, Any]:
    """The delivery with every attempt: when, HTTP status or error, duration, the retry it scheduled."""
    await get_subscription(session, principal, subscription_id, deleted_too=True)
    if not clean_id(delivery_id):
        raise _not_found("delivery " + escaped(delivery_id, 80))
    repo = NotificationsRepository(session)
    row = await repo.delivery(subscription_id, delivery_id)
    if row is None:
        raise _not_found(f"delivery {delivery_id}")
    out = _delivery_out(row)
    out["attempt_log"] = await repo.attempts(delivery_id)
    return out


async def replay_delivery(
    session: AsyncSession,
    principal: Principal,
    subscription_id: str,
    delivery_id: str,
    retry_window: timedelta,
) -> dict[str, Any]:
    """Sends the delivery again (whatever its state), with a fresh retry window."""
    await get_delivery(session, principal, subscription_id, delivery_id)
    now = datetime.now(UTC)
    repo = NotificationsRepository(session)
    await repo.reschedule(
        delivery_id, status="pending", next_attempt_at=now, give_up_at=now + retry_window, delivered_at=None
    )
    await repo.flush()
    return await get_delivery(session, principal, subscription_id, delivery_id)
