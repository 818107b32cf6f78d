from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

ApplicationType = Literal["graduate", "graduate_with_degree", "defer"]
CourseCategory = Literal["required", "elective", "practice", "thesis"]
StudentNoField = Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# batches ---------------------------------------------------------------------------------------


class RoundIn(_In):
    number: int = Field(ge=1, le=12)
    opens_on: date
    closes_on: date = Field(description="Application deadline of the round (inclusive).")


BATCH_EXAMPLE: dict[str, JsonValue] = {
    "name": "2023年7月毕业批次",
    "cohort_cutoff_term": "2021-spring",
    "rounds": [
        {"number": 1, "opens_on": "2023-07-06", "closes_on": "2023-07-16"},
        {"number": 2, "opens_on": "2023-09-04", "closes_on": "2023-10-12"},
    ],
    "issue_date": "2023-07-20",
    "graduation_date_rule": "fixed",
    "graduation_date": "2023-07-20",
}


class BatchIn(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [BATCH_EXAMPLE]})

    name: str = Field("", max_length=100)
    cohort_cutoff_term: str = Field(
        description="Students enrolled in this term or earlier (2021-spring | 2021春)."
    )
    rounds: list[RoundIn] = Field(min_length=1, max_length=12)
    issue_date: date = Field(description="The certificate issue date of the whole batch.")
    graduation_date_rule: Literal["quarterly", "fixed"] = Field(
        "quarterly",
        description="quarterly: Dec/Mar batches → 31 Jan, Jun/Sep → 31 Jul; fixed: `graduation_date`.",
    )
    graduation_date: date | None = None


class BatchOut(BaseModel):
    code: str
    name: str
    cohort_cutoff_term: str
    rounds: list[RoundIn]
    issue_date: date
    graduation_date_rule: str
    graduation_date: date
    created_at: datetime
    updated_at: datetime


# transcripts -----------------------------------------------------------------------------------


class CourseIn(_In):
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    credits: float = Field(ge=0, le=100)
    category: CourseCategory
    score: float | None = Field(None, ge=0, le=100)
    passed: bool | None = Field(None, description="For pass/fail courses without a score.")
    published: bool = Field(True, description="Whether the grade is published (成绩已发布).")


class ThesisIn(_In):
    score: float | None = Field(None, ge=0, le=100)
    similarity: float | None = Field(None, ge=0, le=100, description="Similarity check result, percent.")


class DegreeEnglishIn(_In):
    exam: str = Field(
        min_length=1,
        max_length=40,
        description="ouc_degree_english | adult_degree_english | pets3 | cet4 | …",
    )
    score: float | None = Field(None, ge=0, le=1000)
    passed: bool


TRANSCRIPT_EXAMPLE: dict[str, JsonValue] = {
    "courses": [
        {"code": "01234", "name": "机械制图", "credits": 4, "category": "required", "score": 82},
        {"code": "05678", "name": "专业综合实践", "credits": 6, "category": "practice", "passed": True},
    ],
    "thesis": {"score": 78, "similarity": 12.5},
    "degree_english": {"exam": "ouc_degree_english", "score": 68, "passed": True},
}


class TranscriptIn(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [TRANSCRIPT_EXAMPLE]})

    courses: list[CourseIn] = Field(default_factory=list, max_length=500)
    thesis: ThesisIn | None = None
    degree_english: DegreeEnglishIn | None = None
    source: str = Field("lms", max_length=100, description="Which platform sent it.")


class TranscriptItemIn(TranscriptIn):
    student_no: str = StudentNoField


class TranscriptBulkIn(_In):
    transcripts: list[TranscriptItemIn] = Field(min_length=1, max_length=5000)


class TranscriptOut(BaseModel):
    student_no: str
    courses: list[CourseIn]
    thesis: ThesisIn | None
    degree_english: DegreeEnglishIn | None
    source: str
    updated_by: str
    updated_at: datetime


class TranscriptBulkOut(BaseModel):
    count: int
    reaudited: int


# applications, audits ---------------------------------------------------------------------------


class SelectionIn(_In):
    enrolment_terms: list[str] | None = Field(
        None, max_length=50, description="Only these terms (within the cohort)."
    )
    learning_centres: list[str] | None = Field(None, max_length=500)
    meets_graduation_conditions: bool | None = Field(
        None, description="满足毕业条件: credits, courses, practice, thesis."
    )
    has_graduation_photo: bool | None = Field(
        None, description="An approved graduation photo on the platform."
    )


APPLICATION_EXAMPLE: dict[str, JsonValue] = {"type": "graduate", "student_nos": ["2021510001"]}


class ApplicationsIn(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [APPLICATION_EXAMPLE]})

    type: ApplicationType
    student_nos: list[str] | None = Field(None, min_length=1, max_length=5000)
    selection: SelectionIn | None = Field(
        None, description="Instead of student_nos: every student of the cohort that fits."
    )
    secondary_vocational_proof: str | None = Field(
        None,
        max_length=200,
        description="中高衔接: the secondary-vocational diploma number (or other proof).",
    )


class ApplicationOut(BaseModel):
    id: str
    batch_code: str
    student_no: str
    learning_centre: str
    type: ApplicationType
    state: Literal["open", "signed_off", "deferred"]
    round: int
    position: int = Field(
        description="Submission order within the batch (HQ works first come, first served)."
    )
    result: Literal["passed", "failed"] | None
    failed_checks: list[str] | None
    audit_id: str | None
    secondary_vocational_proof: str | None
    submitted_by: str
    submitted_at: datetime
    signed_off_by: str | None
    signed_off_at: datetime | None


class SkippedOut(BaseModel):
    student_no: str
    code: str
    reason: str


class ApplicationsOut(BaseModel):
    batch_code: str
    count: int
    items: list[ApplicationOut]
    skipped: list[SkippedOut]


class AuditCheckOut(BaseModel):
    code: str
    group: Literal["eligibility", "graduation", "degree"]
    outcome: Literal["passed", "failed", "waived", "not_applicable"]
    passed: bool
    measured: Any
    expected: Any
    missing: list[str] | None = Field(None, description="What is missing: course codes, photo kinds, fields.")
    exception_id: str | None = None
    message_zh: str
    message_en: str
    hint_zh: str | None
    hint_en: str | None


class ExceptionUseOut(BaseModel):
    id: str
    status: Literal["applied", "not_needed", "lapsed"]
    note_zh: str
    note_en: str


class RuleSetRef(BaseModel):
    code: str
    version: int


class AuditOut(BaseModel):
    id: str
    student_no: str
    batch_code: str
    application_id: str | None
    application_type: str | None
    what_if: bool
    scenario: dict[str, Any] | None
    result: Literal["passed", "failed"]
    passed: bool
    degree_eligible: bool | None
    failed_checks: list[str]
    checks: list[AuditCheckOut]
    exceptions: list[ExceptionUseOut]
    rule_set: RuleSetRef | None
    degree_rule_set: str | None
    inputs_digest: str
    trigger: str
    actor: str | None
    created_at: datetime


class AuditPage(BaseModel):
    items: list[AuditOut]
    next_cursor: str | None
    count: int


class BatchAuditItem(BaseModel):
    student_no: str
    learning_centre: str
    application_id: str
    application_type: ApplicationType
    state: Literal["open", "signed_off", "deferred"]
    position: int
    result: Literal["passed", "failed", "deferred"] | None
    failed_checks: list[str]
    degree_eligible: bool | None
    audit_id: str | None
    audited_at: datetime | None
    submitted_at: datetime


class BatchAuditPage(BaseModel):
    items: list[BatchAuditItem]
    next_cursor: str | None
    count: int


class CheckChangeOut(BaseModel):
    code: str
    change: Literal["added", "removed", "changed"]
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditDiffOut(BaseModel):
    from_audit: str
    to_audit: str
    result_before: str
    result_after: str
    digest_changed: bool
    rule_set_before: RuleSetRef | None
    rule_set_after: RuleSetRef | None
    changes: list[CheckChangeOut]


class AuditRunOut(BaseModel):
    batch_code: str
    audited: int
    passed: int
    failed: int
    events: int
    signed_off: int
    seconds: float


class SignOffIn(_In):
    student_nos: list[str] | None = Field(None, min_length=1, max_length=5000)
    all_passing: bool = Field(False, description="Sign off every passing open application of the batch.")


class SignOffOut(BaseModel):
    batch_code: str
    count: int
    signed_off: list[str]
    skipped: list[SkippedOut]


# exceptions, what-if, rule sets ----------------------------------------------------------------


class ExceptionIn(_In):
    kind: Literal["waive_check", "substitute_course"]
    check_code: str | None = Field(
        None, max_length=64, description="waive_check: the check, e.g. audit.credits_practice"
    )
    course_code: str | None = Field(None, max_length=64, description="substitute_course: the required course")
    substitute_code: str | None = Field(
        None, max_length=64, description="substitute_course: the course that counts for it"
    )
    scope: Literal["student", "batch"] = Field(
        "student", description="student: every audit; batch: one batch only"
    )
    batch_code: str | None = Field(None, min_length=6, max_length=6)
    approver: str = Field(min_length=1, max_length=100, description="Who approved it (审批人)")
    reason: str = Field(min_length=1, max_length=500)


class ExceptionOut(BaseModel):
    id: str
    student_no: str
    kind: str
    check_code: str | None
    course_code: str | None
    substitute_code: str | None
    scope: str
    batch_code: str | None
    approver: str
    reason: str
    granted_under: dict[str, Any]
    granted_by: str
    granted_at: datetime
    revoked_by: str | None
    revoked_at: datetime | None


class WhatIfIn(_In):
    major: str | None = Field(None, max_length=100, description="Another major (转专业)")
    level: Literal["junior_college", "bachelor_from_junior_college", "bachelor"] | None = None
    category: str | None = Field(None, max_length=64)
    enrolment_term: str | None = None
    courses: list[CourseIn] = Field(
        default_factory=list, max_length=200, description="Future grades: add or replace by code"
    )
    thesis: ThesisIn | None = None
    degree_english: DegreeEnglishIn | None = None
    application_type: Literal["graduate", "graduate_with_degree"] = "graduate"


class RuleSetIn(_In):
    level: Literal["junior_college", "bachelor_from_junior_college", "bachelor"]
    category: str | None = Field(None, max_length=64)
    major: str | None = Field(None, max_length=100)
    from_term: str | None = Field(None, description="Cohorts enrolled in this term or later")
    min_total_credits: float = Field(0, ge=0, le=400)
    min_credits: dict[CourseCategory, float] = Field(default_factory=dict)
    required_courses: list[str] = Field(default_factory=list, max_length=200)
    practice_grades_published: bool = True
    thesis_required: bool = False
    thesis_min_score: float = Field(60, ge=0, le=100)
    pass_score: float = Field(60, ge=0, le=100)
    description: str = Field("", max_length=500)


class RuleSetOut(BaseModel):
    code: str
    version: int
    kind: Literal["graduation", "degree"]
    source: Literal["shipped", "stored"]
    in_use: bool = Field(
        description="Degree: the university's choice. Graduation: the latest version of its code."
    )
    data: dict[str, Any]
