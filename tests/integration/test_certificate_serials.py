"""Certificate serials on real PostgreSQL: unique and gapless with many issuers at once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

from sqlalchemy import select

from gradops_certificates.models import Certificate
from gradops_certificates.service import issue_for_audit
from gradops_certificates.settings import CertificatesSettings
from gradops_shared.contracts import AuditPassed
from gradops_shared.db import Database
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
    year = 2100 + uuid.uuid4().int % 800
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
