"""Applications (毕业申请) in a batch, batch audit runs and HQ sign-off. Never commits."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_audit import schemas
from gradops_audit.domain import batches
from gradops_audit.domain.rules import DEGREE_LEVELS
from gradops_audit.models import Application, Batch, KnownStudent, outbox
from gradops_audit.records import get_batch, rounds_of
from gradops_audit.repository import AuditRepository
from gradops_audit.rulebook import load_rule_book
from gradops_audit.service import (
    CLOSED_STATUSES,
    BatchRunStats,
    audit_applications,
    evaluate,
    facts_from_rows,
    grants_for,
    passed_event,
)
from gradops_audit.settings import AuditSettings
from gradops_shared.contracts import EventData
from gradops_shared.db import Database
from gradops_shared.errors import Conflict, InvalidInput
from gradops_shared.outbox import add_events
from gradops_shared.principal import Principal


@dataclass
class Submitted:
    applications: list[Any] = field(default_factory=list)  # ORM objects or refreshed plain rows
    skipped: list[schemas.SkippedOut] = field(default_factory=list)


def _refusal(
    student: KnownStudent | None, student_no: str, batch: Batch, kind: str
) -> tuple[str, str, str] | None:
    """Why a student cannot apply in this batch (code, en, zh), or None."""
    if student is None:
        return (
            "audit.student_not_found",
            f"No student with number {student_no}.",
            f"学号 {student_no} 的学生不存在",
        )
    if student.status in CLOSED_STATUSES:
        return ("audit.student_graduated", "The student has graduated already.", "该学生已毕业")
    if not batches.in_cohort(student.enrolment_term, batch.cohort_cutoff_term):
        return (
            "audit.not_in_cohort",
            f"Enrolled in {student.enrolment_term}, after the batch's cut-off {batch.cohort_cutoff_term}.",
            f"入学学期 {student.enrolment_term} 晚于本批次截止学期 {batch.cohort_cutoff_term}",
        )
    if kind == "graduate_with_degree" and student.level not in DEGREE_LEVELS:
        return (
            "audit.degree_not_available",
            "A 专科 student cannot apply for a degree.",
            "专科层次不能申请学士学位",
        )
    return None


async def submit_applications(
    session: AsyncSession,
    batch_code: str,
    data: schemas.ApplicationsIn,
    principal: Principal,
    settings: AuditSettings,
    *,
    today: date,
) -> Submitted:
    """Explicit students: all or nothing (one refusal refuses the request). A selection takes every
    student of the cohort that fits and reports nothing for those that do not."""
    if (data.student_nos is None) == (data.selection is None):
        raise InvalidInput(
            "Give either student_nos or selection.",
            code="audit.application_target",
            message_zh="请给出学号列表（student_nos）或筛选条件（selection）之一",
        )
    batch = await get_batch(session, batch_code)
    window = batches.open_round(rounds_of(batch), today)
    repo = AuditRepository(session)
    if data.student_nos is not None:
        numbers = list(dict.fromkeys(data.student_nos))
        students = await repo.students_by_no(numbers)
        for number in numbers:
            student = students.get(number)
            if student is None or not principal.sees_centre(student.learning_centre):
                raise _not_found(number)
            refusal = _refusal(student, number, batch, data.type)
            if refusal:
                raise Conflict(
                    refusal[1], code=refusal[0], message_zh=refusal[2], extra={"student_no": number}
                )
    else:
        assert data.selection is not None
        numbers = await _select(session, batch, data.selection, principal, settings)
        students = await repo.students_by_no(numbers)

    existing = await repo.applications_of_students(numbers)
    result = Submitted()
    now = datetime.now(UTC)
    new: list[Application] = []
    fresh: list[dict[str, Any]] = []
    for number in numbers:
        student = students[number]
        if data.selection is not None and _refusal(student, number, batch, data.type):
            continue
        mine = existing.get(number, [])
        here = next((a for a in mine if a.batch_code == batch_code), None)
        elsewhere = next((a for a in mine if a.batch_code != batch_code and a.state == "open"), None)
        if elsewhere is not None or (here is not None and here.state == "signed_off"):
            code, en, zh = (
                (
                    "audit.application_open_elsewhere",
                    f"An application is open in batch {elsewhere.batch_code}.",
                    f"该学生在批次 {elsewhere.batch_code} 已有未完成的申请",
                )
                if elsewhere is not None
                else (
                    "audit.application_signed_off",
                    "The application is signed off already.",
                    "该申请已由总部审核通过",
                )
            )
            if data.student_nos is not None:
                raise Conflict(en, code=code, message_zh=zh, extra={"student_no": number})
            result.skipped.append(schemas.SkippedOut(student_no=number, code=code, reason=en))
            continue
        if here is None:
            # New applications are written in bulk below (a selection may hold 100,000).
            fresh.append(
                {
                    "id": str(uuid.uuid4()),
                    "batch_code": batch_code,
                    "student_no": number,
                    "learning_centre": student.learning_centre,
                    "type": data.type,
                    "state": "deferred" if data.type == "defer" else "open",
                    "round_no": window.number,
                    "secondary_vocational_proof": data.secondary_vocational_proof,
                    "submitted_by": principal.subject,
                    "submitted_at": now,
                }
            )
            continue
        if data.selection is not None:
            result.skipped.append(
                schemas.SkippedOut(
                    student_no=number,
                    code="audit.application_exists",
                    reason="Already applied in this batch.",
                )
            )
            continue
        here.type = data.type
        here.state = "deferred" if data.type == "defer" else "open"
        here.round_no = window.number
        here.submitted_by = principal.subject
        if data.secondary_vocational_proof is not None:
            here.secondary_vocational_proof = data.secondary_vocational_proof
        here.passed, here.failed_checks, here.last_audit_id = None, None, None
        new.append(here)
    await session.flush()
    try:
        inserted = await repo.insert_applications(fresh)
    except Exception as exc:
        if not _unique_violation(exc):
            raise
        # Another request applied for one of these students in this batch a moment ago: this one
        # changes nothing (its transaction rolls back) and may be sent again.
        raise Conflict(
            "Another submission for these students was stored at the same time; send this one again.",
            code="audit.application_concurrent",
            message_zh="同一批学生的另一申请正在同时提交，请重新提交",
        ) from exc
    submitted: list[Any] = [*new, *inserted]
    stats = await audit_applications(
        session, submitted, trigger="ApplicationSubmitted", settings=settings, actor=principal.subject
    )
    result.applications = sorted((_current(a, stats) for a in submitted), key=lambda a: a.seq)
    return result


def _unique_violation(exc: BaseException) -> bool:
    """A duplicate key from PostgreSQL (asyncpg's own error from COPY, or SQLAlchemy's wrapper of it)
    or SQLite."""
    for candidate in (
        exc,
        getattr(exc, "orig", None),
        getattr(getattr(exc, "orig", None), "__cause__", None),
    ):
        if candidate is None:
            continue
        if getattr(candidate, "sqlstate", None) == "23505" or getattr(candidate, "pgcode", None) == "23505":
            return True
        if "UNIQUE constraint failed" in str(candidate):
            return True
    return False


def _current(app: Any, stats: BatchRunStats) -> Any:
    """An application as it stands after its first audit (plain rows are not refreshed)."""
    if isinstance(app, Application):
        return app
    view = SimpleNamespace(**app._mapping)
    outcome = stats.outcomes.get(view.seq)
    if outcome is not None:
        view.last_audit_id, view.passed, view.failed_checks = outcome
    if view.seq in stats.signed_seqs:
        view.state = "signed_off"
    return view


def _not_found(number: str) -> Exception:
    from gradops_audit.service import student_not_found

    return student_not_found(number)


async def _select(
    session: AsyncSession,
    batch: Batch,
    selection: schemas.SelectionIn,
    principal: Principal,
    settings: AuditSettings,
) -> list[str]:
    """Students of the batch's cohort that fit the operator's filters, as operators select today."""
    repo = AuditRepository(session)
    wanted_terms = (
        {batches.normalise_term(t) for t in selection.enrolment_terms} if selection.enrolment_terms else None
    )
    terms = [
        t
        for t in await repo.distinct_terms()
        if batches.in_cohort(t, batch.cohort_cutoff_term) and (wanted_terms is None or t in wanted_terms)
    ]
    numbers = await repo.students_of_cohort(terms, principal.centre_filter(selection.learning_centres))
    if selection.meets_graduation_conditions is None and selection.has_graduation_photo is None:
        return numbers
    students, photos, transcripts = await repo.fact_rows(numbers)
    exceptions = await repo.active_exceptions(numbers)
    book = await load_rule_book(repo, settings.degree_rule_set)
    chosen = []
    for number in numbers:
        facts = facts_from_rows(
            number, students.get(number), photos.get(number, []), transcripts.get(number), None
        )
        if (
            selection.has_graduation_photo is not None
            and facts.graduation_photo_approved != selection.has_graduation_photo
        ):
            continue
        if selection.meets_graduation_conditions is not None:
            evaluation = evaluate(
                facts, book, grants_for(exceptions.get(number, []), batch.code), settings, with_degree=False
            )
            if evaluation.result.meets_graduation_conditions != selection.meets_graduation_conditions:
                continue
        chosen.append(number)
    return chosen


async def run_batch(
    session: AsyncSession, batch_code: str, actor: str, settings: AuditSettings
) -> BatchRunStats:
    """Re-audits every open application of the batch, in submission order (after a rule change)."""
    await get_batch(session, batch_code)
    applications = await AuditRepository(session).batch_application_rows(batch_code)
    return await audit_applications(
        session, applications, trigger="BatchAuditRun", settings=settings, actor=actor
    )


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
            student_no=n, code="audit.application_not_open", reason="No open application in this batch."
        )
        for n in (student_nos or [])
        if n not in found
    ]
    audits = {a.last_audit_id: a for a in applications}
    degree = await _degree_of(session, [a for a in audits if a])
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
                        code="audit.not_passing",
                        reason="The current audit fails: " + ", ".join(app.failed_checks or []),
                    )
                )
            continue
        if student.status in CLOSED_STATUSES:
            skipped.append(
                schemas.SkippedOut(
                    student_no=app.student_no, code="audit.student_graduated", reason="Graduated already."
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


async def _degree_of(session: AsyncSession, audit_ids: list[str]) -> dict[str, bool | None]:
    from sqlalchemy import select

    from gradops_audit.models import Audit

    found: dict[str, bool | None] = {}
    for start in range(0, len(audit_ids), 5000):
        chunk = audit_ids[start : start + 5000]
        for audit_id, eligible in await session.execute(
            select(Audit.id, Audit.degree_eligible).where(Audit.id.in_(chunk))
        ):
            found[audit_id] = eligible
    return found
