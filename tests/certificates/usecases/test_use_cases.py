"""The certificates use cases called directly, on the real migrated PostgreSQL, each test in a
transaction rolled back at the end: the state they change and the events they put in the outbox."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_certificates.models import Certificate, DistributionEvent, outbox
from gradops_certificates.service import distribution, issuance, printouts, replacement, verification
from gradops_certificates.service.clock import china_today
from gradops_certificates.settings import CertificatesSettings
from gradops_shared.contracts import AuditPassed, StudentRegistered
from gradops_shared.errors import Conflict, GradOpsError, InvalidInput, NotFound
from gradops_shared.principal import Principal
from tests.factories import png, student_no
from tests.support.databases import RolledBack

HQ = Principal(subject="hq-registrar", scopes=frozenset({"certificates:read", "certificates:write"}))
CENTRE = Principal(
    subject="centre-5135701",
    scopes=frozenset({"certificates:read", "certificates:write"}),
    centres=frozenset({"5135701"}),
)
OTHER_CENTRE = Principal(
    subject="centre-5135799",
    scopes=frozenset({"certificates:read", "certificates:write"}),
    centres=frozenset({"5135799"}),
)
CALLER = verification.Caller(client="203.0.113.7", user_agent="pytest", request_id=None)


async def my_lookups(session: AsyncSession, request_id: str) -> list[str]:
    """The results of this test's lookups, newest first, read page by page (other tests' committed
    lookups may sit between them)."""
    results: list[str] = []
    cursor: str | None = None
    for _ in range(100):
        page = await verification.lookups(session, HQ, cursor, 2)
        results += [row.result for row in page.items if row.request_id == request_id]
        cursor = page.next_cursor
        if cursor is None or len(results) == 4:
            break
    return results


SETTINGS = CertificatesSettings(principal_name="李校长")


async def outbox_types(session: AsyncSession, key: str) -> list[str]:
    rows = await session.execute(
        select(outbox.c.event_type).where(outbox.c.key == key).order_by(outbox.c.seq)
    )
    return list(rows.scalars())


async def graduate(session: AsyncSession, *, name: str = "王小二", issue_in_days: int = -1) -> Certificate:
    """A student the registry announced, and their diploma from a passed audit (issued yesterday,
    so it verifies as valid)."""
    number = student_no()
    await issuance.record_student(
        session,
        StudentRegistered(
            student_no=number,
            name=name,
            gender="male",
            learning_centre="5135701",
            level="junior_college",
            category="open_education",
            major="会计",
            enrolment_term="2021-autumn",
            study_form="part_time",
            status="enrolled",
        ),
    )
    passed = AuditPassed(
        student_no=number,
        audit_id=uuid.uuid4(),
        batch_code="202307",
        application_type="graduate",
        level="junior_college",
        graduation_date=date(2023, 7, 31),
        issue_date=china_today() + timedelta(days=issue_in_days),
        learning_centre="5135701",
    )
    return await issuance.issue_for_audit(session, passed, SETTINGS)


async def test_a_passed_audit_issues_one_diploma_and_announces_it(rolled_back: RolledBack) -> None:
    async with rolled_back("certificates") as session:
        diploma = await graduate(session)
        assert len(diploma.number) == 18 and diploma.number.startswith(SETTINGS.school_code)
        assert (diploma.kind, diploma.status, diploma.distribution_state) == ("diploma", "valid", "at_hq")
        assert await outbox_types(session, diploma.student_no) == ["CertificateIssued"]
        found = await issuance.certificate_of_student(session, diploma.student_no, CENTRE)
        assert found.number == diploma.number
        # Another centre's certificate reads like no certificate at all.
        with pytest.raises(NotFound) as hidden:
            await issuance.certificate_by_number(session, diploma.number, OTHER_CENTRE)
        assert hidden.value.code == "certificates.not_found"


async def test_a_students_certificates_come_in_cursor_pages(rolled_back: RolledBack) -> None:
    async with rolled_back("certificates") as session:
        diploma = await graduate(session)
        later = AuditPassed(
            student_no=diploma.student_no,
            audit_id=uuid.uuid4(),
            batch_code="202401",
            application_type="graduate",
            level="junior_college",
            graduation_date=date(2024, 1, 31),
            learning_centre="5135701",
        )
        second = await issuance.issue_for_audit(session, later, SETTINGS)
        first = await issuance.student_certificates(session, diploma.student_no, CENTRE, None, 1)
        assert [c.number for c in first.items] == [diploma.number] and first.next_cursor is not None
        rest = await issuance.student_certificates(session, diploma.student_no, CENTRE, first.next_cursor, 1)
        assert [c.number for c in rest.items] == [second.number] and rest.next_cursor is None
        hidden = await issuance.student_certificates(session, diploma.student_no, OTHER_CENTRE, None, 10)
        assert hidden.items == []
        with pytest.raises(InvalidInput) as refused:
            await issuance.student_certificates(session, diploma.student_no, HQ, "bm90LWEtY3Vyc29y", 1)
        assert refused.value.code == "certificates.cursor_invalid"


async def test_notice_collection_and_handover_move_the_certificate_along(rolled_back: RolledBack) -> None:
    async with rolled_back("certificates") as session:
        diploma = await graduate(session)
        today = china_today()
        with pytest.raises(GradOpsError) as not_hq:
            await distribution.notify_batch(session, "202307", None, today, CENTRE, SETTINGS)
        assert (not_hq.value.status, not_hq.value.code) == (403, "certificates.hq_only")
        notified = await distribution.notify_batch(session, "202307", ["5135701"], today, HQ, SETTINGS)
        assert diploma.number in [c.number for c in notified]
        assert diploma.collection_due == today + timedelta(days=SETTINGS.collection_days)

        collected, _ = await distribution.record_event(
            session,
            diploma.number,
            distribution.DistributionInput(event="collected_by_centre", occurred_on=today),
            CENTRE,
            SETTINGS,
        )
        assert collected.distribution_state == "collected_by_centre"
        with pytest.raises(NotFound) as no_receipt:
            await distribution.receipt(session, diploma.number, CENTRE)
        assert no_receipt.value.code == "certificates.receipt_not_found"
        handed, event = await distribution.record_event(
            session,
            diploma.number,
            distribution.DistributionInput(event="handed_to_student", occurred_on=today, receipt=png()),
            CENTRE,
            SETTINGS,
        )
        assert handed.distribution_state == "handed_to_student" and handed.receipt_sha256
        assert event.detail["receipt_sha256"] == handed.receipt_sha256
        stored = await distribution.receipt(session, diploma.number, CENTRE)
        assert stored.media_type == "image/png" and stored.size_bytes == len(stored.content)

        history = await distribution.history(session, diploma.number, HQ, None, 2)
        assert [e.event for e in history.items] == ["notified", "collected_by_centre"]
        assert history.next_cursor is not None
        rest = await distribution.history(session, diploma.number, HQ, history.next_cursor, 2)
        assert [e.event for e in rest.items] == ["handed_to_student"] and rest.next_cursor is None
        events = await session.execute(
            select(DistributionEvent.event).where(DistributionEvent.number == diploma.number)
        )
        assert len(list(events.scalars())) == 3


async def test_a_certificate_past_its_collection_deadline_is_overdue(rolled_back: RolledBack) -> None:
    async with rolled_back("certificates") as session:
        diploma = await graduate(session)
        noticed = china_today() - timedelta(days=30)
        await distribution.notify_batch(session, "202307", ["5135701"], noticed, HQ, SETTINGS)
        page = await distribution.overdue(session, china_today(), HQ, ["5135701"], limit=1000)
        mine = [o for o in page.items if o.certificate.number == diploma.number]
        assert len(mine) == 1 and mine[0].stage == "collection"
        assert mine[0].due == noticed + timedelta(days=SETTINGS.collection_days)


async def test_an_approved_replacement_supersedes_the_original_once(rolled_back: RolledBack) -> None:
    async with rolled_back("certificates") as session:
        diploma = await graduate(session)
        applied = await replacement.apply(
            session, diploma.number, reason="lost", form=png(), note=None, principal=CENTRE
        )
        assert applied.state == "applied"
        assert (await replacement.form(session, applied.id, CENTRE)).sha256 == applied.form_sha256
        with pytest.raises(Conflict) as twice:
            await replacement.apply(
                session, diploma.number, reason="lost", form=png(), note=None, principal=CENTRE
            )
        assert twice.value.code == "certificates.replacement_once_only"

        verified = await replacement.verify_by_centre(session, applied.id, CENTRE, SETTINGS, china_today())
        assert verified.state == "centre_verified" and verified.decision_due is not None
        with pytest.raises(GradOpsError) as not_hq:
            await replacement.decide(
                session,
                applied.id,
                approve=True,
                note=None,
                principal=CENTRE,
                settings=SETTINGS,
                today=china_today(),
            )
        assert not_hq.value.code == "certificates.hq_only"
        decided, proof = await replacement.decide(
            session, applied.id, approve=True, note="ok", principal=HQ, settings=SETTINGS, today=china_today()
        )
        assert decided.state == "approved" and proof is not None
        assert decided.replacement_number == proof.number and proof.kind == "replacement"
        assert diploma.status == "superseded" and diploma.superseded_by == proof.number
        assert await outbox_types(session, diploma.student_no) == ["CertificateIssued", "CertificateReplaced"]
        listed = await replacement.applications(session, CENTRE, "approved", None, 100)
        assert applied.id in [r.id for r in listed.items]


async def test_revocation_is_final_and_announced(rolled_back: RolledBack) -> None:
    async with rolled_back("certificates") as session:
        diploma = await graduate(session)
        with pytest.raises(GradOpsError) as not_hq:
            await replacement.revoke(session, diploma.number, "fraud", CENTRE)
        assert not_hq.value.code == "certificates.hq_only"
        revoked = await replacement.revoke(session, diploma.number, "学籍造假", HQ)
        assert [c.number for c in revoked] == [diploma.number] and diploma.status == "revoked"
        assert await outbox_types(session, diploma.student_no) == ["CertificateIssued", "CertificateRevoked"]
        with pytest.raises(Conflict) as again:
            await replacement.revoke(session, diploma.number, "again", HQ)
        assert again.value.code == "certificates.already_revoked"
        with pytest.raises(Conflict) as share:
            await verification.create_share_code(session, diploma.number, 30, HQ, SETTINGS)
        assert share.value.code == "certificates.revoked"


async def test_share_codes_verify_while_valid_and_every_lookup_is_logged(rolled_back: RolledBack) -> None:
    async with rolled_back("certificates") as session:
        diploma = await graduate(session, name="欧阳明月")
        caller = verification.Caller(client="203.0.113.7", user_agent="pytest", request_id=uuid.uuid4().hex)
        share = await verification.create_share_code(session, diploma.number, 30, CENTRE, SETTINGS)
        found = await verification.verify_code(session, share.code, caller, SETTINGS)
        assert isinstance(found, verification.Verification) and found.result == "valid"
        assert found.certificate is not None and found.certificate.masked_name != "欧阳明月"
        by_number = await verification.verify_number(session, diploma.number, "欧阳明月", caller, SETTINGS)
        assert isinstance(by_number, verification.Verification) and by_number.result == "valid"
        assert await outbox_types(session, diploma.student_no) == [
            "CertificateIssued",
            "VerificationPerformed",
            "VerificationPerformed",
        ]

        extended = await verification.extend_share_code(session, share.code, 30, CENTRE, SETTINGS)
        assert extended.expires_at > share.created_at + timedelta(days=59)
        await verification.revoke_share_code(session, share.code, CENTRE)
        refused = await verification.verify_code(session, share.code, caller, SETTINGS)
        assert isinstance(refused, NotFound) and refused.code == "certificates.share_code_invalid"
        with pytest.raises(Conflict) as revoked:
            await verification.extend_share_code(session, share.code, 30, CENTRE, SETTINGS)
        assert revoked.value.code == "certificates.share_code_revoked"
        malformed = await verification.verify_number(session, "123", "x", caller, SETTINGS)
        assert isinstance(malformed, InvalidInput) and malformed.code == "certificates.number_format"

        with pytest.raises(GradOpsError) as not_hq:
            await verification.lookups(session, CENTRE, None, 10)
        assert not_hq.value.code == "certificates.hq_only"
        assert await my_lookups(session, caller.request_id or "") == [
            "malformed",
            "invalid_code",
            "valid",
            "valid",
        ]


async def test_documents_need_the_principals_name_and_a_replacement(rolled_back: RolledBack) -> None:
    async with rolled_back("certificates") as session:
        diploma = await graduate(session)
        export = await printouts.chsi_export(session, "202307", HQ, ["5135701"], SETTINGS, "csv")
        assert export.rows >= 1 and diploma.number.encode() in export.content
        with pytest.raises(Conflict) as unnamed:
            await printouts.chsi_export(
                session, "202307", HQ, None, CertificatesSettings(principal_name=""), "xlsx"
            )
        assert unnamed.value.code == "certificates.principal_name_missing"
        with pytest.raises(Conflict) as not_a_proof:
            await printouts.proof_for(session, diploma.number, HQ, SETTINGS)
        assert not_a_proof.value.code == "certificates.not_a_replacement"
