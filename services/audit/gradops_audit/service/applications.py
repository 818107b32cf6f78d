"""Applications (毕业申请) in a batch: explicit students (all or nothing) or a selection of the
cohort (every student that fits). Each is audited at once. Never commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_audit import schemas
from gradops_audit.domain import batches
from gradops_audit.domain.rules import DEGREE_LEVELS
from gradops_audit.errors import (
    APPLICATION_CONCURRENT,
    APPLICATION_OPEN_ELSEWHERE,
    APPLICATION_SIGNED_OFF,
    APPLICATION_TARGET,
    CURSOR_INVALID,
    DEGREE_NOT_AVAILABLE,
    NOT_IN_COHORT,
    SKIP_APPLICATION_EXISTS,
    STUDENT_GRADUATED,
    STUDENT_NOT_FOUND,
    student_not_found,
)
from gradops_audit.models import Application, Audit, Batch, KnownStudent
from gradops_audit.repository import AuditRepository
from gradops_audit.service import Page
from gradops_audit.service.auditing import CLOSED_STATUSES, BatchRunStats, audit_applications
from gradops_audit.service.batches import get_batch, rounds_of
from gradops_audit.service.evaluation import evaluate, facts_from_rows, grants_for, load_rule_book
from gradops_audit.service.students import learn_students
from gradops_audit.settings import AuditSettings
from gradops_shared.errors import GradOpsError
from gradops_shared.paging import key_cursor, read_int
from gradops_shared.peers import RegistryClient
from gradops_shared.principal import Principal


def today_utc() -> date:
    return datetime.now(UTC).date()


async def apply(
    session: AsyncSession,
    registry: RegistryClient,
    batch_code: str,
    data: schemas.ApplicationsIn,
    principal: Principal,
    settings: AuditSettings,
) -> Submitted:
    """Applies for the named students (learning of new ones from the registry) or a selection."""
    if data.student_nos:
        await learn_students(session, registry, principal, data.student_nos)
    return await submit_applications(session, batch_code, data, principal, settings, today=today_utc())


async def list_batch_audits(
    session: AsyncSession,
    batch_code: str,
    principal: Principal,
    *,
    result: str | None,
    learning_centres: list[str] | None,
    application_type: str | None,
    limit: int,
    cursor: str | None,
) -> Page[tuple[Application, Audit | None]]:
    """The current audit of every application in the batch, in submission order."""
    after = read_int(cursor, CURSOR_INVALID) if cursor is not None else 0
    await get_batch(session, batch_code)
    rows, count = await AuditRepository(session).list_batch_audits(
        batch_code,
        result=result,
        centres=principal.centre_filter(learning_centres),
        application_type=application_type,
        after_seq=after,
        limit=limit,
    )
    page = rows[:limit]
    return Page(page, key_cursor(page[-1][0].seq) if len(rows) > limit else None, count)


@dataclass
class Submitted:
    applications: list[Any] = field(default_factory=list)  # ORM objects or refreshed plain rows
    skipped: list[schemas.SkippedOut] = field(default_factory=list)


def _refusal(student: KnownStudent | None, student_no: str, batch: Batch, kind: str) -> GradOpsError | None:
    """Why a student cannot apply in this batch, or None."""
    extra = {"student_no": student_no}
    if student is None:
        return STUDENT_NOT_FOUND(
            f"No student with number {student_no}.", message_zh=f"学号 {student_no} 的学生不存在", extra=extra
        )
    if student.status in CLOSED_STATUSES:
        return STUDENT_GRADUATED("The student has graduated already.", message_zh="该学生已毕业", extra=extra)
    if not batches.in_cohort(student.enrolment_term, batch.cohort_cutoff_term):
        return NOT_IN_COHORT(
            f"Enrolled in {student.enrolment_term}, after the batch's cut-off {batch.cohort_cutoff_term}.",
            message_zh=f"入学学期 {student.enrolment_term} 晚于本批次截止学期 {batch.cohort_cutoff_term}",
            extra=extra,
        )
    if kind == "graduate_with_degree" and student.level not in DEGREE_LEVELS:
        return DEGREE_NOT_AVAILABLE(
            "A 专科 student cannot apply for a degree.", message_zh="专科层次不能申请学士学位", extra=extra
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
        raise APPLICATION_TARGET("Give either student_nos or selection.")
    batch = await get_batch(session, batch_code)
    window = batches.open_round(rounds_of(batch), today)
    repo = AuditRepository(session)
    if data.student_nos is not None:
        numbers = list(dict.fromkeys(data.student_nos))
        students = await repo.students_by_no(numbers)
        for number in numbers:
            student = students.get(number)
            if student is None or not principal.sees_centre(student.learning_centre):
                raise student_not_found(number)
            refusal = _refusal(student, number, batch, data.type)
            if refusal:
                raise refusal
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
            taken = _taken(number, elsewhere)
            if data.student_nos is not None:
                raise taken
            result.skipped.append(schemas.SkippedOut(student_no=number, code=taken.code, reason=taken.detail))
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
                    code=SKIP_APPLICATION_EXISTS,
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
        raise APPLICATION_CONCURRENT(
            "Another submission for these students was stored at the same time; send this one again."
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


def _taken(number: str, elsewhere: Application | None) -> GradOpsError:
    """Why a student's application cannot be (re)submitted: open in another batch, or signed off."""
    if elsewhere is not None:
        return APPLICATION_OPEN_ELSEWHERE(
            f"An application is open in batch {elsewhere.batch_code}.",
            message_zh=f"该学生在批次 {elsewhere.batch_code} 已有未完成的申请",
            extra={"student_no": number},
        )
    return APPLICATION_SIGNED_OFF("The application is signed off already.", extra={"student_no": number})


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
