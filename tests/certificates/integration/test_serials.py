"""Certificate serials on real PostgreSQL: unique and gapless with many issuers at once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

from sqlalchemy import select

from gradops_certificates.models import Certificate, outbox
from gradops_certificates.service import issue_for_audit
from gradops_certificates.settings import CertificatesSettings
from gradops_shared.contracts import AuditPassed, EventEnvelope
from gradops_shared.db import Database
from tests.certificates.integration.years import unique_year
from tests.factories import student_no


def passed(number: str, year: int) -> AuditPassed:
    return AuditPassed(
        student_no=number,
        audit_id=uuid.uuid4(),
        batch_code=f"{year}06",
        application_type="graduate",
        level="bachelor",
        graduation_date=date(year, 7, 31),
    )


async def test_concurrent_issuers_get_unique_gapless_serials(postgres_url: str) -> None:
    # A year of its own, so other tests' certificates do not share the counter.
    year = unique_year()
    settings = CertificatesSettings(database_url=postgres_url, school_code="51357", education_type_code="5")
    db = Database(postgres_url, "certificates")
    students = [student_no() for _ in range(40)]

    async def issue(number: str) -> str:
        async with db.transaction() as session:
            return (await issue_for_audit(session, passed(number, year), settings)).number

    try:
        numbers = await asyncio.gather(*(issue(n) for n in students))
        # A redelivered AuditPassed for the same student and batch issues nothing new.
        again = await issue(students[0])
        async with db.session() as session:
            stored = (
                await session.execute(
                    select(Certificate.serial).where(Certificate.number.like(f"513575{year}05%"))
                )
            ).scalars()
            serials = sorted(stored)
    finally:
        await db.dispose()
    assert again == numbers[0]
    assert sorted(int(n[-6:]) for n in numbers) == list(range(1, 41))
    assert serials == list(range(1, 41))
    assert all(n.startswith(f"513575{year}05") for n in numbers)


async def test_spring_and_autumn_batches_of_a_year_share_one_gapless_series(postgres_url: str) -> None:
    """Yunkai's December and March batches both graduate on 31 January: one year, one counter, so
    their numbers never collide; issuers in separate engines stand for separate consumer processes."""
    year = unique_year()
    settings = CertificatesSettings(database_url=postgres_url, school_code="51357", education_type_code="5")
    engines = [Database(postgres_url, "certificates") for _ in range(3)]
    batches = [f"{year - 1}12", f"{year}03"]
    jobs = [(student_no(), batches[i % 2]) for i in range(30)]

    async def issue(index: int, number: str, batch: str) -> str:
        event = passed(number, year).model_copy(
            update={"batch_code": batch, "graduation_date": date(year, 1, 31), "level": "junior_college"}
        )
        async with engines[index % len(engines)].transaction() as session:
            return (await issue_for_audit(session, event, settings)).number

    try:
        numbers = await asyncio.gather(*(issue(i, n, b) for i, (n, b) in enumerate(jobs)))
    finally:
        for engine in engines:
            await engine.dispose()
    assert len(set(numbers)) == 30
    assert sorted(int(n[-6:]) for n in numbers) == list(range(1, 31))
    assert {n[:12] for n in numbers} == {f"513575{year}06"}


async def test_a_granted_degree_gets_its_own_16_digit_certificate_once(postgres_url: str) -> None:
    year = unique_year()
    settings = CertificatesSettings(database_url=postgres_url)
    db = Database(postgres_url, "certificates")
    number = student_no()
    with_degree = passed(number, year).model_copy(
        update={
            "application_type": "graduate_with_degree",
            "degree_granted": True,
            "learning_centre": "5135701",
        }
    )
    without = passed(student_no(), year).model_copy(update={"application_type": "graduate_with_degree"})
    try:
        for event in (with_degree, with_degree, without):  # the first one redelivered
            async with db.transaction() as session:
                await issue_for_audit(session, event, settings)
        async with db.session() as session:
            rows = (
                (await session.execute(select(Certificate).where(Certificate.student_no == number)))
                .scalars()
                .all()
            )
            issued = (
                await session.execute(
                    select(outbox.c.event_type, outbox.c.payload).where(outbox.c.key == number)
                )
            ).all()
            others = (
                (
                    await session.execute(
                        select(Certificate.kind).where(Certificate.student_no == without.student_no)
                    )
                )
                .scalars()
                .all()
            )
    finally:
        await db.dispose()
    kinds = {row.kind: row for row in rows}
    assert set(kinds) == {"diploma", "degree"}
    assert kinds["degree"].number == f"513574{year}000001"  # school, 4 = bachelor, year, serial
    assert len(kinds["degree"].number) == 16 and kinds["diploma"].learning_centre == "5135701"
    payloads = [EventEnvelope.model_validate_json(p).data for t, p in issued if t == "CertificateIssued"]
    assert sorted(p["kind"] for p in payloads) == ["degree", "diploma"]
    assert all(p["learning_centre"] == "5135701" for p in payloads)
    assert others == ["diploma"]  # applied for a degree, not granted: no degree certificate
