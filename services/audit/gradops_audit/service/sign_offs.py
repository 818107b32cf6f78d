"""HQ's sign-off: passing applications become AuditPassed, in submission order. A sign-off may
first wait (briefly) for a re-audit on its way, e.g. the one a PhotoApproved event triggers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_audit import schemas
from gradops_audit.errors import (
    SIGN_OFF_TARGET,
    SIGN_OFF_WAIT_NEEDS_STUDENTS,
    SKIP_APPLICATION_NOT_OPEN,
    SKIP_NOT_PASSING,
    STUDENT_GRADUATED,
)
from gradops_audit.models import outbox
from gradops_audit.repository import AuditRepository
from gradops_audit.service.auditing import CLOSED_STATUSES, passed_event
from gradops_audit.service.batches import get_batch
from gradops_audit.settings import AuditSettings
from gradops_shared.contracts import EventData
from gradops_shared.db import Database
from gradops_shared.outbox import add_events


async def sign_off_batch(
    session: AsyncSession,
    db: Database,
    batch_code: str,
    data: schemas.SignOffIn,
    actor: str,
    settings: AuditSettings,
) -> tuple[list[str], list[schemas.SkippedOut]]:
    """The sign-off HQ asked for: named students, or every passing application of the batch.

    With `wait_seconds` it first waits for pending re-audits. That wait needs time between
    transactions, so it reads through `db` in short sessions of its own; `session` (the edge's
    unit of work) is not touched until the wait is over. SQLAlchemy connects a session on first
    use, so nothing is locked meanwhile (on SQLite a write transaction would hold the whole file,
    and the very re-audit being waited for could not be stored)."""
    if (data.student_nos is None) == (not data.all_passing):
        raise SIGN_OFF_TARGET("Give either student_nos or all_passing: true.")
    if data.wait_seconds and data.student_nos is None:
        raise SIGN_OFF_WAIT_NEEDS_STUDENTS("wait_seconds waits for named students: give student_nos with it.")
    if data.wait_seconds and data.student_nos is not None:
        await wait_for_newer_audits(db, batch_code, data.student_nos, data.wait_seconds)
    return await sign_off(session, batch_code, data.student_nos, actor, settings)


POLL_SECONDS = 0.1
# How the wait sleeps between looks; a test replaces it to know when the wait has begun.
pause: Callable[[float], Awaitable[None]] = asyncio.sleep


async def wait_for_newer_audits(
    db: Database, batch_code: str, student_nos: Sequence[str], wait_seconds: float
) -> list[str]:
    """Before a sign-off decides: for each named student whose open application does not pass on
    its current audit, wait (up to `wait_seconds`) until a newer audit of it is stored, e.g. the
    re-audit a PhotoApproved event triggers, which on the real stack arrives some time after the
    approval. Returns the students still waiting when the time ran out. Reads only, in short
    sessions, so nothing is locked while it waits; the sign-off then decides on what is stored."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    numbers = list(dict.fromkeys(student_nos))
    async with db.session() as session:
        found = await AuditRepository(session).batch_applications(batch_code, student_nos=numbers)
    waiting = {a.student_no: a.last_audit_id for a in found if a.passed is not True}
    while waiting:
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        await pause(min(POLL_SECONDS, remaining))
        async with db.session() as session:
            now = await AuditRepository(session).batch_applications(batch_code, student_nos=list(waiting))
        current = {a.student_no: a.last_audit_id for a in now}
        # Still open and still on the same audit: keep waiting. A newer audit, pass or fail, decides.
        waiting = {n: audit for n, audit in waiting.items() if n in current and current[n] == audit}
    return sorted(waiting)


async def sign_off(
    session: AsyncSession,
    batch_code: str,
    student_nos: Sequence[str] | None,
    actor: str,
    settings: AuditSettings,
) -> tuple[list[str], list[schemas.SkippedOut]]:
    """HQ approves passing applications in submission order: each becomes AuditPassed."""
    batch = await get_batch(session, batch_code)
    repo = AuditRepository(session)
    applications = await repo.batch_applications(batch_code, student_nos=student_nos)
    students = await repo.students_by_no([a.student_no for a in applications])
    found = {a.student_no for a in applications}
    skipped = [
        schemas.SkippedOut(
            student_no=n, code=SKIP_APPLICATION_NOT_OPEN, reason="No open application in this batch."
        )
        for n in (student_nos or [])
        if n not in found
    ]
    audits = {a.last_audit_id: a for a in applications}
    degree = await repo.degree_eligibility([a for a in audits if a])
    now = datetime.now(UTC)
    events: list[EventData] = []
    signed: list[str] = []
    seqs: list[int] = []
    for app in applications:
        student = students.get(app.student_no)
        if app.passed is not True or student is None:
            if student_nos is not None:
                skipped.append(
                    schemas.SkippedOut(
                        student_no=app.student_no,
                        code=SKIP_NOT_PASSING,
                        reason="The current audit fails: " + ", ".join(app.failed_checks or []),
                    )
                )
            continue
        if student.status in CLOSED_STATUSES:
            skipped.append(
                schemas.SkippedOut(
                    student_no=app.student_no, code=STUDENT_GRADUATED.code, reason="Graduated already."
                )
            )
            continue
        assert app.last_audit_id is not None
        events.append(
            passed_event(app, app.last_audit_id, degree.get(app.last_audit_id), student.level, batch, student)
        )
        seqs.append(app.seq)
        signed.append(app.student_no)
    await repo.mark_signed_off(seqs, actor, now)
    await add_events(session, outbox, events)
    return signed, skipped
