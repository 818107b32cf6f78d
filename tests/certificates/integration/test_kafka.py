"""From AuditPassed on real Kafka to a certificate anyone can verify through the gateway: the
certificates consumer and relay on real PostgreSQL and Kafka, the API behind the real gateway."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

import httpx
import pytest

from gradops_certificates.app import DEFINITION
from gradops_certificates.settings import CertificatesSettings
from gradops_gateway.app import create_app as create_gateway
from gradops_gateway.settings import GatewaySettings
from gradops_shared.bus import KafkaBus
from gradops_shared.consumer import ConsumerRunner
from gradops_shared.contracts import AuditPassed, EventData, StudentRegistered
from gradops_shared.db import Database
from gradops_shared.runtime import (
    BackgroundWorker,
    Runtime,
    build_consumer,
    build_relay,
    create_service_app,
    ensure_worker_topics,
)
from tests.factories import student_no
from tests.support.databases import fresh_database
from tests.support.kafka import produce, read_topic

API_KEY = "gok_certificates_kafka"
SECRET = "certificates-kafka-test-secret"


@dataclass
class Stack:
    settings: CertificatesSettings
    consumer: ConsumerRunner
    gateway: httpx.AsyncClient  # no key: public calls
    bootstrap: str


@pytest.fixture
async def stack(kafka_bootstrap: str, topic_prefix: str) -> AsyncIterator[Stack]:
    url = await fresh_database("gradops_certkafka")
    settings = CertificatesSettings(
        database_url=url,
        event_bus="kafka",
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        principal_secret=SECRET,
        relay_poll_seconds=0.2,
    )
    runtime = Runtime(db=Database(url, DEFINITION.schema), bus=KafkaBus(kafka_bootstrap))
    await ensure_worker_topics(DEFINITION, settings, runtime.bus)
    consumer = build_consumer(DEFINITION, settings, runtime)
    workers = [
        BackgroundWorker("certificates-consumer", consumer),
        BackgroundWorker("certificates-relay", build_relay(DEFINITION, settings, runtime)),
    ]
    service = create_service_app(DEFINITION, settings, runtime)
    gateway = create_gateway(
        GatewaySettings(
            services={"certificates": "http://certificates.test"},
            database_url=url,  # its keys, idempotency records and rate limits live there
            principal_secret=SECRET,
            bootstrap_api_key=API_KEY,
        ),
        specs={"certificates": service.openapi()},
        transports={"certificates": httpx.ASGITransport(app=service)},
    )
    for worker in workers:
        await worker.start()
    try:
        async with (
            service.router.lifespan_context(service),
            gateway.router.lifespan_context(gateway),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=gateway), base_url="http://gradops"
            ) as client,
        ):
            yield Stack(settings, consumer, client, kafka_bootstrap)
    finally:
        for worker in reversed(workers):
            await worker.stop()
        await runtime.db.dispose()


def message(event: EventData) -> tuple[str, bytes]:
    return event.student_no, event.envelope().model_dump_json().encode()


async def test_audit_passed_on_kafka_becomes_a_verifiable_certificate(stack: Stack) -> None:
    number = student_no()
    prefix = stack.settings.topic_prefix
    registered = StudentRegistered(
        student_no=number,
        name="赵六",
        gender="male",
        learning_centre="5135701",
        level="bachelor",
        category="open_education",
        major="会计学",
        enrolment_term="2021-autumn",
        study_form="part_time",
        status="enrolled",
        birth_date=date(1995, 3, 8),
        duration_years=2.5,
    )
    passed = AuditPassed(
        student_no=number,
        audit_id=uuid.uuid4(),
        batch_code="202601",
        application_type="graduate",
        level="bachelor",
        graduation_date=date(2026, 1, 31),
        issue_date=date(2026, 1, 31),
        learning_centre="5135701",
    )
    audit_message = message(passed)
    await produce(stack.bootstrap, prefix + "registry.events.v1", [message(registered)])
    # The same event delivered twice, and a second AuditPassed for the same batch: one certificate.
    await produce(
        stack.bootstrap, prefix + "audit.events.v1", [audit_message, audit_message, message(passed)]
    )

    headers = {"authorization": f"Bearer {API_KEY}"}
    deadline = time.monotonic() + 30
    while (
        found := await stack.gateway.get(f"/api/v1/students/{number}/certificate", headers=headers)
    ).status_code != 200:
        assert time.monotonic() < deadline, found.text
        await asyncio.sleep(0.2)
    certificate = found.json()
    assert certificate["number"].startswith("5135752026" + "05")
    assert certificate["learning_centre"] == "5135701" and certificate["issue_date"] == "2026-01-31"

    # Public: no key at all, through the gateway.
    verified = await stack.gateway.get(f"/api/v1/verify/{certificate['number']}", params={"name": "赵六"})
    assert verified.status_code == 200, verified.text
    assert verified.json()["result"] == "valid"
    assert verified.json()["certificate"]["masked_name"] == "赵*"
    assert verified.json()["certificate"]["major"] == "会计学"

    all_of_them = await stack.gateway.get(f"/api/v1/students/{number}/certificates", headers=headers)
    assert [c["number"] for c in all_of_them.json()["items"]] == [certificate["number"]]
    # The redelivered copy is a duplicate for the inbox; the second AuditPassed is applied, issuing nothing.
    stats = stack.consumer.stats
    while stats.applied + stats.duplicates < 4:
        assert time.monotonic() < deadline, stats
        await asyncio.sleep(0.1)
    assert (stats.applied, stats.duplicates, stats.dead_lettered) == (3, 1, 0)

    # CertificateIssued left through the outbox for the registry (which sets 毕业 on a diploma).
    # Asking for two and getting one: the duplicate deliveries issued nothing more.
    issued = await read_topic(
        stack.bootstrap, prefix + "certificates.events.v1", until=2, timeout_s=4, key=number
    )
    # The public verification above is on the topic too (VerificationPerformed, for the timeline).
    issued = [m for m in issued if not isinstance(m[0], bytes) and m[0].type == "CertificateIssued"]
    assert len(issued) == 1
    envelope = issued[0][0]
    assert not isinstance(envelope, bytes) and envelope.type == "CertificateIssued"
    assert envelope.data["number"] == certificate["number"]
    assert envelope.data["kind"] == "diploma" and envelope.data["learning_centre"] == "5135701"


async def test_a_granted_degree_is_issued_and_verifiable_too(stack: Stack) -> None:
    number = student_no()
    prefix = stack.settings.topic_prefix
    registered = StudentRegistered(
        student_no=number,
        name="孙七",
        gender="female",
        learning_centre="5135701",
        level="bachelor_from_junior_college",
        category="open_education",
        major="法学",
        enrolment_term="2022-spring",
        study_form="part_time",
        status="enrolled",
    )
    passed = AuditPassed(
        student_no=number,
        audit_id=uuid.uuid4(),
        batch_code="202606",
        application_type="graduate_with_degree",
        degree_granted=True,
        level="bachelor_from_junior_college",
        graduation_date=date(2026, 7, 31),
        learning_centre="5135701",
    )
    await produce(stack.bootstrap, prefix + "registry.events.v1", [message(registered)])
    await produce(stack.bootstrap, prefix + "audit.events.v1", [message(passed)])
    headers = {"authorization": f"Bearer {API_KEY}"}
    deadline = time.monotonic() + 30
    while (
        len(
            found := (
                await stack.gateway.get(f"/api/v1/students/{number}/certificates", headers=headers)
            ).json()["items"]
        )
        < 2
    ):
        assert time.monotonic() < deadline, found
        await asyncio.sleep(0.2)
    by_kind = {c["kind"]: c for c in found}
    assert by_kind["diploma"]["number"].startswith("5135752026" + "05")
    degree = by_kind["degree"]["number"]
    assert len(degree) == 16 and degree.startswith("5135742026")
    verified = await stack.gateway.get(f"/api/v1/verify/{degree}", params={"name": "孙七"})
    assert verified.json()["result"] == "valid"
    assert verified.json()["certificate"]["kind"] == "degree"
    issued = await read_topic(stack.bootstrap, prefix + "certificates.events.v1", until=3, key=number)
    kinds = [e.data["kind"] for e, _ in issued if not isinstance(e, bytes) and e.type == "CertificateIssued"]
    assert sorted(kinds) == ["degree", "diploma"]
