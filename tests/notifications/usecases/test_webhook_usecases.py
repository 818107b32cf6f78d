"""Subscriptions, fan-out of events into deliveries, the dispatcher's claim and the record of each
attempt, called as use cases on PostgreSQL (rolled back per test)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_notifications import events
from gradops_notifications.models import webhook_deliveries, webhook_subscriptions
from gradops_notifications.service import delivery, webhooks
from gradops_notifications.settings import NotificationsSettings
from gradops_shared.contracts import EventEnvelope, StudentRegistered, StudentStatusChanged
from gradops_shared.errors import InvalidInput, NotFound
from gradops_shared.principal import Principal
from tests.notifications.usecases.conftest import number, partner, registered, suspended
from tests.support.databases import RolledBack

WINDOW = timedelta(hours=24)


async def subscribe(session: AsyncSession, principal: Principal, event_types: list[str]) -> dict[str, Any]:
    return await webhooks.create_subscription(
        session, principal, url="https://lms.example.edu.cn/hook", event_types=event_types, description=None
    )


async def on_event(session: AsyncSession, envelope: EventEnvelope) -> None:
    """What the consumer does with one event (the handler the service definition declares)."""
    handler = events.handlers(NotificationsSettings())[envelope.type]
    contract = StudentRegistered if envelope.type == "StudentRegistered" else StudentStatusChanged
    await handler(session, envelope, contract.model_validate(envelope.data))


def ids(rows: list[dict[str, Any]]) -> set[str]:
    return {r["id"] for r in rows}


async def test_a_subscription_is_its_owners_and_a_deleted_one_keeps_its_log(rolled_back: RolledBack) -> None:
    async with rolled_back("notifications") as session:
        owner, other, admin = partner(), partner(), partner("admin")
        created = await subscribe(session, owner, ["StudentRegistered", "PhotoApproved", "PhotoApproved"])
        assert created["event_types"] == ["PhotoApproved", "StudentRegistered"]
        assert created["secret"].startswith("whsec_") and created["owner_key_id"] == owner.key_id
        assert created["id"] in ids(await webhooks.list_subscriptions(session, owner, limit=500, after=None))
        assert created["id"] in ids(await webhooks.list_subscriptions(session, admin, limit=500, after=None))
        assert created["id"] not in ids(
            await webhooks.list_subscriptions(session, other, limit=500, after=None)
        )
        with pytest.raises(NotFound):
            await webhooks.get_subscription(session, other, created["id"])

        await webhooks.deactivate_subscription(session, owner, created["id"])
        await webhooks.deactivate_subscription(session, owner, created["id"])  # a retried DELETE
        with pytest.raises(NotFound) as gone:
            await webhooks.get_subscription(session, owner, created["id"])
        assert gone.value.code == "webhook.not_found"
        assert (
            await webhooks.list_deliveries(session, owner, created["id"], status=None, limit=10, after=None)
            == []
        )


async def test_unknown_event_types_and_foreign_cursors_are_refused(rolled_back: RolledBack) -> None:
    async with rolled_back("notifications") as session:
        with pytest.raises(InvalidInput) as unknown:
            await subscribe(session, partner(), ["StudentRegistered", "Nope"])
        assert unknown.value.code == "webhook.event_type_unknown" and unknown.value.status == 422
        with pytest.raises(InvalidInput) as cursor:
            await webhooks.list_subscriptions(session, partner(), limit=10, after="wh_\x00")
        assert cursor.value.code == "webhook.cursor_invalid"
        count = select(func.count()).select_from(webhook_subscriptions)
        assert (await session.execute(count)).scalar_one() == 0


async def test_an_event_becomes_one_delivery_per_subscription_that_may_hear_of_it(
    rolled_back: RolledBack,
) -> None:
    async with rolled_back("notifications") as session:
        everything = await subscribe(session, partner(), ["*"])
        registrations = await subscribe(session, partner(), ["StudentRegistered"])
        photos = await subscribe(session, partner(), ["PhotoApproved"])
        same_centre = await subscribe(session, partner(centres={"5135701"}), ["*"])
        other_centre = await subscribe(session, partner(centres={"5135799"}), ["*"])
        student = number()

        await on_event(session, registered(student, "5135701"))

        rows = (await session.execute(select(webhook_deliveries))).all()
        heard = {r.subscription_id for r in rows}
        assert heard == {everything["id"], registrations["id"], same_centre["id"]}
        assert photos["id"] not in heard and other_centre["id"] not in heard
        assert all(r.status == "pending" and r.attempts == 0 and r.student_no == student for r in rows)

        # The next event of that student: the centre is known now, a status change reaches "*" only.
        await on_event(session, suspended(student))
        second = {
            r.subscription_id
            for r in (await session.execute(select(webhook_deliveries))).all()
            if r.event_type == "StudentStatusChanged"
        }
        assert second == {everything["id"], same_centre["id"]}


async def test_a_claimed_delivery_is_leased_and_each_attempt_schedules_the_next(
    rolled_back: RolledBack,
) -> None:
    async with rolled_back("notifications") as session:
        owner = partner()
        hook = await subscribe(session, owner, ["StudentRegistered"])
        await delivery.create_deliveries(session, registered(number()), b"{}", timedelta(seconds=30))

        claimed = await delivery.claim_due(
            session, limit=10, busy_subscriptions=[], lease=timedelta(seconds=60)
        )
        mine = [row for row in claimed if row["subscription_id"] == hook["id"]]
        assert len(mine) == 1 and mine[0]["url"] == "https://lms.example.edu.cn/hook"
        again = await delivery.claim_due(
            session, limit=10, busy_subscriptions=[], lease=timedelta(seconds=60)
        )
        assert mine[0]["id"] not in {row["id"] for row in again}  # leased

        row = mine[0]
        status = await delivery.record_attempt(
            session, row, status_code=500, error="HTTP 500", duration_ms=12, retry_in=timedelta(seconds=10)
        )
        assert status == "pending"
        detail = await webhooks.get_delivery(session, owner, hook["id"], row["id"])
        first = detail["attempt_log"][0]
        assert first["attempt"] == 1 and first["status_code"] == 500
        # The schedule as computed: the retry 10 s after the attempt, and the delivery due then.
        assert first["next_attempt_at"] - first["attempted_at"] == timedelta(seconds=10)
        assert detail["next_attempt_at"] == first["next_attempt_at"] and detail["attempts"] == 1

        # A retry that would fall outside the 30 s window: given up.
        status = await delivery.record_attempt(
            session, row, status_code=None, error="timeout", duration_ms=5, retry_in=timedelta(seconds=40)
        )
        assert status == "failed"
        detail = await webhooks.get_delivery(session, owner, hook["id"], row["id"])
        assert detail["status"] == "failed" and detail["next_attempt_at"] is None
        assert detail["attempt_log"][-1]["next_attempt_at"] is None and detail["attempts"] == 2

        # Replayed: pending again with a fresh window, then delivered.
        replayed = await webhooks.replay_delivery(session, owner, hook["id"], row["id"], WINDOW)
        assert replayed["status"] == "pending" and replayed["give_up_at"] > datetime.now(UTC) + WINDOW / 2
        assert (
            await delivery.record_attempt(
                session,
                {**row, "give_up_at": replayed["give_up_at"]},
                status_code=204,
                error=None,
                duration_ms=3,
                retry_in=timedelta(seconds=10),
            )
            == "delivered"
        )
        detail = await webhooks.get_delivery(session, owner, hook["id"], row["id"])
        assert detail["delivered_at"] is not None and len(detail["attempt_log"]) == 3


async def test_a_refused_target_is_given_up_at_once(rolled_back: RolledBack) -> None:
    async with rolled_back("notifications") as session:
        owner = partner()
        hook = await subscribe(session, owner, ["*"])
        await delivery.create_deliveries(session, registered(number()), b"{}", WINDOW)
        row = next(
            r
            for r in await delivery.claim_due(session, limit=50, busy_subscriptions=[], lease=timedelta(60))
            if r["subscription_id"] == hook["id"]
        )
        status = await delivery.record_attempt(
            session,
            row,
            status_code=None,
            error="refused: webhook.target_forbidden (loopback)",
            duration_ms=1,
            retry_in=None,
        )
        assert status == "failed"
