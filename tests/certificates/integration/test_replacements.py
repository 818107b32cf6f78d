"""Replacement (毕业证明书) on real PostgreSQL: once only, also when applications and decisions race."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from gradops_certificates.domain.replacement import ReplacementReason
from gradops_certificates.models import Certificate, Replacement, outbox
from gradops_certificates.service import issue_for_audit
from gradops_certificates.service import replacement as use_case
from gradops_certificates.settings import CertificatesSettings
from gradops_shared.contracts import AuditPassed
from gradops_shared.db import Database
from gradops_shared.errors import Conflict, GradOpsError
from gradops_shared.principal import Principal
from tests.factories import png, student_no

HQ = Principal(subject="hq-registrar", scopes=frozenset({"certificates:write"}))
CENTRE = Principal(
    subject="centre-5135701", scopes=frozenset({"certificates:write"}), centres=frozenset({"5135701"})
)


@pytest.fixture
async def db(postgres_url: str) -> Database:
    return Database(postgres_url, "certificates")


async def issued_certificate(db: Database, settings: CertificatesSettings) -> str:
    event = AuditPassed(
        student_no=student_no(),
        audit_id=uuid.uuid4(),
        batch_code="202306",
        application_type="graduate",
        level="bachelor",
        graduation_date=date(2023, 7, 31),
        learning_centre="5135701",
    )
    async with db.transaction() as session:
        return (await issue_for_audit(session, event, settings)).number


async def attempt(coro: object) -> object:
    try:
        return await coro  # type: ignore[misc]
    except GradOpsError as refused:
        return refused


async def test_racing_applications_make_one_replacement_and_the_rest_get_a_clear_409(
    db: Database, postgres_url: str
) -> None:
    settings = CertificatesSettings(database_url=postgres_url)
    number = await issued_certificate(db, settings)

    async def apply(reason: ReplacementReason) -> str:
        async with db.transaction() as session:
            row = await use_case.apply(
                session, number, reason=reason, form=png(), note=None, principal=CENTRE
            )
            return row.id

    try:
        outcomes = await asyncio.gather(*(attempt(apply("lost" if i % 2 else "damaged")) for i in range(8)))
        ids = [o for o in outcomes if isinstance(o, str)]
        refusals = [o for o in outcomes if isinstance(o, Conflict)]
        assert len(ids) == 1 and len(refusals) == 7, outcomes
        assert {r.code for r in refusals} == {"certificates.replacement_once_only"}

        async with db.transaction() as session:
            await use_case.verify_by_centre(session, ids[0], CENTRE, settings, date(2026, 11, 23))

        async def decide() -> str | None:
            async with db.transaction() as session:
                row, _ = await use_case.decide(
                    session,
                    ids[0],
                    approve=True,
                    note=None,
                    principal=HQ,
                    settings=settings,
                    today=date(2026, 11, 23),
                )
                return row.replacement_number

        decisions = await asyncio.gather(*(attempt(decide()) for _ in range(4)))
        numbers = [d for d in decisions if isinstance(d, str)]
        assert len(numbers) == 1, decisions
        assert all(
            isinstance(d, Conflict) and d.code == "certificates.replacement_illegal_transition"
            for d in decisions
            if not isinstance(d, str)
        )

        async with db.session() as session:
            original = await session.get(Certificate, number)
            assert original is not None
            proofs = (
                (await session.execute(select(Certificate).where(Certificate.original_number == number)))
                .scalars()
                .all()
            )
            applications = await session.scalar(
                select(func.count()).select_from(Replacement).where(Replacement.original_number == number)
            )
            replaced_events = await session.scalar(
                select(func.count())
                .select_from(outbox)
                .where(
                    outbox.c.event_type == "CertificateReplaced",
                    outbox.c.key == original.student_no,
                )
            )
        assert original is not None and original.status == "superseded"
        assert [p.number for p in proofs] == numbers and proofs[0].kind == "replacement"
        assert original.superseded_by == numbers[0]
        assert applications == 1 and replaced_events == 1

        # After the decision: still once only, for the original and for the 毕业证明书.
        for target in (number, numbers[0]):
            refused = await attempt(apply("lost") if target == number else _apply_to(db, target))
            assert isinstance(refused, Conflict) and refused.code == "certificates.replacement_once_only"
    finally:
        await db.dispose()


async def _apply_to(db: Database, number: str) -> str:
    async with db.transaction() as session:
        row = await use_case.apply(session, number, reason="lost", form=png(), note=None, principal=CENTRE)
        return row.id


async def test_a_refused_application_changes_nothing(db: Database, postgres_url: str) -> None:
    settings = CertificatesSettings(database_url=postgres_url)
    number = await issued_certificate(db, settings)
    try:
        refused = await attempt(_bad_scan(db, number))
        assert isinstance(refused, GradOpsError) and refused.code == "certificates.scan_format"
        async with db.session() as session:
            count = await session.scalar(
                select(func.count()).select_from(Replacement).where(Replacement.original_number == number)
            )
        assert count == 0
        # A centre cannot decide: HQ only, and the application is untouched.
        application = await _apply_to(db, number)
        async with db.transaction() as session:
            await use_case.verify_by_centre(session, application, CENTRE, settings, date(2026, 11, 23))
        denied = await attempt(_decide_as(db, application, CENTRE, settings))
        assert (
            isinstance(denied, GradOpsError)
            and denied.status == 403
            and denied.code == "certificates.hq_only"
        )
        async with db.session() as session:
            row = await session.get(Replacement, application)
            assert row is not None and row.state == "centre_verified"
            # 2026-11-23 is a Monday: 15 working days later is Monday 2026-12-14.
            assert row.decision_due == date(2026, 12, 14)
    finally:
        await db.dispose()


async def _bad_scan(db: Database, number: str) -> str:
    async with db.transaction() as session:
        row = await use_case.apply(
            session, number, reason="lost", form=b"GIF89a", note=None, principal=CENTRE
        )
        return row.id


async def _decide_as(
    db: Database, application: str, principal: Principal, settings: CertificatesSettings
) -> None:
    async with db.transaction() as session:
        await use_case.decide(
            session,
            application,
            approve=True,
            note=None,
            principal=principal,
            settings=settings,
            today=date(2026, 11, 23),
        )


async def _decide(db: Database, application: str, settings: CertificatesSettings, *, approve: bool) -> None:
    async with db.transaction() as session:
        await use_case.decide(
            session,
            application,
            approve=approve,
            note=None if approve else "材料不全",
            principal=HQ,
            settings=settings,
            today=date(2026, 11, 23),
        )


async def test_a_rejected_application_does_not_use_up_the_once(db: Database, postgres_url: str) -> None:
    """Once only counts replacements issued (and applications still standing), not refusals: after HQ
    rejects, the student applies again; racing re-applications still make one; once a replacement is
    approved, no more."""
    settings = CertificatesSettings(database_url=postgres_url)
    number = await issued_certificate(db, settings)
    try:
        first = await _apply_to(db, number)
        await _decide(db, first, settings, approve=False)

        outcomes = await asyncio.gather(*(attempt(_apply_to(db, number)) for _ in range(6)))
        ids = [o for o in outcomes if isinstance(o, str)]
        assert len(ids) == 1, outcomes
        assert all(
            isinstance(o, Conflict) and o.code == "certificates.replacement_once_only"
            for o in outcomes
            if not isinstance(o, str)
        )
        # Rejected again straight from `applied`: a third application is still allowed.
        await _decide(db, ids[0], settings, approve=False)
        third = await _apply_to(db, number)
        async with db.transaction() as session:
            await use_case.verify_by_centre(session, third, CENTRE, settings, date(2026, 11, 23))
        await _decide(db, third, settings, approve=True)

        refused = await attempt(_apply_to(db, number))
        assert isinstance(refused, Conflict) and refused.code == "certificates.replacement_once_only"
        async with db.session() as session:
            states = sorted(
                (
                    await session.execute(
                        select(Replacement.state).where(Replacement.original_number == number)
                    )
                ).scalars()
            )
            original = await session.get(Certificate, number)
        assert states == ["approved", "rejected", "rejected"]
        assert original is not None and original.status == "superseded"
    finally:
        await db.dispose()
