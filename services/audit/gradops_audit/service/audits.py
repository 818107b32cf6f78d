"""Reading audit runs (the current one, the history, one run, what changed between two) and
what-if runs, stored with their inputs. Never commits."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_audit import schemas
from gradops_audit.domain import batches
from gradops_audit.domain.engine import Course, diff_checks
from gradops_audit.domain.engine import Transcript as TranscriptFacts
from gradops_audit.errors import AUDIT_NOT_FOUND, CURSOR_INVALID, DIFF_OTHER_STUDENT, NOT_AUDITED
from gradops_audit.models import Audit
from gradops_audit.repository import AuditRepository
from gradops_audit.service import Page
from gradops_audit.service.evaluation import audit_row, evaluate, facts_from_rows, grants_for, load_rule_book
from gradops_audit.service.students import ensure_visible, known_student
from gradops_audit.settings import AuditSettings
from gradops_shared.errors import GradOpsError
from gradops_shared.paging import position_cursor, read_position
from gradops_shared.peers import RegistryClient
from gradops_shared.principal import Principal


async def current_audit(session: AsyncSession, principal: Principal, student_no: str) -> Audit:
    """The student's latest (non-what-if) run."""
    await ensure_visible(session, principal, student_no)
    audit = await AuditRepository(session).latest_audit(student_no)
    if audit is None:
        raise NOT_AUDITED(
            f"Student {student_no} has not been audited yet.", message_zh="该学生尚无毕业审核记录"
        )
    return audit


async def list_audits(
    session: AsyncSession,
    principal: Principal,
    student_no: str,
    *,
    what_if: bool | None,
    limit: int,
    cursor: str | None,
) -> Page[Audit]:
    """The student's runs, newest first (`what_if` None: both kinds)."""
    before = read_position(cursor, CURSOR_INVALID) if cursor is not None else None
    await ensure_visible(session, principal, student_no)
    repo = AuditRepository(session)
    rows = await repo.audits_of(student_no, what_if=what_if, before=before, limit=limit)
    page = rows[:limit]
    return Page(
        page,
        position_cursor(page[-1].created_at, page[-1].id) if len(rows) > limit else None,
        await repo.count_audits_of(student_no, what_if=what_if),
    )


async def visible_audit(session: AsyncSession, principal: Principal, audit_id: str) -> Audit:
    """One run, if the caller sees its student's centre (404 otherwise, as for an unknown run)."""
    repo = AuditRepository(session)
    audit = await repo.audit(audit_id)
    if audit is None:
        raise _audit_not_found()
    student = await repo.student(audit.student_no)
    if not principal.sees_centre(student.learning_centre if student else None):
        raise _audit_not_found()
    return audit


def _audit_not_found() -> GradOpsError:
    return AUDIT_NOT_FOUND("No such audit.", message_zh="该审核记录不存在")


async def diff_audits(
    session: AsyncSession, principal: Principal, audit_id: str, against: str
) -> tuple[Audit, Audit, list[dict[str, Any]]]:
    """(earlier run, this run, what changed between them): both runs must be of one student."""
    after = await visible_audit(session, principal, audit_id)
    before = await visible_audit(session, principal, against)
    if before.student_no != after.student_no:
        raise DIFF_OTHER_STUDENT(
            "Both audits must be of one student.", message_zh="只能比较同一学生的两次审核"
        )
    return before, after, diff_checks(before.checks, after.checks)


async def what_if(
    session: AsyncSession,
    registry: RegistryClient,
    principal: Principal,
    student_no: str,
    data: schemas.WhatIfIn,
    settings: AuditSettings,
) -> Audit:
    """Audits a scenario (another major, future grades) and keeps it with its inputs. It changes no
    application and emits no event."""
    await known_student(session, registry, principal, student_no)
    actor = principal.subject
    repo = AuditRepository(session)
    students, photos, transcripts = await repo.fact_rows([student_no])
    applications = await repo.open_applications_of(student_no) if students else []
    application = applications[0] if applications else None
    facts = facts_from_rows(
        student_no,
        students.get(student_no),
        photos.get(student_no, []),
        transcripts.get(student_no),
        application.secondary_vocational_proof if application else None,
    )
    changes: dict[str, Any] = {}
    for name in ("major", "level", "category"):
        if getattr(data, name) is not None:
            changes[name] = getattr(data, name)
    if data.enrolment_term:
        changes["enrolment_term"] = batches.normalise_term(data.enrolment_term)
    transcript = facts.transcript
    if data.courses or data.thesis or data.degree_english:
        base = transcript or TranscriptFacts()
        by_code = {c.code: c for c in base.courses}
        for c in data.courses:
            by_code[c.code] = Course(c.code, c.name, c.credits, c.category, c.score, c.passed, c.published)
        transcript = TranscriptFacts(
            courses=tuple(by_code.values()),
            thesis_score=data.thesis.score
            if data.thesis and data.thesis.score is not None
            else base.thesis_score,
            thesis_similarity=data.thesis.similarity
            if data.thesis and data.thesis.similarity is not None
            else base.thesis_similarity,
            english_exam=data.degree_english.exam if data.degree_english else base.english_exam,
            english_score=data.degree_english.score if data.degree_english else base.english_score,
            english_passed=data.degree_english.passed if data.degree_english else base.english_passed,
        )
        changes["transcript"] = transcript
    scenario_facts = replace(facts, **changes)
    book = await load_rule_book(repo, settings.degree_rule_set)
    exceptions = await repo.exceptions_of(student_no, active_only=True)
    evaluation = evaluate(
        scenario_facts,
        book,
        grants_for(exceptions, application.batch_code if application else None),
        settings,
        with_degree=data.application_type == "graduate_with_degree",
    )
    scenario = data.model_dump(mode="json", exclude_none=True)
    scenario["inputs"] = {
        k: ({f: x for f, x in asdict(v).items() if f != "fingerprint"} if k == "transcript" else v)
        for k, v in changes.items()
    }
    row = audit_row(
        evaluation,
        batch_code=application.batch_code if application else "",
        application=None,
        book=book,
        trigger="WhatIf",
        actor=actor,
        now=datetime.now(UTC),
        scenario=scenario,
    )
    audit = Audit(**row)
    repo.add(audit)
    await session.flush()
    return audit
