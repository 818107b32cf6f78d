"""Builders for the audit's use-case tests: the facts a use case starts from, written through the
audit's own use cases and event handlers on the test's rolled-back session."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_audit import events, schemas
from gradops_audit.models import Application, outbox
from gradops_audit.service import batches, transcripts
from gradops_audit.service.students import upsert_student
from gradops_audit.settings import AuditSettings
from gradops_shared.contracts import PhotoApproved
from gradops_shared.peers import RegistryClient
from gradops_shared.principal import Principal
from tests.factories import open_batch_code, open_batch_payload, student_no, transcript_payload

CENTRE = "5135701"
SETTINGS = AuditSettings()
HQ = Principal(subject="hq", scopes=frozenset({"audit:read", "audit:write"}))


def centre_key(*centres: str) -> Principal:
    return Principal(
        subject="centre", scopes=frozenset({"audit:read", "audit:write"}), centres=frozenset(centres)
    )


async def a_batch(session: AsyncSession, code: str | None = None, **overrides: Any) -> str:
    """A batch whose application window is open today."""
    code = code or open_batch_code()
    data = schemas.BatchIn.model_validate(open_batch_payload(batch=code, **overrides))
    await batches.put_batch(session, code, data, "hq")
    return code


def snapshot(number: str, **overrides: Any) -> dict[str, Any]:
    return {
        "student_no": number,
        "status": "enrolled",
        "level": "junior_college",
        "learning_centre": CENTRE,
        "category": "open_education",
        "major": "机电一体化技术",
        "enrolment_term": "2021-spring",
        **overrides,
    }


async def a_student(session: AsyncSession, **overrides: Any) -> str:
    """A student the audit knows (as if StudentRegistered had arrived)."""
    number = student_no()
    await upsert_student(session, snapshot(number, **overrides))
    await session.flush()
    return number


async def with_transcript(session: AsyncSession, number: str, **overrides: Any) -> None:
    data = schemas.TranscriptIn.model_validate(transcript_payload(**overrides))
    await transcripts.put_transcript(session, number, data, "lms", SETTINGS)


async def with_approved_photo(session: AsyncSession, number: str) -> None:
    """PhotoApproved as the consumer applies it (the fact, then the re-audit)."""
    approved = PhotoApproved(
        student_no=number, submission_id=uuid.uuid4(), kind="graduation", sha256="a" * 64
    )
    handle = events.handlers(SETTINGS)["PhotoApproved"]
    await handle(session, approved.envelope(), approved)


async def application_of(session: AsyncSession, number: str) -> Application:
    await session.flush()
    query = (
        select(Application).where(Application.student_no == number).execution_options(populate_existing=True)
    )
    return (await session.execute(query)).scalar_one()


async def emitted(session: AsyncSession, number: str) -> list[str]:
    """The event types the audit's outbox holds for the student, in order."""
    await session.flush()
    rows = await session.execute(
        select(outbox.c.event_type).where(outbox.c.key == number).order_by(outbox.c.seq)
    )
    return [row[0] for row in rows]


class FakeRegistry(RegistryClient):
    """The registry as a dictionary (the registry itself is not under test here)."""

    def __init__(self, known: dict[str, dict[str, Any]] | None = None) -> None:
        self.known = known or {}
        self.asked: list[str] = []

    async def student(self, caller: Principal, student_no: str) -> dict[str, Any] | None:
        self.asked.append(student_no)
        found = self.known.get(student_no)
        return None if found is None or not caller.sees_centre(found["learning_centre"]) else dict(found)
