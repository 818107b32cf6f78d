"""Webhook subscriptions and deliveries in the gateway's database."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_gateway.models import (
    student_centres,
    webhook_attempts,
    webhook_deliveries,
    webhook_subscriptions,
)
from gradops_gateway.webhooks.signing import new_secret
from gradops_gateway.webhooks.targets import TargetRefused, guard_of
from gradops_shared.contracts import EVENT_TYPES, EventEnvelope
from gradops_shared.errors import InvalidInput, NotFound
from gradops_shared.principal import Principal
from gradops_shared.text import is_clean_identifier

ALL_EVENTS = "*"
subs = webhook_subscriptions
deliveries = webhook_deliveries


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"


def validate_event_types(event_types: Iterable[str]) -> list[str]:
    chosen = sorted(set(event_types))
    if ALL_EVENTS in chosen:
        return [ALL_EVENTS]
    unknown = [t.encode("unicode_escape").decode()[:100] for t in chosen if t not in EVENT_TYPES][:20]
    if unknown:
        raise InvalidInput(
            f"Unknown event type(s): {', '.join(unknown)}; "
            f"choose from {', '.join(sorted(EVENT_TYPES))} or *.",
            code="webhook.event_type_unknown",
            message_zh="事件类型无效",
            extra={"known_event_types": sorted(EVENT_TYPES)},
        )
    return chosen


def _visible(principal: Principal) -> Any:
    """Admin keys see every subscription; others only those their own key created."""
    return true() if principal.has("admin") else subs.c.owner_key_id == (principal.key_id or "")


def _clean_id(value: str) -> bool:
    """Ids we hand out are short ASCII (`wh_…`, `dl_…`): anything else (a NUL that PostgreSQL
    refuses, a control character, megabytes) names nothing and must not reach the database."""
    return len(value) <= 64 and value.isascii() and is_clean_identifier(value)


def _after(cursor: str | None) -> str | None:
    """The position a `next_cursor` of these lists names (the last id of the previous page)."""
    if cursor is None:
        return None
    if not _clean_id(cursor):
        raise InvalidInput(
            "The cursor is not one this endpoint gave out; pass `next_cursor` of the previous page.",
            code="webhook.cursor_invalid",
            message_zh="分页游标无效",
        )
    return cursor


def _not_found(what: str) -> NotFound:
    return NotFound(f"No webhook {what}.", code="webhook.not_found", message_zh="事件推送订阅不存在")


async def check_target(app_state: Any, url: str) -> None:
    """A 422 for a URL the webhooks may not target (see `targets`), before anything is stored."""
    try:
        await guard_of(app_state).check_subscription(url)
    except TargetRefused as exc:
        raise exc.problem() from None


async def create_subscription(
    session: AsyncSession, principal: Principal, *, url: str, event_types: list[str], description: str | None
) -> dict[str, Any]:
    record = {
        "id": _new_id("wh"),
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
    await session.execute(subs.insert().values(**record))
    return record


async def list_subscriptions(
    session: AsyncSession, principal: Principal, *, limit: int, after: str | None
) -> list[dict[str, Any]]:
    after = _after(after)
    query = select(subs).where(_visible(principal), subs.c.active.is_(True)).order_by(subs.c.id).limit(limit)
    if after:
        query = query.where(subs.c.id > after)
    return [dict(r._mapping) for r in (await session.execute(query)).all()]


async def get_subscription(
    session: AsyncSession, principal: Principal, subscription_id: str, *, deleted_too: bool = False
) -> dict[str, Any]:
    """A deleted subscription is gone (404) except for its delivery log (`deleted_too`)."""
    if not _clean_id(subscription_id):
        raise _not_found(subscription_id.encode("unicode_escape").decode()[:80])
    row = (
        await session.execute(select(subs).where(subs.c.id == subscription_id, _visible(principal)))
    ).first()
    if row is None or not (deleted_too or row.active):
        raise _not_found(subscription_id)
    return dict(row._mapping)


async def deactivate_subscription(session: AsyncSession, principal: Principal, subscription_id: str) -> None:
    """Idempotent: deleting a deleted subscription again is a 204 too (a retried DELETE)."""
    await get_subscription(session, principal, subscription_id, deleted_too=True)
    await session.execute(update(subs).where(subs.c.id == subscription_id).values(active=False))


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
    after = _after(after)
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
    return [_delivery_out(r._mapping) for r in (await session.execute(query)).all()]


def _delivery_out(row: Any) -> dict[str, Any]:
    out = dict(row)
    if out["status"] != "pending":
        out["next_attempt_at"] = None
    return out


async def get_delivery(
    session: AsyncSession, principal: Principal, subscription_id: str, delivery_id: str
) -> dict[str, Any]:
    await get_subscription(session, principal, subscription_id, deleted_too=True)
    if not _clean_id(delivery_id):
        raise _not_found("delivery " + delivery_id.encode("unicode_escape").decode()[:80])
    row = (
        await session.execute(
            select(deliveries).where(
                deliveries.c.id == delivery_id, deliveries.c.subscription_id == subscription_id
            )
        )
    ).first()
    if row is None:
        raise _not_found(f"delivery {delivery_id}")
    out = _delivery_out(row._mapping)
    attempts = (
        await session.execute(
            select(webhook_attempts)
            .where(webhook_attempts.c.delivery_id == delivery_id)
            .order_by(webhook_attempts.c.attempt)
        )
    ).all()
    out["attempt_log"] = [dict(a._mapping) for a in attempts]
    return out


async def replay_delivery(
    session: AsyncSession,
    principal: Principal,
    subscription_id: str,
    delivery_id: str,
    retry_window: timedelta,
) -> dict[str, Any]:
    """Sends the delivery again (whatever its state), with a fresh 24-hour retry window."""
    await get_delivery(session, principal, subscription_id, delivery_id)
    now = datetime.now(UTC)
    await session.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id)
        .values(status="pending", next_attempt_at=now, give_up_at=now + retry_window, delivered_at=None)
    )
    return await get_delivery(session, principal, subscription_id, delivery_id)


# ------------------------------------------------------------------------------- worker side


async def remember_centre(session: AsyncSession, student_no: str, centre: str) -> None:
    now = datetime.now(UTC)
    updated = await session.execute(
        update(student_centres)
        .where(student_centres.c.student_no == student_no)
        .values(learning_centre=centre, updated_at=now)
    )
    if not getattr(updated, "rowcount", 0):
        await session.execute(
            student_centres.insert().values(student_no=student_no, learning_centre=centre, updated_at=now)
        )


async def create_deliveries(
    session: AsyncSession, envelope: EventEnvelope, payload: bytes, retry_window: timedelta
) -> int:
    """One pending delivery per active subscription that wants this event and may see its student."""
    centre = (
        await session.execute(
            select(student_centres.c.learning_centre).where(
                student_centres.c.student_no == envelope.student_no
            )
        )
    ).scalar_one_or_none()
    now = datetime.now(UTC)
    created = 0
    for sub in (await session.execute(select(subs).where(subs.c.active.is_(True)))).all():
        if ALL_EVENTS not in sub.event_types and envelope.type not in sub.event_types:
            continue
        if sub.centres is not None and (centre is None or centre not in sub.centres):
            continue  # a centre's subscription never hears of another centre's (or an unknown) student
        await session.execute(
            deliveries.insert().values(
                id=_new_id("dl"),
                subscription_id=sub.id,
                event_id=str(envelope.event_id),
                event_type=envelope.type,
                student_no=envelope.student_no,
                payload=payload,
                request_id=envelope.request_id,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                give_up_at=now + retry_window,
                created_at=now,
            )
        )
        created += 1
    return created


async def claim_due(
    session: AsyncSession, *, limit: int, busy_subscriptions: Iterable[str], lease: timedelta
) -> list[dict[str, Any]]:
    """Due deliveries of active subscriptions that have a free slot, leased so that another worker
    (or this one after a crash) takes them only when the lease runs out."""
    now = datetime.now(UTC)
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
    rows = [dict(r._mapping) for r in (await session.execute(query)).all()]
    if rows:
        await session.execute(
            update(deliveries)
            .where(deliveries.c.id.in_([r["id"] for r in rows]))
            .values(next_attempt_at=now + lease)
        )
    return rows


async def record_attempt(
    session: AsyncSession,
    delivery: dict[str, Any],
    *,
    status_code: int | None,
    error: str | None,
    duration_ms: int,
    retry_in: timedelta | None,
) -> str:
    """Logs the attempt and decides what next: delivered on 2xx; otherwise retried `retry_in` after
    this attempt (recorded on the attempt, so the schedule can be read back) while that is within
    the delivery's retry window; failed when it is not or when `retry_in` is None (a refused target)."""
    now = datetime.now(UTC)
    attempt = (
        int(
            (
                await session.execute(
                    select(func.coalesce(func.max(webhook_attempts.c.attempt), 0)).where(
                        webhook_attempts.c.delivery_id == delivery["id"]
                    )
                )
            ).scalar_one()
        )
        + 1
    )
    ok = status_code is not None and 200 <= status_code < 300
    next_attempt_at = None if ok or retry_in is None else now + retry_in
    if ok:
        status, next_at = "delivered", now
    elif next_attempt_at is not None and next_attempt_at < delivery["give_up_at"]:
        status, next_at = "pending", next_attempt_at
    else:
        status, next_at, next_attempt_at = "failed", now, None
    await session.execute(
        webhook_attempts.insert().values(
            delivery_id=delivery["id"],
            attempt=attempt,
            attempted_at=now,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
            next_attempt_at=next_attempt_at,
        )
    )
    await session.execute(
        update(deliveries)
        .where(and_(deliveries.c.id == delivery["id"]))
        .values(
            status=status,
            attempts=attempt,
            next_attempt_at=next_at,
            last_status_code=status_code,
            last_error=error,
            delivered_at=now if ok else None,
        )
    )
    return status
