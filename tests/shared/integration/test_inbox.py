"""Consumers on real Kafka and real PostgreSQL: duplicates, crashes and poison messages."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from gradops_audit.app import DEFINITION as AUDIT
from gradops_audit.models import Audit
from gradops_audit.settings import AuditSettings
from gradops_shared.bus import IncomingMessage, KafkaBus, Subscription
from gradops_shared.consumer import ConsumerRunner, ConsumerStats
from gradops_shared.contracts import PhotoApproved
from gradops_shared.db import Database
from gradops_shared.runtime import BackgroundWorker, Runtime, build_consumer, ensure_worker_topics
from tests.audit.integration.audit_tools import seed_open_application
from tests.factories import student_no
from tests.support.kafka import eventually, produce, read_topic


class CrashBeforeOffsetCommit(Exception):
    """Stands for the process dying between the DB commit and the offset commit."""


class CrashingSubscription:
    def __init__(self, inner: Subscription) -> None:
        self.inner = inner

    async def start(self) -> None:
        await self.inner.start()

    async def stop(self) -> None:
        await self.inner.stop()

    async def fetch(self, timeout_s: float) -> list[IncomingMessage]:
        return await self.inner.fetch(timeout_s)

    async def commit(self, message: IncomingMessage) -> None:
        raise CrashBeforeOffsetCommit

    async def rewind(self) -> None:
        await self.inner.rewind()

    @property
    def assigned(self) -> bool:
        return self.inner.assigned


@pytest.fixture
async def audit_runtime(postgres_url: str, kafka_bootstrap: str):  # type: ignore[no-untyped-def]
    runtime = Runtime(db=Database(postgres_url, "audit"), bus=KafkaBus(kafka_bootstrap))
    yield runtime
    await runtime.db.dispose()


@pytest.fixture
async def settings(
    audit_runtime: Runtime, postgres_url: str, kafka_bootstrap: str, topic_prefix: str
) -> AuditSettings:
    """The audit consumer's settings on this test's own topics, which exist with leaders."""
    settings = AuditSettings(
        database_url=postgres_url,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        consumer_retry_backoff_seconds=0.01,
    )
    await ensure_worker_topics(AUDIT, settings, audit_runtime.bus)
    return settings


def photo_approved(number: str) -> bytes:
    event = PhotoApproved(student_no=number, submission_id=uuid.uuid4(), kind="graduation", sha256="c" * 64)
    return event.envelope().model_dump_json().encode()


async def audits_of(db: Database, number: str) -> int:
    async with db.session() as session:
        return (await session.execute(select(func.count()).where(Audit.student_no == number))).scalar_one()


async def consume_until(consumer: ConsumerRunner, done: Callable[[ConsumerStats], bool]) -> None:
    """Runs the consumer as its process would until `done(stats)` holds (or the wait times out)."""
    worker = BackgroundWorker("audit-consumer", consumer)
    await worker.start()
    try:

        async def finished() -> bool:
            return done(consumer.stats)

        assert await eventually(finished), consumer.stats
    finally:
        await worker.stop()


async def fetch_until(subscription: Subscription, count: int) -> list[IncomingMessage]:
    messages: list[IncomingMessage] = []
    for _ in range(60):
        messages += await subscription.fetch(timeout_s=0.5)
        if len(messages) >= count:
            return messages
    raise AssertionError(f"got {len(messages)} of {count} messages")


async def test_the_same_event_delivered_twice_changes_state_once(
    audit_runtime: Runtime, settings: AuditSettings, kafka_bootstrap: str, topic_prefix: str
) -> None:
    number = student_no()
    await seed_open_application(audit_runtime.db, number)  # each PhotoApproved then stores an audit
    event = photo_approved(number)
    await produce(kafka_bootstrap, f"{topic_prefix}photo.events.v1", [(number, event), (number, event)])

    consumer = build_consumer(AUDIT, settings, audit_runtime)
    await consume_until(consumer, lambda stats: stats.applied + stats.duplicates >= 2)
    assert (consumer.stats.applied, consumer.stats.duplicates) == (1, 1)
    assert await audits_of(audit_runtime.db, number) == 1


async def test_a_crash_between_db_commit_and_offset_commit_does_not_apply_twice(
    audit_runtime: Runtime, settings: AuditSettings, kafka_bootstrap: str, topic_prefix: str
) -> None:
    number = student_no()
    await seed_open_application(audit_runtime.db, number)
    await produce(kafka_bootstrap, f"{topic_prefix}photo.events.v1", [(number, photo_approved(number))])

    first = build_consumer(AUDIT, settings, audit_runtime)
    crashing = CrashingSubscription(first.subscription)
    first.subscription = crashing
    await crashing.start()
    try:
        with pytest.raises(CrashBeforeOffsetCommit):
            await first.process(await fetch_until(crashing, 1))
    finally:
        await crashing.stop()  # no offset was committed
    assert await audits_of(audit_runtime.db, number) == 1

    restarted = build_consumer(AUDIT, settings, audit_runtime)
    await restarted.subscription.start()
    try:
        redelivered = await fetch_until(restarted.subscription, 1)
        await restarted.process(redelivered)
    finally:
        await restarted.subscription.stop()
    assert restarted.stats.duplicates == 1 and restarted.stats.applied == 0
    assert await audits_of(audit_runtime.db, number) == 1


async def test_a_poison_message_goes_to_the_dead_letter_topic_and_the_consumer_goes_on(
    audit_runtime: Runtime, settings: AuditSettings, kafka_bootstrap: str, topic_prefix: str
) -> None:
    number = student_no()
    await seed_open_application(audit_runtime.db, number)
    topic = f"{topic_prefix}photo.events.v1"
    bad_data = PhotoApproved(
        student_no=number, submission_id=uuid.uuid4(), kind="graduation", sha256="d" * 64
    )
    invalid = bad_data.envelope().model_copy(update={"data": {"student_no": number, "kind": "selfie"}})
    await produce(
        kafka_bootstrap,
        topic,
        [
            (number, b"this is not json"),
            (number, invalid.model_dump_json().encode()),
            (number, photo_approved(number)),
        ],
    )

    consumer = build_consumer(AUDIT, settings, audit_runtime)
    await consume_until(consumer, lambda stats: stats.applied + stats.dead_lettered >= 3)
    assert consumer.stats.dead_lettered == 2 and consumer.stats.applied == 1
    assert await audits_of(audit_runtime.db, number) == 1

    dead = await read_topic(kafka_bootstrap, topic + ".dlt", until=2)
    reasons = [headers["dlt_reason"] for _, headers in dead]
    assert reasons[0].startswith("unparseable envelope")
    assert reasons[1].startswith("invalid PhotoApproved data")
    assert dead[0][0] == b"this is not json"
    assert all(headers["dlt_consumer"] == "audit" for _, headers in dead)


async def test_a_handler_that_keeps_failing_is_retried_then_dead_lettered(
    audit_runtime: Runtime, settings: AuditSettings, kafka_bootstrap: str, topic_prefix: str
) -> None:
    number = student_no()
    await seed_open_application(audit_runtime.db, number)
    await produce(kafka_bootstrap, f"{topic_prefix}photo.events.v1", [(number, photo_approved(number))])
    attempts = 0

    async def always_fails(*_args: object) -> None:
        nonlocal attempts
        attempts += 1
        raise RuntimeError("downstream invariant broken")

    consumer = build_consumer(AUDIT, settings, audit_runtime)
    consumer.handlers["PhotoApproved"] = always_fails
    await consumer.subscription.start()
    await consumer.dead_letters.start()
    try:
        await consumer.process(await fetch_until(consumer.subscription, 1))
    finally:
        await consumer.subscription.stop()
        await consumer.dead_letters.stop()
    assert attempts == settings.consumer_max_attempts
    assert consumer.stats.dead_lettered == 1
    assert await audits_of(audit_runtime.db, number) == 0
    dead = await read_topic(kafka_bootstrap, f"{topic_prefix}photo.events.v1.dlt", until=1)
    assert "downstream invariant broken" in dead[0][1]["dlt_reason"]


class FirstCommitFails(CrashingSubscription):
    def __init__(self, inner: Subscription) -> None:
        super().__init__(inner)
        self.failed = False

    async def commit(self, message: IncomingMessage) -> None:
        if not self.failed:
            self.failed = True
            raise RuntimeError("transient offset commit failure")
        await self.inner.commit(message)


async def test_a_failed_batch_is_replayed_from_the_committed_offset_and_applied_once(
    audit_runtime: Runtime, settings: AuditSettings, kafka_bootstrap: str, topic_prefix: str
) -> None:
    number = student_no()
    await seed_open_application(audit_runtime.db, number)
    await produce(kafka_bootstrap, f"{topic_prefix}photo.events.v1", [(number, photo_approved(number))])

    consumer = build_consumer(AUDIT, settings, audit_runtime)
    flaky = FirstCommitFails(consumer.subscription)
    consumer.subscription = flaky
    await consume_until(consumer, lambda stats: stats.duplicates >= 1)
    assert flaky.failed and (consumer.stats.applied, consumer.stats.duplicates) == (1, 1)
    assert await audits_of(audit_runtime.db, number) == 1

    # The replay committed the offset: a new member of the group has nothing left to read.
    after = build_consumer(AUDIT, settings, audit_runtime)
    await after.subscription.start()
    try:
        leftovers = [m for _ in range(4) for m in await after.subscription.fetch(timeout_s=0.5)]
    finally:
        await after.subscription.stop()
    assert leftovers == []
