"""Every audit rule: eligibility blockers, academic conditions, degree thresholds, exceptions."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from gradops_audit.domain import engine
from gradops_audit.domain.checks import CATALOGUE
from gradops_audit.domain.engine import Course, Grant, Options, StudentFacts, Transcript
from gradops_audit.domain.rules import (
    SHIPPED_DEGREE,
    SHIPPED_GRADUATION,
    GraduationRules,
    select_graduation_rules,
)

JUNIOR = next(r for r in SHIPPED_GRADUATION if r.level == "junior_college")
BACHELOR = next(r for r in SHIPPED_GRADUATION if r.level == "bachelor_from_junior_college")
NOTICES = next(r for r in SHIPPED_DEGREE if r.code == "degree-notices-70")
NATIONAL = next(r for r in SHIPPED_DEGREE if r.code == "degree-ouc-national")


def courses(required_score: float = 80, *, practice_published: bool = True) -> tuple[Course, ...]:
    required = [Course(f"R{i}", f"必修{i}", 6, "required", score=required_score) for i in range(10)]
    elective = [Course(f"E{i}", f"选修{i}", 4, "elective", score=75) for i in range(25)]
    practice = [Course("P1", "综合实践", 8, "practice", passed=True, published=practice_published)]
    return tuple(required + elective + practice)


def transcript(**overrides: Any) -> Transcript:
    values: dict[str, Any] = {
        "courses": courses(),
        "thesis_score": 82,
        "thesis_similarity": 12,
        "english_exam": "ouc_degree_english",
        "english_score": 70,
        "english_passed": True,
    }
    values.update(overrides)
    return Transcript(**values)


def facts(**overrides: Any) -> StudentFacts:
    values: dict[str, Any] = {
        "student_no": "2021510001",
        "known": True,
        "status": "enrolled",
        "level": "junior_college",
        "category": "open_education",
        "major": "机电一体化技术",
        "enrolment_term": "2021-spring",
        "graduation_photo_approved": True,
        "transcript": transcript(),
    }
    values.update(overrides)
    return StudentFacts(**values)


def outcome(result: engine.AuditResult, code: str) -> str:
    return next(c.outcome for c in result.checks if c.code == code)


def test_a_complete_student_passes_and_every_check_is_reported() -> None:
    result = engine.audit(facts(), JUNIOR)
    assert result.passed and result.failed_codes == []
    codes = [c.code for c in result.checks]
    assert codes[:8] == [
        "audit.student_registered",
        "audit.status_enrolled",
        "audit.formal_status",
        "audit.identity_not_in_doubt",
        "audit.graduation_photo_approved",
        "audit.chsi_photos",
        "audit.no_photo_in_doubt",
        "audit.secondary_vocational_proof",
    ]
    assert {"audit.credits_total", "audit.credits_practice", "audit.required_courses"} <= set(codes)
    assert all(code in CATALOGUE for code in codes)


@pytest.mark.parametrize(
    ("overrides", "failed"),
    [
        ({"known": False, "status": None}, ["audit.student_registered", "audit.status_enrolled"]),
        ({"status": "suspended"}, ["audit.status_enrolled"]),
        ({"formal_status": False}, ["audit.formal_status"]),
        ({"identity_in_doubt": True}, ["audit.identity_not_in_doubt"]),
        ({"graduation_photo_approved": False}, ["audit.graduation_photo_approved"]),
        ({"photo_in_doubt": True}, ["audit.no_photo_in_doubt"]),
        ({"transcript": None}, ["audit.transcript_present"]),
    ],
)
def test_each_blocker_fails_alone_and_blocks_graduation(overrides: dict[str, Any], failed: list[str]) -> None:
    result = engine.audit(facts(**overrides), JUNIOR)
    assert result.failed_codes == failed
    assert not result.passed
    for code in failed:
        text = CATALOGUE[code]
        assert text.hint_zh and text.hint_en


def test_the_chsi_photo_check_is_not_applicable_until_switched_on() -> None:
    off = engine.audit(facts(), JUNIOR)
    assert outcome(off, "audit.chsi_photos") == "not_applicable" and off.passed
    on = engine.audit(facts(chsi_admission_photo=True), JUNIOR, options=Options(check_chsi_photos=True))
    check = next(c for c in on.checks if c.code == "audit.chsi_photos")
    assert check.outcome == "failed" and check.missing == ["graduation"]
    both = engine.audit(
        facts(chsi_admission_photo=True, chsi_graduation_photo=True),
        JUNIOR,
        options=Options(check_chsi_photos=True),
    )
    assert both.passed


def test_secondary_vocational_students_need_their_diploma_proof() -> None:
    options = Options(secondary_vocational_categories=frozenset({"中高衔接"}))
    assert outcome(engine.audit(facts(), JUNIOR, options=options), "audit.secondary_vocational_proof") == (
        "not_applicable"
    )
    without = engine.audit(facts(category="中高衔接"), JUNIOR, options=options)
    assert without.failed_codes == ["audit.secondary_vocational_proof"]
    with_proof = engine.audit(
        facts(category="中高衔接", secondary_vocational_proof="ZZ2019-001"), JUNIOR, options=options
    )
    assert with_proof.passed


def test_credits_count_passed_courses_only_and_report_measured_and_expected() -> None:
    failing = tuple(c._replace(score=59) if c.category == "elective" else c for c in courses())
    result = engine.audit(facts(transcript=transcript(courses=failing)), JUNIOR)
    total = next(c for c in result.checks if c.code == "audit.credits_total")
    assert total.outcome == "failed" and total.measured == 60 + 8 and total.expected == 76


def test_practice_credits_have_their_own_minimum() -> None:
    no_practice = tuple(c for c in courses() if c.category != "practice")
    result = engine.audit(facts(transcript=transcript(courses=no_practice)), JUNIOR)
    assert "audit.credits_practice" in result.failed_codes


def test_required_courses_name_what_is_missing() -> None:
    plan = list(courses())
    plan[0] = plan[0]._replace(score=None)
    plan[1] = plan[1]._replace(score=59.5)
    result = engine.audit(facts(transcript=transcript(courses=tuple(plan))), JUNIOR)
    check = next(c for c in result.checks if c.code == "audit.required_courses")
    assert check.outcome == "failed" and check.missing == ["R0", "R1"]
    assert check.measured == 8 and check.expected == 10


def test_a_rule_set_can_require_a_course_the_transcript_lacks() -> None:
    rules = replace(JUNIOR, code="mech", required_courses=("X99",))
    check = next(c for c in engine.audit(facts(), rules).checks if c.code == "audit.required_courses")
    assert check.missing == ["X99"]


def test_a_pass_fail_course_counts_without_a_score() -> None:
    plan = tuple(c._replace(score=None, passed=True) if c.code == "R0" else c for c in courses())
    assert engine.audit(facts(transcript=transcript(courses=plan)), JUNIOR).passed


def test_practice_grades_must_be_published() -> None:
    result = engine.audit(facts(transcript=transcript(courses=courses(practice_published=False))), JUNIOR)
    check = next(c for c in result.checks if c.code == "audit.practice_grades_published")
    assert check.outcome == "failed" and check.missing == ["P1"]


@pytest.mark.parametrize(("score", "passes"), [(None, False), (59, False), (60, True)])
def test_a_bachelor_needs_a_passed_thesis(score: float | None, passes: bool) -> None:
    result = engine.audit(
        facts(level="bachelor_from_junior_college", transcript=transcript(thesis_score=score)), BACHELOR
    )
    assert (outcome(result, "audit.thesis") == "passed") is passes


# degree ------------------------------------------------------------------------------------


def degree_audit(rules: Any = NOTICES, **overrides: Any) -> engine.AuditResult:
    student = facts(level="bachelor_from_junior_college", transcript=transcript(**overrides))
    return engine.audit(student, BACHELOR, degree_rules=rules, options=Options(with_degree=True))


def test_degree_checks_are_reported_only_for_a_degree_application() -> None:
    assert engine.audit(facts(), JUNIOR).degree_eligible is None
    assert degree_audit().degree_eligible is True


@pytest.mark.parametrize(
    ("overrides", "failed"),
    [
        ({"courses": courses(required_score=69.9)}, "audit.degree_required_average"),
        ({"thesis_score": 69}, "audit.degree_thesis_score"),
        ({"english_passed": False}, "audit.degree_english"),
        ({"english_exam": None, "english_passed": None}, "audit.degree_english"),
    ],
)
def test_notices_thresholds_70_70_and_english(overrides: dict[str, Any], failed: str) -> None:
    result = degree_audit(**overrides)
    assert result.failed_codes == [failed]
    assert result.degree_eligible is False
    assert result.passed  # a missed degree never blocks graduation


def test_notices_thresholds_are_inclusive() -> None:
    assert degree_audit(courses=courses(required_score=70), thesis_score=70).degree_eligible is True


@pytest.mark.parametrize(
    ("overrides", "eligible"),
    [
        ({}, True),
        ({"courses": courses(required_score=74)}, False),
        ({"thesis_score": 79}, False),
        ({"thesis_similarity": 30}, True),
        ({"thesis_similarity": 30.5}, False),
        ({"thesis_similarity": None}, False),
        ({"english_exam": "cet4", "english_score": 425}, True),
        ({"english_exam": "cet4", "english_score": 424}, False),
        ({"english_exam": "pets3", "english_score": None}, True),
        ({"english_exam": "toefl", "english_score": 100}, False),
    ],
)
def test_national_rule_75_80_similarity_30_and_accepted_exams(
    overrides: dict[str, Any], eligible: bool
) -> None:
    values: dict[str, Any] = {"courses": courses(required_score=76), "thesis_score": 80}
    values.update(overrides)
    assert degree_audit(NATIONAL, **values).degree_eligible is eligible


def test_the_national_average_leaves_out_the_study_guide() -> None:
    plan = (Course("G1", "国家开放大学学习指南", 1, "required", score=20), *courses(required_score=76))
    assert degree_audit(NATIONAL, courses=plan, thesis_score=85).degree_eligible is True
    assert degree_audit(NOTICES, courses=plan, thesis_score=85).degree_eligible is True  # (20+760)/11 ≥ 70


def test_a_junior_college_student_gets_no_degree() -> None:
    result = engine.audit(facts(), JUNIOR, degree_rules=NOTICES, options=Options(with_degree=True))
    assert result.failed_codes == ["audit.degree_level"] and result.passed


# exceptions --------------------------------------------------------------------------------


def test_a_waiver_turns_a_failed_check_into_waived() -> None:
    no_practice = tuple(c for c in courses() if c.category != "practice")
    student = facts(transcript=transcript(courses=no_practice))
    grant = Grant("g1", "waive_check", check_code="audit.credits_practice")
    result = engine.audit(student, JUNIOR, grants=[grant])
    check = next(c for c in result.checks if c.code == "audit.credits_practice")
    assert check.outcome == "waived" and check.exception_id == "g1" and check.passed
    assert result.passed
    assert [(u.id, u.status) for u in result.grants] == [("g1", "applied")]


def test_a_waiver_that_is_not_needed_says_so() -> None:
    result = engine.audit(
        facts(), JUNIOR, grants=[Grant("g1", "waive_check", check_code="audit.credits_practice")]
    )
    assert result.grants[0].status == "not_needed"


def test_a_waiver_lapses_when_the_new_rule_set_has_no_such_rule() -> None:
    after_change_of_major = replace(JUNIOR, code="arts", min_credits={})
    result = engine.audit(
        facts(),
        after_change_of_major,
        grants=[Grant("g1", "waive_check", check_code="audit.credits_practice")],
    )
    assert result.grants[0].status == "lapsed"
    assert "转专业" in result.grants[0].note_zh and "change of major" in result.grants[0].note_en


def test_a_substitute_course_counts_for_a_required_one_while_it_is_required() -> None:
    plan = list(courses())
    plan[0] = plan[0]._replace(score=40)
    plan.append(Course("S1", "替代课程", 6, "elective", score=88))
    student = facts(transcript=transcript(courses=tuple(plan)))
    grant = Grant("g2", "substitute_course", course_code="R0", substitute_code="S1")
    assert engine.audit(student, JUNIOR).failed_codes == ["audit.required_courses"]
    result = engine.audit(student, JUNIOR, grants=[grant])
    assert result.passed and result.grants[0].status == "applied"

    # After a change of major R0 is no longer required: the substitution lapses and says so.
    new_plan = tuple(c._replace(category="elective") if c.code == "R0" else c for c in plan)
    moved = engine.audit(
        replace(student, major="会计", transcript=transcript(courses=new_plan)), JUNIOR, grants=[grant]
    )
    assert moved.grants[0].status == "lapsed"


def test_a_substitute_that_did_not_pass_does_not_count() -> None:
    plan = list(courses())
    plan[0] = plan[0]._replace(score=40)
    plan.append(Course("S1", "替代课程", 6, "elective", score=50))
    grant = Grant("g2", "substitute_course", course_code="R0", substitute_code="S1")
    result = engine.audit(facts(transcript=transcript(courses=tuple(plan))), JUNIOR, grants=[grant])
    assert result.failed_codes == ["audit.required_courses"] and result.grants[0].status == "not_needed"


# rule sets, digests, diffs -----------------------------------------------------------------


def test_the_most_specific_rule_set_of_the_cohort_wins_and_the_latest_version() -> None:
    mech_v1 = GraduationRules(
        code="mech", version=1, level="junior_college", major="机电一体化技术", min_total_credits=80
    )
    mech_v2 = replace(mech_v1, version=2, min_total_credits=82)
    new_cohorts = GraduationRules(code="jc-2022", version=1, level="junior_college", from_term="2022-spring")
    pool = [*SHIPPED_GRADUATION, mech_v1, mech_v2, new_cohorts]

    def pick(**kw: Any) -> str | None:
        base = {
            "level": "junior_college",
            "category": "open_education",
            "major": "会计",
            "enrolment_term": "2021-spring",
        }
        base.update(kw)
        chosen = select_graduation_rules(pool, **base)
        return f"{chosen.code}@{chosen.version}" if chosen else None

    assert pick() == "default-junior-college@1"
    assert pick(major="机电一体化技术") == "mech@2"
    assert pick(enrolment_term="2022-autumn") == "jc-2022@1"
    assert pick(level="bachelor") == "default-bachelor@1"
    assert pick(level=None) is None


def test_the_inputs_digest_changes_only_with_the_inputs() -> None:
    assert engine.inputs_digest(facts(), "r@1") == engine.inputs_digest(facts(), "r@1")
    assert engine.inputs_digest(facts(), "r@1") != engine.inputs_digest(facts(status="suspended"), "r@1")
    assert engine.inputs_digest(facts(), "r@1") != engine.inputs_digest(facts(), "r@2")


def test_a_diff_names_each_check_that_changed() -> None:
    before = [
        engine.check_as_data(c) for c in engine.audit(facts(graduation_photo_approved=False), JUNIOR).checks
    ]
    after = [engine.check_as_data(c) for c in engine.audit(facts(), JUNIOR).checks]
    changes = engine.diff_checks(before, after)
    assert [c["code"] for c in changes] == ["audit.graduation_photo_approved"]
    assert changes[0]["before"]["outcome"] == "failed" and changes[0]["after"]["outcome"] == "passed"
