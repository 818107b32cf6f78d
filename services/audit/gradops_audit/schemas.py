from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    JsonValue,
    StringConstraints,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from gradops_shared.text import control_character

ApplicationType = Literal["graduate", "graduate_with_degree", "defer"]
CourseCategory = Literal["required", "elective", "practice", "thesis"]

# Identifiers are matched as sent (no stripping), so the schema's pattern is exactly what is accepted.
STUDENT_NO_PATTERN = r"^[0-9A-Za-z]+$"
StudentNo = Annotated[
    str, StringConstraints(strip_whitespace=False, min_length=1, max_length=32, pattern=STUDENT_NO_PATTERN)
]
BATCH_CODE_PATTERN = r"^[0-9]{4}(0[1-9]|1[0-2])$"  # YYYYMM
BatchCodeText = Annotated[str, StringConstraints(strip_whitespace=False, pattern=BATCH_CODE_PATTERN)]
CentreCode = Annotated[
    str, StringConstraints(strip_whitespace=False, min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_-]+$")
]

# What gradops_shared.text refuses (as PlainText / MultilineText do), spelled as JSON-schema patterns
# so that a client (or a fuzzer) reads from the schema what the server accepts.
_CONTROL = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
_CONTROL_MULTILINE = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029"
_BLANK = r" \xa0\u1680\u2000-\u200a\u202f\u205f\u3000"  # what str.strip() removes, controls aside
ONE_LINE = f"^[^{_CONTROL}]*$"
ONE_LINE_NOT_BLANK = f"^[^{_CONTROL}]*[^{_CONTROL}{_BLANK}][^{_CONTROL}]*$"
MULTI_LINE = f"^[^{_CONTROL_MULTILINE}]*$"
MULTI_LINE_NOT_BLANK = f"^[^{_CONTROL_MULTILINE}]*[^{_CONTROL}{_BLANK}][^{_CONTROL_MULTILINE}]*$"


class _SchemaPattern:
    """Adds a `pattern` to a field's JSON schema only (the validator in front of it does the work)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["pattern"] = self.pattern
        return schema


def _one_line(value: object) -> object:
    # Checked as sent, before the models trim whitespace: a tab or CR at either end is refused too.
    found = isinstance(value, str) and control_character(value)
    if found:
        raise ValueError(f"must not contain control characters (found {found})")
    return value


def _multi_line(value: object) -> object:
    found = isinstance(value, str) and control_character(value, multiline=True)
    if found:
        raise ValueError(f"must not contain control characters (found {found})")
    return value


Line = Annotated[str, BeforeValidator(_one_line), _SchemaPattern(ONE_LINE)]
"""One line typed by a person or a partner: no control characters (422 naming the field)."""
RequiredLine = Annotated[str, BeforeValidator(_one_line), _SchemaPattern(ONE_LINE_NOT_BLANK)]
"""As Line, and not blank once trimmed."""
Paragraph = Annotated[str, BeforeValidator(_multi_line), _SchemaPattern(MULTI_LINE)]
RequiredParagraph = Annotated[str, BeforeValidator(_multi_line), _SchemaPattern(MULTI_LINE_NOT_BLANK)]


# Seconds. Well under the gateway's 30 s upstream read timeout, so the sign-off after the wait still
# answers through it.
MAX_SIGN_OFF_WAIT = 20.0


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

    name: Line = Field("", max_length=100)
    cohort_cutoff_term: RequiredLine = Field(
        max_length=16, description="Students enrolled in this term or earlier (2021-spring | 2021春)."
    )
    rounds: list[RoundIn] = Field(min_length=1, max_length=12)
    issue_date: date | None = Field(
        None,
        description="The certificate issue date of the whole batch. It must equal the graduation date "
        "(教学〔2014〕11号 art. 18: the issue date is the day CHSI shows the record); omitted, it is "
        "that date.",
    )
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
    code: RequiredLine = Field(min_length=1, max_length=64)
    name: RequiredLine = Field(min_length=1, max_length=200)
    credits: float = Field(ge=0, le=100)
    category: CourseCategory
    score: float | None = Field(None, ge=0, le=100)
    passed: bool | None = Field(None, description="For pass/fail courses without a score.")
    published: bool = Field(True, description="Whether the grade is published (成绩已发布).")


class ThesisIn(_In):
    score: float | None = Field(None, ge=0, le=100)
    similarity: float | None = Field(None, ge=0, le=100, description="Similarity check result, percent.")


class DegreeEnglishIn(_In):
    exam: RequiredLine = Field(
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
    source: Line = Field("lms", max_length=100, description="Which platform sent it.")


class TranscriptItemIn(TranscriptIn):
    student_no: StudentNo


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
    enrolment_terms: list[Annotated[RequiredLine, Field(max_length=16)]] | None = Field(
        None, max_length=50, description="Only these terms (within the cohort)."
    )
    learning_centres: list[CentreCode] | None = Field(None, max_length=500)
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
    student_nos: list[StudentNo] | None = Field(None, min_length=1, max_length=5000)
    selection: SelectionIn | None = Field(
        None, description="Instead of student_nos: every student of the cohort that fits."
    )
    secondary_vocational_proof: Line | None = Field(
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
    student_nos: list[StudentNo] | None = Field(None, min_length=1, max_length=5000)
    all_passing: bool = Field(False, description="Sign off every passing open application of the batch.")
    wait_seconds: float = Field(
        0,
        ge=0,
        le=MAX_SIGN_OFF_WAIT,
        description="With student_nos: for a student whose current audit does not pass, wait up to this "
        "long for a newer audit (e.g. the re-audit a PhotoApproved event triggers) before deciding. "
        "0: decide on the audits as they stand.",
    )


class SignOffOut(BaseModel):
    batch_code: str
    count: int
    signed_off: list[str]
    skipped: list[SkippedOut]


# exceptions, what-if, rule sets ----------------------------------------------------------------


class ExceptionIn(_In):
    kind: Literal["waive_check", "substitute_course"]
    check_code: Line | None = Field(
        None, max_length=64, description="waive_check: the check, e.g. audit.credits_practice"
    )
    course_code: Line | None = Field(
        None, max_length=64, description="substitute_course: the required course"
    )
    substitute_code: Line | None = Field(
        None, max_length=64, description="substitute_course: the course that counts for it"
    )
    scope: Literal["student", "batch"] = Field(
        "student", description="student: every audit; batch: one batch only"
    )
    batch_code: BatchCodeText | None = None
    approver: RequiredLine = Field(min_length=1, max_length=100, description="Who approved it (审批人)")
    reason: RequiredParagraph = Field(min_length=1, max_length=500)


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
    major: Line | None = Field(None, max_length=100, description="Another major (转专业)")
    level: Literal["junior_college", "bachelor_from_junior_college", "bachelor"] | None = None
    category: Line | None = Field(None, max_length=64)
    enrolment_term: Line | None = Field(None, max_length=16)
    courses: list[CourseIn] = Field(
        default_factory=list, max_length=200, description="Future grades: add or replace by code"
    )
    thesis: ThesisIn | None = None
    degree_english: DegreeEnglishIn | None = None
    application_type: Literal["graduate", "graduate_with_degree"] = "graduate"


class RuleSetIn(_In):
    level: Literal["junior_college", "bachelor_from_junior_college", "bachelor"]
    category: Line | None = Field(None, max_length=64)
    major: Line | None = Field(None, max_length=100)
    from_term: Line | None = Field(None, max_length=16, description="Cohorts enrolled in this term or later")
    min_total_credits: float = Field(0, ge=0, le=400)
    min_credits: dict[CourseCategory, Annotated[float, Field(ge=0, le=400)]] = Field(default_factory=dict)
    required_courses: list[Annotated[RequiredLine, Field(max_length=64)]] = Field(
        default_factory=list, max_length=200
    )
    practice_grades_published: bool = True
    thesis_required: bool = False
    thesis_min_score: float = Field(60, ge=0, le=100)
    pass_score: float = Field(60, ge=0, le=100)
    description: Paragraph = Field("", max_length=500)


class RuleSetOut(BaseModel):
    code: str
    version: int
    kind: Literal["graduation", "degree"]
    source: Literal["shipped", "stored"]
    in_use: bool = Field(
        description="Degree: the university's choice. Graduation: the latest version of its code."
    )
    data: dict[str, Any]


# pages -----------------------------------------------------------------------------------------


class BatchPage(BaseModel):
    items: list[BatchOut]
    next_cursor: str | None
    count: int


class ExceptionPage(BaseModel):
    items: list[ExceptionOut]
    next_cursor: str | None
    count: int


class RuleSetPage(BaseModel):
    items: list[RuleSetOut]
    next_cursor: str | None
    count: int
