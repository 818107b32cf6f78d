"""One student's audit: every check, passed or not, with the measured value and what is missing.

The same function audits one student after an event and a whole batch in one pass (the service
bulk-loads the facts); a what-if audit calls it with changed facts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from gradops_audit.domain.checks import Outcome
from gradops_audit.domain.facts import (
    AuditResult,
    CheckResult,
    Course,
    Grant,
    GrantUse,
    Options,
    StudentFacts,
    Transcript,
)
from gradops_audit.domain.rules import DEGREE_LEVELS, DegreeRules, GraduationRules

__all__ = [
    "AuditResult",
    "CheckResult",
    "Course",
    "Grant",
    "GrantUse",
    "Options",
    "StudentFacts",
    "Transcript",
    "audit",
    "check_as_data",
    "course_passed",
    "diff_checks",
    "inputs_digest",
]


DEFAULT_OPTIONS = Options()


def _ok(condition: bool) -> Outcome:
    return "passed" if condition else "failed"


def course_passed(course: Course, pass_score: float) -> bool:
    if course.passed is not None:
        return course.passed
    return course.score is not None and course.score >= pass_score


def _eligibility(facts: StudentFacts, options: Options) -> list[CheckResult]:
    vocational = facts.category in options.secondary_vocational_categories
    return [
        CheckResult("audit.student_registered", _ok(facts.known), facts.known, True),
        CheckResult("audit.status_enrolled", _ok(facts.status == "enrolled"), facts.status, "enrolled"),
        CheckResult("audit.formal_status", _ok(facts.formal_status), facts.formal_status, True),
        CheckResult(
            "audit.identity_not_in_doubt", _ok(not facts.identity_in_doubt), facts.identity_in_doubt, False
        ),
        CheckResult(
            "audit.graduation_photo_approved",
            _ok(facts.graduation_photo_approved),
            facts.graduation_photo_approved,
            True,
        ),
        CheckResult(
            "audit.chsi_photos",
            _ok(facts.chsi_admission_photo and facts.chsi_graduation_photo)
            if options.check_chsi_photos
            else "not_applicable",
            {"admission": facts.chsi_admission_photo, "graduation": facts.chsi_graduation_photo},
            {"admission": True, "graduation": True},
            [
                k
                for k, v in (
                    ("admission", facts.chsi_admission_photo),
                    ("graduation", facts.chsi_graduation_photo),
                )
                if not v
            ]
            if options.check_chsi_photos
            else None,
        ),
        CheckResult("audit.no_photo_in_doubt", _ok(not facts.photo_in_doubt), facts.photo_in_doubt, False),
        CheckResult(
            "audit.secondary_vocational_proof",
            _ok(bool(facts.secondary_vocational_proof)) if vocational else "not_applicable",
            facts.secondary_vocational_proof if vocational else None,
            "diploma proof" if vocational else None,
        ),
    ]


def _required_course_codes(transcript: Transcript, rules: GraduationRules) -> list[str]:
    """The plan's required courses on the transcript, then those the rule set adds."""
    codes = [c.code for c in transcript.courses if c.category == "required"]
    return codes + [code for code in rules.required_courses if code not in codes]


def _graduation(
    facts: StudentFacts, rules: GraduationRules, substitutions: dict[str, Grant]
) -> tuple[list[CheckResult], set[str]]:
    """Academic checks; returns them and the ids of substitutions that were needed."""
    transcript = facts.transcript
    if transcript is None:
        return [CheckResult("audit.transcript_present", "failed", False, True)], set()
    checks = [CheckResult("audit.transcript_present", "passed", True, True)]
    by_code = {c.code: c for c in transcript.courses}
    passed_courses = [c for c in transcript.courses if course_passed(c, rules.pass_score)]
    total = sum(c.credits for c in passed_courses)
    checks.append(
        CheckResult(
            "audit.credits_total", _ok(total >= rules.min_total_credits), total, rules.min_total_credits
        )
    )
    for category, minimum in sorted(rules.min_credits.items()):
        earned = sum(c.credits for c in passed_courses if c.category == category)
        checks.append(CheckResult(f"audit.credits_{category}", _ok(earned >= minimum), earned, minimum))

    used: set[str] = set()
    missing: list[str] = []
    required = _required_course_codes(transcript, rules)
    for code in required:
        course = by_code.get(code)
        if course is not None and course_passed(course, rules.pass_score):
            continue
        grant = substitutions.get(code)
        substitute = by_code.get(grant.substitute_code or "") if grant else None
        if grant and substitute is not None and course_passed(substitute, rules.pass_score):
            used.add(grant.id)
            continue
        missing.append(code)
    checks.append(
        CheckResult(
            "audit.required_courses",
            _ok(not missing),
            len(required) - len(missing),
            len(required),
            missing or None,
        )
    )
    if rules.practice_grades_published:
        unpublished = [c.code for c in transcript.courses if c.category == "practice" and not c.published]
        checks.append(
            CheckResult(
                "audit.practice_grades_published",
                _ok(not unpublished),
                len(unpublished),
                0,
                unpublished or None,
            )
        )
    if rules.thesis_required:
        score = transcript.thesis_score
        checks.append(
            CheckResult(
                "audit.thesis",
                _ok(score is not None and score >= rules.thesis_min_score),
                score,
                rules.thesis_min_score,
                ["thesis_score"] if score is None else None,
            )
        )
    return checks, used


def _degree(facts: StudentFacts, rules: DegreeRules, pass_score: float) -> list[CheckResult]:
    if facts.level not in DEGREE_LEVELS:
        return [CheckResult("audit.degree_level", "failed", facts.level, sorted(DEGREE_LEVELS))]
    transcript = facts.transcript or Transcript()
    scored = [
        c.score
        for c in transcript.courses
        if c.category == "required"
        and c.score is not None
        and not any(excluded in c.name for excluded in rules.excluded_course_names)
    ]
    average = round(sum(scored) / len(scored), 2) if scored else None
    checks = [
        CheckResult("audit.degree_level", "passed", facts.level, sorted(DEGREE_LEVELS)),
        CheckResult(
            "audit.degree_required_average",
            _ok(average is not None and average >= rules.required_average_min),
            average,
            rules.required_average_min,
        ),
        CheckResult(
            "audit.degree_thesis_score",
            _ok(transcript.thesis_score is not None and transcript.thesis_score >= rules.thesis_min),
            transcript.thesis_score,
            rules.thesis_min,
        ),
    ]
    if rules.similarity_max is not None:
        similarity = transcript.thesis_similarity
        checks.append(
            CheckResult(
                "audit.degree_thesis_similarity",
                _ok(similarity is not None and similarity <= rules.similarity_max),
                similarity,
                rules.similarity_max,
            )
        )
    if rules.english_required:
        exam = transcript.english_exam
        accepted = bool(transcript.english_passed) and (
            rules.accepted_english_exams is None or exam in rules.accepted_english_exams
        )
        minimum = rules.english_min_scores.get(exam or "")
        if accepted and minimum is not None:
            accepted = transcript.english_score is not None and transcript.english_score >= minimum
        checks.append(
            CheckResult(
                "audit.degree_english",
                _ok(accepted),
                {"exam": exam, "score": transcript.english_score, "passed": transcript.english_passed},
                {
                    "exams": list(rules.accepted_english_exams) if rules.accepted_english_exams else "any",
                    "min_scores": dict(rules.english_min_scores),
                },
            )
        )
    return checks


def _required_anywhere(code: str, facts: StudentFacts, rules: GraduationRules | None) -> bool:
    if rules is None or facts.transcript is None:
        return False
    return code in _required_course_codes(facts.transcript, rules)


def audit(
    facts: StudentFacts,
    rules: GraduationRules | None,
    *,
    degree_rules: DegreeRules | None = None,
    options: Options = DEFAULT_OPTIONS,
    grants: Iterable[Grant] = (),
) -> AuditResult:
    """Every check is reported, passed or not, so a registrar sees why."""
    grants = list(grants)
    substitutions = {g.course_code: g for g in grants if g.kind == "substitute_course" and g.course_code}
    checks = _eligibility(facts, options)
    used: set[str] = set()
    if rules is not None:
        academic, used = _graduation(facts, rules, substitutions)
        checks += academic
    else:
        checks.append(
            CheckResult(
                "audit.transcript_present",
                "failed" if facts.transcript is None else "passed",
                facts.transcript is not None,
                True,
            )
        )
    if options.with_degree and degree_rules is not None:
        checks += _degree(facts, degree_rules, rules.pass_score if rules else 60)

    uses: list[GrantUse] = []
    by_code = {c.code: i for i, c in enumerate(checks)}
    for grant in grants:
        if grant.kind == "waive_check":
            index = by_code.get(grant.check_code or "")
            if index is None or checks[index].outcome == "not_applicable":
                uses.append(
                    _lapsed(
                        grant,
                        f"当前规则集不再包含检查项 {grant.check_code}",
                        f"the current rule set has no check {grant.check_code}",
                    )
                )
            elif checks[index].outcome == "failed":
                checks[index] = CheckResult(
                    checks[index].code,
                    "waived",
                    checks[index].measured,
                    checks[index].expected,
                    checks[index].missing,
                    grant.id,
                )
                uses.append(GrantUse(grant.id, "applied", "已豁免该检查项", "the check is waived"))
            else:
                uses.append(
                    GrantUse(grant.id, "not_needed", "检查项已通过，无需豁免", "the check passes without it")
                )
        else:
            if not _required_anywhere(grant.course_code or "", facts, rules):
                uses.append(
                    _lapsed(
                        grant,
                        f"当前规则集不再要求课程 {grant.course_code}",
                        f"the current rule set no longer requires course {grant.course_code}",
                    )
                )
            elif grant.id in used:
                uses.append(
                    GrantUse(
                        grant.id,
                        "applied",
                        f"以 {grant.substitute_code} 替代 {grant.course_code}",
                        f"{grant.substitute_code} counts for {grant.course_code}",
                    )
                )
            else:
                uses.append(
                    GrantUse(
                        grant.id,
                        "not_needed",
                        "原课程已通过或替代课程未通过",
                        "the original course passes, or the substitute does not",
                    )
                )
    return AuditResult(checks=checks, grants=uses)


def _lapsed(grant: Grant, zh: str, en: str) -> GrantUse:
    return GrantUse(
        grant.id,
        "lapsed",
        f"例外已失效：{zh}（如转专业后规则变化）",
        f"exception lapsed: {en} (e.g. after a change of major)",
    )


def inputs_digest(facts: StudentFacts, *parts: Any) -> str:
    """Same inputs (facts, rule-set versions, exceptions), same digest: runs compare at a glance.
    The frozen dataclasses' reprs name every field in a fixed order, and cost a fraction of
    `asdict` + JSON (which dominated a batch audit)."""
    return hashlib.sha256(repr((facts, parts)).encode()).hexdigest()


def check_as_data(check: CheckResult) -> dict[str, Any]:
    """What an audit stores per check: facts only; words come from the catalogue."""
    data: dict[str, Any] = {
        "code": check.code,
        "outcome": check.outcome,
        "measured": check.measured,
        "expected": check.expected,
    }
    if check.missing:
        data["missing"] = check.missing
    if check.exception_id:
        data["exception_id"] = check.exception_id
    return data


def diff_checks(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per check code: what changed between two stored runs (added, removed, outcome or values)."""
    old = {c["code"]: c for c in before}
    new = {c["code"]: c for c in after}
    changes = []
    for code in list(old) + [c for c in new if c not in old]:
        a, b = old.get(code), new.get(code)
        if a == b:
            continue
        changes.append(
            {
                "code": code,
                "change": "added" if a is None else "removed" if b is None else "changed",
                "before": a,
                "after": b,
            }
        )
    return changes
