"""From stored rows to one student's evaluation: the facts, the rule book, the grants, the run row.

Pure shaping around the domain's engine; the use cases in `auditing`, `applications` and `audits`
load the rows and store what comes out."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gradops_audit.domain import engine
from gradops_audit.domain.engine import Course, Grant, Options, StudentFacts, Transcript
from gradops_audit.domain.rules import GraduationRules, RuleBook
from gradops_audit.models import Application, AuditException
from gradops_audit.repository import AuditRepository
from gradops_audit.settings import AuditSettings


async def load_rule_book(repo: AuditRepository, degree_code: str) -> RuleBook:
    """The shipped rule sets plus every version the university stored."""
    stored = [GraduationRules.from_data(r.code, r.version, r.data) for r in await repo.rule_set_versions()]
    return RuleBook.of(stored, degree_code)


def options_for(settings: AuditSettings, *, with_degree: bool) -> Options:
    return Options(
        check_chsi_photos=settings.check_chsi_photos,
        secondary_vocational_categories=frozenset(settings.secondary_vocational_categories),
        with_degree=with_degree,
    )


def transcript_from_row(row: Any) -> Transcript:
    """From a `fact_rows` transcript row (courses as their stored JSON text)."""
    return Transcript(
        courses=tuple(
            Course(
                c["code"],
                c.get("name", ""),
                float(c.get("credits", 0)),
                c["category"],
                c.get("score"),
                c.get("passed"),
                c.get("published", True),
            )
            for c in json.loads(row.courses_json)
        ),
        thesis_score=row.thesis_score,
        thesis_similarity=row.thesis_similarity,
        english_exam=row.english_exam,
        english_score=row.english_score,
        english_passed=row.english_passed,
        fingerprint=row.courses_json,
    )


def facts_from_rows(
    student_no: str, student: Any | None, photos: list[Any], transcript: Any | None, proof: str | None
) -> StudentFacts:
    by_kind = {p.kind: p for p in photos}
    graduation, admission = by_kind.get("graduation"), by_kind.get("admission")
    return StudentFacts(
        student_no=student_no,
        known=student is not None,
        status=student.status if student else None,
        level=student.level if student else None,
        category=student.category if student else None,
        major=student.major if student else None,
        enrolment_term=student.enrolment_term if student else None,
        formal_status=bool(student.formal_status) if student else True,
        identity_in_doubt=bool(student.identity_in_doubt) if student else False,
        graduation_photo_approved=bool(graduation and graduation.approved),
        chsi_admission_photo=bool(admission and admission.chsi_state == "on_chsi"),
        chsi_graduation_photo=bool(graduation and graduation.chsi_state == "on_chsi"),
        photo_in_doubt=any(p.chsi_state == "chsi_rejected" for p in photos),
        secondary_vocational_proof=proof,
        transcript=transcript_from_row(transcript) if transcript is not None else None,
    )


def grants_for(exceptions: Sequence[AuditException], batch_code: str | None) -> list[Grant]:
    return [
        Grant(
            id=e.id,
            kind=e.kind,  # type: ignore[arg-type]
            check_code=e.check_code,
            course_code=e.course_code,
            substitute_code=e.substitute_code,
        )
        for e in exceptions
        if e.scope == "student" or e.batch_code == batch_code
    ]


@dataclass
class Evaluation:
    student_no: str
    facts: StudentFacts
    result: engine.AuditResult
    rules_code: str | None
    rules_version: int | None
    digest: str


def evaluate(
    facts: StudentFacts, book: RuleBook, grants: list[Grant], settings: AuditSettings, *, with_degree: bool
) -> Evaluation:
    rules = book.graduation_rules_for(
        level=facts.level, category=facts.category, major=facts.major, enrolment_term=facts.enrolment_term
    )
    result = engine.audit(
        facts,
        rules,
        degree_rules=book.degree,
        options=options_for(settings, with_degree=with_degree),
        grants=grants,
    )
    digest = engine.inputs_digest(
        facts,
        {"rules": rules.code if rules else None, "version": rules.version if rules else None},
        {"degree": f"{book.degree.code}@{book.degree.version}" if with_degree else None},
        grants,
        {"check_chsi_photos": settings.check_chsi_photos},
    )
    return Evaluation(
        facts.student_no,
        facts,
        result,
        rules.code if rules else None,
        rules.version if rules else None,
        digest,
    )


def audit_row(
    evaluation: Evaluation,
    *,
    batch_code: str,
    application: Application | None,
    book: RuleBook,
    trigger: str,
    actor: str | None,
    now: datetime,
    scenario: dict[str, Any] | None = None,
) -> dict[str, Any]:
    with_degree = application is not None and application.type == "graduate_with_degree"
    return {
        "id": str(uuid.uuid4()),
        "student_no": evaluation.student_no,
        "batch_code": batch_code,
        "application_id": application.id if application else None,
        "application_type": application.type if application else (scenario or {}).get("application_type"),
        "what_if": scenario is not None,
        "scenario": scenario,
        "passed": evaluation.result.passed,
        "degree_eligible": evaluation.result.degree_eligible,
        "checks": [engine.check_as_data(c) for c in evaluation.result.checks],
        "exceptions": [
            {"id": u.id, "status": u.status, "note_zh": u.note_zh, "note_en": u.note_en}
            for u in evaluation.result.grants
        ],
        "rule_set_code": evaluation.rules_code,
        "rule_set_version": evaluation.rules_version,
        "degree_rule_set": f"{book.degree.code}@{book.degree.version}"
        if with_degree or (scenario or {}).get("application_type") == "graduate_with_degree"
        else None,
        "inputs_digest": evaluation.digest,
        "trigger": trigger[:100],
        "actor": actor,
        "created_at": now,
    }
