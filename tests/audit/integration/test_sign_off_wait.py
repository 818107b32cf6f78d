"""Sign-off right after a photo approval on real PostgreSQL and Kafka: the re-audit PhotoApproved
triggers arrives through the consumer after the approval; a sign-off that waits decides on it."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from gradops_audit.service import sign_offs
from gradops_audit.settings import AuditSettings
from gradops_shared.runtime import Runtime
from tests.audit.integration.test_events import (
    application_of,
    deliver,
    photo_approved,
    student_with_transcript,
)


class HeldWait:
    """The wait's pause: says the wait has begun, then holds until the event has been consumed."""

    def __init__(self) -> None:
        self.began = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.began.set()
        await self.release.wait()


async def test_a_sign_off_that_waits_sees_the_re_audit_of_a_photo_approved_meanwhile(
    audit_rt: Runtime, audit_settings: AuditSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = await student_with_transcript(audit_rt, audit_settings)
    assert (await application_of(audit_rt, number)).passed is False  # no approved photo yet
    held = HeldWait()
    monkeypatch.setattr(sign_offs, "pause", held)

    waiting = asyncio.create_task(sign_offs.wait_for_newer_audits(audit_rt.db, "202612", [number], 20))
    await held.began.wait()  # the sign-off saw the failing audit; now the approval's event arrives
    await deliver(audit_rt, audit_settings, photo_approved(number, uuid.uuid4()))
    held.release.set()
    assert await waiting == []  # nobody left waiting: the newer audit came

    async with audit_rt.db.transaction() as session:
        signed, skipped = await sign_offs.sign_off(session, "202612", [number], "hq", audit_settings)
    assert signed == [number] and skipped == []
    assert (await application_of(audit_rt, number)).state == "signed_off"


async def test_without_waiting_the_same_sign_off_is_skipped_until_the_event_arrives(
    audit_rt: Runtime, audit_settings: AuditSettings
) -> None:
    number = await student_with_transcript(audit_rt, audit_settings)
    async with audit_rt.db.transaction() as session:
        signed, skipped = await sign_offs.sign_off(session, "202612", [number], "hq", audit_settings)
    assert signed == [] and [s.code for s in skipped] == ["audit.not_passing"]
    assert await sign_offs.wait_for_newer_audits(audit_rt.db, "202612", [number], 0) == [number]
