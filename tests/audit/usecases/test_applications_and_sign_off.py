"""Applying, auditing and signing off, called as use cases on real PostgreSQL (rolled back per test):
the state each leaves and the events it puts in the outbox."""

from __future__ import annotations

import pytest

from gradops_audit import schemas
from gradops_audit.models import KnownStudent
from gradops_audit.service import applications, auditing, sign_offs
from gradops_shared.errors import Conflict, NotFound
from tests.audit.usecases.builders import (
    HQ,
    SETTINGS,
    FakeRegistry,
    a_batch,
    a_student,
    application_of,
    centre_key,
    emitted,
    snapshot,
    with_approved_photo,
    with_transcript,
)
from tests.factories import student_no
from tests.support.databases import RolledBack


def apply_for(*numbers: str, kind: str = "graduate") -> schemas.ApplicationsIn:
    return schemas.ApplicationsIn.model_validate({"type": kind, "student_nos": list(numbers)})


async def test_an_application_is_audited_at_once_and_a_failure_is_announced_once(
    rolled_back: RolledBack,
) -> None:
    async with rolled_back("audit") as session:
        batch = await a_batch(session)
        number = await a_student(session)
        await with_transcript(session, number)
        submitted = await applications.apply(session, FakeRegistry(), batch, apply_for(number), HQ, SETTINGS)
        assert [a.student_no for a in submitted.applications] == [number]
        app = await application_of(session, number)
        assert app.state == "open" and app.passed is False
        assert app.failed_checks == ["audit.graduation_photo_approved"]
        assert await emitted(session, number) == ["AuditFailed"]

        await with_transcript(session, number)  # a new transcript, still no photo: still failing
        assert await emitted(session, number) == ["AuditFailed"]  # announced when it began, once


async def test_an_approved_photo_passes_the_audit_and_the_sign_off_emits_audit_passed(
    rolled_back: RolledBack,
) -> None:
    async with rolled_back("audit") as session:
        batch = await a_batch(session)
        number = await a_student(session)
        await with_transcript(session, number)
        await applications.apply(session, FakeRegistry(), batch, apply_for(number), HQ, SETTINGS)
        await with_approved_photo(session, number)
        assert (await application_of(session, number)).passed is True

        body = schemas.SignOffIn(student_nos=[number])
        signed, skipped = await sign_offs.sign_off(session, batch, body.student_nos, "hq", SETTINGS)
        assert (signed, skipped) == ([number], [])
        app = await application_of(session, number)
        assert (app.state, app.signed_off_by) == ("signed_off", "hq")
        assert await emitted(session, number) == ["AuditFailed", "AuditPassed"]


async def test_a_failing_student_named_for_sign_off_is_skipped_with_the_reason(
    rolled_back: RolledBack,
) -> None:
    async with rolled_back("audit") as session:
        batch = await a_batch(session)
        number = await a_student(session)
        await applications.apply(session, FakeRegistry(), batch, apply_for(number), HQ, SETTINGS)
        signed, skipped = await sign_offs.sign_off(session, batch, [number, "999"], "hq", SETTINGS)
        assert signed == []
        assert {(s.student_no, s.code) for s in skipped} == {
            ("999", "audit.application_not_open"),
            (number, "audit.not_passing"),
        }
        assert "AuditPassed" not in await emitted(session, number)


async def test_a_batch_run_re_audits_every_open_application(rolled_back: RolledBack) -> None:
    async with rolled_back("audit") as session:
        batch = await a_batch(session)
        numbers = [await a_student(session) for _ in range(3)]
        await applications.apply(session, FakeRegistry(), batch, apply_for(*numbers), HQ, SETTINGS)
        stats = await auditing.run_batch(session, batch, "hq", SETTINGS)
        assert stats.audited >= 3 and stats.failed >= 3
        page = await applications.list_batch_audits(
            session,
            batch,
            HQ,
            result=None,
            learning_centres=None,
            application_type=None,
            limit=2,
            cursor=None,
        )
        assert len(page.items) == 2 and page.next_cursor is not None


async def test_a_graduate_or_an_unknown_student_cannot_apply(rolled_back: RolledBack) -> None:
    async with rolled_back("audit") as session:
        batch = await a_batch(session)
        graduate = await a_student(session, status="graduated")
        with pytest.raises(Conflict) as refused:
            await applications.apply(session, FakeRegistry(), batch, apply_for(graduate), HQ, SETTINGS)
        assert refused.value.code == "audit.student_graduated"
        with pytest.raises(NotFound) as unknown:
            await applications.apply(session, FakeRegistry(), batch, apply_for(student_no()), HQ, SETTINGS)
        assert unknown.value.code == "audit.student_not_found"


async def test_a_student_the_audit_has_not_heard_of_is_learnt_from_the_registry(
    rolled_back: RolledBack,
) -> None:
    async with rolled_back("audit") as session:
        batch = await a_batch(session)
        number = student_no()
        registry = FakeRegistry({number: snapshot(number)})
        submitted = await applications.apply(session, registry, batch, apply_for(number), HQ, SETTINGS)
        assert registry.asked == [number]
        assert await session.get(KnownStudent, number) is not None
        assert submitted.applications[0].state == "open"


async def test_a_centre_key_cannot_apply_for_a_student_of_another_centre(rolled_back: RolledBack) -> None:
    async with rolled_back("audit") as session:
        batch = await a_batch(session)
        number = await a_student(session)
        with pytest.raises(NotFound):
            await applications.apply(
                session, FakeRegistry(), batch, apply_for(number), centre_key("9999999"), SETTINGS
            )
