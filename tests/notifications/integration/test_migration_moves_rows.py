"""Upgrading an installation whose gateway schema holds webhooks and the timeline: the notifications
history copies them (subscriptions with their secrets, deliveries, attempts, the centre projection,
the timeline, the inbox under the new consumer's name), then the gateway's drops them. The
downgrades run too: the gateway's recreates its (empty) tables."""

from __future__ import annotations

import asyncio

import asyncpg
from alembic import command

from gradops_shared.migrations import alembic_config, upgrade
from tests.support.databases import fresh_database

ROWS = """
INSERT INTO gateway.webhook_subscriptions VALUES
  ('wh_00000000000000000001', 'https://lms.example.edu.cn/h', '["*"]', 'whsec_x', 'key_1', NULL, NULL,
   true, now(), 'hq');
INSERT INTO gateway.webhook_deliveries (id, subscription_id, event_id, event_type, student_no, payload,
  status, attempts, next_attempt_at, give_up_at, created_at)
  VALUES ('dl_00000000000000000001', 'wh_00000000000000000001', '00000000-0000-0000-0000-000000000001',
   'StudentRegistered', '2021000001', '\\x7b7d', 'pending', 1, now(), now() + interval '1 day', now());
INSERT INTO gateway.webhook_attempts (delivery_id, attempt, attempted_at, status_code, duration_ms,
  next_attempt_at) VALUES ('dl_00000000000000000001', 1, now(), 500, 12, now() + interval '10 seconds');
INSERT INTO gateway.student_centres VALUES ('2021000001', '5135701', now());
INSERT INTO gateway.timeline_entries (event_id, student_no, occurred_at, event_type, producer, summary_zh,
  summary_en, data, recorded_at) VALUES ('00000000-0000-0000-0000-000000000001', '2021000001', now(),
  'StudentRegistered', 'registry', '学籍注册', 'Registered', '{}', now());
INSERT INTO gateway.processed_events VALUES
  ('gateway-webhooks', '00000000-0000-0000-0000-000000000001', 'StudentRegistered', now());
"""


async def test_the_gateways_webhooks_and_timeline_move_to_notifications() -> None:
    url = await fresh_database("gradops_notifications_move")
    # Back to the day before the move: the gateway's tables again, no notifications schema yet.
    await asyncio.to_thread(command.downgrade, alembic_config("gateway", url), "gate0003")
    await asyncio.to_thread(command.downgrade, alembic_config("notifications", url), "base")
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute('DROP SCHEMA "notifications" CASCADE')
        await conn.execute(ROWS)
        await asyncio.to_thread(upgrade, "notifications", url)
        await asyncio.to_thread(upgrade, "gateway", url)

        counts = {
            table: await conn.fetchval(f"SELECT count(*) FROM notifications.{table}")
            for table in (
                "webhook_subscriptions",
                "webhook_deliveries",
                "webhook_attempts",
                "student_centres",
                "timeline_entries",
                "processed_events",
            )
        }
        assert set(counts.values()) == {1}, counts
        assert await conn.fetchval("SELECT secret FROM notifications.webhook_subscriptions") == "whsec_x"
        assert await conn.fetchval("SELECT consumer FROM notifications.processed_events") == "notifications"
        # New rows continue after the copied ids.
        new_id = await conn.fetchval(
            "INSERT INTO notifications.webhook_attempts (delivery_id, attempt, attempted_at, duration_ms) "
            "VALUES ('dl_00000000000000000001', 2, now(), 1) RETURNING id"
        )
        assert new_id == 1 + await conn.fetchval("SELECT min(id) FROM notifications.webhook_attempts")
        left = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'gateway'"
        )
        assert {r["table_name"] for r in left} == {"api_keys", "idempotency_records", "alembic_version"}
    finally:
        await conn.close()
