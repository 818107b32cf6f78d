"""The audit on real PostgreSQL and real Kafka: facts arrive as Kafka messages from the registry
and photo topics and re-audit the open application at once; outcomes leave through the outbox."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select

from gradops_audit import schemas
from gradops_audit.app import DEFINITION as AUDIT
from gradops_audit.models import Application, Audit
from gradops_audit.service import sign_offs, transcripts
from gradops_audit.settings import AuditSettings
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
from gradops_shared.runtime import Runtime, build_consumer, build_relay
from tests.audit.integration.audit_tools import seed_open_application
from tests.factories import student_no, transcript_payload
from tests.shared.integration.test_inbox import consume_until
from tests.support.kafka import produce, read_topic


async def deliver(audit_rt: Runtime, audit_settings: AuditSettings, *events: EventData) -> None:
    """Sends the events to their real topics and runs the audit consumer until it applied them."""
    for event in events:
        await produce(
            audit_settings.kafka_bootstrap,
            audit_settings.topic_prefix + event.topic(),
            [(event.student_no, event.envelope().model_dump_json().encode())],
        )
    consumer = build_consumer(AUDIT, audit_settings, audit_rt)
    await consume_until(consumer, lambda stats: stats.applied >= len(events))


async def application_of(audit_rt: Runtime, number: str) -> Application:
    async with audit_rt.db.session() as session:
        return (
            await session.execute(select(Application).where(Application.student_no == number))
        ).scalar_one()


async def audit_count(audit_rt: Runtime, number: str) -> int:
    async with audit_rt.db.session() as session:
        return (await session.execute(select(func.count()).where(Audit.student_no == number))).scalar_one()


async def published(
    audit_rt: Runtime, audit_settings: AuditSettings, number: str, until: int
) -> list[EventEnvelope]:
    """Relays the audit's outbox to Kafka and reads the student's audit events back."""
    relay = build_relay(AUDIT, audit_settings, audit_rt)
    await relay.publisher.start()
    try:
        while await relay.publish_pending():
            pass
    finally:
        await relay.publisher.stop()
    found = await read_topic(
        audit_settings.kafka_bootstrap,
        audit_settings.topic_prefix + "audit.events.v1",
        until=until,
        key=number,
        timeout_s=10,
    )
    return [envelope for envelope, _ in found if isinstance(envelope, EventEnvelope)]


async def student_with_transcript(audit_rt: Runtime, audit_settings: AuditSettings) -> str:
    """An open application whose first audit fails only for want of an approved graduation photo."""
    number = student_no()
    await seed_open_application(audit_rt.db, number)
    async with audit_rt.db.transaction() as session:
        await transcripts.put_transcript(
            session, number, schemas.TranscriptIn.model_validate(transcript_payload()), "lms", audit_settings
        )
    return number


def photo_approved(number: str, submission: uuid.UUID) -> PhotoApproved:
    return PhotoApproved(student_no=number, submission_id=submission, kind="graduation", sha256="a" * 64)


async def test_a_photo_approved_after_a_failed_audit_turns_it_into_a_pass_without_anyone_asking(
    audit_rt: Runtime, audit_settings: AuditSettings
) -> None:
    number = await student_with_transcript(audit_rt, audit_settings)
    failing = await application_of(audit_rt, number)
    assert failing.passed is False and failing.failed_checks == ["audit.graduation_photo_approved"]

    await deliver(audit_rt, audit_settings, photo_approved(number, uuid.uuid4()))

    passing = await application_of(audit_rt, number)
    assert passing.passed is True and passing.failed_checks == []
    assert passing.last_audit_id != failing.last_audit_id
    async with audit_rt.db.session() as session:
        audit = await session.get(Audit, passing.last_audit_id)
    assert (
        audit is not None
        and audit.trigger == "PhotoApproved"
        and audit.rule_set_code == "default-junior-college"
    )

    # A pass waits for HQ: only the failure is on Kafka until sign-off.
    events = await published(audit_rt, audit_settings, number, until=1)
    assert [e.type for e in events] == ["AuditFailed"]
    assert AuditFailed.model_validate(events[0].data).failed_checks == ["audit.graduation_photo_approved"]

    async with audit_rt.db.transaction() as session:
        signed, skipped = await sign_offs.sign_off(
            session, "202612", [number], "hq-registrar", audit_settings
        )
    assert signed == [number] and skipped == []
    events = await published(audit_rt, audit_settings, number, until=2)
    passed = AuditPassed.model_validate(events[-1].data)
    assert (passed.batch_code, passed.graduation_date, passed.issue_date) == (
        "202612",
        date(2027, 1, 31),
        date(2027, 1, 31),
    )
    assert passed.learning_centre == "5135701" and passed.application_type == "graduate"
    assert passed.degree_granted is False
    assert (await application_of(audit_rt, number)).state == "signed_off"


async def test_registry_flags_block_and_release_and_only_a_change_of_outcome_is_announced(
    audit_rt: Runtime, audit_settings: AuditSettings
) -> None:
    number = await student_with_transcript(audit_rt, audit_settings)
    submission = uuid.uuid4()
    await deliver(audit_rt, audit_settings, photo_approved(number, submission))
    assert (await application_of(audit_rt, number)).passed is True

    doubt = IdentityFlagChanged(student_no=number, in_doubt=True, kind="uncertain", reason="CHSI 比对不确定")
    pending = PriorEducationReviewed(
        student_no=number, stage="flagged", outcome="pending", formal_status=False
    )
    await deliver(audit_rt, audit_settings, doubt, pending)
    blocked = await application_of(audit_rt, number)
    assert blocked.failed_checks == ["audit.formal_status", "audit.identity_not_in_doubt"]

    # The same flag again re-audits (a new immutable run) but the outcome is unchanged: no event.
    runs = await audit_count(audit_rt, number)
    await deliver(
        audit_rt, audit_settings, IdentityFlagChanged(student_no=number, in_doubt=True, kind="uncertain")
    )
    assert await audit_count(audit_rt, number) == runs + 1

    cleared = IdentityFlagChanged(student_no=number, in_doubt=False)
    passed_review = PriorEducationReviewed(
        student_no=number, stage="first_review", outcome="passed", formal_status=True
    )
    reopened = PhotoReopened(student_no=number, submission_id=submission, kind="graduation", reason="补拍")
    await deliver(audit_rt, audit_settings, cleared, passed_review)  # one topic, one key: in this order
    assert (await application_of(audit_rt, number)).passed is True
    await deliver(audit_rt, audit_settings, reopened)
    assert (await application_of(audit_rt, number)).failed_checks == ["audit.graduation_photo_approved"]

    events = await published(audit_rt, audit_settings, number, until=3)
    failures = [AuditFailed.model_validate(e.data).failed_checks for e in events if e.type == "AuditFailed"]
    assert failures == [
        ["audit.graduation_photo_approved"],  # the first audit, on application
        ["audit.identity_not_in_doubt"],  # passed → failed: the doubt arrived first
        ["audit.graduation_photo_approved"],  # passed again, then failed: the photo was re-opened
    ]


async def test_a_graduated_student_is_not_re_audited(
    audit_rt: Runtime, audit_settings: AuditSettings
) -> None:
    number = await student_with_transcript(audit_rt, audit_settings)
    runs = await audit_count(audit_rt, number)
    graduated = StudentStatusChanged(
        student_no=number,
        from_status="enrolled",
        to_status="graduated",
        reason="certificate",
        effective_date=date(2027, 1, 31),
    )
    await deliver(audit_rt, audit_settings, graduated)
    await deliver(audit_rt, audit_settings, photo_approved(number, uuid.uuid4()))
    assert await audit_count(audit_rt, number) == runs
