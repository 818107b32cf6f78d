"""A student's first transcript sent twice at once (a retry, two LMS workers, a bulk PUT and a
single one): one row, the last writer's content, no duplicate-key error, on real PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from gradops_audit import schemas
from gradops_audit.models import Transcript
from gradops_audit.service import transcripts
from gradops_audit.settings import AuditSettings
from gradops_shared.runtime import Runtime
from tests.factories import student_no, transcript_payload


async def test_concurrent_first_transcripts_of_a_student_make_one_row(
    audit_rt: Runtime, audit_settings: AuditSettings
) -> None:
    number = student_no()

    async def send(source: str) -> None:
        data = schemas.TranscriptIn.model_validate({**transcript_payload(), "source": source})
        async with audit_rt.db.transaction() as session:
            await transcripts.put_transcript(session, number, data, "lms", audit_settings)
            await session.flush()
            await asyncio.sleep(0.05)  # hold the transaction open while the others arrive

    await asyncio.gather(*(send(f"lms-{i}") for i in range(4)))
    async with audit_rt.db.session() as session:
        rows = await session.scalar(
            select(func.count()).select_from(Transcript).where(Transcript.student_no == number)
        )
        stored = await session.get(Transcript, number)
    assert rows == 1
    assert stored is not None and stored.source.startswith("lms-")
