"""Transactional outbox on real PostgreSQL, published to real Kafka."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from gradops_registry.models import Student, outbox
from gradops_shared.bus import KafkaBus
from gradops_shared.contracts import StudentStatusChanged
from gradops_shared.db import Database
from gradops_shared.outbox import OutboxRelay, add_event
from gradops_shared.runtime import BackgroundWorker
from tests.factories import student_no, upsert_student_in_db
from tests.support.kafka import eventually, read_topic


@pytest.fixture
async def registry_db(postgres_url: str):  # type: ignore[no-untyped-def]
    db = Database(postgres_url, "registry")
    async with db.transaction() as session:
        # Earlier tests' unsent rows would otherwise be published into this test's topic.
        await session.execute(outbox.update().where(outbox.c.sent_at.is_(None)).values(sent_at=func.now()))
    yield db
    await db.dispose()


def relay_for(db: Database, bootstrap: str, prefix: str) -> OutboxRelay:
    return OutboxRelay(db, outbox, KafkaBus(bootstrap).publisher(), topic_prefix=prefix, poll_seconds=0.2)


async def test_a_rolled_back_change_leaves_no_event(
    registry_db: Database, kafka_bootstrap: str, topic_prefix: str
) -> None:
    number = student_no()
    with pytest.raises(RuntimeError, match="after the write"):
        async with registry_db.transaction() as session:
            await upsert_student_in_db(session, number)
            raise RuntimeError("failure after the write")

    async with registry_db.session() as session:
        assert await session.get(Student, number) is None
        assert (await session.execute(select(func.count()).where(outbox.c.key == number))).scalar_one() == 0

    # A committed sibling proves the relay ran; the rolled-back one never shows up.
    witness = student_no()
    async with registry_db.transaction() as session:
        await upsert_student_in_db(session, witness)
    relay = relay_for(registry_db, kafka_bootstrap, topic_prefix)
    await relay.publisher.start()
    try:
        assert await relay.publish_pending() == 1
    finally:
        await relay.publisher.stop()
    messages = await read_topic(kafka_bootstrap, f"{topic_prefix}registry.events.v1", until=1)
    assert [m.student_no for m, _ in messages] == [witness]  # type: ignore[union-attr]


async def test_committed_events_reach_kafka_across_a_relay_restart(
    registry_db: Database, kafka_bootstrap: str, topic_prefix: str
) -> None:
    topic = f"{topic_prefix}registry.events.v1"
    first, second = student_no(), student_no()

    worker = BackgroundWorker("relay", relay_for(registry_db, kafka_bootstrap, topic_prefix))
    await worker.start()
    async with registry_db.transaction() as session:
        await upsert_student_in_db(session, first)
    assert len(await read_topic(kafka_bootstrap, topic, until=1)) == 1
    await worker.stop()

    # The relay is down: the change commits, its event waits in the outbox.
    async with registry_db.transaction() as session:
        event_id = await add_event(
            session,
            outbox,
            StudentStatusChanged(
                student_no=second,
                from_status="enrolled",
                to_status="suspended",
                reason="test",
                effective_date=date.today(),
            ),
        )
    async with registry_db.session() as session:
        sent_at = (
            await session.execute(select(outbox.c.sent_at).where(outbox.c.event_id == event_id))
        ).scalar_one()
    assert sent_at is None

    restarted = BackgroundWorker("relay", relay_for(registry_db, kafka_bootstrap, topic_prefix))
    await restarted.start()
    try:
        messages = await read_topic(kafka_bootstrap, topic, until=2)
    finally:
        await restarted.stop()
    envelopes = [m for m, _ in messages]
    assert [e.student_no for e in envelopes] == [first, second]  # type: ignore[union-attr]
    assert str(envelopes[1].event_id) == event_id  # type: ignore[union-attr]
    headers = messages[1][1]
    assert headers["event_type"] == "StudentStatusChanged" and headers["event_id"] == event_id

    async def marked_sent() -> bool:
        async with registry_db.session() as session:
            row = (
                await session.execute(select(outbox.c.sent_at).where(outbox.c.event_id == event_id))
            ).scalar_one()
        return row is not None

    assert await eventually(marked_sent)


async def test_messages_are_keyed_by_student_number(
    registry_db: Database, kafka_bootstrap: str, topic_prefix: str
) -> None:
    number = student_no()
    async with registry_db.transaction() as session:
        await upsert_student_in_db(session, number)
        await upsert_student_in_db(session, number, class_code="2021春1班")
    relay = relay_for(registry_db, kafka_bootstrap, topic_prefix)
    await relay.publisher.start()
    try:
        await relay.publish_pending()
    finally:
        await relay.publisher.stop()
    messages = await read_topic(kafka_bootstrap, f"{topic_prefix}registry.events.v1", until=2)
    assert [m.type for m, _ in messages] == ["StudentRegistered", "StudentUpdated"]  # type: ignore[union-attr]
