"""Helpers of the photo use-case tests: principals, a checked photo, a stored submission, the outbox."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_photo.models import PhotoSubmission
from gradops_photo.qc import PROFILES, QcReport, run_checks
from gradops_photo.service import submissions
from gradops_photo.service.history import Deadlines
from gradops_shared.principal import SCOPES, Principal
from gradops_shared.workdays import WorkCalendar
from tests.factories import graduation_photo

HQ = Principal(subject="reviewer-1", scopes=frozenset(SCOPES))
CENTRE_A = Principal(subject="centre-a", scopes=frozenset(SCOPES), centres=frozenset({"5135701"}))
CENTRE_B = Principal(subject="centre-b", scopes=frozenset(SCOPES), centres=frozenset({"9999999"}))
DEADLINES = Deadlines(WorkCalendar.of())

_REPORTS: dict[str, QcReport] = {}


def fresh_no() -> str:
    """A student number no other test (nor an earlier run on the same database) has used."""
    return f"U{uuid.uuid4().hex[:15]}"


def good_report(data: bytes) -> QcReport:
    key = str(hash(data))
    if key not in _REPORTS:
        _REPORTS[key] = run_checks(data, PROFILES["ouc-platform"], None)
    return _REPORTS[key]


async def submit(
    session: AsyncSession, number: str, photo: bytes | None = None, centre: str = "5135701"
) -> PhotoSubmission:
    data = photo or graduation_photo()
    report = good_report(data)
    return await submissions.submit_photo(
        session,
        student_no=number,
        kind="graduation",
        source="centre_upload",
        data=data,
        judged=report,
        qc_report=report.as_dict(),
        actor="centre-a",
        learning_centre=centre,
        deadlines=DEADLINES,
    )


async def events(session: AsyncSession, number: str) -> list[tuple[str, dict[str, Any]]]:
    """The outbox rows the use cases added for a student (in the same, uncommitted transaction)."""
    rows = (
        await session.execute(
            text("select event_type, payload from photo.outbox where key = :k order by seq"), {"k": number}
        )
    ).all()
    return [(row[0], json.loads(bytes(row[1]))["data"]) for row in rows]
