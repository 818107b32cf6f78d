"""The certificates consumer applies AuditPassed in runs (one transaction per fetch) on real Kafka
and PostgreSQL: duplicates inside a run count once, and a run that fails is replayed event by event
so only the bad events go to the dead-letter topic while the rest stay gapless."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from gradops_certificates.app import DEFINITION
from gradops_certificates.models import Certificate, SerialCounter
from gradops_certificates.settings import CertificatesSettings
from gradops_shared.bus import KafkaBus
from gradops_shared.contracts import AuditPassed
from gradops_shared.db import Database
from gradops_shared.runtime import BackgroundWorker, Runtime, build_consumer, ensure_worker_topics
from tests.certificates.integration.years import unique_year
from tests.factories import student_no
from tests.shared.integration.test_inbox import consume_until
from tests.support.kafka import eventually, produce, read_topic


@pytest.fixture
async def runtime(postgres_url: str, kafka_bootstrap: str) -> AsyncIterator[Runtime]:
    runtime = Runtime(db=Database(postgres_url, DEFINITION.schema), bus=KafkaBus(kafka_bootstrap))
    yield runtime
    await runtime.db.dispose()


def passed(year: int, level: str) -> AuditPassed:
    return AuditPassed(
        student_no=student_no(),
        audit_id=uuid.uuid4(),
        batch_code=f"{year}06",
        application_type="graduate",
        level=level,
        graduation_date=date(year, 7, 31),
        learning_centre="5135701",
    )


async def produce_many(bootstrap: str, topic: str, messages: list[tuple[str, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5)
    await producer.start()
    try:
        sent = [await producer.send(topic, value=value, key=key.encode()) for key, value in messages]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def encoded(event: AuditPassed) -> tuple[str, bytes]:
    return event.student_no, event.envelope().model_dump_json().encode()


async def test_a_failing_run_is_replayed_one_by_one_and_only_bad_events_are_dead_lettered(
    runtime: Runtime, postgres_url: str, kafka_bootstrap: str, topic_prefix: str
) -> None:
    year = unique_year()
    settings = CertificatesSettings(
        database_url=postgres_url,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        consumer_max_attempts=1,
        consumer_retry_backoff_seconds=0,
    )
    await ensure_worker_topics(DEFINITION, settings, runtime.bus)
    # The 专科 series of that year is used up: those events cannot be issued.
    async with runtime.db.transaction() as session:
        session.add(
            SerialCounter(
                school_code="51357", education_type_code="5", year=year, level_code="06", last_serial=999_999
            )
        )
    events = [passed(year, "bachelor" if i % 3 else "junior_college") for i in range(12)]
    duplicate = encoded(events[1])
    await produce(
        kafka_bootstrap, f"{topic_prefix}audit.events.v1", [*map(encoded, events), duplicate, duplicate]
    )

    consumer = build_consumer(DEFINITION, settings, runtime)
    assert consumer.batch_handlers  # the batched path is the one under test
    await consume_until(consumer, lambda s: s.applied + s.dead_lettered + s.duplicates >= 14)

    bachelors = [e.student_no for e in events if e.level == "bachelor"]
    async with runtime.db.session() as session:
        rows = (
            await session.execute(
                select(Certificate.student_no, Certificate.serial).where(
                    Certificate.number.like(f"513575{year}%")
                )
            )
        ).all()
    assert sorted(student for student, _ in rows) == sorted(bachelors)
    assert sorted(serial for _, serial in rows) == list(range(1, len(bachelors) + 1))
    # 8 bachelors + the second AuditPassed (applied, issuing nothing); its redelivery is a duplicate.
    assert consumer.stats.dead_lettered == 4 and consumer.stats.applied == 9
    assert consumer.stats.duplicates == 1
    dead = await read_topic(kafka_bootstrap, f"{topic_prefix}audit.events.v1.dlt", until=4)
    assert len(dead) == 4
    assert all("serial_exhausted" in headers["dlt_reason"] for _, headers in dead)


async def test_three_batched_consumers_of_one_group_issue_gapless_serials(
    postgres_url: str, kafka_bootstrap: str, topic_prefix: str
) -> None:
    year = unique_year()
    settings = CertificatesSettings(
        database_url=postgres_url, kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix
    )
    runtimes = [
        Runtime(db=Database(postgres_url, DEFINITION.schema), bus=KafkaBus(kafka_bootstrap)) for _ in range(3)
    ]
    await ensure_worker_topics(DEFINITION, settings, runtimes[0].bus)
    consumers = [build_consumer(DEFINITION, settings, runtime) for runtime in runtimes]
    workers = [BackgroundWorker(f"certificates-consumer-{i}", c) for i, c in enumerate(consumers)]
    events = [passed(year, "bachelor" if i % 2 else "junior_college") for i in range(300)]
    try:
        for worker in workers:
            await worker.start()
        await produce_many(kafka_bootstrap, f"{topic_prefix}audit.events.v1", [encoded(e) for e in events])

        async def all_applied() -> bool:
            return sum(c.stats.applied for c in consumers) >= len(events)

        assert await eventually(all_applied, timeout_s=60), [c.stats for c in consumers]
    finally:
        for worker in workers:
            await worker.stop()
        for runtime in runtimes[1:]:
            await runtime.db.dispose()
    async with runtimes[0].db.session() as session:
        rows = (
            await session.execute(
                select(Certificate.number, Certificate.serial).where(
                    Certificate.number.like(f"513575{year}%")
                )
            )
        ).all()
    await runtimes[0].db.dispose()
    for level_code in ("05", "06"):
        serials = sorted(serial for number, serial in rows if number[10:12] == level_code)
        assert serials == list(range(1, 151)), level_code
    assert len({number for number, _ in rows}) == 300
