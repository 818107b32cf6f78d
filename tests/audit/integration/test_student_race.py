"""The audit meets a new student from two sides at once (a transcript PUT asking the registry, and
the StudentRegistered consumer): one row, no duplicate-key error, on real PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from gradops_audit.models import KnownStudent
from gradops_audit.service.students import upsert_student
from gradops_shared.db import Database
from tests.factories import student_no


async def test_concurrent_first_sightings_of_a_student_make_one_row(postgres_url: str) -> None:
    db = Database(postgres_url, "audit")
    number = student_no()
    snapshot = {
        "student_no": number,
        "status": "enrolled",
        "level": "junior_college",
        "learning_centre": "5135701",
        "category": "open_education",
        "major": "会计",
        "enrolment_term": "2021-spring",
    }

    async def first_sighting(major: str) -> None:
        async with db.transaction() as session:
            await upsert_student(session, {**snapshot, "major": major})
            await asyncio.sleep(0.05)  # hold the transaction open while the other one arrives

    try:
        await asyncio.gather(*(first_sighting(f"专业{i}") for i in range(4)))
        async with db.session() as session:
            rows = await session.scalar(
                select(func.count()).select_from(KnownStudent).where(KnownStudent.student_no == number)
            )
            student = await session.get(KnownStudent, number)
        assert rows == 1
        assert student is not None and student.major.startswith("专业")
    finally:
        await db.dispose()
