"""CHSI photo states and the degree on real PostgreSQL and Kafka: the switch for the CHSI check,
a photo in doubt, and `AuditPassed.degree_granted` for a bachelor who applied for the degree."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select

from gradops_audit import schemas
from gradops_audit.models import Application
from gradops_audit.service import sign_offs, transcripts
from gradops_audit.settings import AuditSettings
from gradops_shared.contracts import AuditPassed, PhotoChsiStatusChanged
from gradops_shared.runtime import Runtime
from tests.audit.integration.audit_tools import seed_open_application
from tests.audit.integration.test_events import (
    application_of,
    deliver,
    photo_approved,
    published,
)
from tests.factories import student_no, transcript_payload


def chsi(number: str, kind: str, state: str) -> PhotoChsiStatusChanged:
    return PhotoChsiStatusChanged(
        student_no=number,
        submission_id=uuid.uuid4(),
        kind=kind,
        chsi_state=state,
    )


async def test_with_the_chsi_check_on_both_photos_must_be_on_chsi_and_none_in_doubt(
    audit_rt: Runtime,
    audit_settings: AuditSettings,
) -> None:
    strict = audit_settings.model_copy(update={"check_chsi_photos": True})
    number = student_no()
    await seed_open_application(audit_rt.db, number)
    async with audit_rt.db.transaction() as session:
        await transcripts.put_transcript(
            session, number, schemas.TranscriptIn.model_validate(transcript_payload()), "lms", strict
        )
    await deliver(audit_rt, strict, photo_approved(number, uuid.uuid4()))
    assert (await application_of(audit_rt, number)).failed_checks == ["audit.chsi_photos"]

    await deliver(audit_rt, strict, chsi(number, "admission", "on_chsi"))
    await deliver(audit_rt, strict, chsi(number, "graduation", "on_chsi"))
    assert (await application_of(audit_rt, number)).passed is True

    await deliver(audit_rt, strict, chsi(number, "admission", "chsi_rejected"))  # 照片存疑
    assert (await application_of(audit_rt, number)).failed_checks == [
        "audit.chsi_photos",
        "audit.no_photo_in_doubt",
    ]


async def test_a_bachelor_who_meets_the_degree_thresholds_graduates_with_the_degree(
    audit_rt: Runtime,
    audit_settings: AuditSettings,
) -> None:
    number = student_no()
    await seed_open_application(audit_rt.db, number, level="bachelor_from_junior_college")
    async with audit_rt.db.transaction() as session:
        app = (
            await session.execute(select(Application).where(Application.student_no == number))
        ).scalar_one()
        app.type = "graduate_with_degree"
        await transcripts.put_transcript(
            session,
            number,
            schemas.TranscriptIn.model_validate(transcript_payload("bachelor_from_junior_college")),
            "lms",
            audit_settings,
        )
    await deliver(audit_rt, audit_settings, photo_approved(number, uuid.uuid4()))
    assert (await application_of(audit_rt, number)).passed is True
    async with audit_rt.db.transaction() as session:
        signed, _ = await sign_offs.sign_off(session, "202612", [number], "hq", audit_settings)
    assert signed == [number]
    events = await published(audit_rt, audit_settings, number, until=2)
    passed = AuditPassed.model_validate(events[-1].data)
    assert passed.application_type == "graduate_with_degree" and passed.degree_granted is True
    assert passed.level == "bachelor_from_junior_college" and passed.graduation_date == date(2027, 1, 31)
