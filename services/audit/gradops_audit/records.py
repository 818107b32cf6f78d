"""Batches, transcripts, rule sets, exceptions and what-if audits. Never commits."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_audit import schemas
from gradops_audit.domain import batches
from gradops_audit.domain.checks import CATALOGUE
from gradops_audit.domain.rules import GraduationRules
from gradops_audit.models import Audit, AuditException, Batch, RuleSetVersion, Transcript
from gradops_audit.repository import AuditRepository
from gradops_audit.rulebook import load_rule_book
from gradops_audit.service import (
    audit_row,
    evaluate,
    facts_from_rows,
    grants_for,
    reaudit_student,
)
from gradops_audit.settings import AuditSettings
from gradops_shared.errors import Conflict, InvalidInput, NotFound

# batches ---------------------------------------------------------------------------------------


async def put_batch(
    session: AsyncSession, code: str, data: schemas.BatchIn, actor: str
) -> tuple[Batch, bool]:
    batches.check_batch_code(code)
    rounds = [batches.Round(r.number, r.opens_on, r.closes_on) for r in data.rounds]
    batches.check_rounds(rounds)
    rule = batches.DateRule(kind=data.graduation_date_rule, fixed_date=data.graduation_date)
    batches.check_date_rule(code, rule)
    issue_date = batches.check_issue_date(code, rule, data.issue_date)
    cutoff = batches.normalise_term(data.cohort_cutoff_term)
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "name": data.name or f"{code[:4]}年{int(code[4:])}月毕业批次",
        "cohort_cutoff_term": cutoff,
        "rounds": [r.model_dump(mode="json") for r in sorted(data.rounds, key=lambda r: r.opens_on)],
        "issue_date": issue_date,
        "graduation_date_rule": data.graduation_date_rule,
        "fixed_graduation_date": data.graduation_date if data.graduation_date_rule == "fixed" else None,
        "updated_by": actor,
        "updated_at": now,
    }
    # Insert-if-absent, then the locked row: two PUTs of a new batch at once create it once.
    batch, created = await AuditRepository(session).batch_for_update(code, {**values, "created_at": now})
    for name, value in values.items():
        setattr(batch, name, value)
    await session.flush()
    return batch, created


async def get_batch(session: AsyncSession, code: str) -> Batch:
    batches.check_batch_code(code)
    batch = await AuditRepository(session).batch(code)
    if batch is None:
        raise NotFound(
            f"No graduation batch {code}.", code="audit.batch_not_found", message_zh=f"毕业批次 {code} 不存在"
        )
    return batch


def rounds_of(batch: Batch) -> list[batches.Round]:
    return [
        batches.Round(
            int(r["number"]),
            datetime.fromisoformat(r["opens_on"]).date(),
            datetime.fromisoformat(r["closes_on"]).date(),
        )
        for r in batch.rounds
    ]


# transcripts -----------------------------------------------------------------------------------


def _check_transcript(student_no: str, data: schemas.TranscriptIn) -> None:
    counts = Counter(c.code for c in data.courses)
    duplicates = sorted(code for code, n in counts.items() if n > 1)
    if duplicates:
        raise InvalidInput(
            f"Course codes repeat in the transcript of {student_no}: {', '.join(duplicates)}.",
            code="audit.transcript_duplicate_course",
            message_zh=f"成绩单中课程代码重复：{', '.join(duplicates)}",
        )


async def put_transcript(
    session: AsyncSession,
    student_no: str,
    data: schemas.TranscriptIn,
    actor: str,
    settings: AuditSettings,
    *,
    reaudit: bool = True,
) -> Transcript:
    _check_transcript(student_no, data)
    # Insert-if-absent, then the locked row: two first transcripts of one student at once (a retry,
    # a bulk PUT next to a single one) make one row, the later one winning, never a duplicate key.
    transcript = await AuditRepository(session).transcript_for_update(student_no, actor)
    transcript.courses = [c.model_dump(exclude_none=True) for c in data.courses]
    transcript.thesis_score = data.thesis.score if data.thesis else None
    transcript.thesis_similarity = data.thesis.similarity if data.thesis else None
    transcript.english_exam = data.degree_english.exam if data.degree_english else None
    transcript.english_score = data.degree_english.score if data.degree_english else None
    transcript.english_passed = data.degree_english.passed if data.degree_english else None
    transcript.source = data.source
    transcript.updated_by = actor
    transcript.updated_at = datetime.now(UTC)
    if reaudit:
        await reaudit_student(session, student_no, "TranscriptUpdated", settings)
    return transcript


def transcript_out(t: Transcript) -> schemas.TranscriptOut:
    # Stored rows are shown as stored: a row written before a validation rule tightened must still read.
    return schemas.TranscriptOut(
        student_no=t.student_no,
        courses=[schemas.CourseIn.model_construct(**c) for c in t.courses],
        thesis=schemas.ThesisIn(score=t.thesis_score, similarity=t.thesis_similarity)
        if t.thesis_score is not None or t.thesis_similarity is not None
        else None,
        degree_english=schemas.DegreeEnglishIn.model_construct(
            exam=t.english_exam, score=t.english_score, passed=bool(t.english_passed)
        )
        if t.english_exam
        else None,
        source=t.source,
        updated_by=t.updated_by,
        updated_at=t.updated_at,
    )


# rule sets -------------------------------------------------------------------------------------


async def put_rule_set(
    session: AsyncSession, code: str, data: schemas.RuleSetIn, actor: str
) -> RuleSetVersion:
    """Each PUT stores a new version; earlier versions stay, as the audits that used them name them."""
    from gradops_audit.domain.rules import SHIPPED_DEGREE, SHIPPED_GRADUATION

    shipped = {r.code for r in SHIPPED_GRADUATION} | {r.code for r in SHIPPED_DEGREE}
    if code in shipped:
        raise Conflict(
            f"{code} is a shipped rule set; store your own under another code.",
            code="audit.rule_set_shipped",
            message_zh="系统内置规则集不可修改，请以新的代码保存自定义规则集",
        )
    payload = data.model_dump()
    if payload["from_term"]:
        payload["from_term"] = batches.normalise_term(payload["from_term"])
    GraduationRules.from_data(code, 1, payload)  # same reader the audits use
    repo = AuditRepository(session)
    await repo.serialise(f"audit.rule_set:{code}")  # two PUTs at once get versions n+1 and n+2
    version = await repo.latest_rule_set_version(code) + 1
    row = RuleSetVersion(
        code=code, version=version, data=payload, created_by=actor, created_at=datetime.now(UTC)
    )
    repo.add(row)
    await session.flush()
    return row


# exceptions ------------------------------------------------------------------------------------


async def grant_exception(
    session: AsyncSession, student_no: str, data: schemas.ExceptionIn, actor: str, settings: AuditSettings
) -> AuditException:
    if data.kind == "waive_check":
        text = CATALOGUE.get(data.check_code or "")
        if text is None or not text.waivable:
            waivable = sorted(code for code, t in CATALOGUE.items() if t.waivable)
            raise InvalidInput(
                f"{data.check_code!r} cannot be waived; waivable checks: {', '.join(waivable)}.",
                code="audit.exception_not_waivable",
                message_zh="该检查项不可豁免（学籍、身份、照片等资格检查不得豁免）",
                extra={"waivable": waivable},
            )
    elif not data.course_code or not data.substitute_code or data.course_code == data.substitute_code:
        raise InvalidInput(
            "A course substitution names the required course and a different course that counts for it.",
            code="audit.exception_substitution_incomplete",
            message_zh="课程替代须同时给出被替代的必修课程和替代课程（两者不同）",
        )
    if data.scope == "batch" and not data.batch_code:
        raise InvalidInput(
            "An exception scoped to a batch names the batch.",
            code="audit.exception_batch_missing",
            message_zh="限定批次的例外须给出批次代码",
        )
    repo = AuditRepository(session)
    student = await repo.student(student_no)
    book = await load_rule_book(repo, settings.degree_rule_set)
    rules = (
        book.graduation_rules_for(
            level=student.level,
            category=student.category,
            major=student.major,
            enrolment_term=student.enrolment_term,
        )
        if student
        else None
    )
    row = AuditException(
        id=str(uuid.uuid4()),
        student_no=student_no,
        kind=data.kind,
        check_code=data.check_code if data.kind == "waive_check" else None,
        course_code=data.course_code if data.kind == "substitute_course" else None,
        substitute_code=data.substitute_code if data.kind == "substitute_course" else None,
        scope=data.scope,
        batch_code=data.batch_code if data.scope == "batch" else None,
        approver=data.approver,
        reason=data.reason,
        granted_under={
            "major": student.major if student else None,
            "rule_set": f"{rules.code}@{rules.version}" if rules else None,
        },
        granted_by=actor,
        granted_at=datetime.now(UTC),
    )
    repo.add(row)
    await reaudit_student(session, student_no, "ExceptionGranted", settings)
    return row


async def revoke_exception(
    session: AsyncSession, student_no: str, exception_id: str, actor: str, settings: AuditSettings
) -> AuditException:
    repo = AuditRepository(session)
    row = await repo.exception(exception_id)
    if row is None or row.student_no != student_no:
        raise NotFound("No such exception.", code="audit.exception_not_found", message_zh="该例外不存在")
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by = datetime.now(UTC), actor
        await reaudit_student(session, student_no, "ExceptionRevoked", settings)
    return row


# what-if ---------------------------------------------------------------------------------------


async def what_if(
    session: AsyncSession, student_no: str, data: schemas.WhatIfIn, actor: str, settings: AuditSettings
) -> Audit:
    """Audits a scenario (another major, future grades) and keeps it with its inputs. It changes no
    application and emits no event."""
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
        from gradops_audit.domain.engine import Course
        from gradops_audit.domain.engine import Transcript as TranscriptFacts

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
    from dataclasses import replace

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
