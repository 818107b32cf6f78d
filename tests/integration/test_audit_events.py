"""The audit on real PostgreSQL and real Kafka: facts arrive as Kafka messages from the registry
and photo topics and re-audit the open application at once; outcomes leave through the outbox."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import func, select

from gradops_audit import applications, records, schemas
from gradops_audit.app import DEFINITION as AUDIT
from gradops_audit.models import Application, Audit
from gradops_audit.settings import AuditSettings
from gradops_shared.bus import KafkaBus
from gradops_shared.contracts import (
    AuditFailed,
    AuditPassed,
    EventData,
    EventEnvelope,
    IdentityFlagChanged,
    PhotoApproved,
    PhotoReopened,
    PriorEducationReviewed,
    StudentStatusChanged,
)
from gradops_shared.db import Database
from gradops_shared.runtime import Runtime, build_consumer, build_relay, ensure_worker_topics
from tests.factories import student_no, transcript_payload
from tests.integration.audit_tools import seed_open_application
from tests.integration.kafka_tools import produce, read_topic
from tests.integration.test_inbox import consume_until


@pytest.fixture
async def runtime(postgres_url: str, kafka_bootstrap: str) -> AsyncIterator[Runtime]:
    runtime = Runtime(db=Database(postgres_url, "audit"), bus=KafkaBus(kafka_bootstrap))
    yield runtime
    await runtime.db.dispose()


@pytest.fixture
async def settings(
    runtime: Runtime, postgres_url: str, kafka_bootstrap: str, topic_prefix: str
) -> AuditSettings:
    settings = AuditSettings(
        database_url=postgres_url, kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix
    )
    await ensure_worker_topics(AUDIT, settings, runtime.bus)
    return settings


async def deliver(runtime: Runtime, settings: AuditSettings, *events: EventData) -> None:
    """Sends the events to their real topics and runs the audit consumer until it applied them."""
    for event in events:
        await produce(
            settings.kafka_bootstrap,
            settings.topic_prefix + event.topic(),
            [(event.student_no, event.envelope().model_dump_json().encode())],
        )
    consumer = build_consumer(AUDIT, settings, runtime)
    await consume_until(consumer, lambda stats: stats.applied >= len(events))


async def application_of(runtime: Runtime, number: str) -> Application:
    async with runtime.db.session() as session:
        return (
            await session.execute(select(Application).where(Application.student_no == number))
        ).scalar_one()


async def audit_count(runtime: Runtime, number: str) -> int:
    async with runtime.db.session() as session:
        return (await session.execute(select(func.count()).where(Audit.student_no == number))).scalar_one()


async def published(
    runtime: Runtime, settings: AuditSettings, number: str, until: int
) -> list[EventEnvelope]:
    """Relays the audit's outbox to Kafka and reads the student's audit events back."""
    relay = build_relay(AUDIT, settings, runtime)
    await relay.publisher.start()
    try:
        while await relay.publish_pending():
            pass
    finally:
        await relay.publisher.stop()
    found = await read_topic(
        settings.kafka_bootstrap,
        settings.topic_prefix + "audit.events.v1",
        until=until,
        key=number,
        timeout_s=10,
    )
    return [envelope for envelope, _ in found if isinstance(envelope, EventEnvelope)]


async def student_with_transcript(runtime: Runtime, settings: AuditSettings) -> str:
    """An open application whose first audit fails only for want of an approved graduation photo."""
    number = student_no()
    await seed_open_application(runtime.db, number)
    async with runtime.db.transaction() as session:
        await records.put_transcript(
            session, number, schemas.TranscriptIn.model_validate(transcript_payload()), "lms", settings
        )
    return number


def photo_approved(number: str, submission: uuid.UUID) -> PhotoApproved:
    return PhotoApproved(student_no=number, submission_id=submission, kind="graduation", sha256="a" * 64)


async def test_a_photo_approved_after_a_failed_audit_turns_it_into_a_pass_without_anyone_asking(
    runtime: Runtime, settings: AuditSettings
) -> None:
    number = await student_with_transcript(runtime, settings)
    failing = await application_of(runtime, number)
    assert failing.passed is False and failing.failed_checks == ["audit.graduation_photo_approved"]

    await deliver(runtime, settings, photo_approved(number, uuid.uuid4()))

    passing = await application_of(runtime, number)
    assert passing.passed is True and passing.failed_checks == []
    assert passing.last_audit_id != failing.last_audit_id
    async with runtime.db.session() as session:
        audit = await session.get(Audit, passing.last_audit_id)
    assert (
        audit is not None
        and audit.trigger == "PhotoApproved"
        and audit.rule_set_code == "default-junior-college"
    )

    # A pass waits for HQ: only the failure is on Kafka until sign-off.
    events = await published(runtime, settings, number, until=1)
    assert [e.type for e in events] == ["AuditFailed"]
    assert AuditFailed.model_validate(events[0].data).failed_checks == ["audit.graduation_photo_approved"]

    async with runtime.db.transaction() as session:
        signed, skipped = await applications.sign_off(session, "202612", [number], "hq-registrar", settings)
    assert signed == [number] and skipped == []
    events = await published(runtime, settings, number, until=2)
    passed = AuditPassed.model_validate(events[-1].data)
    assert (passed.batch_code, passed.graduation_date, passed.issue_date) == (
        "202612",
        date(2027, 1, 31),
        date(2027, 1, 31),
    )
    assert passed.learning_centre == "5135701" and passed.application_type == "graduate"
    assert passed.degree_granted is False
    assert (await application_of(runtime, number)).state == "signed_off"


async def test_registry_flags_block_and_release_and_only_a_change_of_outcome_is_announced(
    runtime: Runtime, settings: AuditSettings
) -> None:
    number = await student_with_transcript(runtime, settings)
    submission = uuid.uuid4()
    await deliver(runtime, settings, photo_approved(number, submission))
    assert (await application_of(runtime, number)).passed is True

    doubt = IdentityFlagChanged(student_no=number, in_doubt=True, kind="uncertain", reason="CHSI 比对不确定")
    pending = PriorEducationReviewed(
        student_no=number, stage="flagged", outcome="pending", formal_status=False
    )
    await deliver(runtime, settings, doubt, pending)
    blocked = await application_of(runtime, number)
    assert blocked.failed_checks == ["audit.formal_status", "audit.identity_not_in_doubt"]

    # The same flag again re-audits (a new immutable run) but the outcome is unchanged: no event.
    runs = await audit_count(runtime, number)
    await deliver(runtime, settings, IdentityFlagChanged(student_no=number, in_doubt=True, kind="uncertain"))
    assert await audit_count(runtime, number) == runs + 1

    cleared = IdentityFlagChanged(student_no=number, in_doubt=False)
    passed_review = PriorEducationReviewed(
        student_no=number, stage="first_review", outcome="passed", formal_status=True
    )
    reopened = PhotoReopened(student_no=number, submission_id=submission, kind="graduation", reason="补拍")
    await deliver(runtime, settings, cleared, passed_review)  # one topic, one key: in this order
    assert (await application_of(runtime, number)).passed is True
    await deliver(runtime, settings, reopened)
    assert (await application_of(runtime, number)).failed_checks == ["audit.graduation_photo_approved"]

    events = await published(runtime, settings, number, until=3)
    failures = [AuditFailed.model_validate(e.data).failed_checks for e in events if e.type == "AuditFailed"]
    assert failures == [
        ["audit.graduation_photo_approved"],  # the first audit, on application
        ["audit.identity_not_in_doubt"],  # passed → failed: the doubt arrived first
        ["audit.graduation_photo_approved"],  # passed again, then failed: the photo was re-opened
    ]


async def test_a_graduated_student_is_not_re_audited(runtime: Runtime, settings: AuditSettings) -> None:
    number = await student_with_transcript(runtime, settings)
    runs = await audit_count(runtime, number)
    graduated = StudentStatusChanged(
        student_no=number,
        from_status="enrolled",
        to_status="graduated",
        reason="certificate",
        effective_date=date(2027, 1, 31),
    )
    await deliver(runtime, settings, graduated)
    await deliver(runtime, settings, photo_approved(number, uuid.uuid4()))
    assert await audit_count(runtime, number) == runs
